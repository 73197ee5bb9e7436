#!/usr/bin/env node
// Multi-tab leadership (web/src/tabs/leader.js) in Chromium: several pages of one origin in
// one browser context. Each scenario runs twice: with Web Locks, and with navigator.locks
// deleted by an init script (the BroadcastChannel lease fallback).
//
//   node tests/web/tabs/run.mjs [--only NAME]
//
// Last line: `web-tabs: N passed, M failed`; exit status 1 on any failure.

import { parseArgs } from 'node:util';
import { launchChromium, startStatic } from '../lib/browser.mjs';
import { installCleanup, rid, sleep } from '../../load/lib.mjs';

const { values: args } = parseArgs({ options: { only: { type: 'string', default: '' } } });
installCleanup(240000, 'web-tabs');

// Failover limits: "another tab takes over within a second or so". A closed leader hands
// over at once (lock released / `resign`); a crashed one in the lease mode is noticed when
// its lease runs out (expireMs 800 + a claim of ~150 ms).
const CLOSE_LIMIT_MS = 1000;
const CRASH_LIMIT = { locks: 1000, lease: 1500 };

function check(cond, what) {
  if (!cond) throw new Error(what);
}

async function openTabs(context, web, app, n, query = '') {
  // Opened together: the election must cope with simultaneous starts.
  return Promise.all(
    Array.from({ length: n }, async () => {
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      page.errors = errors;
      await page.goto(`${web.url}/tests/web/pages/tabs.html?app=${encodeURIComponent(app)}${query}`);
      await page.waitForFunction(() => !!window.TT);
      return page;
    }),
  );
}

const state = (page) => page.evaluate(() => window.TT.state());
const events = (page) => page.evaluate(() => window.TT.events);

/** Waits until exactly one page leads and every page names it; returns that page. */
async function oneLeader(pages, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs;
  let last = [];
  while (Date.now() < deadline) {
    last = await Promise.all(pages.map(state));
    const leaders = last.filter((s) => s.leader);
    if (leaders.length === 1 && last.every((s) => s.leaderId === leaders[0].id)) {
      return pages[last.indexOf(leaders[0])];
    }
    await sleep(20);
  }
  throw new Error(`no single agreed leader within ${timeoutMs} ms: ${JSON.stringify(last)}`);
}

/** Samples for `ms`: always exactly one leader, the same one. */
async function stableLeader(pages, leader, ms) {
  const id = (await state(leader)).id;
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const s = await Promise.all(pages.map(state));
    const leaders = s.filter((x) => x.leader);
    check(leaders.length === 1 && leaders[0].id === id, `leadership moved or doubled: ${JSON.stringify(s)}`);
    await sleep(50);
  }
}

async function firstLeaderEventAfter(pages, t0) {
  for (const p of pages) {
    const ev = (await events(p)).filter((e) => e.kind === 'leader' && e.t >= t0);
    if (ev.length) return ev[0].t;
  }
  return null;
}

