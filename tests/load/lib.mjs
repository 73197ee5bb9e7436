// Shared helpers for tests/load/load.mjs and tests/durability/kill9.mjs: spawning the
// reference server (free port, temp db, /healthz wait, clean-up of every child on any exit),
// a small protocol-v1 WebSocket visitor connection, the agent API and percentiles.
//
// Node 20, no npm packages: the global WebSocket (needs --experimental-websocket; the
// scripts re-execute themselves with it), fetch, node:child_process, node:net.
//
// Every wait has a timeout. Every child process started here is SIGKILLed when this Node
// process exits, whatever the reason (normal end, exception, SIGINT/SIGTERM, watchdog).

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

// ---------------------------------------------------------------------------------------
// Process hygiene
// ---------------------------------------------------------------------------------------

/** Node 20 needs --experimental-websocket for the global WebSocket: re-run ourselves with
 *  it when it is missing. Use as `await ensureWebSocket()` at the top of a script. The
 *  parent forwards SIGINT/SIGTERM/SIGHUP to the child and exits with its status (it never
 *  resolves); the child exits on its own if the parent disappears. */
export async function ensureWebSocket() {
  if (typeof WebSocket === 'function') {
    if (process.env.PARLEY_REEXEC_PARENT) {
      const parent = Number(process.env.PARLEY_REEXEC_PARENT);
      const t = setInterval(() => {
        if (process.ppid !== parent) {
          console.error('parent process gone, stopping');
          process.exit(1);
        }
      }, 500);
      t.unref();
    }
    return;
  }
  const child = spawn(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, PARLEY_REEXEC_PARENT: String(process.pid), NODE_NO_WARNINGS: '1' },
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
  child.on('error', (e) => {
    console.error(`cannot re-run node with --experimental-websocket: ${e.message}`);
    process.exit(1);
  });
  return new Promise(() => {});
}

/** Command-line options with node:util parseArgs, plus `--help` / `-h`: prints `usage` and
 *  exits 0; a bad option prints the error and `usage` and exits 2. */
export function cli(options, usage) {
  let values;
  try {
    ({ values } = parseArgs({ options: { ...options, help: { type: 'boolean', short: 'h' } } }));
  } catch (e) {
    console.error(`${e.message}\n${usage}`);
    process.exit(2);
  }
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  return values;
}

const children = new Set();
const tempDirs = new Set();
let keepTemp = false;

function killAll() {
  for (const c of children) {
    // Each server runs in its own process group (detached), so a wrapper script given as
    // --binary cannot leave a grandchild behind.
    try {
      process.kill(-c.pid, 'SIGKILL');
    } catch {}
    try {
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    } catch {}
  }
  children.clear();
}

/** Installs exit hooks (once): kill children, remove temp dirs (kept when keepTempDirs() was
 *  called, e.g. after a failure), and a watchdog that ends the run after `watchdogMs`. */
export function installCleanup(watchdogMs, name) {
  process.on('exit', () => {
    killAll();
    if (!keepTemp) for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      console.error(`${name}: got ${sig}, stopping`);
      process.exit(130);
    });
  }
  process.on('uncaughtException', (e) => {
    console.error(`${name}: uncaught: ${e?.stack || e}`);
    keepTemp = true;
    process.exit(1);
  });
  process.on('unhandledRejection', (e) => {
    console.error(`${name}: unhandled rejection: ${e?.stack || e}`);
    keepTemp = true;
    process.exit(1);
  });
  const wd = setTimeout(() => {
    console.error(`${name}: watchdog: the run took more than ${Math.round(watchdogMs / 1000)} s, giving up`);
    keepTemp = true;
    process.exit(1);
  }, watchdogMs);
  wd.unref();
}

export function keepTempDirs() {
  keepTemp = true;
}

export function makeTempDir(prefix) {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(d);
  return d;
}

// ---------------------------------------------------------------------------------------
// Small utilities
// ---------------------------------------------------------------------------------------

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function rid(prefix) {
  return `${prefix}_${randomBytes(6).toString('hex')}`;
}

