// A small protocol-v1 client for the conformance suite: WebSocket connections with
// predicate waits, the HTTP fallback, the agent API of the reference server, an HS256 JWT
// signer and an event applier that enforces the `from` chain.
//
// Every wait has a timeout (cfg.timeoutMs by default) and fails with a message that lists
// the frames seen on that connection, so a failure says what the server did instead.

import { createHmac, randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { cfg } from './config.mjs';
import { validateServerFrame } from './schema.mjs';
import { RawWebSocket } from './rawws.mjs';

export { sleep };

// ---------------------------------------------------------------------------------------
// Small helpers
// ---------------------------------------------------------------------------------------

/** A fresh identifier with a prefix: `c_9f2a…`. Every test uses fresh ids, so the suite can
 *  be re-run against the same database. */
export function rid(prefix) {
  return `${prefix}_${randomBytes(8).toString('hex')}`;
}

export function short(v, max = 300) {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  if (s === undefined) return String(v);
  return s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
}

export function wsUrl(server, app) {
  const u = new URL('/v1/ws', server);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  if (app) u.searchParams.set('app', app);
  return u.href;
}

function httpUrl(server, path, query = {}) {
  const u = new URL(path, server);
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null) u.searchParams.set(k, String(v));
  return u.href;
}

/** Does frame `f` answer a request with this `req`? Errors without `req` count too: a
 *  server may not be able to tie a decoding error to its request. */
export function answers(f, req, types) {
  if (f.type === 'error') return f.req === req || f.req === undefined || f.req === null || f.req === '';
  return types.includes(f.type) && f.req === req;
}

// ---------------------------------------------------------------------------------------
// WebSocket connection
// ---------------------------------------------------------------------------------------

let connCounter = 0;

export class Conn {
  /** Opens `<server>/v1/ws?app=<app>`. With `raw: true` the socket is lib/rawws.mjs's
   *  client, which can also terminate() the TCP connection abruptly. */
  static async open({ server = cfg.server, app = cfg.app, label, timeoutMs = cfg.timeoutMs, raw = false } = {}) {
    if (!raw && typeof WebSocket !== 'function') {
      throw new Error('global WebSocket missing: run with node --experimental-websocket (Node 20)');
    }
    const url = wsUrl(server, app);
    const conn = new Conn(raw ? new RawWebSocket(url) : new WebSocket(url), label || `ws#${++connCounter}(${app}${raw ? ',raw' : ''})`, timeoutMs);
    await conn.opened;
    return conn;
  }

