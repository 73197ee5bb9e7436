#!/usr/bin/env node
// The reference adapter (web/src/transport/parley-ws.js) in Chromium against the REAL
// reference server (build/native/parley_server), over WebSocket and over the HTTP fallback
// (POST /v1/frames + long-poll GET /v1/events). The page is served from another origin than
// the server (the static server of tests/web/lib/browser.mjs), so CORS is exercised too.
//
//   node tests/web/transport/run.mjs [--binary build/native/parley_server] [--only NAME]
//        [--server URL --app ID --agent-token T]
//
// With --server the tests run against that backend (it needs the reference server's agent
// API for the agent-message checks); the server-kill test still spawns --binary.
//
// Last line: `web-transport: N passed, M failed`; exit status 1 on any failure.

import { createServer, request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, launchChromium, startStatic } from '../lib/browser.mjs';
import { installCleanup, keepTempDirs, makeTempDir, rid, sleep, startServer } from '../../load/lib.mjs';

const { values: args } = parseArgs({
  options: {
    binary: { type: 'string', default: join(ROOT, 'build/native/parley_server') },
    only: { type: 'string', default: '' },
    server: { type: 'string', default: '' },
    app: { type: 'string', default: 'demo' },
    'agent-token': { type: 'string', default: 'agent-dev-token' },
  },
});

installCleanup(240000, 'web-transport');
const APP = args.app;
const AGENT = args['agent-token'];

// ------------------------------------------------------------------------------ helpers

function check(cond, what) {
  if (!cond) throw new Error(what);
}

/** Waits until adapter `i`'s log has an entry matching `match` (dotted keys, and
 *  `textIncludes`), at or after entry `from`; resolves with it. */
async function waitHook(page, i, match, { from = 0, timeout = 5000 } = {}) {
  try {
    const h = await page.waitForFunction(
      ([i, match, from]) => {
        const get = (o, path) => path.split('.').reduce((v, k) => (v == null ? undefined : v[k]), o);
        return (
          window.T.log(i, from).find((e) =>
            Object.entries(match).every(([k, v]) =>
              k === 'textIncludes' ? typeof e.text === 'string' && e.text.includes(v) : get(e, k) === v,
            ),
          ) || false
        );
      },
      [i, match, from],
      { timeout, polling: 10 },
    );
    return await h.jsonValue();
  } catch (e) {
    const log = await page.evaluate((i) => window.T.log(i), i).catch(() => []);
    const tail = log.slice(-8).map((x) => `${x.hook} ${x.type || x.reason || (x.error && x.error.code) || x.transport || ''}`);
    throw new Error(`no ${JSON.stringify(match)} within ${timeout} ms (log tail: ${tail.join(' | ')})`);
  }
}

const size = (page, i) => page.evaluate((i) => window.T.size(i), i);
const send = (page, i, frame) => page.evaluate(([i, f]) => window.T.send(i, f), [i, frame]);
const caps = (page, i) => page.evaluate((i) => window.T.caps(i), i);

async function newAdapter(page, options) {
  return page.evaluate((o) => window.T.create(o), options);
}

async function openPage(context, web) {
  const page = await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.errors = errors;
  await page.goto(`${web.url}/tests/web/pages/transport.html`);
  await page.waitForFunction(() => !!window.T);
  return page;
}

