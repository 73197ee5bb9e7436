// The xmpp tier in the browser: Parley's bundle (build/dist/parley.mjs) with the XMPP adapter
// (build/dist/parley-xmpp.mjs) in Debian's Chromium, synced through a real Prosody on
// loopback (tests/xmpp/lib/prosody.mjs) behind a TCP relay the test can cut
// (tests/xmpp/lib/proxy.mjs). An "agent" account, driven from Node with @xmpp/client,
// answers. What reached the XMPP side is checked there (the agent's copies, by origin-id),
// never through the page. The end-to-end tier's offline, reload, duplicate and two-tab
// scenarios, then the XMPP ones: abrupt socket kills with resume, a failed resume with a MAM catch-up,
// a stanza archived twice, carbons from another device, forged carbons.
//
//   node tests/xmpp/run.mjs [--only NAME] [--dist /build/dist]
//
// Last line: "xmpp: N passed, M failed". Exit status non-zero on any failure.

import { parseArgs } from 'node:util';
import { ensureWebSocket, installCleanup, makeTempDir, rid, sleep } from '../load/lib.mjs';

await ensureWebSocket();
installCleanup(900_000, 'xmpp');

const { launchChromium, startStatic } = await import('../web/lib/browser.mjs');
const { pageReady: ready, waitFor } = await import('../web/lib/scenarios.mjs');
const { startProsody } = await import('./lib/prosody.mjs');
const { startProxy } = await import('./lib/proxy.mjs');
const { xmppAccount, xml } = await import('./lib/agent.mjs');

const { values: opts } = parseArgs({
  options: { only: { type: 'string', default: '' }, dist: { type: 'string', default: '/build/dist' } },
});
const PW = 'xmpp-e2e-password';
const DOMAIN = 'localhost';
const AGENT = `agent@${DOMAIN}`;

const prosody = await startProsody({ dir: makeTempDir('parley-xmpp-'), accounts: { agent: PW, mallory: PW } });
const proxy = await startProxy(prosody.httpPort);
const web = await startStatic({ routes: { '/favicon.ico': (req, res) => res.writeHead(204).end() } });
const browser = await launchChromium();
let agent = await xmppAccount({ service: prosody.wsUrl, domain: DOMAIN, username: 'agent', password: PW, resource: 'desk' });
let mallory = await xmppAccount({ service: prosody.wsUrl, domain: DOMAIN, username: 'mallory', password: PW, resource: 'evil' });

// ----------------------------------------------------------------------------- helpers

/** A fresh visitor account: every scenario has its own archive. */
function newVisitor() {
  const username = rid('visitor').toLowerCase();
  prosody.register(username, PW);
  return { username, jid: `${username}@${DOMAIN}` };
}

function appUrl(v) {
  const q = new URLSearchParams({
    service: `ws://127.0.0.1:${proxy.port}/xmpp-websocket`,
    domain: DOMAIN,
    username: v.username,
    password: PW,
    agent: AGENT,
    dist: opts.dist,
  });
  return `${web.url}/tests/xmpp/pages/app.html?${q}`;
}


const connected = (page) => waitFor('connected', () => page.evaluate(() => window.parley.connection === 'ready'), 30_000);
const timeline = (page, conv) => page.evaluate((c) => window.parley.messages(c), conv);
const texts = async (page, conv) => (await timeline(page, conv)).map((m) => m.message.body.text);
/** The page's adapter counters, summed over the adapters it made. */
const stats = (page) =>
  page.evaluate(() => {
    const sum = {};
    for (const a of window.adapters) for (const [k, v] of Object.entries(a.xmpp.stats)) sum[k] = (sum[k] || 0) + v;
    return sum;
  });

