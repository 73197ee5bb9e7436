// The pure half of the XMPP adapter (docs/adapters.md, "Worked example: XMPP"): how XMPP
// stanzas become protocol-v1 frames, with no I/O. Stanzas are ltx elements as @xmpp/xml
// gives them (`el.name`, `el.attrs`, `el.getChild(name, xmlns)`, `el.getChildText`).
//
// The model: the visitor's own message archive (XEP-0313, on the visitor's account) is the
// event log. Every archive item has a position: the first item of the account's archive is
// cursor 1, the next 2, and so on. That position is the protocol's `cursor`, and the `seq`
// of a message is its cursor too (seqs may have holes). Counting from the start of the
// archive always gives the same numbers, on any device and after any reload, so the
// numbering is stable without the server's help; the ArchiveIndex below only remembers it.
//
// Each item is classified once, in archive order, and the decision is part of the index:
// a message (an event), a marker that moves a read or delivered state forward (an event),
// or nothing (a duplicate, a marker that does not move forward, a stanza of no interest).
// The decisions depend only on the items before, so a recount gives the same ones.

export const NS = {
  client: 'jabber:client',
  mam: 'urn:xmpp:mam:2',
  rsm: 'http://jabber.org/protocol/rsm',
  forward: 'urn:xmpp:forward:0',
  delay: 'urn:xmpp:delay',
  carbons: 'urn:xmpp:carbons:2',
  sid: 'urn:xmpp:sid:0',
  receipts: 'urn:xmpp:receipts',
  markers: 'urn:xmpp:chat-markers:0',
  hints: 'urn:xmpp:hints',
  chatstates: 'http://jabber.org/protocol/chatstates',
  data: 'jabber:x:data',
};

const MAX_ID_BYTES = 128;
const enc = new TextEncoder();

/** `local@domain` of a JID string (lower-cased local and domain), '' for nothing. */
export function bareJid(jid) {
  if (typeof jid !== 'string' || !jid) return '';
  const slash = jid.indexOf('/');
  const bare = slash >= 0 ? jid.slice(0, slash) : jid;
  return bare.toLowerCase();
}

/** A string usable as a protocol `id` (1..128 UTF-8 bytes). */
export function isProtocolId(s) {
  if (typeof s !== 'string' || !s) return false;
  const n = enc.encode(s).length;
  return n >= 1 && n <= MAX_ID_BYTES;
}

/**
 * The conversation of a message: its XEP-0201 `<thread>` when that is a usable id (the core's
 * conversation id travels as the thread), else one conversation per peer: `x_` + bare JID.
 */
export function convFor(thread, peerBare) {
  if (isProtocolId(thread)) return thread;
  const c = `x_${peerBare}`;
  return isProtocolId(c) ? c : `x_${peerBare.slice(0, 100)}`;
}

// ---------------------------------------------------------------------------------------
// Security: only our own account may speak for our own account
// ---------------------------------------------------------------------------------------

/**
 * The message inside a carbon (XEP-0280) when the carbon is genuine, else null. A carbon is
 * genuine only when its wrapper comes from the account's own bare JID (RFC 6120: a stanza
 * without `from` comes from the account itself). Anyone else can send a `<received>`
 * wrapper claiming that we sent or received something: that is the forgery XEP-0280 §11
 * warns of. Returns `{ direction: 'sent'|'received', message }` or null (not a carbon, or
 * forged: `forged` is then true).
 */
export function openCarbon(stanza, ownBare) {
  if (!stanza || stanza.name !== 'message') return null;
  const wrap = stanza.getChild('sent', NS.carbons) || stanza.getChild('received', NS.carbons);
  if (!wrap) return null;
  const from = stanza.attrs.from;
  if (from !== undefined && bareJid(from) !== ownBare) return { forged: true };
  if (from !== undefined && from.includes('/')) return { forged: true };
  const fwd = wrap.getChild('forwarded', NS.forward);
  const message = fwd && fwd.getChild('message');
  if (!message) return null;
  return { direction: wrap.name, message };
}

