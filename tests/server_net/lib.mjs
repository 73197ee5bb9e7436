// Helpers for the server_net test files. Spawning, ports, temp dirs, clean-up and the
// visitor connection come from tests/load/lib.mjs; this file adds only what the network-edge
// tests need on top: a frame inbox for any WebSocket, raw HTTP requests (paths sent byte for
// byte, no URL normalisation) and hand-made WebSocket frames for the raw client.

import { request as httpRequest } from 'node:http';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { installCleanup, makeTempDir, startServer, withTimeout, writeConfig } from '../load/lib.mjs';

export const WAIT_MS = 5000;
export const AGENT_TOKEN = 'agent-dev-token';

let cleanupInstalled = false;

/** Starts the server under test (PARLEY_NET_BINARY, set by run.mjs) on a free port with a
 *  temp db. `config` (an object) is written to the temp dir; `extraArgs` go on the command
 *  line. Every server is SIGKILLed when the test process exits (tests/load/lib.mjs). */
export async function spawnServer(label, { config, extraArgs = [] } = {}) {
  if (!cleanupInstalled) {
    cleanupInstalled = true;
    installCleanup(60000, `server-net ${label}`);
  }
  const binary = process.env.PARLEY_NET_BINARY;
  if (!binary) throw new Error('PARLEY_NET_BINARY is not set (run the tests through tests/server_net/run.mjs)');
  const dir = makeTempDir(`parley-net-${label}-`);
  const cfgPath = config ? writeConfig(dir, config) : undefined;
  const s = await startServer({ binary, db: join(dir, 'net.db'), config: cfgPath, dir, label, extraArgs });
  return { ...s, dir, ws: (path) => `ws://127.0.0.1:${s.port}${path}` };
}

/** Collects every message of a WebSocket (global WebSocket or RawWebSocket) as parsed JSON
 *  (`{__binary}` / `{__unparsable}` otherwise) and remembers how it closed. */
export class Inbox {
  constructor(ws) {
    this.ws = ws;
    this.frames = [];
    this.closed = null;
    this.waiters = new Set();
    this.opened = new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', (e) => reject(new Error(`WebSocket error: ${e.message || e.type}`)), { once: true });
    });
    this.opened.catch(() => {});
    this.closedP = new Promise((resolve) => {
      ws.addEventListener('close', (ev) => {
        this.closed = { code: ev.code, reason: ev.reason };
        resolve(this.closed);
        this.#check();
      });
    });
    ws.addEventListener('message', (ev) => {
      let f;
      if (typeof ev.data !== 'string') f = { __binary: true };
      else {
        try {
          f = JSON.parse(ev.data);
        } catch {
          f = { __unparsable: ev.data.slice(0, 200) };
        }
      }
      this.frames.push(f);
      this.#check();
    });
  }

  static async open(url, ms = WAIT_MS) {
    const box = new Inbox(new WebSocket(url));
    await withTimeout(box.opened, ms, `WebSocket open ${url}`);
    return box;
  }

  #check() {
    for (const w of this.waiters) {
      const f = this.frames.find(w.pred);
      if (f) {
        this.waiters.delete(w);
        w.resolve(f);
      } else if (this.closed) {
        this.waiters.delete(w);
        w.reject(new Error(`closed (${this.closed.code} ${this.closed.reason}) before ${w.what}; frames: ${this.dump()}`));
      }
    }
  }

  /** The first frame (already received or still to come) for which pred is true. */
  waitFor(pred, what, ms = WAIT_MS) {
    const have = this.frames.find(pred);
    if (have) return Promise.resolve(have);
    let w;
    const p = new Promise((resolve, reject) => {
      w = { pred, what, resolve, reject };
      this.waiters.add(w);
      this.#check();
    });
    return withTimeout(p, ms, `${what}; frames so far: ${this.dump()}`).finally(() => this.waiters.delete(w));
  }

  waitClosed(ms = WAIT_MS) {
    return withTimeout(this.closedP, ms, `close; frames so far: ${this.dump()}`);
  }

  send(frame) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  dump() {
    return JSON.stringify(this.frames).slice(0, 600);
  }

  close() {
    if (this.closed) return Promise.resolve(this.closed);
    try {
      this.ws.close(1000);
    } catch {}
    return withTimeout(this.closedP, 3000, 'close').catch(() => {
      try {
        this.ws.terminate?.();
      } catch {}
      return null;
    });
  }
}

/** One HTTP request with the path sent verbatim (fetch would normalise `..` and `%2e%2e`).
 *  Resolves {status, headers, body}. */
export function rawHttp(port, method, path, { headers = {}, body } = {}, ms = WAIT_MS) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      });
      req.on('error', reject);
      if (body !== undefined) req.write(body);
      req.end();
    }),
    ms,
    `${method} ${path}`,
  );
}

/** A masked client WebSocket frame (RFC 6455 5.2), `fin` false for a fragment. */
export function clientFrame(op, payload, fin = true) {
  const body = Buffer.from(payload);
  const mask = randomBytes(4);
  let head;
  if (body.length < 126) head = Buffer.from([(fin ? 0x80 : 0) | op, 0x80 | body.length]);
  else {
    head = Buffer.alloc(4);
    head[0] = (fin ? 0x80 : 0) | op;
    head[1] = 0x80 | 126;
    head.writeUInt16BE(body.length, 2);
  }
  for (let i = 0; i < body.length; i++) body[i] ^= mask[i & 3];
  return Buffer.concat([head, mask, body]);
}

/** Parses the unmasked server frames in `buf` (small frames only): [{fin, op, payload}]. */
export function serverFrames(buf) {
  const out = [];
  let off = 0;
  while (off + 2 <= buf.length) {
    const fin = (buf[off] & 0x80) !== 0;
    const op = buf[off] & 0x0f;
    let len = buf[off + 1] & 0x7f;
    let h = 2;
    if (len === 126) {
      if (off + 4 > buf.length) break;
      len = buf.readUInt16BE(off + 2);
      h = 4;
    } else if (len === 127) {
      if (off + 10 > buf.length) break;
      len = Number(buf.readBigUInt64BE(off + 2));
      h = 10;
    }
    if (off + h + len > buf.length) break;
    out.push({ fin, op, payload: buf.subarray(off + h, off + h + len) });
    off += h + len;
  }
  return out;
}

/** POST /v1/frames with one frame; resolves {status, headers, frames}. */
export async function postFrame(url, app, frame, token) {
  const headers = { 'content-type': 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  const r = await fetch(`${url}/v1/frames?app=${app}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(frame),
    signal: AbortSignal.timeout(WAIT_MS),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, frames: JSON.parse(text) };
}