/** The visitor's messages the agent got, as [distinct texts in order, raw copies]. */
function agentGot(v, conv) {
  const mine = agent.copies.filter((m) => m.from.startsWith(`${v.jid}/`) && (!conv || m.thread === conv));
  const seen = new Set();
  const distinct = [];
  for (const m of mine) {
    if (seen.has(m.originId)) continue;
    seen.add(m.originId);
    distinct.push(m.text);
  }
  return { distinct, copies: mine.length };
}

function same(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

/**
 * The order the server archived `conv` in, read from the visitor's own archive by another
 * client (copies of one origin-id counted once): what "in order" means when both sides
 * write at once.
 */
async function archiveOrder(v, conv) {
  const reader = await xmppAccount({ service: prosody.wsUrl, domain: DOMAIN, username: v.username, password: PW, resource: 'auditor' });
  try {
    const seen = new Set();
    const want = [];
    for (const m of await reader.archive()) {
      const key = `${m.from.split('/')[0]}|${m.originId || m.text}`;
      if (seen.has(key)) continue;
      seen.add(key);
      want.push(m.text);
    }
    return want;
  } finally {
    await reader.stop();
  }
}

/**
 * Waits until the page shows the `want` messages of `conv`, then checks that each is there
 * exactly once, nothing else is, and the order is the server's (the visitor's archive).
 * With `strict`, `want`'s own order must be that order too.
 */
async function pageShows(page, conv, want, what, ms = 30_000, { v, strict = true } = {}) {
  await waitFor(what, async () => (await texts(page, conv)).length >= want.length, ms);
  await sleep(500); // a duplicate would show up now
  const got = await texts(page, conv);
  if (strict) same(got, want, what);
  same([...got].sort(), [...want].sort(), `${what} (each once)`);
  if (v) same(got, (await archiveOrder(v, conv)).filter((t) => want.includes(t)), `${what}: the page's order against the archive's`);
}

/** All visitor messages at the agent exactly once and in order; no stanza sent twice. */
async function agentHasExactly(v, conv, want, ms = 30_000) {
  await waitFor(`the agent got ${want.length}`, () => agentGot(v, conv).distinct.length >= want.length, ms);
  await sleep(500);
  const got = agentGot(v, conv);
  same(got.distinct, want, 'at the agent (distinct origin-ids)');
  return got.copies;
}

// ----------------------------------------------------------------------------- scenarios

const list = [];
const scenario = (name, fn) => list.push({ name, fn });

scenario('offline: 20 messages, two reloads, back online: each arrives once, in order', async (t) => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  proxy.block();
  proxy.cut(); // the network is gone for Parley; the page stays
  await ctx.setOffline(true);
  const conv = await page.evaluate(() => window.parley.startConversation('Offline order'));
  const want = Array.from({ length: 20 }, (_, i) => `offline message ${i + 1}`);
  for (const text of want) await page.evaluate(([c, x]) => window.parley.send(c, x), [conv, text]);
  await waitFor('20 queued', async () => (await timeline(page, conv)).length === 20);
  for (let i = 0; i < 2; i++) {
    await ctx.setOffline(false); // only to load the page itself; XMPP is still unreachable
    await page.reload();
    await ready(page);
    await ctx.setOffline(true);
    await page.evaluate((c) => window.parley.openConversation(c), conv);
    const items = await waitFor(`20 after reload ${i + 1}`, async () => {
      const tl = await timeline(page, conv);
      return tl.length === 20 ? tl : null;
    });
    const states = new Set(items.map((m) => m.state));
    if (![...states].every((s) => s === 'queued' || s === 'sending')) throw new Error(`after reload ${i + 1}: states ${[...states]}`);
  }
  proxy.unblock();
  await ctx.setOffline(false);
  const copies = await agentHasExactly(v, conv, want, 60_000);
  if (copies !== 20) throw new Error(`${copies} stanzas for 20 messages`);
  await waitFor('all sent in the page', async () => (await timeline(page, conv)).every((m) => m.state !== 'queued' && m.state !== 'sending'), 30_000);
  await pageShows(page, conv, want, 'the page after coming back', 30_000, { v });
  await ctx.close();
});

