// The reference adapter: protocol v1 to the reference server (server/, docs/server.md).
//
//   WebSocket  <server>/v1/ws?app=A (http -> ws, https -> wss), one JSON frame per message.
//   Fallback   each client frame is POSTed to /v1/frames?app=A (answer: a JSON array of
//              server frames); events arrive by a long-poll loop GET /v1/events?app=A&after=N.
//              The identity token travels in `Authorization: Bearer`, never in a URL.
//
// It falls back when WebSocket does not exist (or the host asks for long-poll), and when a
// WebSocket failed `fallbackAfter` times in a row (no open, or closed before its first
// frame: a blocking proxy, a CSP without ws:, a broken upgrade). It tries WebSocket again
// after `wsRetryMs`, and at once when the HTTP fallback cannot reach the server either (the
// server is down, not WebSocket blocked). Reconnecting and backoff are the core's: each
// connect() is one attempt (the switch to long-poll happens inside that attempt).
// docs/adapters.md describes the rules this file follows.

import { adapterError, asAdapterError, errorFrame, frameHead, httpError } from './adapter.js';

const DEFAULTS = {
  transport: 'auto', // 'auto' | 'websocket' | 'long-poll'
  fallbackAfter: 2, // consecutive WebSocket failures before the HTTP fallback
  openTimeoutMs: 10000, // a WebSocket that has not opened by then has failed
  heartbeatMs: 25000, // WebSocket idle this long: send a protocol `ping`
  pongTimeoutMs: 10000, // ... and nothing back within this: the connection is dead
  postTimeoutMs: 10000, // a POST /v1/frames unanswered this long: the connection is dead
  pollTimeoutMs: 40000, // a long-poll unanswered this long (server's is 25 s): dead
  wsRetryMs: 600000, // after falling back, try WebSocket again on a connect() this much later
};

const HEARTBEAT_PREFIX = 'hb.';
const MIN_EMPTY_POLL_MS = 1000;

function baseUrl(server) {
  const fallback = globalThis.location ? globalThis.location.origin : undefined;
  if (!server && !fallback) throw new TypeError('parley-ws: options.server is required here');
  const u = new URL(server || fallback, fallback);
  if (u.protocol === 'ws:') u.protocol = 'http:';
  if (u.protocol === 'wss:') u.protocol = 'https:';
  u.search = '';
  u.hash = '';
  return { href: u.href, path: u.pathname.replace(/\/+$/, '') }; // path: '' or '/prefix'
}

/** A frame's `type`: read off its start when it comes first (as Parley encoders write it),
 *  else parsed. */
