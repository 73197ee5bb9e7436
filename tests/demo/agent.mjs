// Smoke test of the demo's agent console (demo/public/agent.html + demo/src/agent*.mjs) in
// Debian's Chromium against the real reference server, served by the server itself
// (--demo build/demo) under a strict CSP. Visitors speak protocol v1 over WebSocket; what
// the console did is checked through the agent API, never through the page alone.
//
//   node tests/demo/agent.mjs [--binary build/native/parley_server] [--keep]
//
// Builds the demo first (node demo/build.mjs). Saves build/screens/demo-agent-console.png.
// Exit status non-zero on any failure.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  agentAllMessages,
  agentGet,
  ensureWebSocket,
  installCleanup,
  keepTempDirs,
  makeTempDir,
  nextReq,
  rid,
  sleep,
  startServer,
  Visitor,
  writeConfig,
} from '../load/lib.mjs';
import { launchChromium, ROOT, watchPage } from '../web/lib/browser.mjs';
import { waitFor, WAIT_MS } from '../web/lib/scenarios.mjs';

await ensureWebSocket();

const { values: opts } = parseArgs({
  options: { binary: { type: 'string', default: join(ROOT, 'build/native/parley_server') }, keep: { type: 'boolean' } },
});

const APP = 'demo';
const GRACE = 'agent-dev-token';
const HOSTILE = '<img src=x onerror=alert(1)>';
const DEMO_DIR = join(ROOT, 'build/demo');
const SHOT = join(ROOT, 'build/screens/demo-agent-console.png');

installCleanup(180000, 'demo-agent');
if (opts.keep) keepTempDirs();

function check(cond, what) {
  if (!cond) throw new Error(`check failed: ${what}`);
}

async function agentPostJson(url, path, body) {
  const r = await fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${GRACE}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : null };
}

// ----------------------------------------------------------------------------- build