scenario('page closed mid-send (Prosody frozen): the message arrives exactly once', async (t) => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  let page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  const conv = await page.evaluate(() => window.parley.startConversation('Lost ack'));
  process.kill(prosody.proc.pid, 'SIGSTOP'); // the stanza reaches the socket; no answer comes back
  try {
    await page.evaluate((c) => window.parley.send(c, 'sent as the tab closed'), conv);
    await waitFor('the message in flight', async () => (await timeline(page, conv)).some((m) => m.state === 'sending'));
    await sleep(300);
    await page.close({ runBeforeUnload: false });
  } finally {
    process.kill(prosody.proc.pid, 'SIGCONT');
  }
  page = await ctx.newPage(); // a new tab: no resumption state, a new session and a catch-up
  await ready(page, appUrl(v));
  await page.evaluate((c) => window.parley.openConversation(c), conv);
  await waitFor('sent after reopening', async () => (await timeline(page, conv)).some((m) => ['sent', 'delivered', 'read'].includes(m.state)), 30_000);
  const copies = await agentHasExactly(v, conv, ['sent as the tab closed']);
  await pageShows(page, conv, ['sent as the tab closed'], 'the page');
  t.note = `${copies} stanza(s) reached the agent`;
  if (copies !== 1) throw new Error(`${copies} copies reached the agent`);
  await ctx.close();
});

scenario('an agent reply while the tab is closed is there next visit, unread right', async () => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  let page = await ctx.newPage();
  await ready(page, appUrl(v));
  const conv = await page.evaluate(() => window.parley.startConversation('Later'));
  await page.evaluate((c) => window.parley.send(c, 'please call me back'), conv);
  await agentHasExactly(v, conv, ['please call me back']);
  await page.close();
  await agent.say(v.jid, 'Sure, tomorrow at 10.', conv);
  await agent.say(v.jid, 'Or is 11 better?', conv);
  page = await ctx.newPage();
  await ready(page, appUrl(v));
  await page.evaluate((c) => window.parley.openConversation(c), conv);
  await pageShows(page, conv, ['please call me back', 'Sure, tomorrow at 10.', 'Or is 11 better?'], 'both replies', 30_000, { v });
  await waitFor('unread 2', async () => (await page.evaluate(() => window.parley.unread)) === 2);
  await ctx.close();
});

scenario('two tabs: one XMPP connection, messages in both, the follower takes over', async () => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const sockets = new Set();
  const watch = (p) =>
    p.on('websocket', (ws) => {
      if (!ws.url().includes(`:${proxy.port}/`)) return;
      sockets.add(ws);
      ws.on('close', () => sockets.delete(ws));
    });
  const a = await ctx.newPage();
  watch(a);
  await ready(a, appUrl(v));
  const b = await ctx.newPage();
  watch(b);
  await ready(b, appUrl(v));
  await connected(a);
  const leaders = await Promise.all([a, b].map((p) => p.evaluate(() => window.parley.isLeader)));
  if (leaders.filter(Boolean).length !== 1) throw new Error(`leaders: ${leaders}`);
  if (sockets.size !== 1) throw new Error(`${sockets.size} WebSockets open`);
  const [leader, follower] = leaders[0] ? [a, b] : [b, a];
  const conv = await follower.evaluate(() => window.parley.startConversation('Two tabs'));
  await follower.evaluate((c) => window.parley.send(c, 'from the follower'), conv);
  await leader.evaluate((c) => window.parley.send(c, 'from the leader'), conv);
  for (const p of [a, b]) {
    await waitFor('both messages in both tabs', async () => {
      const t = await texts(p, conv);
      return t.includes('from the follower') && t.includes('from the leader');
    });
  }
  await leader.close({ runBeforeUnload: false });
  await waitFor('the follower leads', () => follower.evaluate(() => window.parley.isLeader));
  await follower.evaluate((c) => window.parley.send(c, 'after the takeover'), conv);
  await agent.say(v.jid, 'answered after the takeover', conv);
  await pageShows(follower, conv, ['from the follower', 'from the leader', 'after the takeover', 'answered after the takeover'], 'the follower', 30_000, { v, strict: false });
  const archived = await archiveOrder(v, conv);
  await agentHasExactly(v, conv, archived.filter((x) => x.startsWith('from') || x === 'after the takeover'));
  await ctx.close();
});

