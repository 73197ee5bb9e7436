// End-to-end tier: Parley's bundle (build/dist) in Debian's Chromium with real IndexedDB,
// against the real reference server (build/native/parley_server) on loopback. What reached
// the server is checked through its agent API, never through the page.
//
//   node tests/e2e/run.mjs [--only NAME] [--binary build/native/parley_server]
//
// Last line: "e2e: N passed, M failed". Exit status non-zero on any failure.

import { createHmac } from 'node:crypto';
import { agentAllMessages, ensureWebSocket, rid, sleep } from '../load/lib.mjs';
import { ROOT } from '../web/lib/browser.mjs';
import { agentPost, pageReady as ready, scenarios, waitFor, WAIT_MS } from '../web/lib/scenarios.mjs';

await ensureWebSocket();

const APP = 'e2e';
const AGENT = 'e2e-agent-token';
const JWT_SECRET = 'e2e-jwt-secret';
const JWT_AUD = 'parley-e2e';
const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";

const { scenario, run, binary: BINARY } = scenarios('e2e', {
  config: {
    apps: [{ id: APP, bot: false, style: 'social_messaging', jwt_secret: JWT_SECRET, jwt_audience: JWT_AUD }],
    agents: [{ id: 'ag_e2e', name: 'Ada', token: AGENT }],
    limits: { frames_per_second: 1000, burst: 5000 },
  },
  csp: STRICT_CSP,
});

// ----------------------------------------------------------------------------- helpers

function b64url(s) {
  return Buffer.from(s).toString('base64url');
}

function jwt(sub) {
  const head = b64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const body = b64url(JSON.stringify({ sub, aud: JWT_AUD, exp: Math.floor(Date.now() / 1000) + 3600 }));
  const sig = createHmac('sha256', JWT_SECRET).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

function appUrl(web, server, { token, consent } = {}) {
  const q = new URLSearchParams({ server, app: APP });
  if (token) q.set('token', token);
  if (consent) q.set('consent', '');
  return `${web.url}/tests/e2e/pages/app.html?${q}`;
}


const timeline = (page, conv) => page.evaluate((c) => window.parley.messages(c), conv);

async function visitorTexts(server, conv) {
  const msgs = await agentAllMessages(server.url, conv, AGENT);
  return msgs.filter((m) => m.author.role === 'visitor').map((m) => m.body.text);
}

function countSockets(page, server) {
  const open = new Set();
  page.on('websocket', (ws) => {
    if (!ws.url().startsWith(server.url.replace('http', 'ws'))) return;
    open.add(ws);
    ws.on('close', () => open.delete(ws));
  });
  return open;
}

// ----------------------------------------------------------------------------- scenarios

scenario('offline: 20 messages, two reloads, back online: each arrives once, in order', async (t) => {
  const server = await t.server();
  const port = server.port;
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await server.stop('SIGTERM'); // the network is gone for Parley; the page stays
  await ctx.setOffline(true);
  const conv = await page.evaluate(() => window.parley.startConversation('Offline order'));
  const texts = Array.from({ length: 20 }, (_, i) => `offline message ${i + 1}`);
  for (const text of texts) await page.evaluate(([c, x]) => window.parley.send(c, x), [conv, text]);
  await waitFor('20 queued messages shown', async () => (await timeline(page, conv)).length === 20);
  for (let i = 0; i < 2; i++) {
    await ctx.setOffline(false); // only to load the page itself; the server is still down
    await page.reload();
    await ready(page);
    await ctx.setOffline(true);
    await page.evaluate((c) => window.parley.openConversation(c), conv);
    const items = await waitFor(`20 messages after reload ${i + 1}`, async () => {
      const tl = await timeline(page, conv);
      return tl.length === 20 ? tl : null;
    });
    const states = new Set(items.map((m) => m.state));
    if (![...states].every((s) => s === 'queued' || s === 'sending')) {
      throw new Error(`after reload ${i + 1}: states ${[...states]}`);
    }
  }
  await t.server({ port });
  await ctx.setOffline(false); // back online: the core reconnects at once
  const got = await waitFor('all 20 on the server', async () => {
    const v = await visitorTexts(server, conv).catch(() => []);
    return v.length >= 20 ? v : null;
  }, 30_000);
  await sleep(500); // anything extra would show up now
  const final = await visitorTexts(server, conv);
  if (JSON.stringify(final) !== JSON.stringify(texts)) {
    throw new Error(`server has ${final.length} messages: ${JSON.stringify(final)}`);
  }
  await waitFor('all sent in the page', async () =>
    (await timeline(page, conv)).every((m) => m.state !== 'queued' && m.state !== 'sending'),
  );
  void got;
  await ctx.close();
});

scenario('page closed mid-send (no unload handler): the message arrives exactly once', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  let page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await waitFor('connected', () => page.evaluate(() => window.parley.connection === 'ready'));
  const conv = await page.evaluate(() => window.parley.startConversation('Lost ack'));
  process.kill(server.pid, 'SIGSTOP'); // the send reaches the socket, the ack never comes back
  try {
    await page.evaluate((c) => window.parley.send(c, 'sent as the tab closed'), conv);
    await waitFor('the message in flight', async () =>
      (await timeline(page, conv)).some((m) => m.state === 'sending'),
    );
    await page.close({ runBeforeUnload: false });
  } finally {
    process.kill(server.pid, 'SIGCONT');
  }
  page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await page.evaluate((c) => window.parley.openConversation(c), conv);
  await waitFor('sent after reopening', async () =>
    (await timeline(page, conv)).some((m) => m.state === 'sent' || m.state === 'delivered' || m.state === 'read'),
  );
  await sleep(500);
  const texts = await visitorTexts(server, conv);
  if (texts.length !== 1) throw new Error(`server has ${texts.length} copies: ${JSON.stringify(texts)}`);
  await ctx.close();
});