/**
 * One MAM result (XEP-0313) for the query `queryId`, when genuine: it must come from the
 * account's own bare JID (our archive answers from there, or without `from`), and carry the
 * query id we chose. Returns `{ archiveId, ts, message }`, `{ forged: true }`, or null when
 * the stanza is not a result of this query.
 */
export function openMamResult(stanza, ownBare, queryId) {
  if (!stanza || stanza.name !== 'message') return null;
  const result = stanza.getChild('result', NS.mam);
  if (!result) return null;
  const from = stanza.attrs.from;
  if (from !== undefined && (bareJid(from) !== ownBare || from.includes('/'))) return { forged: true };
  if (result.attrs.queryid !== queryId) return null;
  const fwd = result.getChild('forwarded', NS.forward);
  const message = fwd && fwd.getChild('message');
  const archiveId = result.attrs.id;
  if (!message || !isProtocolId(archiveId)) return null;
  const delay = fwd.getChild('delay', NS.delay);
  const ts = delay ? Date.parse(delay.attrs.stamp) : NaN;
  return { archiveId, ts: Number.isFinite(ts) && ts >= 0 ? ts : 0, message };
}

/** The `<fin>` of a MAM query: `{ complete, last }` (`last` is '' when the page was empty). */
export function readFin(iqResult) {
  const fin = iqResult && iqResult.getChild('fin', NS.mam);
  if (!fin) return { complete: true, last: '' };
  const set = fin.getChild('set', NS.rsm);
  const last = (set && set.getChildText('last')) || '';
  return { complete: fin.attrs.complete === 'true', last };
}

/**
 * Pages through an archive (XEP-0313 with RSM) after `after` ('' = from the start) until
 * the server says complete='true', yielding each page's results. An empty page that is not
 * complete carries no <last/>: the same query is asked again. `query({ after })` resolves to
 * `{ items, complete, last }`. `maxPages` bounds a server that never completes.
 */
export async function* readArchive(query, after = '', maxPages = 100_000) {
  for (let page = 0; page < maxPages; page++) {
    const r = await query({ after });
    yield r.items;
    if (r.complete) return;
    if (r.last) after = r.last;
  }
  throw new Error(`the archive was not complete after ${maxPages} pages`);
}

// ---------------------------------------------------------------------------------------
// What an archived stanza is
// ---------------------------------------------------------------------------------------

/**
 * Classifies one archived message stanza, as seen from the account `ownBare`:
 *   { kind: 'message', mine, peer, conv?, thread, id, originId, text, name }
 *   { kind: 'marker', mine, peer, ref, delivered }   (receipt or chat marker about `ref`)
 *   { kind: 'other' }
 * `mine` is true when the account sent it (from any of its devices). For a message, the
 * dedupe key is the sender plus its origin-id (XEP-0359), or its `id` when it has none.
 */
export function classify(message, ownBare) {
  const from = bareJid(message.attrs.from) || ownBare;
  const to = bareJid(message.attrs.to) || ownBare;
  const mine = from === ownBare;
  const peer = mine ? to : from;
  const type = message.attrs.type || 'normal';
  if (type === 'error' || type === 'groupchat' || type === 'headline') return { kind: 'other' };
  const body = message.getChild('body');
  const oid = message.getChild('origin-id', NS.sid);
  const originId = oid && isProtocolId(oid.attrs.id) ? oid.attrs.id : '';
  const id = isProtocolId(message.attrs.id) ? message.attrs.id : '';
  if (body) {
    const thread = message.getChildText('thread') || '';
    return {
      kind: 'message',
      mine,
      peer,
      thread,
      conv: convFor(thread, peer),
      id,
      originId,
      wantsReceipt: !!message.getChild('request', NS.receipts),
      text: body.getText(),
      name: mine ? '' : peer.split('@')[0],
    };
  }
  const receipt = message.getChild('received', NS.receipts);
  if (receipt && isProtocolId(receipt.attrs.id)) {
    return { kind: 'marker', mine, peer, ref: receipt.attrs.id, delivered: true };
  }
  for (const name of ['displayed', 'acknowledged', 'received']) {
    const m = message.getChild(name, NS.markers);
    if (m && isProtocolId(m.attrs.id)) return { kind: 'marker', mine, peer, ref: m.attrs.id, delivered: name === 'received' };
  }
  return { kind: 'other' };
}