  constructor(ws, label, timeoutMs) {
    this.ws = ws;
    this.label = label;
    this.timeoutMs = timeoutMs;
    /** Every frame received, parsed, in arrival order. */
    this.frames = [];
    /** Protocol problems seen on this connection (bad JSON, bad shapes, binary frames). */
    this.violations = [];
    /** Set once the socket closed: {code, reason, wasClean}. */
    this.closed = null;
    this.waiters = new Set();
    this.user = null;
    this.token = null;
    this.opened = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${label}: WebSocket did not open within ${timeoutMs} ms`)), timeoutMs);
      ws.addEventListener('open', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.addEventListener('error', (e) => {
        clearTimeout(timer);
        reject(new Error(`${label}: WebSocket error before open: ${e.message || e.type}`));
      });
    });
    this.opened.catch(() => {});
    ws.addEventListener('message', (ev) => this.#onMessage(ev.data));
    ws.addEventListener('close', (ev) => {
      this.closed = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
      for (const w of this.waiters) w.check();
    });
  }

  #onMessage(data) {
    if (typeof data !== 'string') {
      this.violations.push(`${this.label}: received a binary frame (protocol frames are text)`);
      return;
    }
    let f;
    try {
      f = JSON.parse(data);
    } catch (e) {
      this.violations.push(`${this.label}: received a frame that is not JSON: ${short(data)}`);
      return;
    }
    for (const p of validateServerFrame(f)) this.violations.push(`${this.label}: ${p} in ${short(f)}`);
    this.frames.push(f);
    for (const w of this.waiters) w.check();
  }

  /** Index of the next frame to arrive: pass it as `from` to wait only for later frames. */
  mark() {
    return this.frames.length;
  }

  sendRaw(text) {
    if (this.closed) throw new Error(`${this.label}: cannot send, the socket is closed (${short(this.closed)})`);
    this.ws.send(text);
  }

  send(frame) {
    this.sendRaw(JSON.stringify(frame));
  }

  /** The last `n` frames, one per line, for failure messages. */
  seen(n = 25, from = 0) {
    const list = this.frames.slice(Math.max(from, this.frames.length - n));
    const head = this.frames.length - list.length > from ? `  … ${this.frames.length - list.length - from} earlier frames\n` : '';
    return head + (list.map((f) => `  ${short(f)}`).join('\n') || '  (none)');
  }

  /**
   * Waits for the first frame at index >= `from` (default: frames arriving from now on)
   * for which `pred(frame)` is truthy, and returns it.
   */
  waitFor(pred, { from = this.frames.length, timeout = this.timeoutMs, what = 'a matching frame' } = {}) {
    return new Promise((resolve, reject) => {
      const w = {
        check: () => {
          for (let i = from; i < this.frames.length; i++) {
            if (pred(this.frames[i])) {
              done();
              resolve(this.frames[i]);
              return;
            }
          }
          if (this.closed) {
            done();
            reject(new Error(`${this.label}: socket closed (code ${this.closed.code}, reason ${short(this.closed.reason)}) while waiting for ${what}; frames seen:\n${this.seen(25, from)}`));
          }
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${this.label}: timed out after ${timeout} ms waiting for ${what}; frames seen since the wait began:\n${this.seen(25, from)}`));
      }, timeout);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(w);
      };
      this.waiters.add(w);
      w.check();
    });
  }

  /** Waits for an event (inside an `events` frame at index >= from) matching `pred`. */
  async waitEvent(pred, { from = this.frames.length, timeout, what = 'a matching event' } = {}) {
    const f = await this.waitFor((fr) => fr.type === 'events' && Array.isArray(fr.events) && fr.events.some(pred), { from, timeout, what });
    return f.events.find(pred);
  }

  /** Waits for the socket to close; returns {code, reason, wasClean}. */
  waitClose({ timeout = this.timeoutMs } = {}) {
    if (this.closed) return Promise.resolve(this.closed);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.label}: socket still open after ${timeout} ms`)), timeout);
      this.ws.addEventListener('close', () => {
        clearTimeout(timer);
        resolve(this.closed);
      });
    });
  }

  /** All events of all `events` frames at index >= from, in arrival order. */
  events(from = 0) {
    return this.frames.slice(from).filter((f) => f.type === 'events' && Array.isArray(f.events)).flatMap((f) => f.events);
  }

  /** Sends a request frame (with `req`) and waits for its answer. A `rate_limited` error
   *  is retried after a backoff with the very same frame (same cid), as a client must. */
  async request(frame, types, { timeout, what, retries = 8, also = () => false } = {}) {
    for (let attempt = 0; ; attempt++) {
      const from = this.mark();
      this.send(frame);
      const f = await this.waitFor((x) => answers(x, frame.req, types) || also(x), {
        from,
        timeout,
        what: what || `the answer (${types.join('/')}) to ${short(frame, 200)}`,
      });
      if (f.type === 'error' && f.code === 'rate_limited' && attempt < retries) {
        await sleep(Math.min(2000, 250 * 2 ** attempt));
        continue;
      }
      return f;
    }
  }

  /** Like request(), but fails unless the answer has the given type. */
  async expect(frame, type, opts) {
    const f = await this.request(frame, [type], opts);
    if (f.type !== type) throw new Error(`${this.label}: expected ${type} for ${short(frame, 200)}, got ${short(f)}`);
    return f;
  }

  /** Says hello; returns the `welcome` or `error` frame (hello has no req). */
  async helloRaw(fields = {}, { timeout } = {}) {
    const frame = { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d'), ...fields };
    for (let attempt = 0; ; attempt++) {
      const from = this.mark();
      this.send(frame);
      const f = await this.waitFor((x) => x.type === 'welcome' || x.type === 'error', {
        from,
        timeout,
        what: `welcome or error for ${short(frame, 200)}`,
      });
      if (f.type === 'error' && f.code === 'rate_limited' && attempt < 5) {
        await sleep(300 * 2 ** attempt);
        continue;
      }
      if (f.type === 'welcome') {
        this.user = f.user;
        this.token = f.token;
      }
      return f;
    }
  }

  /** Says hello and requires a `welcome`. */
  async hello(fields = {}, opts) {
    const f = await this.helloRaw(fields, opts);
    if (f.type !== 'welcome') throw new Error(`${this.label}: hello ${short(fields, 200)} was answered ${short(f)}`);
    return f;
  }

  async ping() {
    return this.expect({ type: 'ping', req: rid('q') }, 'pong');
  }

  /** send {req, conv, cid, body}; returns the answer (ack or error). */
  sendMessage({ conv, cid = rid('k'), body, text, req = rid('q') }) {
    return this.request({ type: 'send', req, conv, cid, body: body || { text } }, ['ack']);
  }

  /** send and require an ack. */
  async post(conv, text, { cid = rid('k'), req = rid('q'), body } = {}) {
    const f = await this.sendMessage({ conv, cid, req, text, body });
    if (f.type !== 'ack') throw new Error(`${this.label}: send ${short({ conv, cid, text }, 200)} was answered ${short(f)}`);
    return f;
  }

  history({ conv, before, after, limit, req = rid('q') }) {
    const frame = { type: 'history', req, conv, limit };
    if (before !== undefined) frame.before = before;
    if (after !== undefined) frame.after = after;
    return this.request(frame, ['page']);
  }

  async page(args) {
    const f = await this.history(args);
    if (f.type !== 'page') throw new Error(`${this.label}: history ${short(args, 200)} was answered ${short(f)}`);
    return f;
  }

  /** Every message of a conversation, oldest first, via history {after} paging. */
  async allMessages(conv, { limit = 200 } = {}) {
    const out = [];
    let after = 0;
    for (let i = 0; i < 1000; i++) {
      const p = await this.page({ conv, after, limit });
      out.push(...p.messages);
      if (p.complete) return out;
      if (!(typeof p.next === 'number' && p.next > after) && p.messages.length === 0) {
        throw new Error(`${this.label}: history after ${after} is not complete but gives no progress: ${short(p)}`);
      }
      after = typeof p.next === 'number' && p.next > 0 ? p.next : p.messages.at(-1).seq;
    }
    throw new Error(`${this.label}: history of ${conv} did not complete in 1000 pages`);
  }

  /** One sync; the answer is `events` (with req) or `reset` (or an error). */
  sync(after, limit = 500, req = rid('q')) {
    return this.request({ type: 'sync', req, after, limit }, ['events'], {
      also: (x) => x.type === 'reset',
      what: `events (req ${req}) or reset answering sync after ${after}`,
    });
  }

  /**
   * Pulls with sync from `after` while `more` is true. Checks the chain (each answer's
   * `from` is the cursor asked for, `req` is echoed) and returns {frames, events, cursor}.
   */
  async syncAll(after = 0, limit = 500) {
    const frames = [];
    let cursor = after;
    for (let i = 0; i < 10000; i++) {
      const req = rid('q');
      const from = this.mark();
      this.send({ type: 'sync', req, after: cursor, limit });
      const f = await this.waitFor((x) => answers(x, req, ['events']) || x.type === 'reset', {
        from,
        what: `events (req ${req}) or reset answering sync after ${cursor}`,
      });
      if (f.type === 'error' && f.code === 'rate_limited') {
        await sleep(500);
        continue;
      }
      if (f.type !== 'events') throw new Error(`${this.label}: sync after ${cursor} was answered ${short(f)}`);
      if (f.from !== cursor) throw new Error(`${this.label}: sync after ${cursor} answered events with from ${f.from} (must be ${cursor}): ${short(f)}`);
      if (f.events.length > limit) throw new Error(`${this.label}: sync limit ${limit} answered ${f.events.length} events`);
      frames.push(f);
      cursor = f.cursor;
      if (!f.more) return { frames, events: frames.flatMap((x) => x.events), cursor };
      if (f.events.length === 0) throw new Error(`${this.label}: sync answered more:true with no events (no progress): ${short(f)}`);
    }
    throw new Error(`${this.label}: sync did not finish`);
  }

  /** Drops the connection without a close handshake (raw connections only). */
  terminate() {
    if (typeof this.ws.terminate !== 'function') throw new Error(`${this.label}: terminate() needs Conn.open({raw: true})`);
    this.ws.terminate();
  }

  close(code = 1000) {
    if (!this.closed) {
      try {
        this.ws.close(code);
      } catch {
        /* already closing */
      }
    }
  }
}

// ---------------------------------------------------------------------------------------
// Applying events in order (the client's chain rule)
// ---------------------------------------------------------------------------------------

/** Applies `events` frames the way a client must: only when `from` equals its cursor. */
export class Applier {
  constructor(cursor = 0) {
    this.cursor = cursor;
    this.events = [];
    this.breaks = []; // frames whose `from` was ahead of our cursor
    this.duplicates = 0;
  }
  apply(f) {
    if (f.cursor <= this.cursor) {
      this.duplicates++;
      return 'duplicate';
    }
    if (f.from !== this.cursor) {
      this.breaks.push({ have: this.cursor, from: f.from, cursor: f.cursor });
      return 'ahead';
    }
    this.events.push(...f.events);
    this.cursor = f.cursor;
    return 'applied';
  }
  /** Applies every `events` frame of `conn` from frame index `from`, in arrival order. */
  applyAll(conn, from = 0) {
    for (const f of conn.frames.slice(from)) if (f.type === 'events') this.apply(f);
    return this;
  }
}

// ---------------------------------------------------------------------------------------
// HTTP fallback
// ---------------------------------------------------------------------------------------

async function readBody(res) {
  const text = await res.text();
  let json;
  try {
    json = text === '' ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/**
 * POST /v1/frames?app=A with one client frame (an object, or a raw string body).
 * Returns {status, text, json, frames}: `frames` is the JSON array of server frames (an
 * object body is wrapped in an array, and `isArray` says which it was).
 */
export async function postFrame(body, { server = cfg.server, app = cfg.app, token, timeout = cfg.timeoutMs, headers = {} } = {}) {
  const h = { 'content-type': 'application/json', ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  for (let attempt = 0; ; attempt++) {
    const res = await fetch(httpUrl(server, '/v1/frames', { app }), {
      method: 'POST',
      headers: h,
      body: typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(timeout),
    });
    const r = await readBody(res);
    r.isArray = Array.isArray(r.json);
    r.frames = r.isArray ? r.json : r.json && typeof r.json === 'object' ? [r.json] : [];
    r.problems = r.frames.flatMap((f) => validateServerFrame(f).map((p) => `POST /v1/frames: ${p}`));
    const limited = r.frames.some((f) => f.type === 'error' && f.code === 'rate_limited') || r.status === 429;
    if (limited && attempt < 6) {
      await sleep(250 * 2 ** attempt);
      continue;
    }
    return r;
  }
}

/** POST a frame over HTTP and return the first server frame of the given type (or throw). */
export async function postExpect(body, type, opts) {
  const r = await postFrame(body, opts);
  const f = r.frames.find((x) => x.type === type);
  if (!f) throw new Error(`POST /v1/frames ${short(body, 200)}: expected a ${type} frame, got HTTP ${r.status} ${short(r.text)}`);
  return f;
}

/** GET /v1/events?app=A&after=N (long-poll). Returns {status, json, ms}. */
export async function pollEvents(after, { server = cfg.server, app = cfg.app, token, timeout = 30000, signal } = {}) {
  const headers = {};
  if (token) headers.authorization = `Bearer ${token}`;
  const t0 = Date.now();
  const signals = [AbortSignal.timeout(timeout)];
  if (signal) signals.push(signal);
  const res = await fetch(httpUrl(server, '/v1/events', { app, after }), { headers, signal: AbortSignal.any(signals) });
  const r = await readBody(res);
  r.ms = Date.now() - t0;
  r.problems = r.json && typeof r.json === 'object' ? validateServerFrame(r.json).map((p) => `GET /v1/events: ${p}`) : [];
  return r;
}

// ---------------------------------------------------------------------------------------
// Agent API and simulated channels (docs/server.md)
// ---------------------------------------------------------------------------------------

export class Agent {
  constructor({ server = cfg.server, app = cfg.app, token = cfg.agentToken, timeout = cfg.timeoutMs } = {}) {
    Object.assign(this, { server, app, token, timeout });
  }

  /** Raw call: returns {status, json, text}; never throws on HTTP status. */
  async call(method, path, body, { query = {}, token = this.token } = {}) {
    const headers = {};
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(httpUrl(this.server, path, { app: this.app, ...query }), {
      method,
      headers,
      body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      signal: AbortSignal.timeout(this.timeout),
    });
    return readBody(res);
  }

  /** Call and require one of the `ok` statuses; returns the parsed body. */
  async ok(method, path, body, ok = [200, 201, 204], opts) {
    const r = await this.call(method, path, body, opts);
    if (!ok.includes(r.status)) throw new Error(`agent API ${method} ${path} ${short(body ?? '', 200)}: expected HTTP ${ok.join('/')}, got ${r.status} ${short(r.text)}`);
    return r.json;
  }

  conv(conv) {
    return `/v1/agent/conversations/${encodeURIComponent(conv)}`;
  }
  list() {
    return this.ok('GET', '/v1/agent/conversations', undefined, [200]);
  }
  summary(conv) {
    return this.ok('GET', this.conv(conv), undefined, [200]);
  }
  messages(conv, query = {}) {
    return this.ok('GET', `${this.conv(conv)}/messages`, undefined, [200], { query });
  }
  /** Posts an agent message; returns the stored message. */
  async say(conv, text, extra = {}) {
    const r = await this.ok('POST', `${this.conv(conv)}/messages`, { text, ...extra }, [201, 200]);
    return r.message;
  }
  read(conv, seq) {
    return this.ok('POST', `${this.conv(conv)}/read`, { seq }, [204, 200]);
  }
  typing(conv, on) {
    return this.ok('POST', `${this.conv(conv)}/typing`, { on }, [204, 200]);
  }
  setStatus(conv, status) {
    return this.ok('POST', `${this.conv(conv)}/status`, { status }, [200]);
  }
  handoff(conv, body) {
    return this.ok('POST', `${this.conv(conv)}/handoff`, body, [200]);
  }
  /** GET /v1/channels/{channel}/{address}/outbox (address URL-encoded: "+" is %2B). */
  async outbox(channel, address) {
    const r = await this.ok('GET', `/v1/channels/${channel}/${encodeURIComponent(address)}/outbox`, undefined, [200]);
    return r.messages;
  }
  inbound(channel, address, text) {
    return this.ok('POST', `/v1/channels/${channel}/inbound`, { address, text }, [201, 200]);
  }
}

// ---------------------------------------------------------------------------------------
// JWT (HS256) for identified users
// ---------------------------------------------------------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url');

/** Signs an HS256 JWT. `header` overrides let tests forge bad tokens (alg none, ...). */
export function signJwt(claims, secret, { header = {} } = {}) {
  const h = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT', ...header }));
  const p = b64url(JSON.stringify(claims));
  const sig = b64url(createHmac('sha256', secret).update(`${h}.${p}`).digest());
  return `${h}.${p}.${sig}`;
}

/** A valid JWT for the configured app: sub, aud, exp in 10 minutes; `over` overrides. */
export function userJwt(sub, over = {}, secret = cfg.jwtSecret) {
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub, aud: cfg.jwtAudience, iat: now, exp: now + 600, name: `Conformance ${sub}`, ...over };
  for (const k of Object.keys(claims)) if (claims[k] === undefined) delete claims[k];
  return signJwt(claims, secret);
}
