#!/usr/bin/env node
// Load benchmark for the reference server (docs/server.md) over protocol v1 (docs/protocol.md).
//
//   node --experimental-websocket tests/load/load.mjs [--binary build/native/parley_server]
//        [--server URL] [--clients 200] [--seconds 10] [--inflight 1] [--flush 1000]
//
// Phase 1 (load): N visitor WebSockets. Ramp-up connects every client first (anonymous
// hello, one distinct device each) and reports the connect time. Then for S seconds each
// client sends in its own conversation(s) the way the core's outbox does: per conversation
// FIFO, one send in flight (send, wait for the ack, next); --inflight K gives each client K
// conversations, so K sends in flight per client. Each client also receives: delivery
// latency is the time from writing a `send` until the client sees its own message in a
// pushed `events` frame (the echo); ack latency is send -> ack. After S seconds no new sends
// start; in-flight ones get a 5 s drain. A final `sync` per client collects any echo the
// pushes missed; then all clients close.
//
// Phase 2 (flush): one fresh client with --flush (1,000) messages queued in one
// conversation sends them FIFO, one in flight (as the core does). Reports the time from the
// first send to the last ack (DESIGN.md budget: <= 1 s, zero duplicates), and checks every
// message with `history` afterwards.
//
// With --binary (default: build/native/parley_server of this repo, when --server is not
// given) the server is spawned on a temp db in os.tmpdir() and a free port in 38000..38999,
// with a config that raises the per-connection token bucket (the default is 100 frames/s,
// burst 2000, which would throttle a sustained benchmark client):
//   {"limits":{"frames_per_second":100000,"burst":100000}}
// and stopped with SIGTERM at the end; its exit code must be 0. With --server URL the
// server is yours: raise its limits the same way or expect `rate_limited` answers (counted
// separately, and retried with the same cid like a real client).
//
// Duplicates (must be 0): an ack for a cid that differs (id/seq) from an earlier ack (a retry
// after a request timeout or rate_limited, or --resend-every N) or from its echo; an echo of the same cid seen twice; two acks with the same message id; an ack
// whose seq does not increase within its conversation; a flush message stored other than
// exactly once.
// Exit status 1 on any duplicate, any lost ack (a send never acked after the drain), fewer
// clients held than requested, an error frame other than rate_limited, an echo still missing
// after the final sync, or a spawned server that does not exit 0 on SIGTERM. 2 on bad usage.
//
// Last line:
// load: clients=N held=N msgs=N msgs_per_s=X ack_p50_ms=.. ack_p99_ms=.. delivery_p50_ms=..
//       delivery_p99_ms=.. flush1000_ms=.. duplicates=0 lost=0

import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cli,
  ensureWebSocket,
  fmt,
  installCleanup,
  keepTempDirs,
  makeTempDir,
  nextReq,
  pct,
  rid,
  sleep,
  startServer,
  Visitor,
  withTimeout,
  writeConfig,
} from './lib.mjs';

await ensureWebSocket();

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const USAGE = `usage: node --experimental-websocket tests/load/load.mjs [--binary PATH | --server URL]
         [--clients N] [--seconds S] [--inflight K] [--flush M] [--app ID]
         [--connect-concurrency C] [--drain-ms MS] [--request-timeout-ms MS] [--resend-every N]

  --binary      spawn this server binary on a temp db (default ${join('build', 'native', 'parley_server')})
  --server      use a running server instead (raise its limits, see the header comment)
  --clients     concurrent visitor WebSockets (default 200)
  --seconds     length of the send phase (default 10)
  --inflight    conversations per client, one send in flight each (default 1)
  --flush       messages in the flush phase (default 1000; 0 skips it)
  --app         app id (default demo)
  --resend-every  after every Nth ack of a conversation, send that cid again (a retry after
                a lost ack): the identical ack must come back and no second echo (default 0:
                off, the client never retries an acked send)
  --request-timeout-ms  a send with no answer is retried (same cid) after this (default 15000)`;