// ---------------------------------------------------------------------------------------
// The archive index: cursor numbering, dedupe and marker monotonicity
// ---------------------------------------------------------------------------------------

// Entry kinds: 'm' a message (an event), 'r' a read/delivered marker that moves forward (an
// event), 'x' nothing for the core (a duplicate, a marker that does not move forward, ...).

/**
 * Remembers, for each archive position (cursor = index + 1), the archive id and the
 * decision taken for it. Plain data (`toJSON` / `ArchiveIndex.from`), so it can be persisted.
 */
export class ArchiveIndex {
  constructor(own) {
    this.own = own;
    /** @type {{a: string, k: 'm'|'r'|'x', c?: string, i?: string, o?: string, mine?: boolean, ts?: number, seq?: number, peer?: string}[]} */
    this.entries = [];
    this.rebuild();
  }

  static from(data, own) {
    const x = new ArchiveIndex(own);
    if (data && data.v === 1 && data.own === own && Array.isArray(data.entries)) {
      x.entries = data.entries;
      x.rebuild();
    }
    return x;
  }

  toJSON() {
    return { v: 1, own: this.own, entries: this.entries };
  }

  get head() {
    return this.entries.length;
  }

  get lastArchiveId() {
    return this.head ? this.entries[this.head - 1].a : '';
  }

  archiveIdAt(cursor) {
    return cursor >= 1 && cursor <= this.head ? this.entries[cursor - 1].a : '';
  }

  rebuild() {
    this.byKey = new Map(); // sender|origin-id (or id) -> cursor of the first copy
    this.byRef = new Map(); // id attribute of a message -> cursor (what markers point at)
    this.byArchiveId = new Map();
    this.marks = new Map(); // conv -> { agentRead, agentDelivered, visitorRead }
    this.convPeer = new Map(); // conv -> peer bare JID
    this.receipted = new Set(); // ids of the other side's messages this account receipted
    this.entries.forEach((e, i) => this.remember(e, i + 1));
  }

  remember(e, cursor) {
    this.byArchiveId.set(e.a, cursor);
    if (e.rr) this.receipted.add(e.rr);
    if (e.k === 'm') {
      if (e.o && !this.byKey.has(e.o)) this.byKey.set(e.o, cursor);
      if (e.i && !this.byRef.has(e.i)) this.byRef.set(e.i, cursor);
      if (e.peer && !this.convPeer.has(e.c)) this.convPeer.set(e.c, e.peer);
    } else if (e.k === 'r') {
      const m = this.markOf(e.c);
      if (e.mine) m.visitorRead = Math.max(m.visitorRead, e.seq);
      else if (e.delivered) m.agentDelivered = Math.max(m.agentDelivered, e.seq);
      else m.agentRead = Math.max(m.agentRead, e.seq);
    }
  }

  markOf(conv) {
    let m = this.marks.get(conv);
    if (!m) this.marks.set(conv, (m = { agentRead: 0, agentDelivered: 0, visitorRead: 0 }));
    return m;
  }

  /** The dedupe key of a classified message: its sender and origin-id (or id). */
  keyOf(item) {
    const sender = item.mine ? this.own : item.peer;
    const k = item.originId || item.id;
    return k ? `${sender}|${k}` : '';
  }

  /** The cursor of our own message with origin-id `cid` (its first archived copy), or 0. */
  cursorOfCid(cid) {
    return this.byKey.get(`${this.own}|${cid}`) || 0;
  }

