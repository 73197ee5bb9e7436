// Shape checks for every server frame, straight from docs/protocol.md ("Server frame fields",
// "Event object", "Message object", ...). validateServerFrame(f) returns a list of problems
// ("events.events[0].cursor: expected ..."); an empty list means the frame conforms.
// Unknown fields are ignored, as the protocol requires of receivers.

export const ROLES = ['visitor', 'agent', 'bot', 'system'];
export const CHANNELS = ['web', 'sms', 'whatsapp', 'email', 'messenger', 'device'];
export const STATUSES = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'];
export const STYLES = ['live_chat', 'live_chat_returning', 'social_messaging'];
export const RICH = ['none', 'quick_replies', 'buttons', 'carousel', 'form', 'csat'];
export const EVENT_KINDS = ['message', 'message_updated', 'read', 'status', 'handoff', 'conversation', 'gap'];
export const RECOVERABLE = ['recoverable', 'permanent', 'auth'];
export const ERROR_CODES = [
  'malformed_frame', 'unknown_frame_type', 'missing_field', 'invalid_field', 'unsupported_version',
  'frame_too_large', 'message_too_long', 'unauthorized', 'forbidden', 'not_found', 'rate_limited',
  'server_error', 'timeout', 'disconnected', 'conflict', 'storage_quota', 'storage_aborted',
  'storage_corrupt', 'invalid_command',
];
export const SERVER_FRAME_TYPES = ['welcome', 'ack', 'error', 'events', 'page', 'reset', 'signal', 'pong'];