/** Rejects with `what` after `ms` unless `p` settles first. */
export function withTimeout(p, ms, what) {
  let t;
  return Promise.race([
    p,
    new Promise((_, rej) => {
      t = setTimeout(() => rej(new Error(`timeout after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

/** Nearest-rank percentile of an unsorted array (p in 0..100); NaN when empty. */
export function pct(values, p) {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  const k = Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1));
  return s[k];
}

export const fmt = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');

// ---------------------------------------------------------------------------------------
// The server
// ---------------------------------------------------------------------------------------

/** A TCP port in [lo, hi] that is free on 127.0.0.1 right now (random probe order). */
export async function freePort(lo = 38000, hi = 38999) {
  for (let i = 0; i < 200; i++) {
    const port = lo + Math.floor(Math.random() * (hi - lo + 1));
    const ok = await new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(false));
      s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
    });
    if (ok) return port;
  }
  throw new Error(`no free port in ${lo}..${hi}`);
}

export function writeConfig(dir, cfg) {
  const p = join(dir, 'server-config.json');
  writeFileSync(p, JSON.stringify(cfg, null, 2));
  return p;
}

/**
 * Spawns `binary --port P --db DB [--config C] --quiet` and waits for GET /healthz.
 * Retries on another free port if the first one was taken in the meantime (unless `port`
 * is given: then that port or failure).
 * Returns { proc, pid, port, url, logPath, exited: Promise<{code, signal}>,
 *           stop(signal, timeoutMs): Promise<{code, signal}> }.
 */
export async function startServer({ binary, db, config, dir, label = 'server', readyMs = 15000, extraArgs = [], port: wanted }) {
  let lastErr;
  for (let attempt = 0; attempt < 4; attempt++) {
    // A given port (a restart on the same address) is used as is, never replaced.
    if (wanted && attempt > 0) break;
    const port = wanted || (await freePort());
    const logPath = join(dir, `${label}-${port}.log`);
    const fd = openSync(logPath, 'a');
    const args = ['--port', String(port), '--db', db, '--quiet'];
    if (config) args.push('--config', config);
    args.push(...extraArgs);
    const proc = spawn(binary, args, { stdio: ['ignore', fd, fd], detached: true });
    closeSync(fd);
    children.add(proc);
    const exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        // Anything the process left in its group (a wrapper's child) goes with it.
        try {
          process.kill(-proc.pid, 'SIGKILL');
        } catch {}
        children.delete(proc);
        resolve({ code, signal });
      });
      proc.once('error', (e) => {
        children.delete(proc);
        resolve({ code: null, signal: null, error: e });
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const deadline = Date.now() + readyMs;
    let early = null;
    exited.then((r) => (early = r));
    while (Date.now() < deadline && !early) {
      try {
        const r = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) });
        if (r.ok) {
          const stop = async (signal = 'SIGTERM', timeoutMs = 10000) => {
            if (early) return early;
            proc.kill(signal);
            return withTimeout(exited, timeoutMs, `${label} pid ${proc.pid} to exit after ${signal}`);
          };
          return { proc, pid: proc.pid, port, url, logPath, exited, stop };
        }
      } catch {}
      await sleep(50);
    }
    if (!early) {
      proc.kill('SIGKILL');
      lastErr = new Error(`${label}: no /healthz answer within ${readyMs} ms (log ${logPath})`);
      break;
    }
    lastErr = new Error(
      `${label}: exited early (code ${early.code}, signal ${early.signal}${early.error ? `, ${early.error.message}` : ''}); log ${logPath}`,
    );
    if (early.error) break; // e.g. ENOENT: the binary does not exist; retrying is pointless
  }
  throw lastErr;
}

// ---------------------------------------------------------------------------------------
// Agent API
// ---------------------------------------------------------------------------------------

export async function agentGet(url, path, token, timeoutMs = 10000) {
  const r = await fetch(`${url}${path}`, {
    headers: { authorization: `Bearer ${token}` },
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await r.text();
  if (!r.ok) throw new Error(`GET ${path}: HTTP ${r.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

/** Every message of `conv` through the agent API, oldest first (forward paging with `after`). */
export async function agentAllMessages(url, conv, token, timeoutMs = 10000) {
  const out = [];
  let after = 0;
  for (let pages = 0; pages < 100000; pages++) {
    const p = await agentGet(
      url,
      `/v1/agent/conversations/${encodeURIComponent(conv)}/messages?after=${after}&limit=200`,
      token,
      timeoutMs,
    );
    out.push(...p.messages);
    if (p.complete) return out;
    const next = p.next || (p.messages.length ? p.messages[p.messages.length - 1].seq : 0);
    if (!(next > after)) throw new Error(`agent paging of ${conv} does not advance (after=${after}, next=${p.next})`);
    after = next;
  }
  throw new Error(`agent paging of ${conv} never completed`);
}

// ---------------------------------------------------------------------------------------
// Visitor WebSocket connection
// ---------------------------------------------------------------------------------------

export function wsUrl(server, app) {
  const u = new URL('/v1/ws', server);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  if (app) u.searchParams.set('app', app);
  return u.href;
}

let reqCounter = 0;
export const nextReq = () => `q${(++reqCounter).toString(36)}`;

/**
 * One visitor WebSocket. Answers are matched to requests by `req`; `welcome` (no req) goes
 * to the pending hello. Pushed frames go to the `onPush(frame)` callback. Error frames
 * without a usable `req` go to `onStrayError(frame)`.
 */
export class Visitor {
  static async open(server, app, timeoutMs = 10000) {
    const v = new Visitor(new WebSocket(wsUrl(server, app)));
    await withTimeout(v.opened, timeoutMs, 'WebSocket open');
    return v;
  }

  constructor(ws) {
    this.ws = ws;
    this.pending = new Map(); // req -> {resolve, reject, timer}
    this.helloWaiter = null;
    this.onPush = null;
    this.onStrayError = null;
    this.closed = null; // {code, reason, wasClean}
    this.closedP = new Promise((r) => (this.#closedResolve = r));
    this.user = null;
    this.token = null;
    this.cursor = 0;
    this.opened = new Promise((resolve, reject) => {
      ws.addEventListener('open', () => resolve(), { once: true });
      ws.addEventListener('error', (e) => reject(new Error(`WebSocket error: ${e.message || e.type}`)), { once: true });
    });
    this.opened.catch(() => {});
    ws.addEventListener('message', (ev) => this.#onMessage(ev.data));
    ws.addEventListener('close', (ev) => {
      this.closed = { code: ev.code, reason: ev.reason, wasClean: ev.wasClean };
      const err = new Error(`connection closed (${ev.code} ${ev.reason})`);
      err.closed = true;
      for (const [, p] of this.pending) {
        clearTimeout(p.timer);
        p.reject(err);
      }
      this.pending.clear();
      if (this.helloWaiter) this.helloWaiter.reject(err);
      this.helloWaiter = null;
      this.#closedResolve(this.closed);
    });
  }

  #closedResolve;

  #onMessage(data) {
    let f;
    try {
      f = JSON.parse(data);
    } catch {
      if (this.onStrayError) this.onStrayError({ type: 'error', code: 'client_saw_bad_json', message: String(data).slice(0, 200) });
      return;
    }
    if (f.type === 'welcome' || (f.type === 'error' && !f.req && this.helloWaiter)) {
      const w = this.helloWaiter;
      this.helloWaiter = null;
      if (w) {
        clearTimeout(w.timer);
        w.resolve(f);
      }
      return;
    }
    if (f.req && this.pending.has(f.req) && f.type !== 'events') {
      const p = this.pending.get(f.req);
      this.pending.delete(f.req);
      clearTimeout(p.timer);
      p.resolve(f);
      return;
    }
    if (f.type === 'events' && f.req && this.pending.has(f.req)) {
      const p = this.pending.get(f.req);
      this.pending.delete(f.req);
      clearTimeout(p.timer);
      p.resolve(f);
      return;
    }
    if (f.type === 'error') {
      if (this.onStrayError) this.onStrayError(f);
      return;
    }
    if (this.onPush) this.onPush(f);
  }

  send(frame) {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends `frame` (which has a `req`) and resolves with the answer frame (ack, page,
   *  events, pong or error). Rejects on timeout or close. */
  request(frame, timeoutMs = 10000) {
    return new Promise((resolve, reject) => {
      if (this.closed) {
        const err = new Error('connection closed');
        err.closed = true;
        reject(err);
        return;
      }
      const timer = setTimeout(() => {
        this.pending.delete(frame.req);
        const err = new Error(`no answer to ${frame.type} ${frame.req} within ${timeoutMs} ms`);
        err.timeout = true;
        reject(err);
      }, timeoutMs);
      this.pending.set(frame.req, { resolve, reject, timer });
      this.send(frame);
    });
  }

  /** Anonymous hello (token "") or hello with a stored token; resolves with the welcome or
   *  throws on an error frame. */
  async hello({ token = '', device, cursor = 0 }, timeoutMs = 10000) {
    const answer = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.helloWaiter = null;
        reject(new Error(`no welcome within ${timeoutMs} ms`));
      }, timeoutMs);
      this.helloWaiter = { resolve, reject, timer };
      this.send({ type: 'hello', v: 1, token, cursor, device });
    });
    if (answer.type !== 'welcome') throw new Error(`hello answered ${JSON.stringify(answer)}`);
    this.user = answer.user;
    this.token = answer.token;
    this.cursor = answer.cursor;
    return answer;
  }

  /** Every message of `conv` through `history`, oldest first. */
  async allHistory(conv, timeoutMs = 10000) {
    const out = [];
    let after = 0;
    for (let pages = 0; pages < 100000; pages++) {
      const p = await this.request({ type: 'history', req: nextReq(), conv, after, limit: 200 }, timeoutMs);
      if (p.type !== 'page') throw new Error(`history ${conv} answered ${JSON.stringify(p).slice(0, 300)}`);
      out.push(...p.messages);
      if (p.complete) return out;
      const next = p.next || (p.messages.length ? p.messages[p.messages.length - 1].seq : 0);
      if (!(next > after)) throw new Error(`history paging of ${conv} does not advance`);
      after = next;
    }
    throw new Error(`history paging of ${conv} never completed`);
  }

  close(code = 1000) {
    try {
      this.ws.close(code);
    } catch {}
    return withTimeout(this.closedP, 5000, 'WebSocket close').catch(() => null);
  }
}