const opts = cli(
  {
    binary: { type: 'string' },
    server: { type: 'string' },
    clients: { type: 'string', default: '200' },
    seconds: { type: 'string', default: '10' },
    inflight: { type: 'string', default: '1' },
    flush: { type: 'string', default: '1000' },
    app: { type: 'string', default: 'demo' },
    'connect-concurrency': { type: 'string', default: '50' },
    'drain-ms': { type: 'string', default: '5000' },
    'request-timeout-ms': { type: 'string', default: '15000' },
    'resend-every': { type: 'string', default: '0' },
  },
  USAGE,
);
const num = (name, min) => {
  const v = Number(opts[name]);
  if (!Number.isFinite(v) || v < min) {
    console.error(`--${name} must be a number >= ${min}\n${USAGE}`);
    process.exit(2);
  }
  return v;
};
const CLIENTS = Math.floor(num('clients', 1));
const SECONDS = num('seconds', 0.1);
const INFLIGHT = Math.floor(num('inflight', 1));
const FLUSH = Math.floor(num('flush', 0));
const CONNECT_CONC = Math.floor(num('connect-concurrency', 1));
const DRAIN_MS = num('drain-ms', 0);
const REQ_TIMEOUT_MS = num('request-timeout-ms', 100);
const RESEND_EVERY = Math.floor(num('resend-every', 0));
const APP = opts.app;
if (opts.server && opts.binary) {
  console.error(`give --server or --binary, not both\n${USAGE}`);
  process.exit(2);
}
const BINARY = opts.server ? null : resolve(opts.binary || join(REPO, 'build/native/parley_server'));
if (BINARY && !existsSync(BINARY)) {
  console.error(`server binary ${BINARY} not found (build it or pass --binary / --server)`);
  process.exit(2);
}

installCleanup((SECONDS + 180) * 1000, 'load');

const now = () => performance.now();

// ---------------------------------------------------------------------------------------
// Statistics
// ---------------------------------------------------------------------------------------

const stats = {
  sent: 0,
  acked: 0,
  ackLat: [],
  delLat: [],
  errors: new Map(), // code -> count (rate_limited excluded)
  rateLimited: 0,
  duplicates: 0,
  dupNotes: [],
  pushGaps: 0,
  lateEchoes: 0, // echoes found only by the final sync
  retries: 0,
  lastAckAt: 0,
  resends: 0,
};

function dup(note) {
  stats.duplicates++;
  if (stats.dupNotes.length < 10) stats.dupNotes.push(note);
}

function countError(code) {
  if (code === 'rate_limited') stats.rateLimited++;
  else stats.errors.set(code, (stats.errors.get(code) || 0) + 1);
}

// cid -> {t0, conv, client, ack: {id, seq} | null, echoed: bool, measuring: bool}
const sent = new Map();
const seenIds = new Map(); // message id -> cid

// ---------------------------------------------------------------------------------------
// A load client: one WebSocket, K conversations, a cursor for the pushed events chain
// ---------------------------------------------------------------------------------------

class LoadClient {
  constructor(idx, server) {
    this.idx = idx;
    this.server = server;
    this.device = rid(`d_load${idx}`);
    this.convs = Array.from({ length: INFLIGHT }, (_, k) => ({ id: rid(`c_load${idx}k${k}`), lastSeq: 0 }));
    this.v = null;
    this.syncing = false;
    this.measure = true; // record delivery latency (off for the final catch-up sync)
  }

  async connect() {
    const t0 = now();
    this.v = await Visitor.open(this.server, APP, 10000);
    this.v.onPush = (f) => this.onPush(f);
    this.v.onStrayError = (f) => countError(f.code || 'unknown');
    await this.v.hello({ device: this.device }, 10000);
    return now() - t0;
  }

