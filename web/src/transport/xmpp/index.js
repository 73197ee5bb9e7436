// The XMPP adapter: Parley over XMPP-over-WebSocket (RFC 7395), with any standard server
// (checked against Prosody 0.12). docs/adapters.md, "Worked example: XMPP", is the
// reference; web/src/transport/xmpp/mapping.js holds the pure mapping this file drives.
//
//   import { xmppAdapter } from '.../parley-xmpp.mjs';
//   const parley = await Parley.create({
//     appId: 'acme',
//     adapter: xmppAdapter({ service: 'wss://chat.example.com/xmpp-websocket',
//       domain: 'example.com', username: 'ada', password: '…', agent: 'support@example.com' }),
//   });
//
// What it uses: XEP-0198 stream management with resume (the resumption state is kept in
// sessionStorage, so a reload resumes), XEP-0313 message archive (the event log, paged with
// XEP-0059 until complete), XEP-0359 origin-id (= the core's cid), XEP-0184 receipts and
// XEP-0333 markers (delivered / read), XEP-0280 carbons (other devices), XEP-0085 chat states
// (typing signals). The XML and the stream are @xmpp/client's: nothing here parses XML.

import { client, jid as parseJid, xml } from '@xmpp/client';
import { adapterError, errorFrame, frameHead } from '../adapter.js';
import {
  ArchiveIndex,
  bareJid,
  classify,
  convFor,
  eventsFrame,
  isProtocolId,
  NS,
  openCarbon,
  openMamResult,
  readArchive,
  readFin,
  resetFrame,
  welcomeFrame,
} from './mapping.js';

export { ArchiveIndex, classify, openCarbon, openMamResult } from './mapping.js';

const MAM_PAGE = 50; // Prosody's default ceiling for one page
const MAX_PAGES = 100_000; // an archive that never says complete='true' is broken
const MAX_FRAME_CHARS = 200_000; // under protocol.md's 256 KiB per frame

