#!/usr/bin/env node
// Durability test for the reference server: no acknowledged message is ever lost or stored
// twice, across a crash (kill -9) and across a graceful stop (SIGTERM) under load.
//
//   node --experimental-websocket tests/durability/kill9.mjs [--binary build/native/parley_server]
//        [--clients 20] [--convs 1] [--kill-after-ms 1000..2000] [--only kill9|graceful]
//        [--sync normal|full] [--plant-loss] [--plant-dup] [--no-withhold]
//
// Each variant, on its own temp db (os.tmpdir()) and a free port in 38000..38999:
//  1. spawn the server (config raising the per-connection rate limit so the clients are not
//     throttled: {"limits":{"frames_per_second":100000,"burst":100000}});
//  2. N visitors (anonymous hello, distinct devices) send continuously, each conversation
//     FIFO with one send in flight (as the core's outbox does); every ack is recorded
//     (cid -> conv/id/seq) and checked (same cid => same id/seq, seq increasing per conv).
//     Every second client withholds the ack of its last send, sent in the last 300 ms before
//     the stop, from itself (as if the ack had been lost with the connection) and stops
//     that conversation: a cid committed but unacked, every run (--no-withhold turns it off);
//  3. after --kill-after-ms (default: random in 1000..2000 ms):
//       kill9:    SIGKILL the server process;
//       graceful: SIGTERM it; it must exit 0 and every WebSocket must see close code 1001;
//  4. optionally damage the db file (--plant-loss: delete one acked message row with the
//     sqlite3 CLI; --plant-dup: add a second copy of one acked message) to prove the checker
//     fails;
//  5. restart the server on the same db file, then verify through three views that EVERY
//     acked message is present exactly once with its acked id and seq:
//       agent:   GET /v1/agent/conversations?app=demo (all our conversations listed), then
//                GET /v1/agent/conversations/{conv}/messages?after=..&limit=200 paged to the end;
//       history: a fresh WebSocket, hello with the client's token (welcome must name the
//                same user), `history {after}` paged to the end;
//       log:     `sync {after:0}` on that connection until more:false (message events);
//  6. resend every cid that was in flight (sent, never acked) at the stop, withheld ones
//     included, same body, on the new connection: a cid the db already held (committed,
//     ack lost) must come back with the original id/seq, never as a second copy. Also
//     resend the last acked cid of every conversation (must get the identical ack). Then
//     verify everything again, resent cids included.
//
// "acked" counts every ack the server sent (withheld ones included: the server committed
// them); "verified" is how many of those all three views show exactly once with the acked
// id/seq. --plant-loss only removes the row from `messages`; the event log keeps its event,
// so the loss shows in the agent and history views.
//
// Prints, one line per variant:
//   kill9: acked=N verified=N lost=0 duplicated=0 ...
//   graceful: acked=N verified=N lost=0 duplicated=0 ...
// and exits 1 on any loss, duplicate, id/seq mismatch, dedupe failure, wrong close code,
// non-zero exit on SIGTERM, or anything that did not answer in time. 2 on bad usage.
// With --plant-loss the expected outcome is lost=1 in each variant and exit status 1.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  agentAllMessages,
  agentGet,
  cli,
  ensureWebSocket,
  installCleanup,
  keepTempDirs,
  makeTempDir,
  nextReq,
  rid,
  sleep,
  startServer,
  Visitor,
  withTimeout,
  writeConfig,
} from '../load/lib.mjs';

await ensureWebSocket();

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const USAGE = `usage: node --experimental-websocket tests/durability/kill9.mjs [--binary PATH]
         [--clients N] [--convs K] [--kill-after-ms MS] [--only kill9|graceful]
         [--sync normal|full] [--plant-loss] [--plant-dup] [--no-withhold]
         [--app ID] [--agent-token T]`;