const MAX_INT = 2 ** 63 - 1; // beyond double precision anyway; the check is "an integer, >= min"
const bytes = (s) => Buffer.byteLength(s, 'utf8');
const absent = (v) => v === undefined || v === null;
const show = (v) => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 60)}…` : s;
};

class Checker {
  constructor() {
    this.problems = [];
  }
  bad(path, what, v) {
    this.problems.push(`${path}: expected ${what}, got ${show(v)}`);
    return false;
  }
  // Returns false when the field is absent and optional (nothing more to check).
  present(v, path, opt) {
    if (!absent(v)) return true;
    if (!opt) this.problems.push(`${path}: missing required field`);
    return false;
  }
  str(v, path, max, { opt = false, min = 0 } = {}) {
    if (!this.present(v, path, opt)) return;
    if (typeof v !== 'string') return this.bad(path, 'a string', v);
    if (opt && v === '' && min > 0) return; // an optional id may be "" (none)
    const n = bytes(v);
    if (n < min || n > max) this.bad(path, `a string of ${min}..${max} bytes`, `${n} bytes`);
  }
  id(v, path, opt = false) {
    this.str(v, path, 128, { opt, min: 1 });
  }
  label(v, path, opt = false) {
    this.str(v, path, 256, { opt });
  }
  text(v, path, opt = false) {
    this.str(v, path, 8192, { opt });
  }
  url(v, path, opt = false) {
    this.str(v, path, 2048, { opt });
  }
  token(v, path, opt = false) {
    this.str(v, path, 4096, { opt });
  }
  int(v, path, min = 0, max = MAX_INT, opt = false) {
    if (!this.present(v, path, opt)) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      this.bad(path, `an integer in ${min}..${max === MAX_INT ? '2^63-1' : max}`, v);
    }
  }
  time(v, path, opt = false) {
    this.int(v, path, 0, MAX_INT, opt);
  }
  bool(v, path, opt = false) {
    if (!this.present(v, path, opt)) return;
    if (typeof v !== 'boolean') this.bad(path, 'true or false', v);
  }
  enum(v, path, values, opt = false) {
    if (!this.present(v, path, opt)) return;
    if (!values.includes(v)) this.bad(path, `one of ${values.join('/')}`, v);
  }
  obj(v, path, opt = false) {
    if (!this.present(v, path, opt)) return false;
    if (typeof v !== 'object' || Array.isArray(v)) return this.bad(path, 'an object', v);
    return true;
  }
  arr(v, path, min = 0, max = Infinity, opt = false) {
    if (!this.present(v, path, opt)) return false;
    if (!Array.isArray(v)) return this.bad(path, 'an array', v);
    if (v.length < min || v.length > max) return this.bad(path, `${min}..${max} elements`, `${v.length}`);
    return true;
  }

  participant(p, path) {
    if (!this.obj(p, path)) return;
    this.enum(p.role, `${path}.role`, ROLES);
    this.id(p.id, `${path}.id`, true);
    this.label(p.name, `${path}.name`, true);
  }
  attachment(a, path) {
    if (!this.obj(a, path)) return;
    this.id(a.id, `${path}.id`);
    this.label(a.name, `${path}.name`);
    this.label(a.mime, `${path}.mime`);
    this.int(a.size, `${path}.size`);
    this.url(a.blob_ref, `${path}.blob_ref`, true);
    this.url(a.url, `${path}.url`, true);
  }
  body(b, path) {
    if (!this.obj(b, path)) return;
    this.text(b.text, `${path}.text`, true);
    this.enum(b.rich, `${path}.rich`, RICH, true);
    const rich = absent(b.rich) ? 'none' : b.rich;
    if (rich === 'none') {
      if (!absent(b.payload)) this.bad(`${path}.payload`, 'absent or null when rich is none', b.payload);
    } else {
      this.obj(b.payload, `${path}.payload`);
    }
    if (this.arr(b.attachments, `${path}.attachments`, 0, 10, true)) {
      b.attachments.forEach((a, i) => this.attachment(a, `${path}.attachments[${i}]`));
    }
    this.obj(b.event, `${path}.event`, true);
  }
  message(m, path) {
    if (!this.obj(m, path)) return;
    this.id(m.conv, `${path}.conv`);
    this.int(m.seq, `${path}.seq`, 1);
    this.id(m.id, `${path}.id`);
    this.id(m.cid, `${path}.cid`, true);
    this.int(m.ticket, `${path}.ticket`, 1);
    this.time(m.ts, `${path}.ts`);
    this.participant(m.author, `${path}.author`);
    this.body(m.body, `${path}.body`);
    this.time(m.edited_ts, `${path}.edited_ts`, true);
    this.bool(m.deleted, `${path}.deleted`, true);
  }
  owner(o, path) {
    if (!this.obj(o, path)) return;
    this.enum(o.kind, `${path}.kind`, ['bot', 'queue', 'agent']);
    this.id(o.agent_id, `${path}.agent_id`, true);
    this.label(o.agent_name, `${path}.agent_name`, true);
    this.int(o.queue_position, `${path}.queue_position`, 0, 2 ** 31 - 1, true);
  }
  binding(b, path) {
    if (!this.obj(b, path)) return;
    this.enum(b.channel, `${path}.channel`, CHANNELS);
    this.label(b.address, `${path}.address`);
    this.bool(b.active, `${path}.active`);
    this.time(b.since, `${path}.since`);
  }
  channels(list, path) {
    if (this.arr(list, path, 0, 64)) list.forEach((b, i) => this.binding(b, `${path}[${i}]`));
  }
  event(e, path) {
    if (!this.obj(e, path)) return;
    this.enum(e.kind, `${path}.kind`, EVENT_KINDS);
    this.int(e.cursor, `${path}.cursor`, 0);
    this.id(e.conv, `${path}.conv`);
    switch (e.kind) {
      case 'message':
      case 'message_updated':
        this.message(e.message, `${path}.message`);
        if (e.message && e.message.conv !== e.conv) this.bad(`${path}.message.conv`, `the event's conv ${show(e.conv)}`, e.message.conv);
        break;
      case 'read':
        this.enum(e.reader, `${path}.reader`, ROLES);
        this.int(e.seq, `${path}.seq`, 0);
        this.bool(e.delivered, `${path}.delivered`);
        break;
      case 'status':
        this.enum(e.status, `${path}.status`, STATUSES);
        this.int(e.ticket, `${path}.ticket`, 1);
        break;
      case 'handoff':
        this.message(e.message, `${path}.message`);
        if (e.message && e.message.conv !== e.conv) this.bad(`${path}.message.conv`, `the event's conv ${show(e.conv)}`, e.message.conv);
        this.owner(e.owner, `${path}.owner`);
        this.channels(e.channels, `${path}.channels`);
        this.token(e.resume_token, `${path}.resume_token`, true);
        break;
      case 'conversation':
        this.enum(e.status, `${path}.status`, STATUSES);
        this.int(e.ticket, `${path}.ticket`, 1);
        this.enum(e.style, `${path}.style`, STYLES);
        this.owner(e.owner, `${path}.owner`);
        this.channels(e.channels, `${path}.channels`);
        this.text(e.subject, `${path}.subject`, true);
        this.int(e.last_seq, `${path}.last_seq`, 0);
        break;
      case 'gap':
        this.int(e.from, `${path}.from`, 1);
        this.int(e.to, `${path}.to`, 1);
        if (Number.isInteger(e.from) && Number.isInteger(e.to) && e.to < e.from) this.bad(`${path}.to`, `>= from (${e.from})`, e.to);
        break;
      default:
        break;
    }
  }
}