  /**
   * Appends the next archive item (its position is head + 1) and decides what it is.
   * `item` is classify()'s answer. Returns the new entry.
   */
  append(archiveId, ts, item) {
    if (this.byArchiveId.has(archiveId)) throw new Error(`archive id ${archiveId} seen twice`);
    const cursor = this.head + 1;
    const e = { a: archiveId, k: 'x' };
    if (item.kind === 'message') {
      const key = this.keyOf(item);
      if (!key || !this.byKey.has(key)) {
        // A new message. Its dedupe key, and the id markers point at.
        Object.assign(e, { k: 'm', c: item.conv, i: item.id || item.originId, o: key, mine: item.mine, ts, peer: item.peer });
      }
    } else if (item.kind === 'marker') {
      if (item.mine && item.delivered) e.rr = item.ref;
      const seq = this.byRef.get(item.ref);
      const target = seq ? this.entries[seq - 1] : null;
      // A marker counts only about a message of the other side, in that message's conversation.
      if (target && target.mine !== item.mine) {
        const m = this.markOf(target.c);
        const delivered = item.delivered && !item.mine;
        const before = item.mine ? m.visitorRead : delivered ? Math.max(m.agentDelivered, m.agentRead) : m.agentRead;
        // The visitor's own delivery receipts say nothing the core keeps (it reads a
        // visitor marker as "read"): only its displayed markers count.
        const useful = !(item.mine && item.delivered);
        if (useful && seq > before) Object.assign(e, { k: 'r', c: target.c, mine: item.mine, delivered, seq, ts });
      }
    }
    this.entries.push(e);
    this.remember(e, cursor);
    return e;
  }

  /** The protocol event for the item at `cursor` (classified `item`), or null. */
  eventAt(cursor, item, ts) {
    const e = this.entries[cursor - 1];
    if (!e) return null;
    if (e.k === 'm') {
      const message = {
        conv: e.c,
        seq: cursor,
        id: e.a,
        ticket: 1,
        ts: e.ts || ts || 0,
        author: e.mine ? { role: 'visitor', id: this.own } : { role: 'agent', id: e.peer, name: item.name || '' },
        body: { text: item.text },
      };
      if (e.mine && item.originId) message.cid = item.originId;
      return { kind: 'message', cursor, conv: e.c, message };
    }
    if (e.k === 'r') {
      return { kind: 'read', cursor, conv: e.c, reader: e.mine ? 'visitor' : 'agent', seq: e.seq, delivered: !!e.delivered };
    }
    return null;
  }

  /** Messages of `conv` (cursor list), for history pages. */
  messagesOf(conv) {
    const out = [];
    this.entries.forEach((e, i) => {
      if (e.k === 'm' && e.c === conv) out.push(i + 1);
    });
    return out;
  }

  /** Conversations known, with their last seq (for a `reset`). */
  conversations() {
    const last = new Map();
    this.entries.forEach((e, i) => {
      if (e.k === 'm') last.set(e.c, i + 1);
    });
    return last;
  }

  /**
   * The newest message of the other side in `conv` at or below `seq` that has an id a chat
   * marker can point at: `{ seq, id, peer }` or null.
   */
  peerMessageAtOrBelow(conv, seq) {
    for (let c = Math.min(seq, this.head); c >= 1; c--) {
      const e = this.entries[c - 1];
      if (e.k === 'm' && e.c === conv && !e.mine && e.i) return { seq: c, id: e.i, peer: e.peer };
    }
    return null;
  }
}

// ---------------------------------------------------------------------------------------
// Protocol frames
// ---------------------------------------------------------------------------------------

export function welcomeFrame(own, cursor, now) {
  return { type: 'welcome', v: 1, user: own, token: `xmpp:${own}`, cursor, server_time: now };
}

export function eventsFrame({ req, from, cursor, more, events }) {
  const f = { type: 'events', from, cursor, more: !!more, events };
  if (req) f.req = req;
  return f;
}

/** The `reset` a sync gets when its cursor is beyond what the archive holds. */
export function resetFrame(index) {
  const conversations = [];
  for (const [conv, lastSeq] of index.conversations()) {
    conversations.push({
      kind: 'conversation',
      cursor: index.head,
      conv,
      status: 'open',
      ticket: 1,
      style: 'social_messaging',
      owner: { kind: 'agent', agent_id: index.convPeer.get(conv) || '' },
      channels: [],
      last_seq: lastSeq,
    });
  }
  for (const c of conversations) if (!c.owner.agent_id) delete c.owner.agent_id;
  return { type: 'reset', cursor: index.head, conversations };
}