const opts = cli(
  {
    binary: { type: 'string' },
    clients: { type: 'string', default: '20' },
    convs: { type: 'string', default: '1' },
    'kill-after-ms': { type: 'string' },
    only: { type: 'string' },
    sync: { type: 'string' },
    'plant-loss': { type: 'boolean', default: false },
    'plant-dup': { type: 'boolean', default: false },
    'no-withhold': { type: 'boolean', default: false },
    app: { type: 'string', default: 'demo' },
    'agent-token': { type: 'string', default: 'agent-dev-token' },
  },
  USAGE,
);
const CLIENTS = Number(opts.clients);
const CONVS = Number(opts.convs);
const KILL_AFTER = opts['kill-after-ms'] === undefined ? null : Number(opts['kill-after-ms']);
if (!(CLIENTS >= 1) || !(CONVS >= 1) || (KILL_AFTER !== null && !(KILL_AFTER >= 0))) {
  console.error(`bad --clients/--convs/--kill-after-ms\n${USAGE}`);
  process.exit(2);
}
if (opts.only && !['kill9', 'graceful'].includes(opts.only)) {
  console.error(`--only takes kill9 or graceful\n${USAGE}`);
  process.exit(2);
}
if (opts.sync && !['normal', 'full'].includes(opts.sync)) {
  console.error(`--sync takes normal or full\n${USAGE}`);
  process.exit(2);
}
const BINARY = resolve(opts.binary || join(REPO, 'build/native/parley_server'));
if (!existsSync(BINARY)) {
  console.error(`server binary ${BINARY} not found (build it or pass --binary)`);
  process.exit(2);
}
const APP = opts.app;
const WITHHOLD = !opts['no-withhold'];
const AGENT_TOKEN = opts['agent-token'];
const CONFIG = { limits: { frames_per_second: 100000, burst: 100000 } };
const WAIT_MS = 10000; // the bound on any single wait

installCleanup(170000, 'kill9');

const say = (s) => console.log(s);