function randomId() {
  const b = new Uint8Array(16);
  globalThis.crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** localStorage / sessionStorage, or null where reading them throws (sandboxed frames). */
function webStorage(name) {
  try {
    return globalThis[name] || null;
  } catch {
    return null;
  }
}

function readJson(store, key) {
  try {
    const t = store && store.getItem(key);
    return t ? JSON.parse(t) : null;
  } catch {
    return null;
  }
}

function writeJson(store, key, value) {
  try {
    if (store) store.setItem(key, JSON.stringify(value));
  } catch {
    // quota or blocked storage: the index is rebuilt from the archive when it is missing
  }
}

const indexKeyOf = (own) => `parley.xmpp.index:${own}`;
const smKeyOf = (own) => `parley.xmpp.sm:${own}`;

/**
 * Removes what the adapter keeps on this device for the account of `options` (the archive
 * index, the resumption state). `parley.logout()` does it through the adapter's forget();
 * this is for a page that no longer has a Parley instance. Other tabs' sessionStorage is
 * theirs to clear (a resumption id is useless without the password).
 * @param {import('../../../types/index').XmppAdapterOptions} o
 */
export function forgetXmppAccount(o) {
  const own = bareJid(`${o.username}@${o.domain}`);
  for (const [store, key] of [
    [o.storage === undefined ? webStorage('localStorage') : o.storage, indexKeyOf(own)],
    [o.sessionStorage === undefined ? webStorage('sessionStorage') : o.sessionStorage, smKeyOf(own)],
  ]) {
    try {
      if (store) store.removeItem(key);
    } catch {
      // blocked storage holds nothing
    }
  }
}

/**
 * For Parley.create({ adapter }): `adapter: xmppAdapter(options)`.
 * @param {import('../../../types/index').XmppAdapterOptions} options  see createXmppAdapter
 * @returns {(hooks: import('../adapter.js').AdapterHooks) => import('../../../types/index').XmppAdapter}
 */
export function xmppAdapter(options) {
  return (hooks) => createXmppAdapter(options, hooks);
}

/**
 * @param {object} o
 * @param {string} o.service  ws:// or wss:// URL of the server's XMPP WebSocket endpoint
 * @param {string} o.domain   the XMPP domain
 * @param {string} o.username the visitor's account (local part)
 * @param {string} o.password
 * @param {string} o.agent    bare JID that a new conversation is sent to
 * @param {string} [o.resource]
 * @param {Storage|null} [o.storage]  where the archive index lives (default localStorage)
 * @param {Storage|null} [o.sessionStorage]  where the resumption state lives (default
 *   sessionStorage)
 * @param {number} [o.openTimeoutMs=15000]  a connection not up by then has failed
 * @param {number} [o.iqTimeoutMs=10000]    an archive query not answered by then: dead
 * @param {number} [o.pingIntervalMs=25000] XEP-0198 <r/> after this much silence
 * @param {number} [o.pongTimeoutMs=10000]  no <a/> within this: the connection is dead
 * @param {import('../adapter.js').AdapterHooks} hooks
 * @returns {import('../../../types/index').XmppAdapter}
 */
export function createXmppAdapter(o, hooks) {
  const own = bareJid(`${o.username}@${o.domain}`);
  const agent = bareJid(o.agent || '');
  const openTimeoutMs = o.openTimeoutMs ?? 15_000;
  const iqTimeoutMs = o.iqTimeoutMs ?? 10_000;
  const local = o.storage === undefined ? webStorage('localStorage') : o.storage;
  const session = o.sessionStorage === undefined ? webStorage('sessionStorage') : o.sessionStorage;
  const indexKey = indexKeyOf(own);
  const smKey = smKeyOf(own);
  let index = ArchiveIndex.from(readJson(local, indexKey), own);
  let cur = null; // the current connection
  let forgotten = false; // after forget(): nothing of the account is written again
  let gen = 0;
  let qseq = 0;
  const later = (fn) => setTimeout(fn, 0);
  // Counters for tests and logs; never read by the adapter itself.
  const stats = { connects: 0, resumed: 0, resumeFailed: 0, mamQueries: 0, forged: 0, pushes: 0, recounts: 0, sent: 0 };
  const log = []; // the last connection events, for diagnostics
  const note = (what) => {
    log.push(`${new Date().toISOString().slice(11, 23)} ${what}`);
    if (log.length > 50) log.shift();
  };

  const capabilities = { transport: 'xmpp', push: true, signals: true, uploads: false };

  function persistIndex() {
    if (!forgotten) writeJson(local, indexKey, index.toJSON());
  }

  function saveSm(c) {
    if (forgotten) return;
    const sm = c.x.streamManagement;
    if (!c.up || c.done || !sm.enabled || !sm.id || !c.x.jid) return;
    writeJson(session, smKey, { id: sm.id, inbound: sm.inbound, jid: c.x.jid.toString() });
  }

  // ------------------------------------------------------------------------- connection

  function connect() {
    if (cur) drop(cur);
    const c = { gen: ++gen, up: false, done: false, welcomed: false, queue: Promise.resolve(), collectors: new Map(), poke: false, markSent: new Map() };
    cur = c;
    stats.connects++;
    note(`connect #${c.gen}`);
    const x = client({
      service: o.service,
      domain: o.domain,
      username: o.username,
      password: o.password,
      resource: o.resource,
      // xmpp.js would call crypto.randomUUID(), which pages on plain http:// lack.
      userAgent: xml('user-agent', { id: randomId() }),
    });
    c.x = x;
    x.reconnect.stop(); // reconnecting belongs to the core
    const sm = x.streamManagement;
    sm.requestAckInterval = o.pingIntervalMs ?? 25_000;
    sm.timeout = o.pongTimeoutMs ?? 10_000;
    const saved = readJson(session, smKey);
    if (saved && typeof saved.id === 'string' && saved.id && typeof saved.jid === 'string') {
      sm.id = saved.id;
      sm.inbound = Number(saved.inbound) || 0;
      x.jid = parseJid(saved.jid);
    }
    const triedResume = !!sm.id;
    c.timer = setTimeout(() => fail(c, 'open_timeout'), openTimeoutMs);
    x.on('error', (e) => {
      c.lastError = e && e.message;
      if (e && e.name === 'SASLError' && ['not-authorized', 'account-disabled', 'credentials-expired'].includes(e.condition)) {
        refused(c, e.condition);
      } else if (!c.up) {
        fail(c, `error: ${c.lastError}`);
      }
    });
    x.on('disconnect', () => {
      if (!c.refused) fail(c, c.up ? 'socket_closed' : `connect_failed${c.lastError ? `: ${c.lastError}` : ''}`);
    });
    x.on('element', (el) => {
      // A resumed session with a new client object: xmpp.js would replay its own outbound
      // queue, which is empty here (the stanzas of the old connection died with it; the
      // core resends what matters, and the archive dedupes). Align its counter with the
      // server's before it acknowledges (this listener runs before xmpp.js's own).
      if (el.is('resumed', 'urn:xmpp:sm:3')) {
        sm.outbound = Number(el.attrs.h) || 0;
        sm.outbound_q = [];
      }
      if (c.saveQueued) return;
      c.saveQueued = true;
      // After the microtasks of this element: xmpp.js updates its counters in them.
      setTimeout(() => {
        c.saveQueued = false;
        saveSm(c);
      }, 0);
    });
    x.on('stanza', (st) => onStanza(c, st));
    sm.on('resumed', () => up(c, true, triedResume));
    x.on('online', () => up(c, false, triedResume));
    x.start().catch((e) => {
      if (!c.refused) fail(c, `start: ${e && e.message}`);
    });
  }

  async function up(c, resumed, triedResume) {
    if (c.done || c.up) return;
    try {
      if (resumed) {
        stats.resumed++;
      } else {
        if (triedResume) stats.resumeFailed++;
        // xmpp.js says "online" when the resource is bound, before <enable/> is sent:
        // stanzas sent before stream management is on would upset both counters.
        const sm = c.x.streamManagement;
        for (let t = 0; !sm.enabled && !c.done && t < 200; t++) await new Promise((ok) => setTimeout(ok, 10));
        if (c.done) return;
        // A new session: be available (messages to the bare JID reach us) and get carbons
        // of what the account's other devices send and receive.
        await c.x.send(xml('presence'));
        await c.x.iqCaller.request(xml('iq', { type: 'set' }, xml('enable', { xmlns: NS.carbons })), iqTimeoutMs);
      }
    } catch (e) {
      fail(c, `session setup: ${e && e.message}`);
      return;
    }
    if (c.done) return;
    c.up = true;
    note(`up #${c.gen} ${resumed ? 'resumed' : triedResume ? 'new session (resume failed)' : 'new session'}`);
    clearTimeout(c.timer);
    saveSm(c);
    hooks.onConnected();
  }

  /**
   * The server refused the credentials. Reconnecting with the same ones would only hammer
   * it, so this attempt "connects" to a session that answers the core's `hello` with
   * `unauthorized` (`auth`): the core then asks the host for a fresh token (getToken) and
   * otherwise waits, instead of retrying with backoff.
   */
  function refused(c, condition) {
    if (c.done || c.up) return;
    c.refused = condition;
    c.up = true;
    clearTimeout(c.timer);
    note(`refused #${c.gen} ${condition}`);
    try {
      if (c.x.socket) c.x.socket.end();
    } catch {
      // already closed
    }
    later(() => {
      if (!c.done) hooks.onConnected();
    });
  }

  /** Ends a connection and reports it, once, if it was not ended by the core. */
  function fail(c, reason) {
    if (c.done) return;
    note(`down #${c.gen} ${reason}`);
    drop(c);
    later(() => hooks.onDisconnected(reason));
  }

  /** Ends a connection silently: the socket closes without a stream close, so the
   *  XEP-0198 session hibernates on the server and the next connect() can resume it. */
  function drop(c) {
    if (c.done) return;
    c.done = true;
    clearTimeout(c.timer);
    if (c.up) saveSm(c);
    if (cur === c) cur = null;
    for (const q of c.collectors.values()) q.length = 0;
    try {
      if (c.x.socket) c.x.socket.end();
    } catch {
      // already closed
    }
  }

  function disconnect() {
    if (cur) drop(cur);
  }

  /** Runs `op` after every earlier operation of the connection (one order for all frames). */
  function enqueue(c, op) {
    c.queue = c.queue.then(async () => {
      if (c.done) return;
      try {
        await op();
      } catch (e) {
        // An archive query that failed or timed out: the connection is not usable.
        if (!c.done) fail(c, `xmpp: ${e && e.message}`);
      }
    });
  }

  function deliver(c, frame) {
    if (!c.done) hooks.onFrame(JSON.stringify(frame));
  }

  // ------------------------------------------------------------------------- incoming

  function onStanza(c, st) {
    if (c.done || st.name !== 'message') return;
    const result = st.getChild('result', NS.mam);
    if (result) {
      const r = openMamResult(st, own, result.attrs.queryid);
      if (r && r.forged) {
        stats.forged++;
        return;
      }
      const q = c.collectors.get(result.attrs.queryid);
      if (r && q) q.push(r);
      return;
    }
    let msg = st;
    const carbon = openCarbon(st, own);
    if (carbon) {
      if (carbon.forged) {
        stats.forged++;
        return;
      }
      msg = carbon.message;
    }
    // Typing from the other side: an ephemeral signal, never archived.
    const from = bareJid(msg.attrs.from);
    const state = ['composing', 'paused', 'active', 'inactive', 'gone'].find((n) => msg.getChild(n, NS.chatstates));
    if (state && !carbon && from && from !== own && c.welcomed) {
      deliver(c, {
        type: 'signal',
        conv: convFor(msg.getChildText('thread') || '', from),
        kind: 'typing',
        who: { role: 'agent', id: from, name: from.split('@')[0] },
        on: state === 'composing',
      });
    }
    const interesting = msg.getChild('body') || msg.getChild('received', NS.receipts) || msg.getChild('displayed', NS.markers) ||
      msg.getChild('received', NS.markers) || msg.getChild('acknowledged', NS.markers);
    // The archive is the log: a live stanza only says "there is something new in it".
    if (interesting && !c.poke) {
      c.poke = true;
      enqueue(c, async () => {
        c.poke = false;
        await catchUp(c, true);
      });
    }
  }

  // ------------------------------------------------------------------------- the archive

  /** One XEP-0313 query; resolves to { items, complete, last }. */
  async function mamQuery(c, { after = '', ids = null, max = MAM_PAGE } = {}) {
    const queryid = `pq${++qseq}`;
    const items = [];
    c.collectors.set(queryid, items);
    stats.mamQueries++;
    const fields = [xml('field', { var: 'FORM_TYPE', type: 'hidden' }, xml('value', {}, NS.mam))];
    if (ids) fields.push(xml('field', { var: 'ids' }, ...ids.map((i) => xml('value', {}, i))));
    const set = [xml('max', {}, String(max))];
    if (after) set.push(xml('after', {}, after));
    const query = xml('query', { xmlns: NS.mam, queryid }, xml('x', { xmlns: NS.data, type: 'submit' }, ...fields), xml('set', { xmlns: NS.rsm }, ...set));
    try {
      const res = await c.x.iqCaller.request(xml('iq', { type: 'set' }, query), iqTimeoutMs);
      return { items, ...readFin(res) };
    } finally {
      c.collectors.delete(queryid);
    }
  }

  /**
   * Reads the archive after the index's head until complete='true' and numbers what is new.
   * With `push`, what is new goes to the core as an `events` frame continuing the chain.
   */
  async function catchUp(c, push) {
    const fromHead = index.head;
    const fresh = [];
    const after = index.lastArchiveId;
    try {
      for await (const items of readArchive((q) => mamQuery(c, q), after, MAX_PAGES)) {
        for (const it of items) {
          if (index.byArchiveId.has(it.archiveId)) continue;
          const item = classify(it.message, own);
          index.append(it.archiveId, it.ts, item);
          fresh.push({ cursor: index.head, item, ts: it.ts });
        }
      }
    } catch (e) {
      // The archive no longer knows our last item (expired, wiped): count again from the start.
      if (e && e.condition === 'item-not-found' && after) {
        recount();
        return catchUp(c, false);
      }
      throw e;
    }
    if (index.head === fromHead) return;
    persistIndex();
    if (push && c.welcomed) {
      const events = [];
      for (const f of fresh) {
        const ev = index.eventAt(f.cursor, f.item, f.ts);
        if (ev) events.push(ev);
      }
      stats.pushes++;
      deliver(c, eventsFrame({ from: fromHead, cursor: index.head, more: false, events }));
      await sendReceipts(c, fresh);
    }
  }

  function recount() {
    stats.recounts++;
    index = new ArchiveIndex(own);
  }

  /** XEP-0184: tell the other side its messages reached this device (once per message). */
  async function sendReceipts(c, delivered) {
    for (const f of delivered) {
      const e = index.entries[f.cursor - 1];
      if (!e || e.k !== 'm' || e.mine || !f.item.wantsReceipt || !e.i || index.receipted.has(e.i)) continue;
      index.receipted.add(e.i);
      const m = xml('message', { to: e.peer, type: 'chat', id: `rc_${e.a}` }, xml('received', { xmlns: NS.receipts, id: e.i }));
      await c.x.send(m);
    }
  }

  // ------------------------------------------------------------------------- client frames

  async function onHello(c) {
    await catchUp(c, false);
    note(`welcome #${c.gen} cursor ${index.head}`);
    c.welcomed = true;
    deliver(c, welcomeFrame(own, index.head, Date.now()));
  }

  async function onSync(c, f) {
    const limit = Math.max(1, Math.min(1000, Number(f.limit) || 500));
    let after = Number(f.after) || 0;
    await catchUp(c, false);
    if (after > index.head) {
      // The core is ahead of what this index knows: count the archive again from the start.
      recount();
      await catchUp(c, false);
      if (after > index.head) {
        deliver(c, resetFrame(index));
        return;
      }
    }
    const events = [];
    const delivered = [];
    let cursor = after;
    let size = 0;
    let afterId = index.archiveIdAt(after);
    let full = false;
    for (let page = 0; page < MAX_PAGES && !full && cursor < index.head && cursor - after < limit; page++) {
      const r = await mamQuery(c, { after: afterId, max: Math.min(MAM_PAGE, limit - (cursor - after)) });
      for (const it of r.items) {
        let pos = index.byArchiveId.get(it.archiveId);
        const item = classify(it.message, own);
        if (!pos) {
          index.append(it.archiveId, it.ts, item);
          pos = index.head;
        }
        if (pos !== cursor + 1) throw new Error(`archive order changed at cursor ${cursor + 1}`);
        const ev = index.eventAt(pos, item, it.ts);
        if (ev) {
          const n = JSON.stringify(ev).length;
          if (events.length && size + n > MAX_FRAME_CHARS) {
            full = true;
            break;
          }
          size += n;
          events.push(ev);
          delivered.push({ cursor: pos, item });
        }
        cursor = pos;
        afterId = it.archiveId;
      }
      if (r.complete) break;
      if (r.last && !full) afterId = r.last;
    }
    deliver(c, eventsFrame({ req: f.req, from: after, cursor, more: cursor < index.head, events }));
    await sendReceipts(c, delivered);
  }

  async function onHistory(c, f) {
    const all = index.messagesOf(f.conv);
    const before = Number(f.before) || 0;
    const hasAfter = typeof f.after === 'number';
    const inRange = all.filter((s) => (before === 0 || s < before) && (!hasAfter || s > f.after));
    const limit = Math.max(1, Math.min(200, Number(f.limit) || 50));
    const pick = hasAfter ? inRange.slice(0, limit) : inRange.slice(-limit);
    const messages = [];
    for (let i = 0; i < pick.length; i += MAM_PAGE) {
      const part = pick.slice(i, i + MAM_PAGE);
      const r = await mamQuery(c, { ids: part.map((s) => index.archiveIdAt(s)), max: MAM_PAGE });
      for (const it of r.items) {
        const pos = index.byArchiveId.get(it.archiveId);
        const ev = pos && index.eventAt(pos, classify(it.message, own), it.ts);
        if (ev && ev.kind === 'message') messages.push(ev.message);
      }
    }
    messages.sort((a, b) => a.seq - b.seq);
    const complete = pick.length === inRange.length;
    const page = { type: 'page', req: f.req, conv: f.conv, messages, complete };
    if (!complete) page.next = hasAfter ? pick[pick.length - 1] : pick[0];
    deliver(c, page);
  }

  function peerOf(conv) {
    return index.convPeer.get(conv) || (conv.startsWith('x_') && conv.includes('@') ? conv.slice(2) : agent);
  }

  async function onSend(c, f) {
    const body = f.body && typeof f.body === 'object' ? f.body : {};
    if (!isProtocolId(f.cid) || !isProtocolId(f.conv)) {
      deliver(c, JSON.parse(errorFrame(adapterError('invalid_field', 'permanent', 'send: cid and conv must be ids'), f.req)));
      return;
    }
    if ((body.attachments && body.attachments.length) || (body.rich && body.rich !== 'none')) {
      deliver(c, JSON.parse(errorFrame(adapterError('invalid_command', 'permanent', 'the XMPP adapter sends text only'), f.req)));
      return;
    }
    // Already archived (sent before a reload, a resume, or earlier on this connection; the
    // hello's catch-up read everything the server had): answer with the first copy, never
    // send again.
    let pos = index.cursorOfCid(f.cid);
    if (!pos) {
      const peer = peerOf(f.conv);
      if (!peer) {
        deliver(c, JSON.parse(errorFrame(adapterError('invalid_command', 'permanent', 'no agent JID configured'), f.req)));
        return;
      }
      const kids = [
        xml('body', {}, typeof body.text === 'string' ? body.text : ''),
        xml('origin-id', { xmlns: NS.sid, id: f.cid }),
        xml('request', { xmlns: NS.receipts }),
        xml('markable', { xmlns: NS.markers }),
      ];
      if (!f.conv.startsWith('x_')) kids.push(xml('thread', {}, f.conv));
      stats.sent++;
      await c.x.send(xml('message', { to: peer, type: 'chat', id: f.cid }, ...kids));
      // The server handles a stream's stanzas in order: the query sees the message archived.
      await catchUp(c, true);
      pos = index.cursorOfCid(f.cid);
    }
    if (!pos) {
      deliver(c, JSON.parse(errorFrame(adapterError('server_error', 'recoverable', 'the message is not in the archive'), f.req)));
      return;
    }
    const e = index.entries[pos - 1];
    deliver(c, { type: 'ack', req: f.req, cid: f.cid, conv: f.conv, id: e.a, seq: pos, ts: e.ts || Date.now() });
  }

  async function onRead(c, f) {
    const target = index.peerMessageAtOrBelow(f.conv, Number(f.seq) || 0);
    if (!target) return;
    // Markers only move forward: never one at or below what this account already marked.
    const done = Math.max(index.markOf(f.conv).visitorRead, c.markSent.get(f.conv) || 0);
    if (target.seq <= done) return;
    c.markSent.set(f.conv, target.seq);
    const kids = [xml('displayed', { xmlns: NS.markers, id: target.id })];
    if (!f.conv.startsWith('x_')) kids.push(xml('thread', {}, f.conv));
    await c.x.send(xml('message', { to: target.peer, type: 'chat', id: `mk_${target.seq}_${Date.now().toString(36)}` }, ...kids));
  }

  async function onTyping(c, f) {
    const peer = peerOf(f.conv);
    if (!peer) return;
    const kids = [xml(f.on ? 'composing' : 'paused', { xmlns: NS.chatstates }), xml('no-store', { xmlns: NS.hints })];
    if (!f.conv.startsWith('x_')) kids.push(xml('thread', {}, f.conv));
    await c.x.send(xml('message', { to: peer, type: 'chat' }, ...kids));
  }

  function send(text) {
    const { type, req, frame } = frameHead(text);
    const c = cur;
    if (!c || !c.up || c.done) {
      if (req) later(() => hooks.onRequestFailed(req, adapterError('disconnected', 'recoverable', 'not connected')));
      return;
    }
    if (c.refused) {
      if (type === 'hello' || req) {
        const err = adapterError('unauthorized', 'auth', `the XMPP server refused the account (${c.refused})`);
        later(() => deliver(c, JSON.parse(errorFrame(err, type === 'hello' ? undefined : req))));
      }
      return;
    }
    switch (type) {
      case 'hello':
        return enqueue(c, () => onHello(c));
      case 'sync':
        return enqueue(c, () => onSync(c, frame));
      case 'history':
        return enqueue(c, () => onHistory(c, frame));
      case 'send':
        return enqueue(c, () => onSend(c, frame));
      case 'read':
        return enqueue(c, () => onRead(c, frame));
      case 'typing':
        return enqueue(c, () => onTyping(c, frame));
      case 'ping':
        return enqueue(c, async () => deliver(c, { type: 'pong', req, server_time: Date.now() }));
      case 'engagement':
        return undefined;
      default:
        if (req) {
          enqueue(c, async () =>
            deliver(c, JSON.parse(errorFrame(adapterError('invalid_command', 'permanent', `${type || 'this frame'} is not supported by the XMPP adapter`), req))),
          );
        }
        return undefined;
    }
  }

  /** The user's data is being wiped (parley.logout()): drop the connection and remove the
   *  archive index and the resumption state, for good. */
  function forget() {
    forgotten = true;
    disconnect();
    forgetXmppAccount(o);
  }

  return {
    capabilities,
    connect,
    disconnect,
    send,
    forget,
    /** Diagnostics: counters (tests, logs) and the account. Not part of the interface. */
    xmpp: {
      stats,
      log,
      own,
      get index() {
        return index;
      },
      /** The WebSocket of the current connection (tests drop it to simulate a dead network). */
      socket: () => (cur && cur.x.socket ? cur.x.socket.socket : null),
      /** The xmpp.js client of the current connection (tests inject stanzas into it). */
      client: () => (cur ? cur.x : null),
    },
  };
}

export default createXmppAdapter;