function buildDemo() {
  execFileSync(process.execPath, [join(ROOT, 'demo/build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

// ----------------------------------------------------------------------------- visitors

async function visitor(server, text) {
  const v = await Visitor.open(server.url, APP);
  await v.hello({ device: rid('d') });
  const conv = rid('c');
  await say(v, conv, text);
  return { v, conv };
}

async function say(v, conv, text) {
  const a = await v.request({ type: 'send', req: nextReq(), conv, cid: rid('k'), body: { text } });
  check(a.type === 'ack', `send answered ${JSON.stringify(a)}`);
  return a;
}

// ----------------------------------------------------------------------------- run

let server;
let browser;
const dir = makeTempDir('demo-agent-');
let failed = false;
let problems = [];
let page;
try {
  check(existsSync(opts.binary), `${opts.binary} is missing (tests/run.sh ui builds it)`);
  buildDemo();
  const config = writeConfig(dir, {
    apps: [{ id: APP, bot: true, style: 'social_messaging' }],
    agents: [
      { id: 'ag_grace', name: 'Grace', token: GRACE },
      { id: 'ag_alan', name: 'Alan', token: 'agent-alan-token' },
    ],
    limits: { frames_per_second: 1000, burst: 5000 },
  });
  server = await startServer({
    binary: opts.binary,
    db: join(dir, 'demo.db'),
    config,
    dir,
    label: 'demo-agent',
    extraArgs: ['--demo', DEMO_DIR],
  });

  // Three customers: one hands over to a human, one stays with the bot, one is hostile.
  const ada = await visitor(server, 'Hi! Where is my order #1042? It was due yesterday.');
  await say(ada.v, ada.conv, 'talk to a human please');
  const bob = await visitor(server, 'Do you ship to Norway?');
  const eve = await visitor(server, HOSTILE);

  browser = await launchChromium();
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  page = await context.newPage();
  problems = watchPage(page);
  let dialogs = 0;
  page.on('dialog', (d) => {
    dialogs++;
    d.dismiss().catch(() => {});
  });
  // agent.html carries its own strict CSP (a <meta>): a violation is a console error.
  page.on('console', (m) => {
    if (m.type() === 'error' && /Content Security Policy/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });

  // Sign in as Grace.
  await page.goto(`${server.url}/agent.html`);
  await page.selectOption('[data-testid="signin-agent"]', GRACE);
  await page.click('[data-testid="signin-go"]');
  await page.waitForSelector('[data-testid="agent-presence"][data-state="live"]', { timeout: WAIT_MS });

  // The conversations are listed, in the server's order.
  for (const c of [ada, bob, eve]) {
    await page.waitForSelector(`[data-testid="conv-row"][data-conv="${c.conv}"]`, { timeout: WAIT_MS });
  }
  const order = await page.$$eval('[data-testid="conv-row"]', (rows) => rows.map((r) => r.dataset.conv));
  const served = (await agentGet(server.url, `/v1/agent/conversations?app=${APP}`, GRACE)).conversations.map((c) => c.conv);
  check(JSON.stringify(order) === JSON.stringify(served), `list order ${order} is the server's ${served}`);

  // A new conversation arrives live, over the agent WebSocket.
  const zoe = await visitor(server, 'Can I change the size of my jacket order?');
  await page.waitForSelector(`[data-testid="conv-row"][data-conv="${zoe.conv}"]`, { timeout: WAIT_MS });

  // The hostile message renders as text.
  await page.click(`[data-testid="conv-row"][data-conv="${eve.conv}"]`);
  await page.waitForSelector('[data-testid="agent-msg"][data-author-role="visitor"]', { timeout: WAIT_MS });
  const hostile = await page.$$eval('[data-testid="agent-msg"][data-author-role="visitor"] .text', (els) => els.map((e) => e.textContent));
  check(hostile.includes(HOSTILE), `the hostile text is shown as text (${JSON.stringify(hostile)})`);
  check((await page.$$('main img, nav img, aside img')).length === 0, 'no <img> element came out of customer text');

  // Ada's conversation: history, typing, reply, handoff to SMS, an SMS answer, CSAT, solved.
  await page.click(`[data-testid="conv-row"][data-conv="${ada.conv}"]`);
  await page.waitForSelector(`[data-testid="agent-msg"][data-author-role="bot"]`, { timeout: WAIT_MS });
  const roles = await page.$$eval('[data-testid="agent-msg"]', (els) => els.map((e) => e.dataset.authorRole));
  check(roles.includes('visitor') && roles.includes('bot') && roles.includes('system'), `visitor, bot and system lines (${roles})`);
  await waitFor('the console to mark the thread read', async () => {
    const s = await agentGet(server.url, `/v1/agent/conversations/${ada.conv}`, GRACE);
    return s.agent_read_seq === s.last_seq;
  });

  ada.v.send({ type: 'typing', conv: ada.conv, on: true });
  await page.waitForSelector('[data-testid="customer-typing"]', { timeout: WAIT_MS });
  ada.v.send({ type: 'typing', conv: ada.conv, on: false });
  await page.waitForSelector('[data-testid="customer-typing"]', { state: 'detached', timeout: WAIT_MS });

  const reply = `Sorry about that! I'm checking order #1042 with the warehouse now.`;
  await page.fill('[data-testid="agent-composer"]', reply);
  await page.press('[data-testid="agent-composer"]', 'Enter');
  await waitFor('the reply in GET messages', async () => {
    const all = await agentAllMessages(server.url, ada.conv, GRACE);
    const mine = all.filter((m) => m.author.role === 'agent' && m.body.text === reply);
    check(mine.length <= 1, 'the reply is stored once');
    return mine.length === 1 && mine[0].author.id === 'ag_grace';
  });
  await page.waitForSelector(`[data-testid="agent-msg"][data-author-role="agent"] >> text=${reply}`, { timeout: WAIT_MS });
  check((await page.inputValue('[data-testid="agent-composer"]')) === '', 'the composer is cleared after sending');

  await page.selectOption('[data-testid="handoff-to"]', 'channel:sms');
  await page.fill('[data-testid="handoff-address"]', '+15551234567');
  await page.click('[data-testid="handoff-go"]');
  await page.waitForSelector('[data-testid="channels"] [data-channel="sms"][data-active="true"]', { timeout: WAIT_MS });
  const inbound = await agentPostJson(server.url, '/v1/channels/sms/inbound', { address: '+15551234567', text: 'Thanks, I will wait for the text.' });
  check(inbound.status === 201, `SMS inbound answered ${inbound.status}`);
  await page.waitForSelector('[data-testid="msg-via"][data-channel="sms"]', { timeout: WAIT_MS });

  await page.click('[data-testid="send-csat"]');
  await waitFor('the CSAT survey to be stored', async () => {
    const all = await agentAllMessages(server.url, ada.conv, GRACE);
    return all.some((m) => m.body.rich === 'csat' && m.body.payload && m.body.payload.scale === 5);
  });

  await page.click('[data-testid="status-solved"]');
  await page.waitForSelector('[data-testid="action-note"][data-kind="ok"]', { timeout: WAIT_MS });
  const solved = await agentGet(server.url, `/v1/agent/conversations/${ada.conv}`, GRACE);
  check(solved.status === 'solved', `status is solved (${solved.status})`);
  await page.waitForSelector(`[data-testid="conv-row"][data-conv="${ada.conv}"][data-status="solved"]`, { timeout: WAIT_MS });

  // Zoe's conversation goes to a colleague, then back to the bot.
  await page.click(`[data-testid="conv-row"][data-conv="${zoe.conv}"]`);
  await page.waitForSelector(`[data-testid="agent-msg"] >> text=jacket`, { timeout: WAIT_MS });
  await page.selectOption('[data-testid="handoff-to"]', 'agent:ag_alan');
  await page.click('[data-testid="handoff-go"]');
  await waitFor('handed to Alan', async () => {
    const s = await agentGet(server.url, `/v1/agent/conversations/${zoe.conv}`, GRACE);
    return s.owner.kind === 'agent' && s.owner.agent_id === 'ag_alan';
  });
  await page.selectOption('[data-testid="handoff-to"]', 'bot');
  await page.click('[data-testid="handoff-go"]');
  await waitFor('back to the bot', async () => (await agentGet(server.url, `/v1/agent/conversations/${zoe.conv}`, GRACE)).owner.kind === 'bot');

  // Away and back, so the details panel is shown from its top as an agent first sees it.
  await page.click(`[data-testid="conv-row"][data-conv="${zoe.conv}"]`);
  await page.waitForSelector(`[data-testid="agent-msg"] >> text=jacket`, { timeout: WAIT_MS });
  await page.click(`[data-testid="conv-row"][data-conv="${ada.conv}"]`);
  await page.waitForSelector(`[data-testid="agent-msg"] >> text=${reply}`, { timeout: WAIT_MS });
  await sleep(300);
  mkdirSync(join(ROOT, 'build/screens'), { recursive: true });
  await page.screenshot({ path: SHOT });
  await page.setViewportSize({ width: 1024, height: 720 });
  await page.screenshot({ path: SHOT.replace('.png', '-1024.png') });

  // A long thread pages back on scroll-up (before=) until its start.
  const long = await visitor(server, 'Message 1 of a long thread');
  for (let i = 2; i <= 70; i++) await say(long.v, long.conv, `Message ${i} of a long thread`);
  const total = (await agentAllMessages(server.url, long.conv, GRACE)).length;
  check(total > 60, `the long thread has more than a page (${total})`);
  await page.click(`[data-testid="conv-row"][data-conv="${long.conv}"]`);
  await page.waitForSelector('[data-testid="agent-msg"] >> text=Message 70 of a long thread', { timeout: WAIT_MS });
  await waitFor('paging back to the start of the thread', async () => {
    await page.$eval('#thread-scroll', (el) => {
      el.scrollTop = 0;
    });
    return (await page.$$('[data-testid="agent-msg"]')).length === total;
  });
  check(await page.isVisible('text=Start of the conversation'), 'the thread says where it starts');
  await long.v.close();

  // A closed conversation refuses a status change with a clear message (409).
  const closed = await agentPostJson(server.url, `/v1/agent/conversations/${bob.conv}/status`, { status: 'closed' });
  check(closed.status === 200, `closing bob answered ${closed.status}`);
  await page.click(`[data-testid="conv-row"][data-conv="${bob.conv}"]`);
  await page.waitForSelector('[data-testid="ticket-status"] >> text=Closed', { timeout: WAIT_MS });
  const canPend = await page.isEnabled('[data-testid="status-pending"]');
  check(!canPend, 'status buttons are disabled on a closed conversation');

  // A token the server refuses sends the agent back to sign-in.
  await page.evaluate(() => localStorage.setItem('parley-demo-agent-token', 'agent-bogus-token'));
  await page.reload();
  await page.waitForSelector('[data-testid="signin-go"]', { timeout: WAIT_MS });
  await page.waitForSelector('.form-error', { timeout: WAIT_MS });

  check(dialogs === 0, 'no dialog was opened (customer text stayed inert)');
  const real = problems.filter((p) => !/Failed to load resource/.test(p));
  check(real.length === 0, `no page errors: ${real.join(' | ')}`);
  for (const c of [ada, bob, eve, zoe]) await c.v.close();
  console.log(`demo-agent: passed (screenshot ${SHOT})`);
} catch (e) {
  failed = true;
  keepTempDirs();
  console.error(`demo-agent: FAILED: ${e.stack || e.message}`);
  if (server) console.error(`server log: ${server.logPath}`);
  if (problems.length) console.error(`page problems:\n  ${problems.join('\n  ')}`);
  if (page) await page.screenshot({ path: join(dir, 'failure.png') }).then(() => console.error(`failure screenshot: ${join(dir, 'failure.png')}`)).catch(() => {});
} finally {
  if (browser) await browser.close().catch(() => {});
  if (server) await server.stop().catch(() => {});
}
process.exit(failed ? 1 : 0);
