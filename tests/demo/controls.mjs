// The demo bar's controls, each through the real page against the real server: business
// hours (closed: the widget says when the team is back and the server sends an away
// message), the store's sign-in (the visitor's conversation moves to the signed-in
// customer), the conversational style (live chat: a solved conversation ends and the widget
// offers a new one), and reset (the server and this browser start from nothing).
//
//   node tests/demo/controls.mjs [--binary build/native/parley_server] [--keep]

import { join } from 'node:path';
import { agentAllMessages, agentGet } from '../load/lib.mjs';
import { launchChromium, ROOT, watchPage } from '../web/lib/browser.mjs';
import { waitFor } from '../web/lib/scenarios.mjs';
import { check, demoOptions, GRACE, startDemoServer, widgetApi, widgetReady } from './lib.mjs';

const opts = demoOptions('demo controls', 180000);
const server = await startDemoServer(opts.binary, 'demo-controls');
const browser = await launchChromium();
const ctx = await browser.newContext({ viewport: { width: 1280, height: 800 } });
const page = await ctx.newPage();
const problems = watchPage(page);
page.on('dialog', (d) => d.accept().catch(() => {}));

const api = (fn, arg) => widgetApi(page, fn, arg);
const ready = () => widgetReady(page);
const list = async () => (await agentGet(server.url, '/v1/agent/conversations?app=demo', GRACE)).conversations;
async function write(text) {
  const launcher = page.locator('parley-messenger .launcher');
  if ((await launcher.getAttribute('aria-expanded')) !== 'true') await launcher.click();
  await page.locator('parley-messenger textarea').fill(text);
  await page.locator('parley-messenger textarea').press('Enter');
  return waitFor('the message sent', () =>
    api((p, t) => {
      for (const e of p.conversations()) if (p.messages(e.conv.id).some((i) => i.message.body.text === t && i.state !== 'queued')) return e.conv.id;
      return null;
    }, text),
  );
}
async function select(testid, value) {
  const nav = page.waitForEvent('load').catch(() => {});
  await page.locator(`[data-testid="${testid}"]`).selectOption(value);
  return nav;
}

let failed = false;
const step = async (name, fn) => {
  try {
    await fn();
    console.log(`  ok  ${name}`);
  } catch (e) {
    failed = true;
    console.log(`  FAIL ${name}: ${e.message}`);
    await page.screenshot({ path: join(ROOT, 'build/screens', 'demo-controls-FAILED.png') }).catch(() => {});
  }
};

try {
  await page.goto(`${server.url}/`);
  await ready();

  await step('hours "closed now": the widget says when the team is back; a question gets the away note with the time', async () => {
    await select('demo-hours', 'closed');
    await ready();
    await page.locator('parley-messenger .launcher').click();
    const sub = await waitFor('availability in the header', async () => {
      const t = await page.locator('parley-messenger header p').textContent();
      return /away/i.test(t) && t;
    });
    check(/back/i.test(sub), `header: ${sub}`);
    const conv = await write('Do you have the Nordkapp tent in green?');
    const all = await waitFor('the away message', async () => {
      const m = await agentAllMessages(server.url, conv, GRACE);
      return m.some((x) => x.author.role !== 'visitor' && /away/i.test(x.body.text || '') && /back/i.test(x.body.text || '')) && m;
    });
    check(all.length >= 2, 'no away message');
    await page.screenshot({ path: join(ROOT, 'build/screens', 'demo-controls-hours-closed.png') });
    await select('demo-hours', 'none');
    await ready();
  });

  await step('store sign-in: the visitor becomes Alex Morgan and keeps the conversation', async () => {
    const [before] = await list();
    check(before && !before.user_name, 'expected one anonymous conversation');
    await page.locator('[data-testid="store-signin"]').click();
    await waitFor('the agent sees the name', async () => (await list()).some((c) => c.conv === before.conv && c.user_name === 'Alex Morgan'));
    check((await page.locator('[data-testid="store-who"]').textContent()).includes('Alex'), 'the store does not greet Alex');
    const convs = await waitFor('the conversation in the widget', async () => {
      const ids = await api((p) => p.conversations().map((e) => e.conv.id));
      return ids.includes(before.conv) && ids;
    });
    check(convs.length === 1, `conversations after sign-in: ${convs}`);
  });

  await step('reset: the server and this browser start from nothing', async () => {
    check((await list()).length === 1, 'no conversation before the reset');
    const nav = page.waitForEvent('load');
    await page.locator('[data-testid="demo-reset"]').click();
    await nav;
    await ready();
    check((await list()).length === 0, 'conversations left on the server');
    const local = await api((p) => p.conversations().length);
    if (local !== 0) {
      const why = await page.evaluate(async () => ({
        dbs: await indexedDB.databases(),
        convs: document.querySelector('parley-messenger').parley.conversations().map((e) => [e.conv.id, e.conv.status, e.preview]),
      }));
      throw new Error(`${local} conversations left in this browser: ${JSON.stringify(why)}`);
    }
    check((await page.locator('[data-testid="store-who"]').textContent()).includes('guest'), 'still signed in after the reset');
  });

  await step('style "live chat": a solved conversation ends and the widget offers a new one', async () => {
    await page.locator('[data-testid="demo-style"]').selectOption('live_chat');
    await waitFor('style saved', async () => (await (await fetch(`${server.url}/v1/demo/state?app=demo`, { headers: { authorization: `Bearer ${GRACE}` } })).json()).style === 'live_chat');
    const conv = await write('Quick question about sizes');
    const summary = await agentGet(server.url, `/v1/agent/conversations/${encodeURIComponent(conv)}`, GRACE);
    check(summary.style === 'live_chat', `style ${summary.style}`);
    const r = await fetch(`${server.url}/v1/agent/conversations/${encodeURIComponent(conv)}/status`, {
      method: 'POST',
      headers: { authorization: `Bearer ${GRACE}`, 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'solved' }),
    });
    check((await r.json()).status === 'closed', 'live chat did not close at solve');
    await page.locator('parley-messenger .ended button').waitFor({ timeout: 15000 });
    check(await page.locator('parley-messenger form textarea').isHidden(), 'the composer is still shown');
    await page.screenshot({ path: join(ROOT, 'build/screens', 'demo-controls-live-chat-ended.png') });
  });

  const bad = problems.filter((p) => !/favicon|ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|WebSocket|503/i.test(p));
  if (bad.length) {
    failed = true;
    console.log(`  FAIL page problems: ${bad.join(' | ')}`);
  }
} finally {
  await browser.close().catch(() => {});
  await server.stop().catch(() => {});
}
console.log(`demo controls: ${failed ? 'FAILED' : 'passed'}`);
process.exit(failed ? 1 : 0);