function sqlite(db, sql) {
  const r = spawnSync('sqlite3', [db, sql], { encoding: 'utf8', timeout: 10000 });
  if (r.error) throw new Error(`sqlite3: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`sqlite3 exited ${r.status}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}
const sqlq = (s) => `'${String(s).replaceAll("'", "''")}'`;

// ---------------------------------------------------------------------------------------
// One variant
// ---------------------------------------------------------------------------------------

async function variant(mode) {
  const problems = []; // anything that makes the run fail besides lost/duplicated
  const note = (p) => {
    if (problems.length < 50) problems.push(p);
  };
  const dir = makeTempDir(`parley-${mode}-`);
  const db = join(dir, `${mode}.db`);
  const config = writeConfig(dir, CONFIG);
  const extraArgs = opts.sync ? ['--sync', opts.sync] : [];
  const srv = await startServer({ binary: BINARY, db, config, dir, label: `${mode}-server`, extraArgs });
  say(`${mode}: server pid ${srv.pid} on ${srv.url}, db ${db}`);

  // --- clients
  const clients = [];
  await Promise.all(
    Array.from({ length: CLIENTS }, async (_, i) => {
      const v = await Visitor.open(srv.url, APP, WAIT_MS);
      const device = rid(`d_${mode}${i}`);
      await v.hello({ device }, WAIT_MS);
      v.onPush = () => {};
      v.onStrayError = (f) => note(`client ${i}: error frame ${f.code} ${f.message || ''}`);
      clients[i] = {
        idx: i,
        v,
        device,
        user: v.user,
        token: v.token,
        convs: Array.from({ length: CONVS }, (_, k) => ({ id: rid(`c_${mode}${i}k${k}`), lastSeq: 0, lastAcked: null })),
      };
    }),
  );

  // cid -> {client, conv, text, ack: {id, seq} | null, inflight: bool}
  const recs = new Map();
  const byId = new Map();
  let running = true;
  // Every second client "loses" the ack of its last send shortly before the stop (as if the
  // connection had dropped between the commit and the ack's arrival) and stops sending in
  // that conversation, like a client whose outbox head is in doubt. Its cid is committed
  // but unacked from the client's side: after the restart the resend must return the
  // original id/seq. The other clients keep sending until the stop (really in flight).
  const loop = async (c, conv) => {
    let n = 0;
    while (running && !c.v.closed) {
      const withhold = WITHHOLD && c.idx % 2 === 0 && Date.now() - t0 >= killAfter - 300;
      const cid = rid(`k${c.idx}`);
      const text = `${mode} client ${c.idx} ${conv.id} #${++n}`;
      const rec = { client: c.idx, conv: conv.id, text, ack: null, inflight: true };
      recs.set(cid, rec);
      let a;
      try {
        a = await c.v.request({ type: 'send', req: nextReq(), conv: conv.id, cid, body: { text } }, WAIT_MS);
      } catch (e) {
        if (!e.closed) note(`client ${c.idx}: ${e.message}`);
        return; // stays in flight: resent after the restart
      }
      if (a.type !== 'ack') {
        note(`client ${c.idx}: send answered ${JSON.stringify(a).slice(0, 200)}`);
        rec.inflight = false;
        rec.error = a.code || a.type;
        if (a.recoverable === 'recoverable') rec.inflight = true; // retry after the restart
        return;
      }
      rec.truth = { id: a.id, seq: a.seq }; // what the server committed
      if (withhold) {
        rec.withheld = true; // stays in flight for the client: resent after the restart
      } else {
        rec.inflight = false;
        rec.ack = rec.truth;
      }
      if (a.cid !== cid || a.conv !== conv.id) note(`ack for ${cid} names cid ${a.cid} conv ${a.conv}`);
      if (byId.has(a.id)) note(`message id ${a.id} acked for two cids`);
      byId.set(a.id, cid);
      if (!(a.seq > conv.lastSeq)) note(`ack seq ${a.seq} not above ${conv.lastSeq} in ${conv.id}`);
      conv.lastSeq = a.seq;
      if (withhold) return;
      conv.lastAcked = cid;
    }
  };
  const t0 = Date.now();
  const killAfter = KILL_AFTER ?? 1000 + Math.floor(Math.random() * 1000);
  const loops = clients.flatMap((c) => c.convs.map((conv) => loop(c, conv)));
  await sleep(killAfter);

  // --- the stop
  let exitInfo;
  if (mode === 'kill9') {
    srv.proc.kill('SIGKILL');
    exitInfo = await withTimeout(srv.exited, WAIT_MS, 'server to die after SIGKILL');
    if (exitInfo.signal !== 'SIGKILL') note(`server did not die of SIGKILL: ${JSON.stringify(exitInfo)}`);
  } else {
    try {
      exitInfo = await srv.stop('SIGTERM', WAIT_MS);
    } catch (e) {
      exitInfo = { code: null, signal: null, timeout: true };
      note(`server did not exit within ${WAIT_MS} ms of SIGTERM`);
      srv.proc.kill('SIGKILL');
      await withTimeout(srv.exited, WAIT_MS, 'server to die after SIGKILL').catch(() => {});
    }
    if (exitInfo.code !== 0) note(`server exit after SIGTERM: code ${exitInfo.code} signal ${exitInfo.signal} (want 0)`);
  }
  running = false;
  const stopAt = Date.now() - t0;
  // Every client must notice the stop (close) within the bound.
  await withTimeout(Promise.all(clients.map((c) => c.v.closedP)), WAIT_MS, 'every WebSocket to close after the stop').catch((e) => note(e.message));
  await withTimeout(Promise.all(loops), WAIT_MS, 'send loops to end').catch((e) => note(e.message));
  const closeCodes = new Map();
  for (const c of clients) {
    const code = c.v.closed ? c.v.closed.code : 'open';
    closeCodes.set(code, (closeCodes.get(code) || 0) + 1);
  }
  const close1001 = closeCodes.get(1001) || 0;
  if (mode === 'graceful' && close1001 !== clients.length) {
    note(`close codes after SIGTERM: ${[...closeCodes].map(([k, n]) => `${k} x${n}`).join(', ')} (want 1001 for all ${clients.length})`);
  }
  for (const c of clients) if (!c.v.closed) c.v.close();

  const acked = [...recs].filter(([, r]) => r.truth); // every ack the server sent us
  const withheld = acked.filter(([, r]) => r.withheld);
  const inflight = [...recs].filter(([, r]) => r.inflight);
  say(
    `${mode}: stopped after ${stopAt} ms (${mode === 'kill9' ? 'SIGKILL' : `SIGTERM, exit code ${exitInfo.code}`}); ` +
      `${acked.length} acked (${withheld.length} of them withheld from the client), ${inflight.length} in flight; close codes ${[...closeCodes].map(([k, n]) => `${k} x${n}`).join(', ')}`,
  );

  // --- optional damage, proving the checker can fail
  const planted = [];
  if (opts['plant-loss'] || opts['plant-dup']) {
    // Never the last acked cid of its conversation (that one is resent later, which would
    // legitimately store it again after a planted loss).
    const lastAcked = new Set(clients.flatMap((c) => c.convs.map((k) => k.lastAcked)));
    const candidates = acked.filter(([cid, r]) => !lastAcked.has(cid) && !r.withheld);
    if (candidates.length < 2) throw new Error(`${mode}: too few acked messages to plant damage`);
    if (opts['plant-loss']) {
      const [cid, r] = candidates[Math.floor(candidates.length / 2)];
      const n = sqlite(db, `DELETE FROM messages WHERE conv = ${sqlq(r.conv)} AND seq = ${r.ack.seq}; SELECT changes();`);
      say(`${mode}: --plant-loss deleted ${n} row(s): conv ${r.conv} seq ${r.ack.seq} (cid ${cid})`);
      planted.push(`loss of ${cid}`);
    }
    if (opts['plant-dup']) {
      const [cid, r] = candidates[Math.floor(candidates.length / 3)];
      const n = sqlite(
        db,
        `INSERT INTO messages (conv, seq, id, user, dedupe, json, ts) ` +
          `SELECT conv, seq + 1000000, id || '_dup', user, NULL, ` +
          `json_set(json, '$.seq', seq + 1000000, '$.id', id || '_dup'), ts ` +
          `FROM messages WHERE conv = ${sqlq(r.conv)} AND seq = ${r.ack.seq}; SELECT changes();`,
      );
      say(`${mode}: --plant-dup inserted ${n} second copy of cid ${cid} (conv ${r.conv} seq ${r.ack.seq})`);
      planted.push(`duplicate of ${cid}`);
    }
  }

  // --- restart on the same db
  const srv2 = await startServer({ binary: BINARY, db, config, dir, label: `${mode}-restart`, extraArgs });
  say(`${mode}: restarted, pid ${srv2.pid} on ${srv2.url}`);

  // Fresh visitor connections with each client's token.
  const conns = [];
  await Promise.all(
    clients.map(async (c) => {
      const v = await Visitor.open(srv2.url, APP, WAIT_MS);
      v.onPush = () => {};
      v.onStrayError = (f) => note(`client ${c.idx} after restart: error frame ${f.code} ${f.message || ''}`);
      const w = await v.hello({ token: c.token, device: rid(`d_${mode}${c.idx}_again`) }, WAIT_MS);
      if (w.user !== c.user) note(`client ${c.idx}: hello with its token after the restart is user ${w.user}, was ${c.user}`);
      conns[c.idx] = v;
    }),
  );

  const verify = async (label, cids) => {
    // Three views: cid -> [{id, seq}] for our cids.
    const views = { agent: new Map(), history: new Map(), log: new Map() };
    const add = (view, m) => {
      if (!m?.cid || !recs.has(m.cid)) return;
      if (!views[view].has(m.cid)) views[view].set(m.cid, []);
      views[view].get(m.cid).push({ id: m.id, seq: m.seq });
    };
    const list = await agentGet(srv2.url, `/v1/agent/conversations?app=${encodeURIComponent(APP)}`, AGENT_TOKEN, WAIT_MS);
    const listed = new Set(list.conversations.map((s) => s.conv));
    const ourConvs = clients.flatMap((c) => c.convs.map((k) => ({ client: c, conv: k.id })));
    const convsWithAcks = new Set(cids.filter((cid) => recs.get(cid).truth).map((cid) => recs.get(cid).conv));
    for (const { conv } of ourConvs) if (convsWithAcks.has(conv) && !listed.has(conv)) note(`${label}: conversation ${conv} missing from the agent list`);
    await Promise.all(
      ourConvs.map(async ({ client, conv }) => {
        let msgs = [];
        try {
          msgs = await agentAllMessages(srv2.url, conv, AGENT_TOKEN, WAIT_MS);
        } catch (e) {
          if (!/HTTP 404/.test(e.message) || convsWithAcks.has(conv)) note(`${label}: agent messages of ${conv}: ${e.message}`);
        }
        for (const m of msgs) add('agent', m);
        let hist = [];
        try {
          hist = await conns[client.idx].allHistory(conv, WAIT_MS);
        } catch (e) {
          if (!/not_found/.test(e.message) || convsWithAcks.has(conv)) note(`${label}: history of ${conv}: ${e.message}`);
        }
        for (const m of hist) add('history', m);
      }),
    );
    await Promise.all(
      clients.map(async (c) => {
        const v = conns[c.idx];
        let after = 0;
        for (let i = 0; i < 10000; i++) {
          const r = await v.request({ type: 'sync', req: nextReq(), after, limit: 1000 }, WAIT_MS);
          if (r.type !== 'events') {
            note(`${label}: sync of client ${c.idx} answered ${r.type} ${r.code || ''}`);
            return;
          }
          for (const ev of r.events) if (ev.kind === 'message') add('log', ev.message);
          if (!r.more) return;
          after = r.cursor;
        }
      }),
    );
    // Compare.
    let verified = 0;
    const lost = new Set();
    const duplicated = new Set();
    const mismatched = new Set();
    const detail = [];
    for (const cid of cids) {
      const r = recs.get(cid);
      const want = r.truth;
      let ok = true;
      for (const [view, map] of Object.entries(views)) {
        const got = map.get(cid) || [];
        if (want && got.length === 0) {
          lost.add(cid);
          ok = false;
          if (detail.length < 8) detail.push(`${view}: acked cid ${cid} (${r.conv} seq ${want.seq}) missing`);
        }
        if (got.length > 1) {
          duplicated.add(cid);
          ok = false;
          if (detail.length < 8) detail.push(`${view}: cid ${cid} stored ${got.length} times (${got.map((g) => `${g.id}/${g.seq}`).join(', ')})`);
        }
        if (want && got.length >= 1 && got.some((g) => g.id !== want.id || g.seq !== want.seq)) {
          mismatched.add(cid);
          ok = false;
          if (detail.length < 8) detail.push(`${view}: cid ${cid} acked ${want.id}/${want.seq}, stored ${got.map((g) => `${g.id}/${g.seq}`).join(', ')}`);
        }
      }
      if (want && ok) verified++;
    }
    // Any of our cids stored twice, acked or not.
    for (const map of Object.values(views)) for (const [cid, got] of map) if (got.length > 1) duplicated.add(cid);
    return { views, verified, lost, duplicated, mismatched, detail };
  };

  const ackedCids = acked.map(([cid]) => cid);
  const first = await verify(`${mode} after restart`, ackedCids);
  for (const d of first.detail) say(`${mode}: ${d}`);

  // --- resend every in-flight cid, and the last acked cid of every conversation
  let committedUnacked = 0;
  let resendMismatch = 0;
  let dedupeChecked = 0;
  const resend = async (cid) => {
    const r = recs.get(cid);
    const c = clients[r.client];
    const stored = first.views.agent.get(cid) || [];
    const a = await conns[c.idx].request({ type: 'send', req: nextReq(), conv: r.conv, cid, body: { text: r.text } }, WAIT_MS);
    if (a.type !== 'ack') {
      note(`resend of ${cid}: ${JSON.stringify(a).slice(0, 200)}`);
      return;
    }
    // The expected answer: the first ack (seen or withheld), else what the db already held
    // for this cid (committed, ack lost in the crash), else a new message.
    const want = r.truth || stored[0];
    if (r.ack) dedupeChecked++;
    else if (r.truth || stored.length) committedUnacked++;
    if (want && (a.id !== want.id || a.seq !== want.seq)) {
      resendMismatch++;
      note(`resend of ${cid} acked ${a.id}/${a.seq}, but ${r.truth ? 'the first ack said' : 'the db already held'} ${want.id}/${want.seq}`);
    }
    if (!r.truth) r.truth = { id: a.id, seq: a.seq };
    r.ack = r.truth;
    r.inflight = false;
  };
  const inflightCids = inflight.map(([cid]) => cid);
  const lastAckedCids = clients.flatMap((c) => c.convs.map((k) => k.lastAcked)).filter(Boolean);
  // Per connection sequentially (one in flight per conversation), connections in parallel.
  await Promise.all(
    clients.map(async (c) => {
      for (const cid of [...inflightCids, ...lastAckedCids]) {
        if (recs.get(cid).client !== c.idx) continue;
        try {
          await resend(cid);
        } catch (e) {
          note(`resend of ${cid}: ${e.message}`);
        }
      }
    }),
  );

  const allCids = [...recs.keys()].filter((cid) => recs.get(cid).truth);
  const second = await verify(`${mode} after resend`, allCids);
  for (const d of second.detail) if (!first.detail.includes(d)) say(`${mode}: after resend: ${d}`);

  await Promise.all(conns.map((v) => v.close()));
  const stop2 = await srv2.stop('SIGTERM', WAIT_MS).catch(() => ({ code: 'timeout' }));
  if (stop2.code !== 0) note(`restarted server exit on SIGTERM: ${JSON.stringify(stop2)}`);

  const lost = new Set([...first.lost, ...second.lost]);
  const duplicated = new Set([...first.duplicated, ...second.duplicated]);
  const mismatched = new Set([...first.mismatched, ...second.mismatched]);
  for (const p of problems) say(`${mode}: problem: ${p}`);
  const extra =
    mode === 'graceful'
      ? ` exit=${exitInfo.code} close1001=${close1001}/${clients.length}`
      : ` kill_after_ms=${stopAt}`;
  say(
    `${mode}: acked=${acked.length} verified=${first.verified} lost=${lost.size} duplicated=${duplicated.size}` +
      ` mismatched=${mismatched.size} inflight=${inflight.length} (withheld=${withheld.length})` +
      ` committed_unacked=${committedUnacked} resent=${inflightCids.length + lastAckedCids.length}` +
      ` dedupe_checked=${dedupeChecked} resend_mismatch=${resendMismatch}` +
      ` verified_after_resend=${second.verified}/${allCids.length}${extra}` +
      (planted.length ? ` planted="${planted.join(', ')}"` : ''),
  );
  const failed = lost.size > 0 || duplicated.size > 0 || mismatched.size > 0 || problems.length > 0;
  return { failed, dir };
}

// ---------------------------------------------------------------------------------------

const modes = opts.only ? [opts.only] : ['kill9', 'graceful'];
let failed = false;
for (const mode of modes) {
  try {
    const r = await variant(mode);
    if (r.failed) failed = true;
  } catch (e) {
    failed = true;
    say(`${mode}: ERROR ${e.stack || e.message}`);
    say(`${mode}: acked=? verified=? lost=? duplicated=? (aborted)`);
  }
}
if (failed) {
  keepTempDirs();
  say('durability: FAIL (temp dirs kept for inspection)');
} else {
  say('durability: ok');
}
process.exit(failed ? 1 : 0);
