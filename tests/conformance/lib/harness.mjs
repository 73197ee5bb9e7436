// Test scaffolding: `ctest(name, {needs, timeout}, async (h, t) => …)` wraps node:test's
// `test` with a Harness that opens connections, closes them afterwards, and fails the test
// if any frame received during it broke the protocol's shape rules.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cfg, missingNeeds } from './config.mjs';
import { Agent, Conn, rid, short, sleep } from './client.mjs';

export { cfg, assert };

/** Like node:test's `test`, with `needs: ['agent'|'jwt']` turned into a clear skip. */
export function ctest(name, opts, fn) {
  if (typeof opts === 'function') [fn, opts] = [opts, {}];
  const missing = missingNeeds(opts.needs);
  const options = { timeout: opts.timeout ?? 60_000 };
  if (missing.length) options.skip = `skipped: needs ${missing.join(' and ')}`;
  return test(name, options, async (t) => {
    const h = new Harness(t, opts.app);
    try {
      await fn(h, t);
      h.assertClean();
    } finally {
      h.closeAll();
    }
  });
}

export class Harness {
  constructor(t, app = cfg.app) {
    this.t = t;
    this.app = app;
    this.conns = [];
    this.problems = []; // shape problems from HTTP answers
  }

  /** Opens a WebSocket to this test's app (or `app`). */
  async open({ app = this.app, label, raw } = {}) {
    const c = await Conn.open({ app, label, raw });
    this.conns.push(c);
    return c;
  }

  /** Opens a connection and says hello (anonymous unless `token`); returns the Conn with
   *  `welcome`, `user`, `token`, `device` set. */
  async visitor({ app = this.app, device = rid('d'), token = '', cursor = 0, label, raw, ...extra } = {}) {
    const conn = await this.open({ app, label, raw });
    conn.device = device;
    conn.welcome = await conn.hello({ token, cursor, device, ...extra });
    return conn;
  }

  agent(app = this.app) {
    return new Agent({ app });
  }

  /** Records problems found in HTTP answers (checked with the WebSocket ones at the end). */
  note(problems) {
    this.problems.push(...problems);
  }

  log(msg) {
    this.t.diagnostic(msg);
  }

  assertClean() {
    const all = [...this.problems, ...this.conns.flatMap((c) => c.violations)];
    assert.deepEqual(all, [], `server frames broke docs/protocol.md shape rules:\n${all.join('\n')}`);
  }

  closeAll() {
    for (const c of this.conns) c.close();
  }
}

/** Asserts an error frame: code, recoverable, and optionally its message. */
export function assertError(f, code, { recoverable, message, messageIncludes, req } = {}) {
  assert.equal(f?.type, 'error', `expected an error frame with code ${code}, got ${short(f)}`);
  assert.equal(f.code, code, `expected error code ${code}, got ${short(f)}`);
  if (recoverable) assert.equal(f.recoverable, recoverable, `error ${code}: recoverable should be ${recoverable}: ${short(f)}`);
  if (message !== undefined) assert.equal(f.message, message, `error ${code}: message: ${short(f)}`);
  if (messageIncludes !== undefined) {
    assert.ok(typeof f.message === 'string' && f.message.includes(messageIncludes), `error ${code}: message should name ${JSON.stringify(messageIncludes)}: ${short(f)}`);
  }
  if (req !== undefined && f.req !== undefined && f.req !== null && f.req !== '') {
    assert.equal(f.req, req, `error ${code}: req must echo the request when present: ${short(f)}`);
  }
}

/** Waits until no new frame arrived on `conn` for `quietMs` (max `maxMs`), after a ping
 *  round-trip: used before asserting that something did NOT happen. */
export async function settle(conn, { quietMs = 300, maxMs = 3000 } = {}) {
  await conn.ping();
  const end = Date.now() + maxMs;
  let n = conn.frames.length;
  for (;;) {
    await sleep(quietMs);
    if (conn.frames.length === n || Date.now() > end) return;
    n = conn.frames.length;
  }
}

/** Polls `fn` until it returns a truthy value (or the timeout passes); returns that value. */
export async function eventually(fn, { timeout = cfg.timeoutMs, every = 100, what = 'a condition' } = {}) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out after ${timeout} ms waiting for ${what}; last: ${last instanceof Error ? last.message : short(last)}`);
    await sleep(every);
  }
}

/** Message events of `conv` in `events`, as {cursor, seq, cid, message}. */
export function messageEvents(events, conv) {
  return events.filter((e) => e.kind === 'message' && (!conv || e.conv === conv));
}

export { rid, short, sleep };