export function validateServerFrame(f) {
  const c = new Checker();
  if (typeof f !== 'object' || f === null || Array.isArray(f)) return ['frame: expected a JSON object'];
  const t = f.type;
  if (typeof t !== 'string') return ['frame.type: missing or not a string'];
  if (!SERVER_FRAME_TYPES.includes(t)) return [`frame.type: ${show(t)} is not a v1 server frame type`];
  switch (t) {
    case 'welcome':
      c.int(f.v, 'welcome.v', 1, 1);
      c.id(f.user, 'welcome.user');
      c.token(f.token, 'welcome.token');
      c.int(f.cursor, 'welcome.cursor', 0);
      c.time(f.server_time, 'welcome.server_time');
      if (c.obj(f.availability, 'welcome.availability', true)) {
        c.bool(f.availability.open, 'welcome.availability.open');
        c.int(f.availability.reply_ms, 'welcome.availability.reply_ms', 0);
        c.time(f.availability.next_change, 'welcome.availability.next_change', true);
      }
      break;
    case 'ack':
      c.id(f.req, 'ack.req');
      c.id(f.conv, 'ack.conv');
      c.id(f.cid, 'ack.cid', true);
      c.id(f.id, 'ack.id', true);
      c.int(f.seq, 'ack.seq', 0, MAX_INT, true);
      c.time(f.ts, 'ack.ts');
      c.url(f.url, 'ack.url', true);
      break;
    case 'error':
      c.id(f.req, 'error.req', true);
      c.enum(f.code, 'error.code', ERROR_CODES);
      c.enum(f.recoverable, 'error.recoverable', RECOVERABLE);
      c.text(f.message, 'error.message');
      break;
    case 'events': {
      c.id(f.req, 'events.req', true);
      c.int(f.from, 'events.from', 0);
      c.int(f.cursor, 'events.cursor', 0);
      c.bool(f.more, 'events.more');
      if (Number.isInteger(f.from) && Number.isInteger(f.cursor) && f.cursor < f.from) c.bad('events.cursor', `>= from (${f.from})`, f.cursor);
      if (c.arr(f.events, 'events.events')) {
        let prev = f.from;
        f.events.forEach((e, i) => {
          c.event(e, `events.events[${i}]`);
          if (e && Number.isInteger(e.cursor)) {
            if (!(e.cursor > prev)) c.bad(`events.events[${i}].cursor`, `> ${i === 0 ? 'from' : 'the previous cursor'} (${prev})`, e.cursor);
            if (e.cursor > f.cursor) c.bad(`events.events[${i}].cursor`, `<= events.cursor (${f.cursor})`, e.cursor);
            prev = e.cursor;
          }
        });
        if (f.events.length === 0 && f.cursor !== f.from) c.bad('events.cursor', '== from when events is empty', f.cursor);
        if (f.events.length > 0 && f.events.at(-1).cursor !== f.cursor) {
          c.bad('events.cursor', `the cursor of the last event (${f.events.at(-1).cursor})`, f.cursor);
        }
      }
      break;
    }
    case 'page':
      c.id(f.req, 'page.req');
      c.id(f.conv, 'page.conv');
      if (c.arr(f.messages, 'page.messages')) {
        let prev = 0;
        f.messages.forEach((m, i) => {
          c.message(m, `page.messages[${i}]`);
          if (m && m.conv !== f.conv) c.bad(`page.messages[${i}].conv`, `page.conv ${show(f.conv)}`, m.conv);
          if (m && Number.isInteger(m.seq)) {
            if (!(m.seq > prev)) c.bad(`page.messages[${i}].seq`, `> the previous seq (${prev})`, m.seq);
            prev = m.seq;
          }
        });
      }
      c.bool(f.complete, 'page.complete');
      c.int(f.next, 'page.next', 0, MAX_INT, true);
      break;
    case 'reset':
      c.int(f.cursor, 'reset.cursor', 0);
      if (c.arr(f.conversations, 'reset.conversations')) {
        f.conversations.forEach((e, i) => {
          c.event(e, `reset.conversations[${i}]`);
          if (e && e.kind !== 'conversation') c.bad(`reset.conversations[${i}].kind`, 'conversation', e.kind);
        });
      }
      break;
    case 'signal':
      c.id(f.conv, 'signal.conv');
      c.enum(f.kind, 'signal.kind', ['typing', 'presence']);
      c.participant(f.who, 'signal.who');
      c.bool(f.on, 'signal.on');
      break;
    case 'pong':
      c.id(f.req, 'pong.req');
      c.time(f.server_time, 'pong.server_time');
      break;
    default:
      break;
  }
  return c.problems;
}

// Looser checks for the agent API's conversation summary (docs/server.md, "Agent API").
export function validateSummary(s) {
  const c = new Checker();
  if (!c.obj(s, 'summary')) return c.problems;
  c.id(s.conv, 'summary.conv');
  c.id(s.user, 'summary.user');
  c.enum(s.status, 'summary.status', STATUSES);
  c.int(s.ticket, 'summary.ticket', 1);
  c.enum(s.style, 'summary.style', STYLES);
  c.owner(s.owner, 'summary.owner');
  c.channels(s.channels, 'summary.channels');
  c.int(s.last_seq, 'summary.last_seq', 0);
  c.int(s.visitor_read_seq, 'summary.visitor_read_seq', 0);
  c.int(s.agent_read_seq, 'summary.agent_read_seq', 0);
  return c.problems;
}

export function validateMessage(m, path = 'message') {
  const c = new Checker();
  c.message(m, path);
  return c.problems;
}