async function agentPost(server, conv, text) {
  const r = await fetch(`${server.url}/v1/agent/conversations/${encodeURIComponent(conv)}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${AGENT}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  const body = await r.text();
  check(r.status === 201, `agent post: HTTP ${r.status} ${body.slice(0, 200)}`);
  return JSON.parse(body);
}

/**
 * hello -> welcome, send -> ack, a pushed events frame, then an agent message pushed within
 * a second. Returns what it learned.
 */
async function conversationFlow(page, i, server, transport) {
  const c = await waitHook(page, i, { hook: 'connected' });
  check(c.transport === transport, `connected over ${c.transport}, expected ${transport}`);
  const device = rid('d');
  await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device });
  const w = await waitHook(page, i, { hook: 'frame', type: 'welcome' });
  check(w.frame.user && w.frame.token, 'welcome has user and token');
  const conv = rid('c');
  const cid = rid('k');
  const mark = await size(page, i);
  await send(page, i, { type: 'send', req: 'r1', conv, cid, body: { text: `hello from ${transport}` } });
  const ack = await waitHook(page, i, { hook: 'frame', type: 'ack', 'frame.req': 'r1' }, { from: mark });
  check(ack.frame.cid === cid && ack.frame.seq >= 1 && ack.frame.id, `ack ${ack.text}`);
  // The server pushes the conversation and the message (and the bot's answer) as events.
  const ev = await waitHook(page, i, { hook: 'frame', type: 'events', textIncludes: cid }, { from: mark });
  check(ev.frame.cursor > ev.frame.from, 'the events frame advances the cursor');
  check(!ev.frame.req, 'a pushed events frame carries no req');
  // An agent message reaches the page within a second.
  await sleep(300); // let the bot's answer go by
  const text = `agent says ${rid('x')}`;
  const mark2 = await size(page, i);
  const t0 = Date.now();
  await agentPost(server, conv, text);
  const pushed = await waitHook(page, i, { hook: 'frame', type: 'events', textIncludes: text }, { from: mark2, timeout: 3000 });
  const ms = pushed.t - t0;
  check(ms < 1000, `the agent's message took ${ms} ms to arrive (limit 1000)`);
  return { device, conv, user: w.frame.user, token: w.frame.token, cursor: pushed.frame.cursor, agentMs: ms };
}

/** A small HTTP proxy in front of the server: refuses WebSocket upgrades (a proxy that
 *  blocks them) and can answer chosen requests with an injected status. */
async function startProxy(upstream) {
  const up = new URL(upstream);
  const injections = []; // {method, path, status, body, count}
  const seen = [];
  const server = createServer((req, res) => {
    const path = req.url.split('?')[0];
    seen.push({ method: req.method, path, url: req.url, authorization: req.headers.authorization || '' });
    const inj = injections.find((j) => j.count > 0 && j.method === req.method && j.path === path);
    if (inj) {
      inj.count--;
      req.resume();
      res.writeHead(inj.status, {
        'access-control-allow-origin': '*',
        'content-type': inj.type || 'application/json',
      });
      res.end(inj.body || '');
      return;
    }
    const fwd = httpRequest(
      { host: up.hostname, port: up.port, method: req.method, path: req.url, headers: { ...req.headers, host: up.host } },
      (r) => {
        res.writeHead(r.statusCode, r.headers);
        r.pipe(res);
      },
    );
    fwd.on('error', () => {
      if (!res.headersSent) res.writeHead(502, { 'access-control-allow-origin': '*' });
      res.end();
    });
    req.pipe(fwd);
  });
  let upgrades = 0;
  server.on('upgrade', (req, socket) => {
    upgrades++;
    socket.end('HTTP/1.1 403 Forbidden\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    inject: (j) => injections.push({ count: 1, ...j }),
    seen,
    upgrades: () => upgrades,
    close: () => {
      server.closeAllConnections?.();
      return new Promise((ok) => server.close(() => ok()));
    },
  };
}

// ------------------------------------------------------------------------------ setup

const dir = makeTempDir('parley-web-transport-');
const server = args.server
  ? { url: args.server.replace(/\/+$/, ''), logPath: '(external)', stop: async () => {} }
  : await startServer({ binary: args.binary, db: join(dir, 'a.db'), dir, label: 'server' });
const web = await startStatic();
check(new URL(web.url).origin !== new URL(server.url).origin, 'page and server origins differ');
const browser = await launchChromium();
const context = await browser.newContext();
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ------------------------------------------------------------------------------ tests

test('websocket: hello/welcome, send/ack, pushed events, agent message < 1 s', async () => {
  const page = await openPage(context, web);
  const i = await newAdapter(page, { server: server.url, app: APP, socket: 'recording' });
  await page.evaluate((i) => window.T.connect(i), i);
  const r = await conversationFlow(page, i, server, 'websocket');
  const c = await caps(page, i);
  check(c.transport === 'websocket' && c.push && c.signals, `capabilities ${JSON.stringify(c)}`);
  const sent = await page.evaluate(() => window.T.sent());
  check(sent.some((s) => s.includes('"hello"')), 'the hello went through the WebSocket');
  check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  await page.close();
  return `agent message in ${r.agentMs} ms`;
});

test('websocket: heartbeat ping answered by pong, pong not forwarded', async () => {
  const page = await openPage(context, web);
  const i = await newAdapter(page, { server: server.url, app: APP, socket: 'recording', heartbeatMs: 300, pongTimeoutMs: 400 });
  await page.evaluate((i) => window.T.connect(i), i);
  await waitHook(page, i, { hook: 'connected' });
  await sleep(1500);
  const sent = await page.evaluate(() => window.T.sent());
  const pings = sent.filter((s) => s.includes('"ping"'));
  check(pings.length >= 2, `expected pings while idle, saw ${pings.length}`);
  const log = await page.evaluate((i) => window.T.log(i), i);
  check(!log.some((e) => e.hook === 'frame' && e.type === 'pong'), 'a heartbeat pong reached the core');
  check(!log.some((e) => e.hook === 'disconnected'), 'the connection stayed up');
  await page.close();
});

test('websocket: a silent peer is detected (no pong) -> onDisconnected', async () => {
  const page = await openPage(context, web);
  const i = await newAdapter(page, { server: server.url, app: APP, socket: 'open-silent', heartbeatMs: 200, pongTimeoutMs: 300, transport: 'websocket' });
  await page.evaluate((i) => window.T.connect(i), i);
  await waitHook(page, i, { hook: 'connected' });
  const d = await waitHook(page, i, { hook: 'disconnected' }, { timeout: 3000 });
  check(d.reason === 'heartbeat_timeout', `reason ${d.reason}`);
  await page.close();
});

test('websocket: an upgrade that never completes times out (openTimeoutMs)', async () => {
  const page = await openPage(context, web);
  const i = await newAdapter(page, { server: server.url, app: APP, socket: 'never-open', openTimeoutMs: 300, transport: 'websocket' });
  await page.evaluate((i) => window.T.connect(i), i);
  const d = await waitHook(page, i, { hook: 'disconnected' }, { timeout: 3000 });
  check(d.reason === 'ws_open_timeout', `reason ${d.reason}`);
  const log = await page.evaluate((i) => window.T.log(i), i);
  check(!log.some((e) => e.hook === 'connected'), 'no onConnected for a failed attempt');
  await page.close();
});

test('disconnect() is silent; send() while disconnected fails its request', async () => {
  const page = await openPage(context, web);
  const i = await newAdapter(page, { server: server.url, app: APP });
  await page.evaluate((i) => window.T.connect(i), i);
  await waitHook(page, i, { hook: 'connected' });
  await page.evaluate((i) => window.T.disconnect(i), i);
  await send(page, i, { type: 'send', req: 'r9', conv: rid('c'), cid: rid('k'), body: { text: 'x' } });
  const f = await waitHook(page, i, { hook: 'failed', req: 'r9' });
  check(f.error.code === 'disconnected' && f.error.recoverable === 'recoverable', JSON.stringify(f.error));
  await sleep(300);
  const log = await page.evaluate((i) => window.T.log(i), i);
  check(!log.some((e) => e.hook === 'disconnected'), 'disconnect() reported onDisconnected');
  await page.close();
});

test('long-poll (transport option): the same flow over POST + GET, Bearer header, no token in URLs', async () => {
  const page = await openPage(context, web);
  const reqs = [];
  page.on('request', (r) => {
    if (r.url().startsWith(server.url)) reqs.push({ url: r.url(), method: r.method(), headers: r.headers(), body: r.postData() || '' });
  });
  const i = await newAdapter(page, { server: server.url, app: APP, transport: 'long-poll' });
  await page.evaluate((i) => window.T.connect(i), i);
  const r = await conversationFlow(page, i, server, 'long-poll');
  const c = await caps(page, i);
  check(c.transport === 'long-poll' && c.push && !c.signals, `capabilities ${JSON.stringify(c)}`);
  const posts = reqs.filter((x) => x.method === 'POST' && x.url.includes('/v1/frames'));
  const polls = reqs.filter((x) => x.method === 'GET' && x.url.includes('/v1/events'));
  check(posts.length >= 2 && polls.length >= 1, `posts ${posts.length}, polls ${polls.length}`);
  check(reqs.every((x) => !x.url.includes(r.token) && !x.url.includes('token')), 'a token travelled in a URL');
  check(reqs.every((x) => x.url.includes(`app=${APP}`)), 'every request names the app');
  const hello = posts.find((x) => x.body.includes('"hello"'));
  check(hello && !hello.headers.authorization, 'a hello POST carries no Authorization header');
  const sendPost = posts.find((x) => x.body.includes('"send"'));
  check(sendPost && sendPost.headers.authorization === `Bearer ${r.token}`, 'the send POST carries the Bearer token');
  check(polls.every((x) => x.headers.authorization === `Bearer ${r.token}`), 'every long-poll carries the Bearer token');
  check(polls.some((x) => x.url.includes('after=')), 'the long-poll names its cursor');
  check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
  await page.close();
  return `agent message in ${r.agentMs} ms`;
});

test('long-poll: a sync answer and a history page come back from POST', async () => {
  const page = await openPage(context, web);
  const i = await newAdapter(page, { server: server.url, app: APP, transport: 'long-poll' });
  await page.evaluate((i) => window.T.connect(i), i);
  await waitHook(page, i, { hook: 'connected' });
  await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
  await waitHook(page, i, { hook: 'frame', type: 'welcome' });
  const conv = rid('c');
  await send(page, i, { type: 'send', req: 'r1', conv, cid: rid('k'), body: { text: 'one' } });
  await waitHook(page, i, { hook: 'frame', type: 'ack' });
  await send(page, i, { type: 'sync', req: 'r2', after: 0, limit: 100 });
  const ev = await waitHook(page, i, { hook: 'frame', type: 'events', 'frame.req': 'r2' });
  check(ev.frame.from === 0 && ev.frame.events.length >= 2, `sync answer ${ev.text.slice(0, 200)}`);
  await send(page, i, { type: 'history', req: 'r3', conv, limit: 50 });
  const p = await waitHook(page, i, { hook: 'frame', type: 'page', 'frame.req': 'r3' });
  check(p.frame.messages.length >= 1, 'history page has the message');
  await page.close();
});

test('no window.WebSocket (deleted by an init script): long-poll from the start', async () => {
  const ctx = await browser.newContext();
  await ctx.addInitScript(() => {
    delete window.WebSocket;
  });
  try {
    const page = await openPage(ctx, web);
    check((await page.evaluate(() => window.T.hasWebSocket)) === false, 'WebSocket is still there');
    const i = await newAdapter(page, { server: server.url, app: APP });
    check((await caps(page, i)).transport === 'long-poll', 'capabilities say long-poll before connecting');
    await page.evaluate((i) => window.T.connect(i), i);
    const r = await conversationFlow(page, i, server, 'long-poll');
    check(page.errors.length === 0, `page errors: ${page.errors.join('; ')}`);
    return `agent message in ${r.agentMs} ms`;
  } finally {
    await ctx.close();
  }
});

test('WebSocket blocked by a proxy: 2 failed opens -> long-poll in the same attempt; WebSocket retried later', async () => {
  const proxy = await startProxy(server.url);
  const page = await openPage(context, web);
  try {
    const i = await newAdapter(page, { server: proxy.url, app: APP, wsRetryMs: 1500 });
    await page.evaluate((i) => window.T.connect(i), i);
    const d = await waitHook(page, i, { hook: 'disconnected' });
    check(d.reason.startsWith('ws_open_failed'), `first attempt: ${d.reason}`);
    // The core would reconnect after its backoff: one attempt per connect().
    const mark = await size(page, i);
    await page.evaluate((i) => window.T.connect(i), i);
    const c = await waitHook(page, i, { hook: 'connected' }, { from: mark });
    check(c.transport === 'long-poll', `second attempt connected over ${c.transport}`);
    check(proxy.upgrades() === 2, `upgrades seen by the proxy: ${proxy.upgrades()}`);
    await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    await waitHook(page, i, { hook: 'frame', type: 'welcome' }, { from: mark });
    // Reconnects stay on long-poll (no WebSocket try) until wsRetryMs has passed.
    await page.evaluate((i) => window.T.disconnect(i), i);
    const mark2 = await size(page, i);
    await page.evaluate((i) => window.T.connect(i), i);
    const c2 = await waitHook(page, i, { hook: 'connected' }, { from: mark2 });
    check(c2.transport === 'long-poll' && proxy.upgrades() === 2, 'reconnect went straight to long-poll');
    await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    await waitHook(page, i, { hook: 'frame', type: 'welcome' }, { from: mark2 });
    await sleep(1600);
    await page.evaluate((i) => window.T.disconnect(i), i);
    const mark3 = await size(page, i);
    await page.evaluate((i) => window.T.connect(i), i);
    const c3 = await waitHook(page, i, { hook: 'connected' }, { from: mark3 });
    check(proxy.upgrades() === 3, `after wsRetryMs one WebSocket try, saw ${proxy.upgrades()} upgrades`);
    check(c3.transport === 'long-poll', 'and it fell back again in the same attempt');
  } finally {
    await page.close();
    await proxy.close();
  }
});

test('HTTP errors: 5xx -> onRequestFailed recoverable; 401 -> auth; long-poll 5xx -> onDisconnected', async () => {
  const proxy = await startProxy(server.url);
  const page = await openPage(context, web);
  try {
    const i = await newAdapter(page, { server: proxy.url, app: APP, transport: 'long-poll' });
    await page.evaluate((i) => window.T.connect(i), i);
    await waitHook(page, i, { hook: 'connected' });
    await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    await waitHook(page, i, { hook: 'frame', type: 'welcome' });
    const conv = rid('c');
    // 503 without a body (a proxy's), then 500 with the server's error body.
    proxy.inject({ method: 'POST', path: '/v1/frames', status: 503, type: 'text/html', body: '<h1>busy</h1>' });
    await send(page, i, { type: 'send', req: 'r5', conv, cid: rid('k'), body: { text: 'x' } });
    const f1 = await waitHook(page, i, { hook: 'failed', req: 'r5' });
    check(f1.error.code === 'server_error' && f1.error.recoverable === 'recoverable', `503: ${JSON.stringify(f1.error)}`);
    proxy.inject({
      method: 'POST', path: '/v1/frames', status: 500,
      body: JSON.stringify({ type: 'error', code: 'server_error', recoverable: 'recoverable', message: 'internal error' }),
    });
    await send(page, i, { type: 'send', req: 'r6', conv, cid: rid('k'), body: { text: 'y' } });
    const f2 = await waitHook(page, i, { hook: 'failed', req: 'r6' });
    check(f2.error.code === 'server_error' && f2.error.recoverable === 'recoverable' && f2.error.message === 'internal error', JSON.stringify(f2.error));
    proxy.inject({ method: 'POST', path: '/v1/frames', status: 401 });
    await send(page, i, { type: 'send', req: 'r7', conv, cid: rid('k'), body: { text: 'z' } });
    const f3 = await waitHook(page, i, { hook: 'failed', req: 'r7' });
    check(f3.error.code === 'unauthorized' && f3.error.recoverable === 'auth', `401: ${JSON.stringify(f3.error)}`);
    // The connection survived those: the next send is acked.
    await send(page, i, { type: 'send', req: 'r8', conv, cid: rid('k'), body: { text: 'ok' } });
    await waitHook(page, i, { hook: 'frame', type: 'ack', 'frame.req': 'r8' });
    // A long-poll answered 502 ends the connection (the core reconnects with backoff).
    proxy.inject({ method: 'GET', path: '/v1/events', status: 502 });
    const mark = await size(page, i);
    await send(page, i, { type: 'send', req: 'r10', conv, cid: rid('k'), body: { text: 'wake the poll' } });
    const d = await waitHook(page, i, { hook: 'disconnected' }, { from: mark, timeout: 5000 });
    check(d.reason === 'poll_http_502', `reason ${d.reason}`);
  } finally {
    await page.close();
    await proxy.close();
  }
});

test('HTTP: a bad bearer token on the long-poll -> an auth error frame for the core', async () => {
  const proxy = await startProxy(server.url);
  const page = await openPage(context, web);
  try {
    const i = await newAdapter(page, { server: proxy.url, app: APP, transport: 'long-poll' });
    proxy.inject({
      method: 'GET', path: '/v1/events', status: 401,
      body: JSON.stringify({ type: 'error', code: 'unauthorized', recoverable: 'auth', message: 'token expired' }),
    });
    await page.evaluate((i) => window.T.connect(i), i);
    await waitHook(page, i, { hook: 'connected' });
    await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    const e = await waitHook(page, i, { hook: 'frame', type: 'error', 'frame.code': 'unauthorized' });
    check(e.frame.recoverable === 'auth' && !e.frame.req, e.text);
    // A fresh hello (the core's, after the host gave it a token) restarts the long-poll.
    const before = proxy.seen.filter((x) => x.path === '/v1/events').length;
    await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    await waitHook(page, i, { hook: 'frame', type: 'welcome' });
    await sleep(200);
    const after = proxy.seen.filter((x) => x.path === '/v1/events').length;
    check(after > before, 'the long-poll resumed after the next welcome');
    const log = await page.evaluate((i) => window.T.log(i), i);
    check(!log.some((x) => x.hook === 'disconnected'), 'an auth failure is not a disconnect');
  } finally {
    await page.close();
    await proxy.close();
  }
});

test('uploadBytes: PUT /v1/files with the Bearer token, then the upload frame is acked', async () => {
  const page = await openPage(context, web);
  const i = await newAdapter(page, { server: server.url, app: APP });
  await page.evaluate((i) => window.T.connect(i), i);
  await waitHook(page, i, { hook: 'connected' });
  await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
  await waitHook(page, i, { hook: 'frame', type: 'welcome' });
  const id = rid('a');
  const text = 'hello, file';
  const put = await page.evaluate(([i, id, text]) => window.T.upload(i, id, text, 'text/plain'), [i, id, text]);
  check(typeof put.url === 'string' && put.url.includes(id), `PUT answered ${JSON.stringify(put)}`);
  const conv = rid('c');
  await send(page, i, { type: 'send', req: 'r1', conv, cid: rid('k'), body: { text: 'start' } });
  await waitHook(page, i, { hook: 'frame', type: 'ack', 'frame.req': 'r1' });
  await send(page, i, {
    type: 'upload', req: 'r2', conv, cid: id,
    attachment: { id, name: 'a.txt', mime: 'text/plain', size: text.length },
  });
  const ack = await waitHook(page, i, { hook: 'frame', type: 'ack', 'frame.req': 'r2' });
  check(ack.frame.url === put.url, `upload ack ${ack.text}`);
  await page.close();
});

test('server killed -> onDisconnected (WebSocket and long-poll); unreachable server -> WebSocket tried again', async () => {
  const d2 = makeTempDir('parley-web-transport-kill-');
  const victim = await startServer({ binary: args.binary, db: join(d2, 'b.db'), dir: d2, label: 'victim' });
  const page = await openPage(context, web);
  const ws = await newAdapter(page, { server: victim.url, app: APP });
  const lp = await newAdapter(page, { server: victim.url, app: APP, transport: 'long-poll' });
  const auto = await newAdapter(page, { server: victim.url, app: APP });
  for (const i of [ws, lp]) {
    await page.evaluate((i) => window.T.connect(i), i);
    await waitHook(page, i, { hook: 'connected' });
    await send(page, i, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    await waitHook(page, i, { hook: 'frame', type: 'welcome' });
  }
  await sleep(200); // the long-poll is waiting
  const t0 = Date.now();
  victim.proc.kill('SIGKILL');
  await victim.exited;
  const a = await waitHook(page, ws, { hook: 'disconnected' }, { timeout: 5000 });
  const b = await waitHook(page, lp, { hook: 'disconnected' }, { timeout: 5000 });
  check(a.reason.startsWith('ws_closed'), `websocket reason ${a.reason}`);
  check(b.reason === 'poll_network', `long-poll reason ${b.reason}`);
  const slow = Math.max(a.t, b.t) - t0;
  check(slow < 2000, `detected after ${slow} ms`);
  // With the server gone, an auto adapter alternates: WebSocket; WebSocket then HTTP in
  // the same attempt (the hello POST fails: the server is down, not WebSocket blocked);
  // WebSocket again.
  const attempt = async () => {
    const mark = await size(page, auto);
    await page.evaluate((i) => window.T.connect(i), auto);
    return mark;
  };
  let mark = await attempt();
  const r1 = await waitHook(page, auto, { hook: 'disconnected' }, { from: mark });
  check(r1.reason.startsWith('ws_open_failed'), `1st attempt: ${r1.reason}`);
  mark = await attempt();
  const c2 = await waitHook(page, auto, { hook: 'connected' }, { from: mark });
  check(c2.transport === 'long-poll', `2nd attempt connected over ${c2.transport}`);
  await send(page, auto, { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
  const r2 = await waitHook(page, auto, { hook: 'disconnected' }, { from: mark });
  check(r2.reason === 'post_network', `2nd attempt: ${r2.reason}`);
  mark = await attempt();
  const r3 = await waitHook(page, auto, { hook: 'disconnected' }, { from: mark });
  check(r3.reason.startsWith('ws_open_failed'), `3rd attempt should try WebSocket again: ${r3.reason}`);
  await page.close();
  return `detected in ${slow} ms`;
});

// ------------------------------------------------------------------------------ run

let passed = 0;
let failed = 0;
for (const t of tests) {
  if (args.only && !t.name.includes(args.only)) continue;
  const started = Date.now();
  try {
    const note = await t.fn();
    passed++;
    console.log(`ok   ${t.name} (${Date.now() - started} ms${note ? `; ${note}` : ''})`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}: ${e && e.stack ? e.stack : e}`);
  }
}
await browser.close().catch(() => {});
await web.close();
await server.stop('SIGTERM').catch(() => {});
if (failed) {
  keepTempDirs();
  console.log(`server log: ${server.logPath}`);
}
console.log(`web-transport: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
