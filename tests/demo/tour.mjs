// The demo's guided tour, walked end to end in Debian's Chromium against the real server
// serving the real demo (build/demo, build/dist, demo/server.json), the way a salesperson
// walks it: the customer page in one browser, the agent console in another. Each step is
// done through the real UI (the widget's composer, quick reply and handoff sheet, the demo
// bar's network switch and reload, the phone, the console's composer and buttons), its
// outcome is asserted independently (the widget's API state, the agent API, the SMS outbox),
// the tour card's own check must agree, and a screenshot is saved:
// build/screens/demo-tour-<n>-<name>.png.
//
//   node tests/demo/tour.mjs [--binary build/native/parley_server] [--keep]
//
// Needs build/demo (node demo/build.mjs) and build/dist (tests/run.sh builds both).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { agentAllMessages, agentGet } from '../load/lib.mjs';
import { launchChromium, ROOT, watchPage } from '../web/lib/browser.mjs';
import { waitFor } from '../web/lib/scenarios.mjs';
import { check, demoOptions, GRACE, startDemoServer, widgetApi, widgetReady } from './lib.mjs';

const opts = demoOptions('demo tour', 240000);
const SCRIPT = {
  first: 'Hi! Is the Nordkapp tent still on sale?',
  address: '+4791234567',
  agentReply: 'Yes! €439 until Sunday, and it sleeps two with packs in the porch.',
  phoneReply: 'Perfect, I will order it tonight. Can it reach Tromsø by Friday?',
  again: 'One more thing: do you sell a footprint for it?',
};
const SHOTS = join(ROOT, 'build/screens');
mkdirSync(SHOTS, { recursive: true });

let failures = 0;
const server = await startDemoServer(opts.binary, 'demo-tour');
const browser = await launchChromium();
const customerCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const agentCtx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await customerCtx.newPage();
const problems = watchPage(page);
page.on('dialog', (d) => d.accept().catch(() => {}));
const consolePage = await agentCtx.newPage();
const consoleProblems = watchPage(consolePage);

const shot = async (p, n, name) => p.screenshot({ path: join(SHOTS, `demo-tour-${n}-${name}.png`) });
const tour = {
  step: () => page.locator('[data-testid="tour"]').getAttribute('data-step'),
  ok: (what) =>
    waitFor(`tour check: ${what}`, async () => {
      const el = page.locator('[data-testid="tour-check"]');
      return (await el.getAttribute('data-ok')) === 'true' && (await el.textContent());
    }, 20000),
  next: () => page.locator('[data-testid="tour-next"]').click(),
};
const widget = {
  launcher: () => page.locator('parley-messenger .launcher'),
  composer: () => page.locator('parley-messenger textarea'),
  api: (fn, arg) => widgetApi(page, fn, arg),
};
const items = (conv) => widget.api((p, c) => p.messages(c).map((i) => ({ state: i.state, text: i.message.body.text || '', role: i.message.author.role, rich: i.message.body.rich })), conv);
const entry = (conv) => widget.api((p, c) => p.conversations().find((e) => e.conv.id === c)?.conv, conv);

async function openWidget() {
  if ((await widget.launcher().getAttribute('aria-expanded')) !== 'true') await widget.launcher().click();
  await widget.composer().waitFor();
}

async function step(n, name, fn) {
  const t0 = Date.now();
  try {
    await fn();
    console.log(`  ok  ${n}. ${name} (${Date.now() - t0} ms)`);
  } catch (e) {
    failures++;
    console.log(`  FAIL ${n}. ${name}: ${e.message}`);
    await shot(page, n, 'FAILED').catch(() => {});
    throw e;
  }
}