  apply(events) {
    for (const ev of events) {
      if (ev.cursor <= this.v.cursor) continue;
      this.v.cursor = ev.cursor;
      if (ev.kind !== 'message' || !ev.message?.cid) continue;
      const m = ev.message;
      const rec = sent.get(m.cid);
      if (!rec) continue;
      if (rec.echoed) {
        dup(`echo of cid ${m.cid} seen twice (seq ${rec.echoSeq} and ${m.seq})`);
        continue;
      }
      rec.echoed = true;
      rec.echoSeq = m.seq;
      rec.echoId = m.id;
      if (this.measure) stats.delLat.push(now() - rec.t0);
      else stats.lateEchoes++;
      if (rec.ack && (rec.ack.id !== m.id || rec.ack.seq !== m.seq)) {
        dup(`echo of cid ${m.cid} is ${m.id}/${m.seq} but its ack said ${rec.ack.id}/${rec.ack.seq}`);
      }
    }
  }

  onPush(f) {
    if (f.type !== 'events') return; // reset / signal: nothing to measure
    if (f.from > this.v.cursor) {
      // The pushed chain skipped something: repair with sync, as the real client does.
      stats.pushGaps++;
      this.catchUp().catch(() => {});
      return;
    }
    this.apply(f.events);
  }

  async catchUp(timeoutMs = 10000) {
    if (this.syncing) return;
    this.syncing = true;
    try {
      for (let i = 0; i < 1000; i++) {
        const r = await this.v.request({ type: 'sync', req: nextReq(), after: this.v.cursor, limit: 1000 }, timeoutMs);
        if (r.type !== 'events') {
          countError(r.type === 'error' ? r.code : `sync_answered_${r.type}`);
          return;
        }
        this.apply(r.events);
        if (!r.more) return;
      }
    } finally {
      this.syncing = false;
    }
  }

  /** One conversation's outbox: FIFO, one in flight, until `state.running` goes false. */
  async convLoop(conv, state) {
    let n = 0;
    while (state.running && !this.v.closed) {
      const cid = rid(`k${this.idx}`);
      const rec = { t0: now(), conv: conv.id, client: this.idx, ack: null, echoed: false };
      sent.set(cid, rec);
      stats.sent++;
      const frame = { type: 'send', req: nextReq(), conv: conv.id, cid, body: { text: `load ${this.idx}/${conv.id} #${++n}` } };
      const answer = await this.sendUntilAnswered(frame, state);
      if (!answer) return; // lost (counted at the end) or connection gone
      if (answer.type === 'error') {
        countError(answer.code);
        rec.error = answer.code;
        continue; // permanent: the core marks it failed and moves on
      }
      this.onAck(cid, rec, conv, answer);
      if (RESEND_EVERY && n % RESEND_EVERY === 0 && rec.ack) {
        // A retry of an acked cid (as after a lost ack): the same ack must come back, and
        // no second echo may follow.
        stats.resends++;
        const again = await this.sendUntilAnswered({ ...frame, req: nextReq() }, state);
        if (again?.type === 'ack') this.onAck(cid, rec, conv, again);
        else if (again?.type === 'error') countError(again.code);
      }
    }
  }

  async sendUntilAnswered(frame, state) {
    for (;;) {
      const left = state.drainDeadline - now();
      if (left <= 0) return null;
      let answer;
      try {
        answer = await this.v.request(frame, Math.min(REQ_TIMEOUT_MS, left));
      } catch (e) {
        if (e.timeout && now() < state.drainDeadline) {
          // The real client: no answer within its request timeout -> same cid again.
          stats.retries++;
          frame = { ...frame, req: nextReq() };
          continue;
        }
        return null;
      }
      if (answer.type === 'error' && (answer.code === 'rate_limited' || answer.recoverable === 'recoverable')) {
        countError(answer.code);
        stats.retries++;
        await sleep(500 + Math.random() * 500);
        frame = { ...frame, req: nextReq() };
        continue;
      }
      return answer;
    }
  }