scenario('two tabs: one WebSocket, messages in both, the follower takes over', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const a = await ctx.newPage();
  const sa = countSockets(a, server);
  await ready(a, appUrl(t.web, server.url));
  const b = await ctx.newPage();
  const sb = countSockets(b, server);
  await ready(b, appUrl(t.web, server.url));
  await waitFor('connected', () => a.evaluate(() => window.parley.connection === 'ready'));
  const leaders = await Promise.all([a, b].map((p) => p.evaluate(() => window.parley.isLeader)));
  if (leaders.filter(Boolean).length !== 1) throw new Error(`leaders: ${leaders}`);
  if (sa.size + sb.size !== 1) throw new Error(`${sa.size + sb.size} WebSockets open`);
  const [leader, follower] = leaders[0] ? [a, b] : [b, a];
  const conv = await follower.evaluate(() => window.parley.startConversation('Two tabs'));
  await follower.evaluate((c) => window.parley.send(c, 'from the follower'), conv);
  await leader.evaluate((c) => window.parley.send(c, 'from the leader'), conv);
  for (const p of [a, b]) {
    await waitFor('both messages in both tabs', async () => {
      const texts = (await timeline(p, conv)).map((m) => m.message.body.text);
      return texts.includes('from the follower') && texts.includes('from the leader');
    }, 5000);
  }
  await leader.close({ runBeforeUnload: false });
  await waitFor('the follower leads', () => follower.evaluate(() => window.parley.isLeader));
  await follower.evaluate((c) => window.parley.send(c, 'after the takeover'), conv);
  await waitFor('all three on the server', async () => (await visitorTexts(server, conv)).length === 3);
  const texts = await visitorTexts(server, conv);
  if (new Set(texts).size !== 3) throw new Error(`duplicates: ${JSON.stringify(texts)}`);
  await ctx.close();
});

scenario('logout wipes the user in every tab; the next user sees none of it', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const sub = rid('alice');
  const a = await ctx.newPage();
  await ready(a, appUrl(t.web, server.url, { token: jwt(sub) }));
  const b = await ctx.newPage();
  await ready(b, appUrl(t.web, server.url, { token: jwt(sub) }));
  await waitFor('signed in', () => a.evaluate(() => window.parley.connection === 'ready' && window.parley.user));
  const user = await a.evaluate(() => window.parley.user);
  const conv = await a.evaluate(() => window.parley.startConversation('Private'));
  await a.evaluate((c) => window.parley.send(c, 'my secret order'), conv);
  await waitFor('on the server', async () => (await visitorTexts(server, conv)).length === 1);
  await waitFor('both tabs see it', async () => (await b.evaluate(() => window.parley.conversations().length)) === 1);
  const dbName = `parley:${APP}:${user}`;
  const hasDb = (p) => p.evaluate(async (n) => (await indexedDB.databases()).some((d) => d.name === n), dbName);
  if (!(await hasDb(a))) throw new Error(`no database ${dbName} before logout`);
  await b.evaluate(() => window.parley.logout());
  for (const p of [a, b]) {
    await waitFor('state wiped in every tab', async () =>
      p.evaluate(() => window.parley.conversations().length === 0 && window.events.some(([n]) => n === 'wiped')),
    );
  }
  await waitFor('database deleted', async () => !(await hasDb(a)));
  await a.evaluate((tok) => window.parley.identify(tok), jwt(rid('bob')));
  await waitFor('signed in as bob', async () => {
    const u = await a.evaluate(() => window.parley.user);
    return u && u !== user;
  });
  await sleep(500);
  const seen = await a.evaluate(() => JSON.stringify(window.parley.conversations()));
  if (seen.includes('my secret order') || seen.includes(conv)) throw new Error(`bob sees alice's data: ${seen}`);
  await ctx.close();
});