scenario('read and delivered: receipts and markers move the states forward only', async () => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  const conv = await page.evaluate(() => window.parley.startConversation('Markers'));
  await page.evaluate((c) => window.parley.send(c, 'one'), conv);
  await page.evaluate((c) => window.parley.send(c, 'two'), conv);
  await agentHasExactly(v, conv, ['one', 'two']);
  // The agent's client answered the receipt requests: both show delivered.
  await waitFor('delivered', async () => (await timeline(page, conv)).every((m) => m.state === 'delivered'), 15_000);
  const ids = agent.copies.filter((m) => m.from.startsWith(`${v.jid}/`)).map((m) => m.id);
  const marker = (id) => xml('message', { to: v.jid, type: 'chat' }, xml('displayed', { xmlns: 'urn:xmpp:chat-markers:0', id }), xml('thread', {}, conv));
  await agent.raw(marker(ids[1])); // read up to "two"
  await waitFor('both read', async () => (await timeline(page, conv)).every((m) => m.state === 'read'), 15_000);
  await agent.raw(marker(ids[0])); // an older marker: nothing goes back
  await sleep(1000);
  same((await timeline(page, conv)).map((m) => m.state), ['read', 'read'], 'states after an older marker');
  // The visitor reads the agent's reply: a displayed marker goes to the agent.
  const replyId = await agent.say(v.jid, 'noted', conv);
  await pageShows(page, conv, ['one', 'two', 'noted'], 'the reply');
  const seq = (await timeline(page, conv))[2].message.seq;
  await page.evaluate(([c, s]) => window.parley.markRead(c, s), [conv, seq]);
  await waitFor('the displayed marker at the agent', () => agent.markers.some((m) => m.name === 'displayed' && m.id === replyId), 15_000);
  await ctx.close();
});

scenario('abrupt socket kills: the XEP-0198 session resumes; both directions exactly once, in order', async (t) => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  const conv = await page.evaluate(() => window.parley.startConversation('Kills'));
  const want = [];
  for (let round = 1; round <= 3; round++) {
    await page.evaluate(([c, x]) => window.parley.send(c, x), [conv, `visitor ${round}a`]);
    want.push(`visitor ${round}a`);
    proxy.cut(); // RST both ways: the session hibernates on the server
    await agent.say(v.jid, `agent ${round}`, conv); // queued by Prosody for the hibernated session
    want.push(`agent ${round}`);
    await page.evaluate(([c, x]) => window.parley.send(c, x), [conv, `visitor ${round}b`]);
    want.push(`visitor ${round}b`);
    await waitFor(`round ${round} resumed`, async () => (await stats(page)).resumed >= round, 30_000);
    // Whether "visitor Na" reached the server before the cut decides where "agent N" falls:
    // the archive says.
    await pageShows(page, conv, want, `round ${round}`, 30_000, { v, strict: false });
    const got = await texts(page, conv);
    same(got.filter((x) => x.startsWith('visitor')), want.filter((x) => x.startsWith('visitor')), 'the visitor side in order');
    same(got.filter((x) => x.startsWith('agent')), want.filter((x) => x.startsWith('agent')), 'the agent side in order');
  }
  const s = await stats(page);
  if (s.resumeFailed) throw new Error(`a resume failed: ${JSON.stringify(s)}`);
  const copies = await agentHasExactly(v, conv, want.filter((x) => x.startsWith('visitor')));
  t.note = `${s.resumed} resumes, ${copies} visitor stanzas`;
  await ctx.close();
});