  onAck(cid, rec, conv, a) {
    if (a.type !== 'ack') {
      countError(`unexpected_${a.type}`);
      return;
    }
    if (a.cid !== cid || a.conv !== conv.id) dup(`ack for ${cid} names cid ${a.cid} conv ${a.conv}`);
    if (rec.ack) {
      if (rec.ack.id !== a.id || rec.ack.seq !== a.seq) dup(`second ack for ${cid}: ${a.id}/${a.seq} vs ${rec.ack.id}/${rec.ack.seq}`);
      return;
    }
    const t = now();
    rec.ack = { id: a.id, seq: a.seq };
    stats.acked++;
    stats.ackLat.push(t - rec.t0);
    stats.lastAckAt = t;
    if (seenIds.has(a.id)) dup(`message id ${a.id} acked for cids ${seenIds.get(a.id)} and ${cid}`);
    seenIds.set(a.id, cid);
    if (!(a.seq > conv.lastSeq)) dup(`ack seq ${a.seq} not above previous ${conv.lastSeq} in ${conv.id}`);
    conv.lastSeq = Math.max(conv.lastSeq, a.seq);
    if (rec.echoed && (rec.echoId !== a.id || rec.echoSeq !== a.seq)) {
      dup(`ack of ${cid} is ${a.id}/${a.seq} but its echo was ${rec.echoId}/${rec.echoSeq}`);
    }
  }
}