scenario('after `await logout()` the data is already gone: leaving the page at once keeps nothing', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url, { token: jwt(rid('carol')) }));
  await waitFor('signed in', () => page.evaluate(() => window.parley.connection === 'ready' && window.parley.user));
  const user = await page.evaluate(() => window.parley.user);
  const conv = await page.evaluate(() => window.parley.startConversation('Private'));
  await page.evaluate((c) => window.parley.send(c, 'my card ends in 4242'), conv);
  await waitFor('on the server', async () => (await visitorTexts(server, conv)).length === 1);
  // The usual sign-out: await logout(), then navigate away straight away.
  const next = appUrl(t.web, server.url);
  await Promise.all([
    page.waitForNavigation({ timeout: WAIT_MS }),
    page.evaluate(async (url) => {
      await window.parley.logout();
      location.href = url;
    }, next),
  ]);
  await ready(page);
  const dbs = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  if (dbs.includes(`parley:${APP}:${user}`)) throw new Error(`the signed-out user's database survived: ${dbs}`);
  const seen = await page.evaluate(() => JSON.stringify(window.parley.conversations()));
  if (seen.includes(conv)) throw new Error(`the next visitor sees the signed-out user's conversation: ${seen}`);
  await ctx.close();
});

scenario('strict CSP page (no unsafe-eval, no unsafe-inline) loads Parley and works', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  const problems = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
  await ready(page, appUrl(t.cspWeb, server.url));
  const conv = await page.evaluate(() => window.parley.startConversation('CSP'));
  await page.evaluate((c) => window.parley.send(c, 'hello under CSP'), conv);
  await waitFor('on the server', async () => (await visitorTexts(server, conv)).length === 1);
  const violations = await page.evaluate(() => window.cspViolations);
  if (violations.length) throw new Error(`CSP violations: ${violations}`);
  if (problems.length) throw new Error(`console errors: ${problems}`);
  await ctx.close();
});

scenario('an agent reply while the tab is closed is there next visit, unread right', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  let page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  const conv = await page.evaluate(() => window.parley.startConversation('Later'));
  await page.evaluate((c) => window.parley.send(c, 'please call me back'), conv);
  await waitFor('on the server', async () => (await visitorTexts(server, conv)).length === 1);
  await page.close();
  await agentPost(server, AGENT, conv, 'Sure, tomorrow at 10.');
  await agentPost(server, AGENT, conv, 'Or is 11 better?');
  page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await page.evaluate((c) => window.parley.openConversation(c), conv);
  await waitFor('both replies', async () => {
    const texts = (await timeline(page, conv)).map((m) => m.message.body.text);
    return texts.includes('Sure, tomorrow at 10.') && texts.includes('Or is 11 better?');
  });
  const unread = await waitFor('unread 2', async () => {
    const u = await page.evaluate(() => window.parley.unread);
    return u === 2 ? u : null;
  });
  void unread;
  await ctx.close();
});

scenario('requireConsent: nothing is stored before consent; then history is kept', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url, { consent: true }));
  const dbs = () => page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  const conv = await page.evaluate(() => window.parley.startConversation('Consent'));
  await page.evaluate((c) => window.parley.send(c, 'before consent'), conv);
  await waitFor('delivered without storage', async () => (await visitorTexts(server, conv)).length === 1);
  const storage = await page.evaluate(() => window.parley.storage);
  if (storage.persistent) throw new Error(`persistent before consent: ${JSON.stringify(storage)}`);
  const cookies = await ctx.cookies();
  const local = await page.evaluate(() => localStorage.length + sessionStorage.length);
  if ((await dbs()).length || cookies.length || local) {
    throw new Error(`written before consent: dbs ${await dbs()}, cookies ${cookies.length}, web storage ${local}`);
  }
  await page.evaluate(() => window.parley.consent());
  await waitFor('persistent after consent', () => page.evaluate(() => window.parley.storage.persistent));
  await page.evaluate((c) => window.parley.send(c, 'after consent'), conv);
  await waitFor('both on the server', async () => (await visitorTexts(server, conv)).length === 2);
  await page.reload();
  await ready(page);
  await page.evaluate((c) => window.parley.openConversation(c), conv);
  await waitFor('history kept across the reload', async () => {
    const texts = (await timeline(page, conv)).map((m) => m.message.body.text);
    return texts.includes('before consent') && texts.includes('after consent');
  });
  await ctx.close();
});

scenario('blocked storage: Parley runs in memory, says so, and still delivers', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  await ctx.addInitScript(() => {
    IDBFactory.prototype.open = function () {
      throw new DOMException('The operation is insecure.', 'SecurityError');
    };
  });
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  const storage = await page.evaluate(() => window.parley.storage);
  if (storage.persistent || !storage.reason) throw new Error(`storage flag: ${JSON.stringify(storage)}`);
  const conv = await page.evaluate(() => window.parley.startConversation('No storage'));
  await page.evaluate((c) => window.parley.send(c, 'in memory'), conv);
  await waitFor('on the server', async () => (await visitorTexts(server, conv)).length === 1);
  await ctx.close();
});

// ----------------------------------------------------------------------------- runner

await run();