scenario('a reload resumes the session from sessionStorage', async (t) => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  const conv = await page.evaluate(() => window.parley.startConversation('Reload'));
  await page.evaluate((c) => window.parley.send(c, 'before the reload'), conv);
  await agentHasExactly(v, conv, ['before the reload']);
  await sleep(300);
  await page.reload();
  await ready(page);
  await connected(page);
  await page.evaluate((c) => window.parley.openConversation(c), conv);
  await agent.say(v.jid, 'after the reload', conv);
  await pageShows(page, conv, ['before the reload', 'after the reload'], 'after the reload');
  const s = await stats(page);
  if (s.resumed !== 1) throw new Error(`expected a resume after the reload: ${JSON.stringify(s)}`);
  t.note = JSON.stringify({ resumed: s.resumed, recounts: s.recounts });
  await ctx.close();
});

scenario('logout: the adapter forgets the account (archive index, resumption state) with the database', async () => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  const conv = await page.evaluate(() => window.parley.startConversation('Private'));
  await page.evaluate((c) => window.parley.send(c, 'my address is 1 Main St'), conv);
  await agentHasExactly(v, conv, ['my address is 1 Main St']);
  const kept = (p, jid) =>
    p.evaluate((j) => [localStorage.getItem(`parley.xmpp.index:${j}`), sessionStorage.getItem(`parley.xmpp.sm:${j}`)], jid);
  const before = await kept(page, v.jid);
  if (!before[0] || !before[1]) throw new Error(`the adapter kept nothing to forget: ${JSON.stringify(before)}`);
  await page.evaluate(() => window.parley.logout());
  const after = await kept(page, v.jid);
  if (after[0] !== null || after[1] !== null) throw new Error(`left after logout: ${JSON.stringify(after)}`);
  // (This test page then starts again with the same credentials, as its URL says, so the
  // next instance builds its own index: a real page signs the next account in instead.)
  await ctx.close();
});

scenario('a resume that fails (Prosody restarted) is followed by a MAM catch-up', async (t) => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  const conv = await page.evaluate(() => window.parley.startConversation('Catch-up'));
  await page.evaluate((c) => window.parley.send(c, 'first'), conv);
  await agentHasExactly(v, conv, ['first']);
  proxy.block();
  proxy.cut();
  const missed = Array.from({ length: 60 }, (_, i) => `missed ${i + 1}`); // more than one MAM page
  for (const m of missed) await agent.say(v.jid, m, conv);
  // Written to the agent's socket is not handled by the server: wait until the server has
  // archived them all, or the restart below may lose the last ones (the agent's fault).
  await waitFor('the 60 archived', async () => (await archiveOrder(v, conv)).filter((x) => x.startsWith('missed')).length === 60);
  await prosody.restart(); // every session is gone, hibernated ones too; the archive stays
  agent = await reconnect(agent, 'agent', 'desk');
  mallory = await reconnect(mallory, 'mallory', 'evil');
  proxy.unblock();
  await waitFor('a failed resume', async () => (await stats(page)).resumeFailed >= 1, 60_000);
  t.page = page;
  // Nothing new happens after the reconnect: only the catch-up can bring the missed ones.
  await pageShows(page, conv, ['first', ...missed], 'after the catch-up', 60_000, { v });
  await page.evaluate((c) => window.parley.send(c, 'after the catch-up'), conv);
  await pageShows(page, conv, ['first', ...missed, 'after the catch-up'], 'then a send', 30_000, { v });
  await agentHasExactly(v, conv, ['first', 'after the catch-up']);
  const s = await stats(page);
  t.note = `${s.mamQueries} MAM queries, ${s.resumeFailed} failed resume`;
  await ctx.close();
});