// CPU seconds (user + system) the spawned server has used so far; NaN when unknown
// (--server, or no /proc).
let srvPid = 0;
function serverCpu() {
  if (!srvPid) return NaN;
  try {
    const stat = readFileSync(`/proc/${srvPid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return NaN;
  }
}

// ---------------------------------------------------------------------------------------
// Phases
// ---------------------------------------------------------------------------------------

async function connectAll(server) {
  const clients = Array.from({ length: CLIENTS }, (_, i) => new LoadClient(i, server));
  const lat = [];
  const failures = [];
  let next = 0;
  const t0 = now();
  const worker = async () => {
    while (next < clients.length) {
      const c = clients[next++];
      try {
        lat.push(await c.connect());
      } catch (e) {
        failures.push(`client ${c.idx}: ${e.message}`);
        c.failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONC, CLIENTS) }, worker));
  return { clients: clients.filter((c) => !c.failed), ms: now() - t0, lat, failures };
}

async function loadPhase(server) {
  console.log(`phase 1: ${CLIENTS} clients x ${INFLIGHT} conversation(s), ${SECONDS} s of sends, ${DRAIN_MS} ms drain`);
  const conn = await connectAll(server);
  console.log(
    `  connect: ${conn.clients.length}/${CLIENTS} welcomed in ${fmt(conn.ms, 0)} ms ` +
      `(per client p50 ${fmt(pct(conn.lat, 50))} ms, p99 ${fmt(pct(conn.lat, 99))} ms, concurrency ${CONNECT_CONC})`,
  );
  for (const f of conn.failures.slice(0, 5)) console.log(`  connect failure: ${f}`);
  const clients = conn.clients;

  const state = { running: true, drainDeadline: Infinity };
  const cpu0 = serverCpu();
  const ucpu0 = process.cpuUsage();
  const tStart = now();
  state.drainDeadline = tStart + SECONDS * 1000 + DRAIN_MS;
  const loops = [];
  for (const c of clients) for (const conv of c.convs) loops.push(c.convLoop(conv, state));
  await sleep(SECONDS * 1000);
  state.running = false;
  const sentAtStop = stats.sent;
  const tStop = now();
  await withTimeout(Promise.all(loops), DRAIN_MS + REQ_TIMEOUT_MS + 2000, 'send loops to finish after the drain').catch((e) =>
    console.log(`  ${e.message}`),
  );
  const held = clients.filter((c) => !c.v.closed).length;

  const cpuRun = serverCpu() - cpu0;
  const u = process.cpuUsage(ucpu0);
  const clientCpu = (u.user + u.system) / 1e6;
  // Echoes of the last acks are still on their way: wait for them (bounded), then a final
  // catch-up sync brings any echo the pushes did not (there should be none).
  const echoWaitEnd = now() + 2000;
  const pendingEcho = () => {
    for (const rec of sent.values()) if (rec.ack && !rec.echoed) return true;
    return false;
  };
  while (pendingEcho() && now() < echoWaitEnd) await sleep(20);
  for (const c of clients) c.measure = false;
  await Promise.all(
    clients.filter((c) => !c.v.closed).map((c) => withTimeout(c.catchUp(10000), 12000, `final sync of client ${c.idx}`).catch((e) => countError(`final_sync:${e.message.slice(0, 40)}`))),
  );
  let lost = 0;
  let undelivered = 0;
  for (const rec of sent.values()) {
    if (!rec.ack && !rec.error) lost++;
    if (rec.ack && !rec.echoed) undelivered++;
  }
  await Promise.all(clients.map((c) => c.v.close()));
  const activeMs = (stats.lastAckAt || tStop) - tStart;
  return { held, lost, undelivered, activeMs, sentAtStop, connected: clients.length, cpuRun, clientCpu };
}

async function flushPhase(server) {
  if (FLUSH === 0) return { ms: NaN, dups: 0, lost: 0 };
  console.log(`phase 2: flush ${FLUSH} queued messages, one conversation, FIFO, one in flight`);
  const v = await Visitor.open(server, APP, 10000);
  let dups = 0;
  const notes = [];
  const bad = (n) => {
    dups++;
    if (notes.length < 5) notes.push(n);
  };
  const errors = new Map();
  v.onStrayError = (f) => errors.set(f.code, (errors.get(f.code) || 0) + 1);
  const echoes = new Map(); // cid -> {id, seq}
  // The queue, as the outbox holds it: cids generated and persisted before sending.
  const queue = new Map();
  const order = [];
  for (let i = 0; i < FLUSH; i++) {
    const cid = rid(`kf${i}`);
    order.push(cid);
    queue.set(cid, { text: `queued ${i + 1}/${FLUSH}`, ack: null });
  }
  let echoDoneAt = 0;
  v.onPush = (f) => {
    if (f.type !== 'events') return;
    for (const ev of f.events) {
      if (ev.cursor <= v.cursor) continue;
      v.cursor = ev.cursor;
      const m = ev.message;
      if (ev.kind !== 'message' || !m?.cid || !queue.has(m.cid)) continue;
      const e = echoes.get(m.cid);
      if (e) bad(`flush echo of ${m.cid} seen twice`);
      else echoes.set(m.cid, { id: m.id, seq: m.seq });
      if (echoes.size === FLUSH && !echoDoneAt) echoDoneAt = now();
    }
  };
  await v.hello({ device: rid('d_flush') }, 10000);
  const conv = rid('c_flush');
  const deadline = now() + 60000;
  const cpu0 = serverCpu();
  const t0 = now();
  let lastSeq = 0;
  let lost = 0;
  let unsent = 0;
  for (const cid of order) {
    const q = queue.get(cid);
    let frame = { type: 'send', req: nextReq(), conv, cid, body: { text: q.text } };
    let a = null;
    while (!a && now() < deadline) {
      try {
        const r = await v.request(frame, Math.min(REQ_TIMEOUT_MS, Math.max(1, deadline - now())));
        if (r.type === 'error' && r.recoverable === 'recoverable') {
          errors.set(r.code, (errors.get(r.code) || 0) + 1);
          await sleep(500);
          frame = { ...frame, req: nextReq() };
          continue;
        }
        a = r;
      } catch (e) {
        if (!e.timeout) break;
        frame = { ...frame, req: nextReq() };
      }
    }
    if (!a) {
      // 60 s bound: this send got no answer; the rest were never sent.
      lost++;
      unsent = FLUSH - order.indexOf(cid) - 1;
      break;
    }
    if (a.type !== 'ack') {
      errors.set(a.code || a.type, (errors.get(a.code || a.type) || 0) + 1);
      continue;
    }
    if (a.cid !== cid) bad(`flush ack for ${cid} names ${a.cid}`);
    if (!(a.seq > lastSeq)) bad(`flush ack seq ${a.seq} not above ${lastSeq}`);
    lastSeq = a.seq;
    q.ack = { id: a.id, seq: a.seq };
  }
  const ms = now() - t0;
  const cpu = serverCpu() - cpu0;
  // Wait (bounded) for the last echoes, then compare echoes and the stored history.
  const echoWaitEnd = now() + 5000;
  while (echoes.size < FLUSH && now() < echoWaitEnd) await sleep(20);
  const hist = await v.allHistory(conv, 10000);
  const stored = new Map();
  for (const m of hist) {
    if (!m.cid || !queue.has(m.cid)) continue;
    if (stored.has(m.cid)) bad(`flush cid ${m.cid} stored twice (seq ${stored.get(m.cid).seq} and ${m.seq})`);
    else stored.set(m.cid, m);
  }
  let prevSeq = 0;
  let missingEchoes = 0;
  for (const cid of order) {
    const q = queue.get(cid);
    const m = stored.get(cid);
    if (q.ack && !m) {
      lost++;
      if (notes.length < 5) notes.push(`flush cid ${cid} acked but not in history`);
    }
    if (m && q.ack && (m.id !== q.ack.id || m.seq !== q.ack.seq)) bad(`flush cid ${cid} stored as ${m.id}/${m.seq}, acked ${q.ack.id}/${q.ack.seq}`);
    if (m) {
      if (!(m.seq > prevSeq)) bad(`flush history out of send order at ${cid}`);
      prevSeq = m.seq;
    }
    const e = echoes.get(cid);
    if (!e && q.ack) missingEchoes++;
    else if (q.ack && (e.id !== q.ack.id || e.seq !== q.ack.seq)) bad(`flush echo of ${cid} differs from its ack`);
  }
  await v.close();
  const acked = order.filter((c) => queue.get(c).ack).length;
  console.log(
    `  flush: ${acked}/${FLUSH} acked in ${fmt(ms, 0)} ms (${fmt((acked / ms) * 1000, 0)} msgs/s); ` +
      `all echoes after ${echoDoneAt ? fmt(echoDoneAt - t0, 0) + ' ms' : `n/a (${missingEchoes} missing)`}; ` +
      `history has ${stored.size}; duplicates ${dups}; lost ${lost}${unsent ? `; ${unsent} never sent (60 s bound)` : ''}; budget <= 1000 ms: ${ms <= 1000 ? 'met' : 'MISSED'}`,
  );
  for (const [code, n] of errors) console.log(`  flush error frames: ${code} x${n}`);
  for (const n of notes) console.log(`  flush problem: ${n}`);
  return { ms, dups, lost, errors, missingEchoes, cpu, unsent };
}

// ---------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------

let server = opts.server;
let srv = null;
const LIMITS = { limits: { frames_per_second: 100000, burst: 100000 } };
if (BINARY) {
  const dir = makeTempDir('parley-load-');
  const config = writeConfig(dir, LIMITS);
  srv = await startServer({ binary: BINARY, db: join(dir, 'load.db'), config, dir, label: 'load-server' });
  server = srv.url;
  srvPid = srv.pid;
  console.log(`server: ${BINARY} pid ${srv.pid} on ${server}, temp db in ${dir}`);
  console.log(`server config: ${JSON.stringify(LIMITS)} (the default token bucket is 100 frames/s, burst 2000 per connection)`);
} else {
  console.log(`server: ${server} (not spawned; its rate limits must be raised, see the header comment)`);
}

const L = await loadPhase(server);
const F = await flushPhase(server);

let serverExit = 'n/a';
if (srv) {
  try {
    const r = await srv.stop('SIGTERM', 10000);
    serverExit = r.code === null ? `signal ${r.signal}` : String(r.code);
  } catch (e) {
    serverExit = `timeout (${e.message})`;
  }
}

const msgs = stats.acked;
const msgsPerS = L.activeMs > 0 ? (msgs / L.activeMs) * 1000 : 0;
const errList = [...stats.errors].map(([c, n]) => `${c} x${n}`).join(', ') || 'none';
const duplicates = stats.duplicates + F.dups;
const lost = L.lost + F.lost;
const rows = [
  ['clients requested / connected / held', `${CLIENTS} / ${L.connected} / ${L.held}`],
  ['conversations in flight', `${L.connected * INFLIGHT} (${INFLIGHT} per client)`],
  ['send phase', `${SECONDS} s (+ drain up to ${DRAIN_MS} ms)`],
  ['sends started / acked', `${stats.sent} / ${msgs}`],
  ['CPU during the send phase', `server ${Number.isFinite(L.cpuRun) ? `${fmt(L.cpuRun, 2)} s (${fmt((L.cpuRun / (L.activeMs / 1000)) * 100, 0)}% of a core)` : 'n/a'}, this client process ${fmt(L.clientCpu, 2)} s (${fmt((L.clientCpu / (L.activeMs / 1000)) * 100, 0)}%); ${os.cpus().length} cores, load avg ${os.loadavg()[0].toFixed(1)}`],
  ['throughput', `${fmt(msgsPerS, 0)} msgs/s (acked / ${fmt(L.activeMs / 1000, 2)} s)`],
  ['ack latency p50 / p99 / max', `${fmt(pct(stats.ackLat, 50), 2)} / ${fmt(pct(stats.ackLat, 99), 2)} / ${fmt(pct(stats.ackLat, 100), 2)} ms`],
  ['delivery (echo) p50 / p99 / max', `${fmt(pct(stats.delLat, 50), 2)} / ${fmt(pct(stats.delLat, 99), 2)} / ${fmt(pct(stats.delLat, 100), 2)} ms (${stats.delLat.length} echoes)`],
  ['echoes missing after final sync', `${L.undelivered} (found only by the final sync: ${stats.lateEchoes}; push chain gaps: ${stats.pushGaps})`],
  ['error frames (excl. rate_limited)', errList],
  ['rate_limited answers', `${stats.rateLimited} (retries ${stats.retries})`],
  ['duplicates', `${stats.duplicates}` + (RESEND_EVERY ? ` (${stats.resends} acked cids re-sent, --resend-every ${RESEND_EVERY})` : '')],
  ['lost acks (after drain)', `${L.lost}`],
  [`flush ${FLUSH} queued (1 conv, FIFO)`, !FLUSH ? 'skipped' : `${fmt(F.ms, 1)} ms, duplicates ${F.dups}, lost ${F.lost}` + (Number.isFinite(F.cpu) ? `, server CPU ${fmt(F.cpu, 2)} s` : '') + ` (budget <= 1000 ms: ${F.ms <= 1000 ? 'met' : 'MISSED'})`],
  ['server exit on SIGTERM', serverExit],
];
const w = Math.max(...rows.map((r) => r[0].length));
console.log('');
for (const [k, v] of rows) console.log(`  ${k.padEnd(w)}  ${v}`);
for (const n of stats.dupNotes) console.log(`  duplicate: ${n}`);

const failures = [];
if (duplicates) failures.push(`${duplicates} duplicate(s)`);
if (lost) failures.push(`${lost} lost ack(s)`);
if (L.held < CLIENTS) failures.push(`only ${L.held} of ${CLIENTS} clients held`);
if (stats.errors.size) failures.push(`error frames: ${errList}`);
if (F.errors && [...F.errors.keys()].some((c) => c !== 'rate_limited')) failures.push('error frames in the flush phase');
if (L.undelivered) failures.push(`${L.undelivered} acked message(s) never echoed`);
if (FLUSH && F.missingEchoes) failures.push(`${F.missingEchoes} flush message(s) never echoed`);
if (F.unsent) failures.push(`flush incomplete: ${F.unsent} message(s) never sent within 60 s`);
if (srv && serverExit !== '0') failures.push(`server exit on SIGTERM: ${serverExit}`);
if (failures.length) {
  keepTempDirs();
  console.log(`\nFAIL: ${failures.join('; ')}`);
}
console.log(
  `load: clients=${CLIENTS} held=${L.held} msgs=${msgs} msgs_per_s=${fmt(msgsPerS, 0)} ` +
    `ack_p50_ms=${fmt(pct(stats.ackLat, 50), 2)} ack_p99_ms=${fmt(pct(stats.ackLat, 99), 2)} ` +
    `delivery_p50_ms=${fmt(pct(stats.delLat, 50), 2)} delivery_p99_ms=${fmt(pct(stats.delLat, 99), 2)} ` +
    `flush${FLUSH}_ms=${fmt(F.ms, 1)} duplicates=${duplicates} lost=${lost}`,
);
process.exit(failures.length ? 1 : 0);