function typeOf(text) {
  const m = /^\s*\{\s*"type"\s*:\s*"([a-z_]+)"/.exec(text.slice(0, 64));
  return m ? m[1] : frameHead(text).type;
}

/**
 * @param {object} options
 * @param {string} [options.server]  base URL of the server (default: the page's origin)
 * @param {string} [options.app]     the app id (`?app=`); absent: the server's first app
 * @param {'auto'|'websocket'|'long-poll'} [options.transport]
 * @param {number} [options.fallbackAfter] @param {number} [options.openTimeoutMs]
 * @param {number} [options.heartbeatMs] @param {number} [options.pongTimeoutMs]
 * @param {number} [options.postTimeoutMs] @param {number} [options.pollTimeoutMs]
 * @param {number} [options.wsRetryMs]
 * @param {any} [options.WebSocket]  a WebSocket constructor (default: the global; null: none)
 * @param {typeof fetch} [options.fetch]  (default: the global fetch)
 * @param {import('./adapter.js').AdapterHooks} hooks
 * @returns {import('./adapter.js').Adapter}
 */
export function createAdapter(options = {}, hooks) {
  for (const h of ['onConnected', 'onDisconnected', 'onFrame', 'onRequestFailed']) {
    if (!hooks || typeof hooks[h] !== 'function') throw new TypeError(`parley-ws: hooks.${h} is required`);
  }
  const o = { ...DEFAULTS, ...options };
  const WS = 'WebSocket' in options ? options.WebSocket : globalThis.WebSocket;
  const wsAvailable = typeof WS === 'function';
  const doFetch = options.fetch || ((...a) => globalThis.fetch(...a));
  const base = baseUrl(o.server);

  let current = null; // the live connection, or null
  let connSeq = 0;
  let beatSeq = 0;
  let wsFailures = 0; // consecutive WebSocket failures
  let fallbackSince = 0; // when the HTTP fallback was last seen working (0: not in fallback)
  let token = ''; // the identity token of the latest welcome
  let transport = o.transport === 'long-poll' || !wsAvailable ? 'long-poll' : 'websocket';

  const later = (fn) => setTimeout(fn, 0);
  const live = (c) => c === current && !c.dead;

  function url(path, params = {}) {
    const u = new URL(base.href);
    u.pathname = base.path + path;
    if (o.app) u.searchParams.set('app', o.app);
    for (const [k, v] of Object.entries(params)) u.searchParams.set(k, String(v));
    return u;
  }

  // ------------------------------------------------------------------ connection life
  function connect() {
    drop(current);
    const c = { id: ++connSeq, dead: false, timers: new Set(), ctls: new Set() };
    current = c;
    let mode = 'websocket';
    if (o.transport === 'long-poll' || !wsAvailable) mode = 'long-poll';
    else if (o.transport === 'auto' && wsFailures >= o.fallbackAfter) {
      if (fallbackSince && Date.now() - fallbackSince >= o.wsRetryMs) {
        wsFailures = o.fallbackAfter - 1; // one WebSocket try; a failure falls back again
        fallbackSince = 0;
      } else {
        mode = 'long-poll';
      }
    }
    if (mode === 'websocket') openWs(c);
    else openHttp(c, o.transport === 'auto' && wsAvailable);
  }

  function disconnect() {
    drop(current);
    current = null;
  }

  /** Ends a connection silently (host-initiated, or replaced). */
  function drop(c) {
    if (!c || c.dead) return;
    c.dead = true;
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
    for (const ctl of c.ctls) ctl.abort();
    c.ctls.clear();
    if (c.ws) {
      const ws = c.ws;
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close(1000);
      } catch {
        // already closing
      }
    }
  }

  /** The connection is gone: report it once. */
  function fail(c, reason) {
    if (!live(c)) return;
    drop(c);
    current = null;
    hooks.onDisconnected(reason);
  }

  function timer(c, ms, fn) {
    const t = setTimeout(() => {
      c.timers.delete(t);
      if (live(c)) fn();
    }, ms);
    c.timers.add(t);
    return t;
  }

  // ------------------------------------------------------------------ WebSocket
  function openWs(c) {
    transport = 'websocket';
    c.mode = 'websocket';
    const u = url('/v1/ws');
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    let ws;
    try {
      ws = new WS(u.href);
    } catch (e) {
      // A CSP without ws:, a bad URL: the same as a failed open.
      later(() => live(c) && wsFailed(c, 'ws_refused'));
      return;
    }
    c.ws = ws;
    c.opened = false;
    c.gotFrame = false;
    c.lastRx = 0;
    c.pingAt = 0;
    c.pingReq = '';
    const openTimer = timer(c, o.openTimeoutMs, () => {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try {
        ws.close();
      } catch {
        // never opened
      }
      wsFailed(c, 'ws_open_timeout');
    });
    ws.onopen = () => {
      if (!live(c)) return;
      clearTimeout(openTimer);
      c.timers.delete(openTimer);
      c.opened = true;
      c.lastRx = Date.now();
      beat(c);
      hooks.onConnected();
    };
    ws.onmessage = (ev) => {
      if (!live(c)) return;
      c.lastRx = Date.now();
      if (typeof ev.data !== 'string') return; // protocol v1 is text only
      if (!c.gotFrame) {
        c.gotFrame = true;
        wsFailures = 0;
        fallbackSince = 0;
      }
      const type = typeOf(ev.data);
      if (type === 'welcome') {
        const f = frameHead(ev.data).frame;
        if (f && typeof f.token === 'string') token = f.token;
      } else if (type === 'pong' && c.pingReq && ev.data.includes(`"${c.pingReq}"`)) {
        return; // our heartbeat, not the core's business
      }
      hooks.onFrame(ev.data);
    };
    ws.onerror = () => {}; // a close event follows
    ws.onclose = (ev) => {
      if (!live(c)) return;
      if (!c.opened) return wsFailed(c, `ws_open_failed:${ev.code}`);
      if (!c.gotFrame) wsFailures++; // opened, then closed with nothing said: a proxy?
      fail(c, `ws_closed:${ev.code}`);
    };
  }

  function wsFailed(c, reason) {
    wsFailures++;
    if (o.transport === 'auto' && wsFailures >= o.fallbackAfter) {
      if (c.ws) c.ws.onopen = c.ws.onmessage = c.ws.onerror = c.ws.onclose = null;
      c.ws = null;
      openHttp(c, true); // the fallback decision is ours: same attempt, other transport
    } else {
      fail(c, reason);
    }
  }

  /** Idle detection: a protocol `ping` after heartbeatMs of silence, dead after pongTimeoutMs. */
  function beat(c) {
    const now = Date.now();
    if (c.pingAt) {
      if (c.lastRx >= c.pingAt) {
        c.pingAt = 0;
        c.pingReq = '';
      } else if (now - c.pingAt >= o.pongTimeoutMs) {
        try {
          c.ws.close(4000, 'no pong');
        } catch {
          // closing anyway
        }
        fail(c, 'heartbeat_timeout');
        return;
      } else {
        timer(c, c.pingAt + o.pongTimeoutMs - now, () => beat(c));
        return;
      }
    }
    const idle = now - c.lastRx;
    if (idle >= o.heartbeatMs) {
      c.pingReq = `${HEARTBEAT_PREFIX}${++beatSeq}`;
      c.pingAt = now;
      try {
        c.ws.send(JSON.stringify({ type: 'ping', req: c.pingReq }));
      } catch {
        // the close event will tell
      }
      timer(c, o.pongTimeoutMs, () => beat(c));
    } else {
      timer(c, o.heartbeatMs - idle, () => beat(c));
    }
  }

  // ------------------------------------------------------------------ HTTP fallback
  function openHttp(c, fromFallback) {
    transport = 'long-poll';
    Object.assign(c, {
      mode: 'long-poll',
      fromFallback, // WebSocket failed before: a network failure here means "server down"
      proven: false, // an HTTP answer arrived on this connection
      queue: [], // client frames waiting for their POST, in order
      posting: false,
      syncPending: 0, // sync frames queued or in flight
      held: [], // long-poll frames waiting for a sync answer (see deliverPushed)
      cursor: 0, // the long-poll's `after`
      pollGen: 0,
      polling: false,
    });
    later(() => live(c) && hooks.onConnected());
  }

  function httpWorked(c) {
    c.proven = true;
    if (c.fromFallback && !fallbackSince) fallbackSince = Date.now();
  }

  function networkFailed(c) {
    // The fallback cannot reach the server either: next time, try WebSocket first.
    if (c.fromFallback && !c.proven) wsFailures = 0;
  }

  function authHeaders(extra = {}) {
    return token ? { ...extra, authorization: `Bearer ${token}` } : extra;
  }

  /** fetch + text with a timeout; never throws. `onCtl` receives the AbortController. */
  async function request(c, href, init, timeoutMs, onCtl) {
    const ctl = new AbortController();
    c.ctls.add(ctl);
    if (onCtl) onCtl(ctl);
    let timedOut = false;
    const t = setTimeout(() => {
      timedOut = true;
      ctl.abort();
    }, timeoutMs);
    try {
      const res = await doFetch(href, { ...init, signal: ctl.signal, cache: 'no-store', credentials: 'omit' });
      const body = await res.text();
      return { res, body };
    } catch (e) {
      return { error: timedOut ? 'timeout' : 'network', message: e && e.message ? e.message : String(e) };
    } finally {
      clearTimeout(t);
      c.ctls.delete(ctl);
    }
  }

  function pumpPosts(c) {
    if (!live(c) || c.posting || c.queue.length === 0) return;
    c.posting = true;
    const text = c.queue.shift();
    post(c, text)
      .catch((e) => later(() => {
        throw e; // a hook threw: the host's bug, reported without stopping the queue
      }))
      .finally(() => {
        if (!live(c)) return;
        c.posting = false;
        pumpPosts(c);
      });
  }

  async function post(c, text) {
    const head = frameHead(text);
    try {
      const headers = { 'content-type': 'application/json' };
      // A hello carries its own token; an old one in the header could be refused (merged).
      if (head.type !== 'hello' && token) headers.authorization = `Bearer ${token}`;
      const r = await request(c, url('/v1/frames').href, { method: 'POST', headers, body: text }, o.postTimeoutMs);
      if (!live(c)) return;
      if (r.error === 'timeout') return fail(c, 'post_timeout');
      if (r.error) {
        networkFailed(c);
        if (head.req) hooks.onRequestFailed(head.req, adapterError('server_error', 'recoverable', `network error: ${r.message}`));
        else fail(c, 'post_network');
        return;
      }
      if (!r.res.ok) {
        const e = httpError(r.res.status, r.body);
        if (head.req) hooks.onRequestFailed(head.req, e);
        else if (e.recoverable === 'recoverable') fail(c, `post_http_${r.res.status}`);
        else hooks.onFrame(errorFrame(e));
        return;
      }
      httpWorked(c);
      let frames = null;
      try {
        frames = JSON.parse(r.body);
      } catch {
        frames = null;
      }
      if (!Array.isArray(frames)) {
        const e = adapterError('server_error', 'recoverable', 'POST /v1/frames: the answer is not a JSON array');
        if (head.req) hooks.onRequestFailed(head.req, e);
        else fail(c, 'post_bad_answer');
        return;
      }
      for (const f of frames) {
        if (!live(c)) return;
        // An error without req answering a request (a refused bearer token) is its failure.
        const e = head.req && f && f.type === 'error' && !f.req ? asAdapterError(f) : null;
        if (e) {
          hooks.onRequestFailed(head.req, e);
          continue;
        }
        observeHttp(c, f);
        hooks.onFrame(JSON.stringify(f));
      }
    } finally {
      if (head.type === 'sync' && live(c)) {
        c.syncPending--;
        if (c.syncPending === 0) flushHeld(c);
      }
    }
  }

  function observeHttp(c, f) {
    if (!f || typeof f !== 'object') return;
    if (f.type === 'welcome' && typeof f.token === 'string') {
      token = f.token;
      // Live events start at the server's head, as WebSocket pushes do; catch-up is the
      // core's `sync` (the `from` chain heals anything in between).
      c.cursor = Number(f.cursor) || 0;
      startPolling(c);
    } else if (f.type === 'events' && Number.isFinite(f.cursor)) {
      c.cursor = Math.max(c.cursor, f.cursor);
    } else if (f.type === 'reset' && Number.isFinite(f.cursor)) {
      c.cursor = f.cursor;
      startPolling(c);
    }
  }

  function startPolling(c) {
    c.pollGen++;
    if (c.pollCtl) c.pollCtl.abort();
    poll(c, c.pollGen);
  }

  async function poll(c, gen) {
    const mine = () => live(c) && c.pollGen === gen;
    while (mine()) {
      const before = c.cursor;
      const started = Date.now();
      const href = url('/v1/events', { after: before }).href;
      const r = await request(c, href, { headers: authHeaders() }, o.pollTimeoutMs, (ctl) => (c.pollCtl = ctl));
      if (!mine()) return;
      if (r.error === 'timeout') return fail(c, 'poll_timeout');
      if (r.error) {
        networkFailed(c);
        return fail(c, 'poll_network');
      }
      if (!r.res.ok) {
        const e = httpError(r.res.status, r.body);
        if (e.recoverable === 'recoverable') return fail(c, `poll_http_${r.res.status}`);
        hooks.onFrame(errorFrame(e)); // unauthorized: the core asks the host for a token
        if (e.recoverable === 'auth') return; // polling resumes with the next welcome
        return fail(c, `poll_http_${r.res.status}`);
      }
      httpWorked(c);
      const f = frameHead(r.body).frame;
      if (!f) return fail(c, 'poll_bad_answer');
      let news = true;
      if (f.type === 'events') {
        const n = Array.isArray(f.events) ? f.events.length : 0;
        news = n > 0 || f.cursor > before; // empty: the server's poll time ran out
        if (Number.isFinite(f.cursor)) c.cursor = Math.max(c.cursor, f.cursor);
      } else if (f.type === 'reset' && Number.isFinite(f.cursor)) {
        c.cursor = f.cursor;
      }
      if (news) deliverPushed(c, r.body);
      // A server that answers at once without moving the cursor must not make this spin.
      if (c.cursor <= before && Date.now() - started < MIN_EMPTY_POLL_MS) {
        await new Promise((ok) => timer(c, MIN_EMPTY_POLL_MS, ok));
      }
    }
  }

  // POST answers and long-poll answers travel on different connections, so a long-poll
  // answer may overtake the answer to an earlier `sync`. The core would then drop it (its
  // `from` is ahead), and the sync answer would tell it that the head is lower than it
  // is. Long-poll frames therefore wait while a sync is queued or in flight.
  function deliverPushed(c, text) {
    if (c.syncPending > 0) c.held.push(text);
    else hooks.onFrame(text);
  }

  function flushHeld(c) {
    while (live(c) && c.syncPending === 0 && c.held.length) hooks.onFrame(c.held.shift());
  }

  // ------------------------------------------------------------------ sending
  function send(text) {
    const c = current;
    if (!c || c.dead || (c.mode === 'websocket' && (!c.opened || c.ws.readyState !== 1))) {
      const { req } = frameHead(text);
      if (req) later(() => hooks.onRequestFailed(req, adapterError('disconnected', 'recoverable', 'not connected')));
      return;
    }
    if (c.mode === 'websocket') {
      c.ws.send(text);
      return;
    }
    if (typeOf(text) === 'sync') c.syncPending++;
    c.queue.push(text);
    pumpPosts(c);
  }

  /** Attachment bytes (PUT /v1/files/{id}), before the core's `upload` frame for them. */
  async function uploadBytes(id, bytes, mime) {
    const typed = (e) => Object.assign(new Error(e.message), e);
    if (!token) throw typed(adapterError('unauthorized', 'auth', 'no identity token yet (say hello first)'));
    let res;
    let body;
    try {
      res = await doFetch(url(`/v1/files/${encodeURIComponent(id)}`).href, {
        method: 'PUT',
        headers: authHeaders({ 'content-type': mime }),
        body: bytes,
        cache: 'no-store',
        credentials: 'omit',
      });
      body = await res.text();
    } catch (e) {
      throw typed(adapterError('server_error', 'recoverable', `network error: ${e && e.message}`));
    }
    if (!res.ok) throw typed(httpError(res.status, body));
    try {
      return { url: JSON.parse(body).url };
    } catch {
      throw typed(adapterError('server_error', 'recoverable', 'PUT /v1/files: the answer is not JSON'));
    }
  }

  return {
    get capabilities() {
      return { transport, push: true, signals: transport === 'websocket', uploads: true };
    },
    connect,
    disconnect,
    send,
    uploadBytes,
  };
}

export default createAdapter;