scenario('duplicates: a stanza archived twice, a carbon from another device, shown once each', async () => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  const conv = await page.evaluate(() => window.parley.startConversation('Devices'));
  await page.evaluate((c) => window.parley.send(c, 'from the browser'), conv);
  await agentHasExactly(v, conv, ['from the browser']);
  const phone = await xmppAccount({ service: prosody.wsUrl, domain: DOMAIN, username: v.username, password: PW, resource: 'phone' });
  try {
    const stanza = () =>
      xml('message', { to: AGENT, type: 'chat', id: 'k_phone_1' }, xml('body', {}, 'from the phone, sent twice'), xml('thread', {}, conv), xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'k_phone_1' }));
    await phone.raw(stanza());
    await phone.raw(stanza()); // a retransmission: Prosody archives it again
    // Nothing else happens meanwhile: only the carbon of the phone's message tells the page.
    await waitFor('the carbon', async () => (await texts(page, conv)).includes('from the phone, sent twice'));
    await agent.say(v.jid, 'got both', conv);
    await pageShows(page, conv, ['from the browser', 'from the phone, sent twice', 'got both'], 'the page', 30_000, { v, strict: false });
    const raw = agent.copies.filter((m) => m.originId === 'k_phone_1').length;
    if (raw !== 2) throw new Error(`the server should have passed on both copies, not ${raw}`);
  } finally {
    await phone.stop();
  }
  await ctx.close();
});

scenario('forged carbons and archive results from another JID are rejected in the page', async () => {
  const v = newVisitor();
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(v));
  await connected(page);
  const conv = await page.evaluate(() => window.parley.startConversation('Forgery'));
  const inner = xml('message', { from: `${AGENT}/desk`, to: v.jid, type: 'chat', id: 'forged' }, xml('body', {}, 'FORGED'), xml('thread', {}, conv));
  await mallory.raw(xml('message', { to: v.jid, type: 'chat' }, xml('received', { xmlns: 'urn:xmpp:carbons:2' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, inner))));
  for (let q = 1; q <= 30; q++) {
    const res = xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: `pq${q}`, id: `fake${q}` }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-01-01T00:00:00Z' }), inner));
    await mallory.raw(xml('message', { to: v.jid, type: 'chat' }, res));
  }
  await page.evaluate((c) => window.parley.send(c, 'real'), conv);
  await agent.say(v.jid, 'genuine', conv);
  await pageShows(page, conv, ['real', 'genuine'], 'the page', 30_000, { v, strict: false });
  const s = await stats(page);
  if (s.forged < 31) throw new Error(`forgeries counted: ${s.forged}`);
  const all = JSON.stringify(await page.evaluate(() => window.parley.conversations()));
  if (all.includes('FORGED')) throw new Error('a forgery reached the conversations');
  await ctx.close();
});

async function reconnect(account, username, resource) {
  await account.stop().catch(() => {});
  const fresh = await xmppAccount({ service: prosody.wsUrl, domain: DOMAIN, username, password: PW, resource });
  fresh.copies.push(...account.copies);
  fresh.markers.push(...account.markers);
  return fresh;
}

// ----------------------------------------------------------------------------- runner

let passed = 0;
let failed = 0;
for (const s of list) {
  if (opts.only && !s.name.includes(opts.only)) continue;
  const t = { note: '' };
  const start = Date.now();
  try {
    proxy.unblock();
    await s.fn(t);
    passed++;
    console.log(`ok   ${s.name} (${Date.now() - start} ms)${t.note ? ` [${t.note}]` : ''}`);
  } catch (e) {
    failed++;
    const where = e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n     ') : e;
    if (t.page) {
      const log = await t.page.evaluate(() => window.adapters.flatMap((a) => a.xmpp.log)).catch(() => []);
      console.log(`     adapter log:\n       ${log.join('\n       ')}`);
    }
    console.log(`FAIL ${s.name} (${Date.now() - start} ms)\n     ${where}`);
  }
}
await browser.close();
await web.close();
await agent.stop();
await mallory.stop();
await proxy.close();
await prosody.stop();
console.log(`xmpp: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