async function scenario(browser, web, mode) {
  const context = await browser.newContext();
  if (mode === 'lease') {
    await context.addInitScript(() => {
      delete Navigator.prototype.locks;
    });
  }
  const app = rid('app');
  const notes = [];
  try {
    const pages = await openTabs(context, web, app, 3);
    for (const p of pages) {
      const m = await p.evaluate(() => ({ mode: window.TT.mode, hasLocks: window.TT.hasLocks }));
      check(m.mode === mode, `page runs in mode ${m.mode}, expected ${mode}`);
      check(m.hasLocks === (mode === 'locks'), 'navigator.locks presence');
    }

    // Exactly one leader, and it stays the only one.
    let leader = await oneLeader(pages);
    await stableLeader(pages, leader, mode === 'lease' ? 1500 : 500);
    const becomes = (await Promise.all(pages.map(events))).flat().filter((e) => e.kind === 'leader').length;
    notes.push(`leadership grants at start: ${becomes}`);
    check(becomes <= 2, `${becomes} leadership grants while starting`);

    // A follower's request is answered by the leader; errors come back typed.
    let followers = pages.filter((p) => p !== leader);
    const leaderId = (await state(leader)).id;
    const r = await followers[0].evaluate(() => window.TT.request({ type: 'echo', value: 42 }));
    check(r.ok && r.value.echoed === 42 && r.value.by === leaderId, `request answered ${JSON.stringify(r)}`);
    const bad = await followers[1].evaluate(() => window.TT.request({ type: 'fail' }));
    check(!bad.ok && bad.code === 'invalid_command' && bad.message === 'refused', `failing request ${JSON.stringify(bad)}`);
    const local = await leader.evaluate(() => window.TT.request({ type: 'echo', value: 'self' }));
    check(local.ok && local.value.by === leaderId, 'the leader answers its own requests');
    const handled = (await events(leader)).filter((e) => e.kind === 'request').length;
    check(handled === 3, `the leader handled ${handled} requests, expected 3`);
    for (const f of followers) {
      check(!(await events(f)).some((e) => e.kind === 'request'), 'a follower handled a request');
    }

    // post(): leader -> followers (change notices), follower -> everyone else.
    await leader.evaluate(() => window.TT.post({ type: 'state', n: 1 }));
    await followers[0].evaluate(() => window.TT.post({ type: 'hello' }));
    await sleep(100);
    for (const f of followers) {
      const got = (await events(f)).filter((e) => e.kind === 'message' && e.msg.type === 'state');
      check(got.length === 1 && got[0].fromLeader, 'a follower missed the leader notice');
    }
    const hello = (await events(leader)).filter((e) => e.kind === 'message' && e.msg.type === 'hello');
    check(hello.length === 1 && !hello[0].fromLeader, 'the leader missed the follower message');
    check(!(await events(followers[0])).some((e) => e.kind === 'message' && e.msg.type === 'hello'), 'a tab got its own post');

    // A request in flight when the leader goes away fails fast with leader_lost.
    const pending = followers[0].evaluate(() => window.TT.request({ type: 'slow', ms: 4000 }, { timeoutMs: 8000 }));
    await sleep(100);

    // Close the leader: another takes over within a second.
    let t0 = Date.now();
    await leader.close();
    let survivors = followers;
    const next = await oneLeader(survivors, 3000);
    let tLead = await firstLeaderEventAfter(survivors, t0);
    const closeMs = tLead - t0;
    notes.push(`close failover ${closeMs} ms`);
    check(closeMs < CLOSE_LIMIT_MS, `failover after close took ${closeMs} ms`);
    const lost = await pending;
    check(!lost.ok && lost.code === 'leader_lost', `request to a closed leader: ${JSON.stringify(lost)}`);
    const nextId = (await state(next)).id;
    const other = survivors.find((p) => p !== next);
    const r2 = await other.evaluate(() => window.TT.request({ type: 'echo', value: 7 }));
    check(r2.ok && r2.value.by === nextId, `after failover the request went to ${JSON.stringify(r2)}`);

    // A new tab joins as a follower.
    const [late] = await openTabs(context, web, app, 1);
    survivors = [...survivors, late];
    await stableLeader(survivors, next, 600);

    // Crash the leader (no pagehide, no resign): the lock is released by the browser, the
    // lease runs out.
    leader = next;
    survivors = survivors.filter((p) => p !== leader);
    const cdp = await context.newCDPSession(leader);
    t0 = Date.now();
    cdp.send('Page.crash').catch(() => {});
    const after = await oneLeader(survivors, 4000);
    tLead = await firstLeaderEventAfter(survivors, t0);
    const crashMs = tLead - t0;
    notes.push(`crash failover ${crashMs} ms`);
    check(crashMs < CRASH_LIMIT[mode], `failover after a crash took ${crashMs} ms (limit ${CRASH_LIMIT[mode]})`);
    const afterId = (await state(after)).id;
    const rest = survivors.find((p) => p !== after);
    const r3 = await rest.evaluate(() => window.TT.request({ type: 'echo', value: 9 }));
    check(r3.ok && r3.value.by === afterId, `after the crash the request went to ${JSON.stringify(r3)}`);
    await stableLeader(survivors, after, mode === 'lease' ? 1200 : 300);

    for (const p of survivors) check(p.errors.length === 0, `page errors: ${p.errors.join('; ')}`);
    return notes.join(', ');
  } finally {
    await context.close().catch(() => {});
  }
}

async function unitClose(browser, web) {
  // close(): the leader steps down, its requests reject, another page takes over.
  const context = await browser.newContext();
  try {
    const app = rid('app');
    const pages = await openTabs(context, web, app, 2);
    const leader = await oneLeader(pages);
    const follower = pages.find((p) => p !== leader);
    await leader.evaluate(() => window.TT.close());
    await oneLeader([follower], 2000);
    const ev = await events(leader);
    check(ev.some((e) => e.kind === 'lost'), 'onLoseLeadership on close()');
    const r = await leader.evaluate(() => window.TT.request({ type: 'echo' }));
    check(!r.ok && r.code === 'closed', `request after close: ${JSON.stringify(r)}`);
  } finally {
    await context.close().catch(() => {});
  }
}

async function viaOnMessage(browser, web) {
  // Without onRequest, the leader's onMessage answers requests (meta.request is true);
  // tabs of another app are not involved.
  const context = await browser.newContext();
  try {
    const app = rid('app');
    const pages = await openTabs(context, web, app, 2, '&handler=message&user=u_1');
    const [stranger] = await openTabs(context, web, rid('other'), 1);
    const leader = await oneLeader(pages);
    const follower = pages.find((p) => p !== leader);
    const r = await follower.evaluate(() => window.TT.request({ type: 'echo', value: 'm' }));
    check(r.ok && r.value.echoed === 'm' && r.value.by === (await state(leader)).id, JSON.stringify(r));
    check((await state(stranger)).leader, 'a tab of another app leads its own app');
    await follower.evaluate(() => window.TT.post({ type: 'note' }));
    await sleep(100);
    const got = (await events(leader)).filter((e) => e.kind === 'message');
    check(got.length === 1 && got[0].user === 'u_1', `meta.user: ${JSON.stringify(got)}`);
    check(!(await events(stranger)).some((e) => e.kind === 'message'), 'a message crossed apps');
  } finally {
    await context.close().catch(() => {});
  }
}

const web = await startStatic();
const browser = await launchChromium();
const tests = [
  ['web locks: one leader, requests, notices, failover on close and crash', () => scenario(browser, web, 'locks')],
  ['no navigator.locks: BroadcastChannel lease, the same', () => scenario(browser, web, 'lease')],
  ['close() hands leadership over', () => unitClose(browser, web)],
  ['onMessage answers requests when there is no onRequest; apps are separate', () => viaOnMessage(browser, web)],
];
let passed = 0;
let failed = 0;
for (const [name, fn] of tests) {
  if (args.only && !name.includes(args.only)) continue;
  const started = Date.now();
  try {
    const note = await fn();
    passed++;
    console.log(`ok   ${name} (${Date.now() - started} ms${note ? `; ${note}` : ''})`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${name}: ${e && e.stack ? e.stack : e}`);
  }
}
await browser.close().catch(() => {});
await web.close();
console.log(`web-tabs: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