let conv;
try {
  console.log(`demo tour against ${server.url}`);
  await page.goto(`${server.url}/`);
  await widget.launcher().waitFor();
  await widgetReady(page);
  check((await page.locator('.account .cart').count()) === 1 && (await page.locator('[data-testid="store-who"]').count()) === 1, 'the store header is drawn twice');
  await page.locator('[data-testid="demo-tour"]').click();
  check((await tour.step()) === '1', 'the tour did not start at step 1');

  await step(1, 'type while offline: the message is queued', async () => {
    await page.locator('[data-testid="demo-network"]').click();
    await waitFor('network off', async () => (await page.locator('[data-testid="demo-network"]').textContent()).includes('Offline'));
    await openWidget();
    await widget.composer().fill(SCRIPT.first);
    await widget.composer().press('Enter');
    conv = await waitFor('a conversation', () => widget.api((p) => p.conversations()[0]?.conv.id));
    const mine = await waitFor('the message in the thread', async () => (await items(conv)).find((i) => i.text === SCRIPT.first));
    check(mine.state === 'queued' || mine.state === 'sending', `state ${mine.state} while offline`);
    await tour.ok('queued');
    await page.waitForTimeout(1500); // still not delivered a moment later: really offline
    check(['queued', 'sending'].includes((await items(conv)).find((i) => i.text === SCRIPT.first).state), 'delivered while offline');
    const onServer = await agentGet(server.url, '/v1/agent/conversations?app=demo', GRACE);
    check(onServer.conversations.length === 0, 'the server has the conversation while the visitor is offline');
    await shot(page, 1, 'offline-queued');
  });

  await step(2, 'reload: the message is still there', async () => {
    await tour.next();
    await page.locator('[data-testid="demo-reload"]').click();
    await page.waitForLoadState('load');
    await waitFor('tour back at step 2', async () => (await tour.step()) === '2');
    await widgetReady(page);
    const mine = await waitFor('the message after the reload', async () => (await items(conv)).find((i) => i.text === SCRIPT.first));
    check(mine.state === 'queued' || mine.state === 'sending', `state ${mine.state} after the reload`);
    await tour.ok('survived the reload');
    await openWidget();
    await shot(page, 2, 'after-reload');
    await page.waitForTimeout(8000); // a real offline spell: long enough for retries to back off
  });

  await step(3, 'back online: delivered exactly once', async () => {
    await tour.next();
    const online = Date.now();
    await page.locator('[data-testid="demo-network"]').click();
    await waitFor('delivered', async () => ['sent', 'delivered', 'read'].includes((await items(conv)).find((i) => i.text === SCRIPT.first)?.state));
    // Back online means now, not after the backoff of the offline spell.
    check(Date.now() - online < 3000, `delivered ${Date.now() - online} ms after going online`);
    await tour.ok('delivered once');
    const all = await agentAllMessages(server.url, conv, GRACE);
    const copies = all.filter((m) => m.body.text === SCRIPT.first).length;
    check(copies === 1, `${copies} copies on the server`);
    await shot(page, 3, 'online-delivered');
  });

  await step(4, 'the bot answers; "talk to a human" hands off to the agents', async () => {
    await tour.next();
    const human = page.locator('parley-messenger').getByRole('button', { name: 'Talk to a human' });
    await human.waitFor({ timeout: 15000 });
    await human.click();
    await waitFor('queued for an agent', async () => (await entry(conv))?.owner?.kind === 'queue', 15000);
    const summary = await agentGet(server.url, `/v1/agent/conversations/${encodeURIComponent(conv)}`, GRACE);
    check(summary.owner.kind === 'queue' && summary.waiting_on === 'agent', `summary ${JSON.stringify(summary.owner)}`);
    await tour.ok('handed off');
    await shot(page, 4, 'bot-to-human');
  });

  await step(5, 'the visitor leaves and continues by SMS', async () => {
    await tour.next();
    await page.locator('parley-messenger .more').click();
    const sheet = (sel) => page.locator(`parley-messenger .sheet ${sel}`);
    await sheet('select').selectOption('sms');
    await sheet('input').fill(SCRIPT.address);
    await sheet('.primary').click();
    await waitFor('bound to SMS', async () => (await entry(conv))?.channels?.some((c) => c.channel === 'sms' && c.active));
    await tour.ok('bound to sms');
    if (!(await page.locator('[data-testid="phone"]').count())) await page.locator('[data-testid="demo-phone"]').click();
    await page.locator('[data-testid="phone-address"]').fill(SCRIPT.address);
    await page.locator('[data-testid="phone-address"]').dispatchEvent('change');
    await shot(page, 5, 'continue-by-sms');
  });

  await step(6, 'the agent answers in the console; the reply arrives on the phone', async () => {
    await tour.next();
    await consolePage.goto(`${server.url}/agent.html`);
    const signin = consolePage.locator('[data-testid="signin-go"]');
    if (await signin.count()) await signin.click();
    const row = consolePage.locator(`[data-testid="conv-row"][data-conv="${conv}"]`);
    await row.waitFor({ timeout: 15000 });
    await row.click();
    await consolePage.locator('[data-testid="agent-composer"]').fill(SCRIPT.agentReply);
    await consolePage.locator('[data-testid="agent-send"]').click();
    await consolePage.locator('[data-testid="agent-msg"][data-author-role="agent"]').filter({ hasText: SCRIPT.agentReply }).waitFor();
    await shot(consolePage, 6, 'agent-console');
    await page.locator('[data-testid="phone-msg"]').filter({ hasText: SCRIPT.agentReply }).waitFor({ timeout: 15000 });
    const out = await agentGet(server.url, `/v1/channels/sms/${encodeURIComponent(SCRIPT.address)}/outbox`, GRACE);
    check(out.messages.filter((m) => m.text === SCRIPT.agentReply && m.conv === conv).length === 1, 'the reply is not in the SMS outbox once');
    await tour.ok('on the phone');
    await shot(page, 6, 'reply-on-phone');
  });

  await step(7, 'the visitor answers from the phone and comes back: the whole history is there', async () => {
    await tour.next();
    await page.locator('[data-testid="phone-input"]').fill(SCRIPT.phoneReply);
    await page.locator('[data-testid="phone-send"]').click();
    await page.locator('[data-testid="phone-msg"][data-mine="true"]').filter({ hasText: SCRIPT.phoneReply }).waitFor();
    // Coming back later: a fresh page load, the thread from this device's store and the server.
    await page.reload();
    await widgetReady(page);
    await openWidget();
    const history = await waitFor('the phone reply in the widget', async () => {
      const all = await items(conv);
      return all.some((i) => i.text === SCRIPT.phoneReply) && all;
    }, 20000);
    const texts = history.map((i) => i.text);
    for (const want of [SCRIPT.first, 'Talk to a human', SCRIPT.agentReply, SCRIPT.phoneReply]) {
      check(texts.includes(want), `missing from the history: ${want}`);
    }
    check(history.some((i) => i.role === 'bot'), 'the bot is missing from the history');
    const order = [SCRIPT.first, SCRIPT.agentReply, SCRIPT.phoneReply].map((t) => texts.indexOf(t));
    check(order[0] < order[1] && order[1] < order[2], `out of order: ${order}`);
    await page.locator('parley-messenger .msg').filter({ hasText: SCRIPT.phoneReply }).waitFor();
    await tour.ok('history complete');
    await shot(page, 7, 'history-across-channels');
  });

  await step(8, 'solve, CSAT, and the social-messaging style: writing again continues the same conversation', async () => {
    await tour.next();
    await consolePage.locator('[data-testid="status-solved"]').click();
    await waitFor('solved', async () => (await agentGet(server.url, `/v1/agent/conversations/${encodeURIComponent(conv)}`, GRACE)).status === 'solved');
    await consolePage.locator('[data-testid="send-csat"]').click();
    const star = page.locator('parley-messenger .pl-csat-btn').last();
    await star.waitFor({ timeout: 15000 });
    await tour.ok('solved and survey');
    await shot(page, 8, 'csat');
    await star.click();
    await waitFor('the rating on the server', async () => {
      const all = await agentAllMessages(server.url, conv, GRACE);
      return all.some((m) => m.author.role === 'visitor' && m.body.event?.type === 'csat' && m.body.event.score === 5);
    });
    // A rating belongs to the solved ticket: it does not reopen it.
    const rated = await agentGet(server.url, `/v1/agent/conversations/${encodeURIComponent(conv)}`, GRACE);
    check(rated.status === 'solved', `the rating reopened the conversation (${rated.status})`);
    check((await entry(conv)).style === 'social_messaging', 'the demo does not start in social messaging');
    await widget.composer().fill(SCRIPT.again);
    await widget.composer().press('Enter');
    await waitFor('reopened', async () => (await agentGet(server.url, `/v1/agent/conversations/${encodeURIComponent(conv)}`, GRACE)).status === 'open');
    const convs = await widget.api((p) => p.conversations().map((e) => e.conv.id));
    check(convs.length === 1 && convs[0] === conv, `conversations ${convs}`);
    await tour.ok('same conversation');
    await shot(page, 8, 'write-again');
    await page.locator('[data-testid="tour-finish"]').click();
  });

  const bad = [...problems, ...consoleProblems].filter((p) => !/favicon|ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|WebSocket|503/i.test(p));
  check(!bad.length, `page problems: ${bad.join(' | ')}`);
} catch (e) {
  if (!failures) {
    failures++;
    console.log(`  FAIL: ${e.stack || e.message}`);
  }
} finally {
  await browser.close().catch(() => {});
  await server.stop().catch(() => {});
}
console.log(`demo tour: ${failures ? 'FAILED' : '8 steps passed'}; screenshots in build/screens/demo-tour-*.png`);
process.exit(failures ? 1 : 0);
