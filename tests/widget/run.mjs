// Widget tier: <parley-messenger> from the source modules (web/src/widget) in Debian's
// Chromium, against the real reference server (build/native/parley_server), under the
// strict CSP `script-src 'self' 'wasm-unsafe-eval'; style-src 'self'` for the live tests.
//
//   node tests/widget/run.mjs [--only NAME] [--binary build/native/parley_server]
//
// Last line: "widget: N passed, M failed". Exit status non-zero on any failure.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { agentAllMessages, ensureWebSocket, sleep } from '../load/lib.mjs';
import { ROOT, watchPage } from '../web/lib/browser.mjs';
import { agentPost, scenarios, waitFor, WAIT_MS } from '../web/lib/scenarios.mjs';
import { HOSTILE as CORPUS, HOSTILE_URLS } from '../widget_parts/corpus.mjs';

await ensureWebSocket();

const APP = 'widget';
const AGENT = 'widget-agent-token';
const STRICT_CSP = "script-src 'self' 'wasm-unsafe-eval'; style-src 'self'";
const HOSTILE = '<img src=x onerror=alert(1)>';

const { scenario, run, binary: BINARY } = scenarios('widget', {
  config: {
    apps: [
      { id: APP, bot: false, style: 'social_messaging' },
      { id: 'widget-bot', bot: true, style: 'social_messaging' },
      { id: 'widget-live', bot: false, style: 'live_chat' },
    ],
    agents: [{ id: 'ag_w', name: 'Ada', token: AGENT }],
    limits: { frames_per_second: 1000, burst: 5000 },
  },
  csp: STRICT_CSP,
});

for (const f of [BINARY, join(ROOT, 'build/wasm/parley_core.mjs')]) {
  if (!existsSync(f)) {
    console.error(`widget: ${f} is missing (cmake --build build/native -j2 --target parley_server; the wasm target parley_core_web)`);
    process.exit(1);
  }
}

// ----------------------------------------------------------------------------- helpers

function check(cond, what) {
  if (!cond) throw new Error(what);
}

function pageUrl(web, server, extra = {}) {
  const q = new URLSearchParams(server ? { server: server.url, app: APP, ...extra } : extra);
  return `${web.url}/tests/widget/pages/widget.html?${q}`;
}

async function load(page, url) {
  if (url) await page.goto(url);
  await page.waitForFunction(() => window.ready, null, { timeout: WAIT_MS });
}

/** Runs fn(shadowRoot, arg) in the page. */
const inShadow = (page, fn, arg) =>
  page.evaluate(([src, a]) => new Function('root', 'arg', `return (${src})(root, arg)`)(window.widget.shadowRoot, a), [
    fn.toString(),
    arg,
  ]);

const launcher = (page) => page.locator('parley-messenger .launcher');
const composer = (page) => page.locator('parley-messenger textarea');

const focused = (page) =>
  page.evaluate(() => {
    const a = document.activeElement;
    const inner = window.widget.shadowRoot.activeElement;
    return { outer: a ? a.tagName.toLowerCase() : null, inner: inner ? inner.tagName.toLowerCase() + '.' + inner.className : null };
  });

/** Texts and states of the thread's messages. */
const thread = (page) =>
  inShadow(page, (root) =>
    [...root.querySelectorAll('.msg')].map((m) => ({
      // Line breaks are <br> elements (linkify/markdown): read them back as newlines.
      text: [...m.querySelector('.bubble').childNodes]
        .map(function flat(n) {
          return n.nodeName === 'BR' ? '\n' : n.nodeType === 3 ? n.nodeValue : [...n.childNodes].map(flat).join('');
        })
        .join(''),
      state: m.querySelector('.state')?.dataset.state || '',
      // The name only (text nodes), without the avatar's initials.
      who: [...(m.querySelector('.who')?.childNodes || [])].filter((n) => n.nodeType === 3).map((n) => n.data).join(''),
      avatar: m.querySelector('.who .av')?.textContent ?? null,
      botIcon: !!m.querySelector('.who .av svg'),
      actions: [...m.querySelectorAll('[data-action]')].map((b) => b.dataset.action),
    })),
  );

/** Checks that hold on every page: no inline style attributes, no CSP violation, no errors. */
async function invariants(page, problems) {
  const styled = await inShadow(page, (root) => root.querySelectorAll('[style]').length);
  check(styled === 0, `${styled} elements with a style attribute in the shadow root`);
  const csp = await page.evaluate(() => window.cspViolations);
  check(!csp.length, `CSP violations: ${csp.join('; ')}`);
  const bad = problems.filter((p) => !/favicon|ERR_CONNECTION_REFUSED|ERR_INTERNET_DISCONNECTED|WebSocket/i.test(p));
  check(!bad.length, `page problems: ${bad.join(' | ')}`);
}

async function openPage(t, { server, extra, csp = true } = {}) {
  const ctx = await t.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  const problems = watchPage(page);
  page.on('console', (m) => {
    if (/content security policy/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  page.on('dialog', (d) => {
    problems.push(`dialog: ${d.message()}`);
    d.dismiss().catch(() => {});
  });
  await load(page, pageUrl(csp ? t.cspWeb : t.web, server, extra));
  return { ctx, page, problems };
}

async function sendViaComposer(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
}

// ----------------------------------------------------------------------------- scenarios

scenario('load: launcher shows, nothing focused, strict CSP clean, no [style]', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await launcher(page).waitFor({ state: 'visible' });
  const f = await focused(page);
  check(f.outer === 'body' && f.inner === null, `focus after load: ${JSON.stringify(f)}`);
  const name = await launcher(page).getAttribute('aria-label');
  check(name === 'Open messages', `launcher name ${name}`);
  check(await page.locator('parley-messenger .panel').isHidden(), 'panel open on load');
  const adopted = await page.evaluate(() => window.widget.shadowRoot.adoptedStyleSheets.length);
  check(adopted === 1, 'no adopted stylesheet');
  const styles = await page.evaluate(() => document.querySelectorAll('style').length + window.widget.shadowRoot.querySelectorAll('style').length);
  check(styles === 0, `${styles} <style> elements`);
  await invariants(page, problems);
  await ctx.close();
});

scenario('open → composer focused; Escape closes, focus back on the launcher', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await page.keyboard.press('Tab'); // the launcher is reachable from the keyboard
  for (let i = 0; i < 3 && !(await focused(page)).inner; i++) await page.keyboard.press('Tab');
  let f = await focused(page);
  check(f.inner && f.inner.startsWith('button.launcher'), `tab did not reach the launcher: ${JSON.stringify(f)}`);
  await page.keyboard.press('Enter');
  f = await focused(page);
  check(f.inner && f.inner.startsWith('textarea'), `focus after open: ${JSON.stringify(f)}`);
  check((await launcher(page).getAttribute('aria-expanded')) === 'true', 'aria-expanded');
  const font = await composer(page).evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  check(font >= 16, `composer font-size ${font}`);
  const role = await inShadow(page, (root) => [root.querySelector('.log').getAttribute('role'), root.querySelector('.log').getAttribute('aria-live')]);
  check(role[0] === 'log' && role[1] === 'polite', `log role ${role}`);
  await page.keyboard.press('Escape');
  check(await page.locator('parley-messenger .panel').isHidden(), 'Escape did not close');
  f = await focused(page);
  check(f.inner && f.inner.startsWith('button.launcher'), `focus after Escape: ${JSON.stringify(f)}`);
  // Every button in the shadow root has an accessible name.
  const unnamed = await inShadow(page, (root) =>
    [...root.querySelectorAll('button,textarea')].filter((b) => !(b.getAttribute('aria-label') || b.textContent.trim())).length,
  );
  check(unnamed === 0, `${unnamed} controls without a name`);
  await invariants(page, problems);
  await ctx.close();
});

scenario('send: the message appears and reaches sent; the server has it; Shift+Enter is a newline', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await launcher(page).click();
  await composer(page).type('line one');
  await composer(page).press('Shift+Enter');
  await composer(page).type('line two');
  check((await composer(page).inputValue()) === 'line one\nline two', 'Shift+Enter did not add a newline');
  await composer(page).press('Enter');
  const items = await waitFor('message sent', async () => {
    const m = await thread(page);
    return m.length === 1 && ['sent', 'delivered', 'read'].includes(m[0].state) && m;
  });
  check(items[0].text.startsWith('line one\nline two'), `text ${JSON.stringify(items[0].text)}`);
  check(items[0].who === 'You', `author ${items[0].who}`);
  check((await composer(page).inputValue()) === '', 'composer not cleared');
  const conv = await page.evaluate(() => window.widget.conv);
  const onServer = await agentAllMessages(server.url, conv, AGENT);
  check(onServer.some((m) => m.body.text === 'line one\nline two'), 'not on the server');
  const day = await inShadow(page, (root) => root.querySelectorAll('.day').length);
  check(day === 1, `${day} day separators`);
  await invariants(page, problems);
  await ctx.close();
});

scenario('agent reply: counted on the badge while closed, shown with the agent name when opened', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await launcher(page).click();
  await sendViaComposer(page, 'hi, anyone there?');
  await waitFor('sent', async () => (await thread(page)).some((m) => m.state === 'sent' || m.state === 'delivered'));
  const conv = await page.evaluate(() => window.widget.conv);
  await page.keyboard.press('Escape');
  await agentPost(server, AGENT, conv, 'Hello from Ada');
  await waitFor('badge 1', async () => (await page.locator('parley-messenger .badge').isVisible()) && (await page.locator('parley-messenger .badge').textContent()) === '1');
  const name = await launcher(page).getAttribute('aria-label');
  check(/1 unread/.test(name), `launcher name ${name}`);
  await launcher(page).click();
  const items = await waitFor('agent message shown', async () => {
    const m = await thread(page);
    return m.find((x) => x.text === 'Hello from Ada') && m;
  });
  const agent = items.find((x) => x.text === 'Hello from Ada');
  check(agent.who === 'Ada', `agent name ${agent.who}`);
  check(agent.avatar === 'A' && !agent.botIcon, `agent avatar ${agent.avatar}`);
  check(items.find((x) => x.who === 'You').avatar === null, 'an avatar on the visitor\'s own messages');
  await waitFor('badge cleared once read', async () => page.locator('parley-messenger .badge').isHidden());
  await invariants(page, problems);
  await ctx.close();
});

scenario('hostile HTML (visitor and agent) is shown as text; no element is created', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await page.evaluate(() => {
    window.alerted = 0;
    window.alert = () => window.alerted++;
  });
  await launcher(page).click();
  await sendViaComposer(page, HOSTILE);
  // Wait until it is on the server (sent), so the conversation exists there for the agent.
  await waitFor('visitor message sent', async () =>
    (await thread(page)).some((m) => m.text === HOSTILE && /sent|delivered|read/.test(m.state)),
  );
  const conv = await page.evaluate(() => window.widget.conv);
  await agentPost(server, AGENT, conv, `<b>bold</b><script>alert(2)</script>${HOSTILE}`);
  await waitFor('agent message', async () => (await thread(page)).some((m) => m.text.includes('<script>alert(2)</script>')));
  await sleep(300);
  const injected = await inShadow(page, (root) => root.querySelectorAll('img,script,b,[onerror]').length);
  check(injected === 0, `${injected} injected elements`);
  check((await page.evaluate(() => window.alerted)) === 0, 'alert ran');
  await invariants(page, problems);
  await ctx.close();
});

scenario('connection: reconnecting when the server stops, offline banner when the network goes', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await launcher(page).click();
  await sendViaComposer(page, 'before the outage');
  await waitFor('sent', async () => (await thread(page)).some((m) => m.state === 'sent' || m.state === 'delivered'));
  const banners = () => inShadow(page, (root) => [...root.querySelectorAll('.banner')].map((b) => b.textContent));
  check(!(await banners()).length, `banners while online: ${await banners()}`);
  await server.stop('SIGTERM');
  await waitFor('reconnecting or offline banner', async () => (await banners()).some((b) => /Reconnecting|offline/.test(b)));
  await ctx.setOffline(true);
  await waitFor('offline banner', async () => (await banners()).some((b) => /You're offline/.test(b)));
  // A message written now is queued, and can be edited or cancelled.
  await sendViaComposer(page, 'written offline');
  const q = await waitFor('queued', async () => (await thread(page)).find((m) => m.text === 'written offline' && m.state === 'queued'));
  check(q.actions.join() === 'edit,cancel', `queued actions ${q.actions}`);
  await page.locator('parley-messenger [data-action=edit]').click();
  check((await composer(page).inputValue()) === 'written offline', 'edit did not load the text');
  await composer(page).fill('edited offline');
  await composer(page).press('Enter');
  await waitFor('edited', async () => (await thread(page)).some((m) => m.text === 'edited offline' && m.state === 'queued'));
  await invariants(page, problems);
  await ctx.close();
});

scenario('out of sync: catch-up fails (the server answers sync with an error) → a banner, cleared once a sync succeeds', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  const conv = await startConv(page, 'before the page closes');
  await page.close();
  // Events the next page has to catch up on.
  await agentPost(server, AGENT, conv, 'written while the page was closed');
  let failing = true;
  let failed = 0;
  const next = await ctx.newPage();
  const nextProblems = watchPage(next);
  await next.routeWebSocket(/\/v1\/ws/, (ws) => {
    const up = ws.connectToServer();
    ws.onMessage((m) => {
      const f = JSON.parse(m);
      if (failing && f.type === 'sync') {
        failed++;
        ws.send(JSON.stringify({ type: 'error', req: f.req, code: 'server_error', recoverable: 'recoverable', message: 'sync broke' }));
      } else up.send(m);
    });
    up.onMessage((m) => ws.send(m));
  });
  await load(next, pageUrl(t.cspWeb, server));
  const banners = () => inShadow(next, (root) => [...root.querySelectorAll('.banner')].map((b) => b.textContent));
  await waitFor('out-of-sync banner', async () => (await banners()).includes('Connected, but out of sync. Retrying…'));
  check(failed >= 1 && (await next.evaluate(() => window.parley.outOfSync && window.parley.connection === 'ready')), 'not connected and out of sync');
  failing = false;
  await waitFor('banner cleared after a sync', async () => !(await banners()).length);
  check(!(await next.evaluate(() => window.parley.outOfSync)), 'still out of sync');
  await launcher(next).click();
  await waitFor('caught up', async () => (await thread(next)).some((m) => m.text === 'written while the page was closed'));
  void problems;
  await invariants(next, nextProblems);
  await ctx.close();
});

scenario('message states: every state shown; failed offers Retry and Delete (stub instance)', async (t) => {
  const { ctx, page, problems } = await openPage(t, { extra: { fake: '' } });
  await launcher(page).click();
  const items = await thread(page);
  const states = items.map((m) => m.state).filter(Boolean);
  for (const s of ['read', 'sent', 'delivered', 'sending', 'queued', 'failed']) check(states.includes(s), `state ${s} not shown: ${states}`);
  const failed = items.find((m) => m.state === 'failed');
  check(failed.actions.join() === 'retry,delete', `failed actions ${failed.actions}`);
  const reason = await inShadow(page, (root) => root.querySelector('.failed .state').textContent);
  check(reason.includes('conversation closed'), `failed reason: ${reason}`);
  await page.locator('parley-messenger .failed [data-action=retry]').click();
  await page.locator('parley-messenger .failed [data-action=delete]').click();
  const calls = await page.evaluate(() => window.calls.filter((c) => c[0] === 'retry' || c[0] === 'cancel'));
  check(JSON.stringify(calls) === '[["retry","k_f"],["cancel","k_f"]]', `calls ${JSON.stringify(calls)}`);
  const days = await inShadow(page, (root) => root.querySelectorAll('.day').length);
  check(days === 2, `${days} day separators`);
  const text = await inShadow(page, (root) => ({
    banners: [...root.querySelectorAll('.banner')].map((b) => b.textContent).join('|'),
    sub: root.querySelector('header p').textContent,
    typing: root.querySelector('.typing').textContent,
    injected: root.querySelectorAll('img').length,
  }));
  check(/offline/.test(text.banners) && /not saved/.test(text.banners), `banners ${text.banners}`);
  check(/We're away, back/.test(text.sub), `availability ${text.sub}`);
  check(text.typing === 'Ada is typing…', `typing ${text.typing}`);
  check(text.injected === 0, 'img injected');
  // Typing in the composer tells the core (debounced), scrolling to the top pages back.
  await composer(page).type('abc');
  await page.locator('parley-messenger .log').evaluate((l) => (l.scrollTop = -l.scrollHeight));
  await waitFor('loadOlder called', () => page.evaluate(() => window.calls.some((c) => c[0] === 'loadOlder' && c[1] === 'c_1')));
  const typing = await page.evaluate(() => window.calls.filter((c) => c[0] === 'typing'));
  check(JSON.stringify(typing) === '[["typing","c_1",true]]', `typing calls ${JSON.stringify(typing)}`);
  await page.keyboard.press('Escape');
  const after = await page.evaluate(() => window.calls.filter((c) => c[0] === 'typing').length);
  check(after === 2, 'typing not stopped on close');
  await invariants(page, problems);
  await ctx.close();
});

scenario('conversation list: back shows it (keyboard), picking one opens its thread', async (t) => {
  const { ctx, page, problems } = await openPage(t, { extra: { fake: '' } });
  await launcher(page).click();
  await page.locator('parley-messenger .back').click();
  let f = await focused(page);
  check(f.inner === 'button.conv', `focus in the list: ${JSON.stringify(f)}`);
  const rows = await inShadow(page, (root) => [...root.querySelectorAll('.conv')].map((b) => b.textContent));
  check(rows.length === 1 && rows[0].includes('Order #1234'), `list ${rows}`);
  check(await page.locator('parley-messenger .listview .primary').isVisible(), 'no new-conversation button');
  await page.keyboard.press('Enter');
  f = await focused(page);
  check(f.inner && f.inner.startsWith('textarea'), `focus after picking: ${JSON.stringify(f)}`);
  check((await thread(page)).length === 7, 'thread not shown');
  await page.locator('parley-messenger .back').click();
  await page.locator('parley-messenger .listview .primary').click();
  check((await thread(page)).length === 0, 'new conversation is not empty');
  await invariants(page, problems);
  await ctx.close();
});

scenario('RTL: Arabic sets dir=rtl on the panel and Arabic labels; position=left', async (t) => {
  const { ctx, page, problems } = await openPage(t, { extra: { fake: '', locale: 'ar', position: 'left' } });
  await launcher(page).click();
  // The Arabic table is loaded on demand (English is built in): it arrives within moments.
  await waitFor('dir=rtl', () => inShadow(page, (root) => root.querySelector('.panel').getAttribute('dir') === 'rtl'));
  const label = await launcher(page).getAttribute('aria-label');
  check(/[\u0600-\u06ff]/.test(label), `launcher label ${label}`);
  const avail = await inShadow(page, (root) => root.querySelector('header p').textContent);
  const box = await launcher(page).boundingBox();
  check(box.x < 100, `position=left: launcher at x=${box.x}`);
  check(/[\u0600-\u06ff]/.test(avail), `availability ${avail}`);
  await invariants(page, problems);
  await ctx.close();
});

scenario('draft: persisted per conversation across a reload, cleared on send', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await launcher(page).click();
  await sendViaComposer(page, 'first');
  await waitFor('sent', async () => (await thread(page)).some((m) => m.state === 'sent' || m.state === 'delivered'));
  await composer(page).type('half-written thought');
  await page.reload();
  await load(page);
  await launcher(page).click();
  await waitFor('draft restored', async () => (await composer(page).inputValue()) === 'half-written thought');
  await composer(page).press('Enter');
  await waitFor('draft cleared', async () => page.evaluate(() => !Object.keys(localStorage).some((k) => k.startsWith('parley:draft:'))));
  await invariants(page, problems);
  await ctx.close();
});

async function agentApi(server, method, path, body) {
  const r = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${AGENT}`, 'content-type': 'application/json' },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) throw new Error(`${method} ${path}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

/** Starts a conversation from the composer and waits for it on the server; returns its id. */
async function startConv(page, text = 'hello') {
  await launcher(page).click();
  await sendViaComposer(page, text);
  await waitFor('sent', async () => (await thread(page)).some((m) => /sent|delivered|read/.test(m.state)));
  return page.evaluate(() => window.widget.conv);
}

const sheet = (page, sel) => page.locator(`parley-messenger .sheet ${sel}`);

scenario('handoff: continue by SMS (invalid address inline, then bound; agent reply in the outbox)', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  const conv = await startConv(page, 'please text me');
  await page.locator('parley-messenger .more').click();
  check((await focused(page)).inner === 'select.', 'focus not on the channel select');
  check((await sheet(page, 'input').getAttribute('type')) === 'tel', 'sms input not type=tel');
  const font = await sheet(page, 'input').evaluate((el) => parseFloat(getComputedStyle(el).fontSize));
  check(font >= 16, `input font ${font}`);
  await sheet(page, 'select').selectOption('email');
  check((await sheet(page, 'input').getAttribute('type')) === 'email', 'email input not type=email');
  await sheet(page, 'select').selectOption('sms');
  await sheet(page, 'input').fill('not a number');
  await sheet(page, '.primary').click();
  const err = await waitFor('inline error', async () => (await sheet(page, '.err').textContent()) || '');
  check(/phone number/.test(err), `error ${err}`);
  await sheet(page, 'input').fill('+15551234567');
  await sheet(page, '.primary').click();
  await waitFor('handed off', async () => /SMS at \+15551234567/.test(await sheet(page, '.result').textContent()));
  const summary = await agentApi(server, 'GET', `/v1/agent/conversations/${encodeURIComponent(conv)}`);
  const channels = summary.channels || (summary.conversation && summary.conversation.channels) || [];
  check(channels.some((b) => b.channel === 'sms' && b.address === '+15551234567' && b.active), `channels ${JSON.stringify(summary)}`);
  await agentPost(server, AGENT, conv, 'Texting you now');
  const out = await waitFor('outbox', async () => {
    const o = await agentApi(server, 'GET', `/v1/channels/sms/${encodeURIComponent('+15551234567')}/outbox`);
    return o.messages.some((m) => m.text === 'Texting you now') && o;
  });
  check(out.messages.every((m) => m.conv === conv), 'outbox of another conversation');
  await invariants(page, problems);
  await ctx.close();
});

scenario('handoff: another device (link state; the handoff line in the timeline; #parley-resume resumes)', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await startConv(page, 'switching to my phone');
  await page.locator('parley-messenger .more').click();
  await sheet(page, 'select').selectOption('device');
  check(await sheet(page, 'input').isHidden(), 'address shown for device');
  await sheet(page, '.primary').click();
  // The server answers with a handoff event carrying a single-use resume token; the sheet
  // shows the link built from it.
  const link = await waitFor('the link', () =>
    inShadow(page, (root) => {
      const err = root.querySelector('.sheet .err')?.textContent;
      if (err) throw new Error(`error shown: ${err}`);
      const input = root.querySelector('.sheet .result input');
      return input && input.value.includes('#parley-resume=') ? input.value : null;
    }),
  );
  const token = decodeURIComponent(link.split('#parley-resume=')[1]);
  check(/^r_/.test(token), `token ${token}`);
  // The link works: another browser (a phone) opening it becomes the same visitor and sees
  // the conversation.
  const phone = await t.browser.newContext();
  const pp = await phone.newPage();
  await pp.goto(pageUrl(t.cspWeb, server) + '#parley-resume=' + encodeURIComponent(token));
  await pp.waitForFunction(() => window.ready);
  const conv = await page.evaluate(() => window.widget.conv);
  await waitFor('the conversation on the phone', () =>
    pp.evaluate((c) => window.parley.conversations().some((e) => e.conv.id === c), conv),
  );
  await phone.close();
  await invariants(page, problems);
  await ctx.close();
  // A page opened with #parley-resume=<token> calls parley.resume(token) and drops the hash.
  const ctx2 = await t.browser.newContext();
  const p2 = await ctx2.newPage();
  await p2.goto(pageUrl(t.cspWeb, null, { fake: '' }) + '#parley-resume=r_abc%2B1');
  await p2.waitForFunction(() => window.ready);
  const calls = await waitFor('resume called', () => p2.evaluate(() => window.calls.filter((c) => c[0] === 'resume')).then((c) => c.length && c));
  check(JSON.stringify(calls) === '[["resume","r_abc+1"]]', `calls ${JSON.stringify(calls)}`);
  check(!(await p2.evaluate(() => location.hash)), 'hash kept');
  // With a token in the timeline's handoff line (stub instance), the sheet shows the link.
  await p2.evaluate(() => {
    const orig = window.parley.messages;
    window.parley.messages = (c) => [...orig(c), { key: 'm9', state: 'delivered', message: { conv: c, seq: 9, id: 'm9', ticket: 1, ts: Date.now(), author: { role: 'system' }, body: { text: 'Continue on another device', event: { type: 'handoff', resume_token: 'r_tok' } } } }];
  });
  await launcher(p2).click();
  await p2.locator('parley-messenger .more').click();
  await p2.locator('parley-messenger .sheet select').selectOption('device');
  await p2.locator('parley-messenger .sheet .primary').click();
  const stubLink = await p2.locator('parley-messenger .sheet .result input').inputValue();
  check(stubLink.endsWith('widget.html?fake=#parley-resume=r_tok'), `link ${stubLink}`);
  check(await p2.locator('parley-messenger .sheet .result button.primary', { hasText: 'Copy link' }).isVisible(), 'no copy button');
  const hc = await p2.evaluate(() => window.calls.filter((c) => c[0] === 'requestHandoff'));
  check(JSON.stringify(hc) === '[["requestHandoff","c_1","device",""]]', `calls ${JSON.stringify(hc)}`);
  await ctx2.close();
});

scenario('who is answering: the bot, then the queue position after "talk to a human"', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server, extra: { app: 'widget-bot' } });
  await startConv(page, 'hi');
  const sub = () => inShadow(page, (root) => root.querySelector('header p').textContent);
  await waitFor('bot shown', async () => /bot is answering/.test(await sub()));
  const bot = await waitFor('a bot message', async () => (await thread(page)).find((m) => m.botIcon));
  check(bot.avatar === '' && bot.who, `bot avatar: ${JSON.stringify(bot)}`);
  await sendViaComposer(page, 'talk to a human');
  const s = await waitFor('queue shown', async () => /In the queue, position \d+/.test(await sub()) && (await sub()));
  check(/position 1\b/.test(s), `header ${s}`);
  await invariants(page, problems);
  await ctx.close();
});

scenario('live chat: a solved conversation has ended; "Start a new conversation" replaces the composer', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server, extra: { app: 'widget-live' } });
  const conv = await startConv(page, 'quick question');
  await agentApi(server, 'POST', `/v1/agent/conversations/${encodeURIComponent(conv)}/status`, { status: 'solved' });
  const btn = page.locator('parley-messenger .ended button');
  await btn.waitFor({ state: 'visible', timeout: WAIT_MS });
  check(await page.locator('parley-messenger form textarea').isHidden(), 'composer still shown');
  await btn.click();
  const conv2 = await waitFor('new conversation', () => page.evaluate((c) => window.widget.conv !== c && window.widget.conv, conv));
  check(conv2 && conv2 !== conv, 'no new conversation');
  check(await composer(page).isVisible(), 'composer hidden in the new conversation');
  check((await focused(page)).inner?.startsWith('textarea'), 'composer not focused');
  await invariants(page, problems);
  await ctx.close();
});

scenario('social messaging: a solved conversation keeps the composer', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  const conv = await startConv(page, 'question');
  await agentApi(server, 'POST', `/v1/agent/conversations/${encodeURIComponent(conv)}/status`, { status: 'solved' });
  await waitFor('solved seen', () => page.evaluate((c) => window.parley.conversations().find((e) => e.conv.id === c)?.conv.status !== 'open', conv));
  await sleep(200);
  check(await composer(page).isVisible(), 'composer hidden');
  check(await page.locator('parley-messenger .ended').isHidden(), 'ended shown');
  await invariants(page, problems);
  await ctx.close();
});

scenario('CSAT: rating a solved conversation sends a survey answer that keeps it solved; the visitor\'s own bubble; the agent sees the event', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  const conv = await startConv(page, 'the grinder arrived');
  const path = `/v1/agent/conversations/${encodeURIComponent(conv)}`;
  await agentApi(server, 'POST', `${path}/status`, { status: 'solved' });
  await agentApi(server, 'POST', `${path}/messages`, { text: '', rich: 'csat', payload: { scale: 5, question: 'How did we do?' } });
  const four = page.locator('parley-messenger .pl-csat-btn').nth(3);
  await four.waitFor({ state: 'visible', timeout: WAIT_MS });
  check((await four.getAttribute('aria-label')) === '4 / 5', `rating button name ${await four.getAttribute('aria-label')}`);
  await four.click();
  const mine = await waitFor('the rating sent', async () => {
    const m = (await thread(page)).at(-1);
    return m && /sent|delivered|read/.test(m.state) && m;
  });
  check(mine.text === '★ Rated 4 of 5' && mine.who === 'You', `the answer shows as ${JSON.stringify(mine)}`);
  const cls = await inShadow(page, (root) => [...root.querySelectorAll('.msg')].at(-1).className);
  check(/\bme\b/.test(cls) && !/system/.test(cls), `the answer is not the visitor's bubble: ${cls}`);
  const onServer = await waitFor('the answer on the server', async () =>
    (await agentAllMessages(server.url, conv, AGENT)).find((m) => m.body.event && m.body.event.type === 'csat'),
  );
  const ev = onServer.body.event;
  check(ev.score === 4 && ev.scale === 5 && onServer.body.text === '4' && onServer.author.role === 'visitor', `the agent sees ${JSON.stringify(onServer)}`);
  await sleep(300);
  const summary = await agentApi(server, 'GET', path);
  check(summary.status === 'solved', `the answer reopened the conversation: status ${summary.status}`);
  const seen = await page.evaluate((c) => window.parley.conversations().find((e) => e.conv.id === c).conv.status, conv);
  check(seen === 'solved', `the widget sees status ${seen}`);
  // Without the event the same click would have reopened it: a plain "4" does (the control).
  await page.evaluate((c) => window.parley.send(c, '4'), conv);
  await waitFor('a plain text reopens', async () => (await agentApi(server, 'GET', path)).status === 'open');
  await invariants(page, problems);
  await ctx.close();
});

scenario('consent: notice with "Save history on this device" → consent(); nothing stored before', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server, extra: { consent: '' } });
  await launcher(page).click();
  const btn = page.locator('parley-messenger .banner button', { hasText: 'Save history on this device' });
  await btn.waitFor({ state: 'visible', timeout: WAIT_MS });
  const dbs = () => page.evaluate(async () => (await indexedDB.databases()).length + localStorage.length + document.cookie.length);
  check((await dbs()) === 0, 'storage written before consent');
  await btn.click();
  await waitFor('persistent', () => page.evaluate(() => window.parley.storage.persistent));
  await waitFor('notice gone', async () => (await page.locator('parley-messenger .banner').count()) === 0);
  check((await dbs()) > 0, 'nothing stored after consent');
  await invariants(page, problems);
  await ctx.close();
});

scenario('title and sound across tabs: both titles show (1); only the leader beeps while hidden', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  await ctx.addInitScript(() => {
    window.beeps = 0;
    window.fakeHidden = false;
    Object.defineProperty(document, 'hidden', { get: () => window.fakeHidden });
    Object.defineProperty(document, 'visibilityState', { get: () => (window.fakeHidden ? 'hidden' : 'visible') });
    const AC = window.AudioContext;
    window.AudioContext = class extends AC {
      createOscillator() {
        const o = super.createOscillator();
        const start = o.start.bind(o);
        o.start = (...a) => (window.beeps++, start(...a));
        return o;
      }
    };
  });
  const url = pageUrl(t.cspWeb, server);
  const a = await ctx.newPage();
  await load(a, url);
  const conv = await startConv(a, 'two tabs');
  await a.keyboard.press('Escape');
  const b = await ctx.newPage();
  await load(b, url);
  await waitFor('leader known', async () => (await a.evaluate(() => window.parley.isLeader)) !== (await b.evaluate(() => window.parley.isLeader)));
  const original = await a.title();
  for (const p of [a, b]) await p.evaluate(() => (window.fakeHidden = true));
  await agentPost(server, AGENT, conv, 'reply for both tabs');
  for (const p of [a, b]) await waitFor('title (1)', async () => (await p.title()) === `(1) ${original}`);
  await sleep(300);
  const beeps = [await a.evaluate(() => window.beeps), await b.evaluate(() => window.beeps)];
  const leader = (await a.evaluate(() => window.parley.isLeader)) ? 0 : 1;
  check(beeps[leader] === 1 && beeps[1 - leader] === 0, `beeps ${beeps} (leader tab ${leader})`);
  // Reading it in one tab restores both titles.
  await a.evaluate(() => (window.fakeHidden = false));
  await launcher(a).click();
  for (const p of [a, b]) await waitFor('title restored', async () => (await p.title()) === original);
  await ctx.close();
});

scenario('accessibility: axe-core finds no violation at all (open panel, thread, handoff sheet, every-state stub thread)', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await page.addScriptTag({ url: '/node_modules/axe-core/axe.min.js' });
  await startConv(page, 'checking accessibility');
  const conv = await page.evaluate(() => window.widget.conv);
  await agentPost(server, AGENT, conv, 'An **agent** reply');
  await waitFor('reply', async () => (await thread(page)).some((m) => m.who === 'Ada'));
  const axe = () =>
    page.evaluate(async () => {
      const r = await window.axe.run(window.widget, { resultTypes: ['violations'] });
      return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 3) }));
    });
  const v1 = await axe();
  await page.locator('parley-messenger .more').click();
  const v2 = await axe();
  check(!v1.length && !v2.length, `axe (any impact): ${JSON.stringify([...v1, ...v2])}`);
  await invariants(page, problems);
  await ctx.close();
  // The stub thread: every message state, banners, the list.
  const stub = await openPage(t, { extra: { fake: '' } });
  await stub.page.addScriptTag({ url: '/node_modules/axe-core/axe.min.js' });
  await launcher(stub.page).click();
  await sleep(300); // the opening animation (opacity) is over
  const v3 = await axeRun(stub.page);
  await stub.page.locator('parley-messenger .back').click();
  const v4 = await axeRun(stub.page);
  check(!v3.length && !v4.length, `axe on the stub (any impact): ${JSON.stringify([...v3, ...v4])}`);
  await stub.ctx.close();
});

scenario('long thread (2,000 messages): a window of them in the DOM; scrolling up reveals older ones', async (t) => {
  const { ctx, page, problems } = await openPage(t, { extra: { fake: '', many: '2000' } });
  await launcher(page).click();
  const dom = () =>
    inShadow(page, (root) => {
      const texts = [...root.querySelectorAll('.msg .pl-text')].map((n) => +n.textContent.replace(/\D/g, ''));
      return { count: texts.length, oldest: Math.min(...texts), newest: Math.max(...texts) };
    });
  const first = await dom();
  check(first.newest === 2000, `newest message not shown: ${JSON.stringify(first)}`);
  check(first.count >= 20 && first.count <= 100, `${first.count} message nodes for 2000 messages`);
  const toTop = () => page.locator('parley-messenger .log').evaluate((l) => (l.scrollTop = -l.scrollHeight));
  let now = first;
  for (let i = 0; i < 3; i++) {
    const before = now;
    await toTop();
    now = await waitFor('older messages revealed', async () => {
      const d = await dom();
      return d.oldest < before.oldest && d;
    });
  }
  check(now.count <= 250, `${now.count} message nodes after three steps up`);
  check(now.oldest === 2000 - now.count + 1, `the window is not contiguous: ${JSON.stringify(now)}`);
  // What the visitor was reading stays in view: the log is not thrown back to the newest.
  check(await page.locator('parley-messenger .log').evaluate((l) => l.scrollTop < -100), 'the log jumped to the newest');
  check(!(await page.evaluate(() => window.calls.some((c) => c[0] === 'loadOlder'))), 'paged from the API while older messages were loaded');
  // Back at the newest, the window shrinks again.
  await page.locator('parley-messenger .log').evaluate((l) => (l.scrollTop = 0));
  await waitFor('window shrunk', async () => (await dom()).count <= 100);
  await invariants(page, problems);
  await ctx.close();
});

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const pick = (page, files) => page.locator('parley-messenger input[type=file]').setInputFiles(files);
const composerError = (page) => inShadow(page, (root) => root.querySelector('form .err').textContent);
const attachmentsOnServer = async (server, conv) =>
  (await agentAllMessages(server.url, conv, AGENT)).flatMap((m) => (m.body.attachments || []).map((a) => a.name));

scenario('attachments: limits give a localized error; an image shows its thumbnail; the file name is text', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server });
  await page.evaluate(() => {
    window.alerted = 0;
    window.alert = () => window.alerted++;
  });
  const conv = await startConv(page, 'a picture follows');
  check(await page.locator('parley-messenger button.attach').getAttribute('aria-label') === 'Attach a file', 'attach button name');
  await pick(page, { name: 'page.html', mimeType: 'text/html', buffer: Buffer.from('<p>x</p>') });
  await waitFor('type error', async () => /^page\.html cannot be sent/.test(await composerError(page)));
  await pick(page, { name: 'big.png', mimeType: 'image/png', buffer: Buffer.alloc(10 * 1024 * 1024 + 1) });
  await waitFor('size error', async () => /^big\.png is too large: files can be 10\.5 MB at most/.test(await composerError(page)));
  const name = `${HOSTILE}.png`;
  await pick(page, { name, mimeType: 'image/png', buffer: PNG });
  await waitFor('the error cleared by a good file', async () => (await composerError(page)) === '');
  const shown = await waitFor('the image message sent', () =>
    inShadow(page, (root, name) => {
      const m = [...root.querySelectorAll('.msg.me')].find((x) => x.querySelector('.pl-file-name')?.textContent === name);
      return m && /sent|delivered|read/.test(m.querySelector('.state').dataset.state) && {
        thumb: m.querySelector('img.pl-thumb')?.getAttribute('src') || '',
        imgs: root.querySelectorAll('img').length,
        size: m.querySelector('.pl-file-size')?.textContent,
      };
    }, name),
  );
  check(shown.thumb.startsWith('blob:'), `thumbnail ${shown.thumb}`);
  check(shown.imgs === 1, `${shown.imgs} img elements (the file name injected one?)`);
  check(shown.size === `${PNG.length} bytes`, `size ${shown.size}`);
  check((await page.evaluate(() => window.alerted)) === 0, 'alert ran');
  check(JSON.stringify(await attachmentsOnServer(server, conv)) === JSON.stringify([name]), 'not on the server once');
  await invariants(page, problems);
  await ctx.close();
});

scenario('attachments: the upload bar follows upload_progress, then goes once sent (stub instance)', async (t) => {
  const { ctx, page, problems } = await openPage(t, { extra: { fake: '' } });
  await launcher(page).click();
  const setState = (state, url) =>
    page.evaluate(([state, url]) => {
      const p = window.parley;
      const item = { key: 'k_up', state, message: { conv: 'c_1', seq: 0, id: '', cid: 'k_up', ticket: 1, ts: Date.now(), author: { role: 'visitor' }, body: { attachments: [{ id: 'a_1', name: 'report.pdf', mime: 'application/pdf', size: 100, ...(url ? { url } : { blob_ref: 'a_1' }) }] } } };
      p.messages = () => [item];
      p.emit('messages', { conv: 'c_1', messages: [item] });
    }, [state, url]);
  const bar = () =>
    inShadow(page, (root) => {
      const b = root.querySelector('.msg[data-key=k_up] progress');
      return b && { value: b.getAttribute('value'), max: b.getAttribute('max'), label: b.getAttribute('aria-label') };
    });
  await setState('queued');
  await waitFor('an indeterminate bar while queued', async () => (await bar())?.value === null);
  await setState('sending');
  await page.evaluate(() => window.parley.emit('upload_progress', { cid: 'k_up', attachment: 'a_1', conv: 'c_1', loaded: 30, total: 100 }));
  const b = await waitFor('the bar at 30 of 100', async () => ((await bar())?.value === '30' ? bar() : null));
  check(b.max === '100' && b.label === 'Uploading report.pdf', `bar ${JSON.stringify(b)}`);
  await setState('sent', '/v1/files/a_1');
  await waitFor('no bar once sent', async () => (await bar()) === null);
  await invariants(page, problems);
  await ctx.close();
});

scenario('attachments: picked offline → queued with an upload bar; after a reload and back online the server has it once', async (t) => {
  const server = await t.server();
  const port = server.port;
  const { ctx, page, problems } = await openPage(t, { server });
  const conv = await startConv(page, 'sending notes');
  await server.stop('SIGTERM');
  await ctx.setOffline(true);
  await pick(page, { name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('picked while offline') });
  const queued = () =>
    inShadow(page, (root) => {
      const m = [...root.querySelectorAll('.msg.me')].find((x) => x.querySelector('.pl-file-name')?.textContent === 'notes.txt');
      return m && { state: m.querySelector('.state').dataset.state, bar: !!m.querySelector('progress'), size: m.querySelector('.pl-file-size')?.textContent };
    });
  const q = await waitFor('queued', async () => ((await queued())?.state === 'queued' ? await queued() : null));
  check(q.bar && q.size === '20 bytes', `queued attachment ${JSON.stringify(q)}`);
  await ctx.setOffline(false); // only to load the page itself; the server is still down
  await page.reload();
  await load(page);
  await ctx.setOffline(true);
  await launcher(page).click();
  await waitFor('still queued after the reload', async () => /queued|sending/.test((await queued())?.state || ''));
  await t.server({ port });
  await ctx.setOffline(false);
  await waitFor('sent', async () => /sent|delivered|read/.test((await queued())?.state || ''));
  check(!(await queued()).bar, 'the upload bar stays after sending');
  await waitFor('on the server', async () => (await attachmentsOnServer(server, conv)).includes('notes.txt'));
  await sleep(500);
  const names = await attachmentsOnServer(server, conv);
  check(names.filter((n) => n === 'notes.txt').length === 1, `on the server: ${names}`);
  await invariants(page, problems);
  await ctx.close();
});

scenario("keyboard only: open the panel, send, use the bot's quick reply, close", async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openPage(t, { server, extra: { app: 'widget-bot' } });
  // No mouse from here on: Tab to the launcher, Enter opens.
  for (let i = 0; i < 5 && !(await focused(page)).inner?.startsWith('button.launcher'); i++) await page.keyboard.press('Tab');
  check((await focused(page)).inner?.startsWith('button.launcher'), 'Tab does not reach the launcher');
  await page.keyboard.press('Enter');
  check((await focused(page)).inner?.startsWith('textarea'), `focus after opening: ${JSON.stringify(await focused(page))}`);
  await page.keyboard.type('hi');
  await page.keyboard.press('Enter');
  await waitFor('the quick replies', () => inShadow(page, (root) => root.querySelectorAll('.pl-qr').length === 3));
  // Back from the composer to the quick replies (Shift+Tab), to "Shipping".
  const at = () => inShadow(page, (root) => (root.activeElement?.classList.contains('pl-qr') ? root.activeElement.textContent : null));
  for (let i = 0; i < 8 && (await at()) !== 'Shipping'; i++) await page.keyboard.press('Shift+Tab');
  check((await at()) === 'Shipping', 'Shift+Tab does not reach the quick reply');
  const ring = await inShadow(page, (root) => getComputedStyle(root.activeElement).outlineStyle);
  check(ring !== 'none', 'no visible focus on the quick reply');
  await page.keyboard.press('Enter');
  await waitFor('the reply sent', async () => (await thread(page)).some((m) => m.text === 'Shipping' && /sent|delivered|read/.test(m.state)));
  check(await inShadow(page, (root) => [...root.querySelectorAll('.pl-qr')].every((b) => b.disabled)), 'quick replies still enabled');
  await waitFor("the bot's answer", async () => (await thread(page)).filter((m) => m.botIcon || m.who === '').length >= 1 && (await thread(page)).length >= 4);
  await page.keyboard.press('Escape');
  check(await page.locator('parley-messenger .panel').isHidden(), 'Escape did not close');
  check((await focused(page)).inner?.startsWith('button.launcher'), 'focus not back on the launcher');
  await invariants(page, problems);
  await ctx.close();
});

scenario(`XSS corpus (${CORPUS.length + HOSTILE_URLS.length} payloads) in agent names, subjects, text, markdown, rich fields and file names: inert`, async (t) => {
  // No CSP on this page: an injected handler or script would run and set window.__pwned.
  const { ctx, page, problems } = await openPage(t, { extra: { fake: '' }, csp: false });
  const payloads = [...CORPUS, ...HOSTILE_URLS.map(String)];
  await launcher(page).click();
  const bad = [];
  for (let i = 0; i < payloads.length; i += 8) {
    const found = await page.evaluate((batch) => {
      const p = window.parley;
      const now = Date.now();
      const items = [];
      batch.forEach((s, j) => {
        const author = { role: j % 2 ? 'bot' : 'agent', id: `ag_${j}`, name: s };
        const base = { conv: 'c_1', ticket: 1, ts: now - 60000 + j, author };
        items.push({ key: `a${j}`, state: 'delivered', message: { ...base, seq: 10 * j + 1, id: `a${j}`, body: { text: s, attachments: [{ id: `f${j}`, name: s, mime: 'image/png', size: 5, url: s }] } } });
        items.push({ key: `r${j}`, state: 'delivered', message: { ...base, seq: 10 * j + 2, id: `r${j}`, body: { text: s, rich: 'quick_replies', payload: { options: [{ id: 'o', label: s, value: s }] } } } });
        items.push({ key: `c${j}`, state: 'delivered', message: { ...base, seq: 10 * j + 3, id: `c${j}`, body: { rich: 'carousel', payload: { items: [{ title: s, subtitle: s, image: s, buttons: [{ id: 'b', label: s, url: s }] }] } } } });
        items.push({ key: `v${j}`, state: 'sent', message: { ...base, author: { role: 'visitor' }, seq: 10 * j + 4, id: `v${j}`, body: { text: s, attachments: [{ id: `g${j}`, name: s, mime: 'text/plain', size: 5 }] } } });
      });
      const s0 = batch[0];
      const conv = { id: 'c_1', status: 'open', style: 'social_messaging', ticket: 1, subject: s0, owner: { kind: 'agent', agent_name: s0 }, channels: [], last_seq: 1000, read_seq: 1000, unread: 0 };
      p.messages = () => items.slice();
      p.conversations = () => [{ conv, unread: 1, preview: s0, typing: true }];
      p.emit('conversations', p.conversations());
      p.emit('messages', { conv: 'c_1', messages: items });
      return new Promise((ok) =>
        setTimeout(() => {
          const root = window.widget.shadowRoot;
          const TAGS = new Set('DIV SPAN BUTTON HEADER H2 H3 P UL OL LI FORM FIELDSET TEXTAREA INPUT SELECT OPTION LABEL TIME STRONG EM CODE PRE BR A IMG SVG PATH PROGRESS'.split(' '));
          const out = [];
          for (const el of root.querySelectorAll('*')) {
            if (!TAGS.has(el.tagName.toUpperCase())) out.push(`element ${el.tagName}`);
            for (const a of el.attributes) if (/^on|^style$|^srcdoc$|^formaction$/i.test(a.name)) out.push(`attribute ${el.tagName} ${a.name}`);
            const href = el.getAttribute('href');
            if (href != null && !/^(https?:|mailto:)/i.test(href)) out.push(`href ${href}`);
            if (el.tagName === 'IMG' && !/^https:/.test(el.getAttribute('src'))) out.push(`img src ${el.getAttribute('src')}`);
            if (el.tagName.toUpperCase() === 'SVG' && !el.closest('.launcher,.attach,.av')) out.push('svg outside the icons');
          }
          // The names are shown, as text: the header, the avatar's neighbour, the typing line.
          const text = root.querySelector('.panel').textContent;
          if (!text.includes(batch[1] ?? batch[0])) out.push(`payload not shown as text: ${batch[1]}`);
          if (root.querySelector('header p').textContent.split(' · ')[0] !== s0) out.push('agent name not shown literally in the header');
          ok(out);
        }, 50),
      );
    }, payloads.slice(i, i + 8));
    bad.push(...found);
  }
  await sleep(300); // handlers that would fire on load or error
  check(!bad.length, `${bad.length} problems: ${[...new Set(bad)].slice(0, 10).join(' | ')}`);
  check((await page.evaluate(() => window.__pwned)) === undefined, 'a payload ran');
  check(payloads.length >= 50, 'fewer than 50 payloads');
  await invariants(page, problems);
  await ctx.close();
});

/** The panel's background luma (0 black .. 255 white). */
const panelLuma = (page) =>
  inShadow(page, (root) => {
    const [r, g, b] = getComputedStyle(root.querySelector('.panel')).backgroundColor.match(/\d+/g).map(Number);
    return Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b);
  });

const axeRun = (page) =>
  page.evaluate(async () => {
    const r = await window.axe.run(window.widget, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => `${n.target.join(' ')} ${n.failureSummary}`.slice(0, 300)).slice(0, 3) }));
  });

scenario('dark theme: prefers-color-scheme dark, theme="dark" and theme="light"; axe finds nothing in dark', async (t) => {
  const { ctx, page, problems } = await openPage(t, { extra: { fake: '' } });
  await page.addScriptTag({ url: '/node_modules/axe-core/axe.min.js' });
  await launcher(page).click();
  check((await panelLuma(page)) > 200, `light by default: luma ${await panelLuma(page)}`);
  await page.emulateMedia({ colorScheme: 'dark' });
  check((await panelLuma(page)) < 60, `prefers-color-scheme dark: luma ${await panelLuma(page)}`);
  await sleep(300); // the panel's opening animation (opacity) is over
  const dark = await axeRun(page); // every message state, banners, the failed bubble
  await page.evaluate(() => window.widget.setAttribute('theme', 'light'));
  check((await panelLuma(page)) > 200, `theme=light under a dark preference: luma ${await panelLuma(page)}`);
  await page.emulateMedia({ colorScheme: 'light' });
  await page.evaluate(() => window.widget.setAttribute('theme', 'dark'));
  check((await panelLuma(page)) < 60, `theme=dark under a light preference: luma ${await panelLuma(page)}`);
  await page.evaluate(() => window.widget.setAttribute('theme', 'auto'));
  check((await panelLuma(page)) > 200, `theme=auto follows the light preference: luma ${await panelLuma(page)}`);
  check(!dark.length, `axe in dark: ${JSON.stringify(dark)}`);
  await invariants(page, problems);
  await ctx.close();
});

// ----------------------------------------------------------------------------- webview

/** The webview bundle (build/dist/parley-webview.mjs) at 390×844, under the strict CSP. */
async function openWebview(t, server, extra = {}) {
  const ctx = await t.browser.newContext({ viewport: { width: 390, height: 844 }, hasTouch: true });
  const page = await ctx.newPage();
  const problems = watchPage(page);
  const q = new URLSearchParams({ server: server.url, app: APP, ...extra });
  await load(page, `${t.cspWeb.url}/tests/widget/pages/webview.html?${q}`);
  return { ctx, page, problems };
}

/** Messages the widget posted to the native side (type and payload). */
const bridgeOut = (page) => page.evaluate(() => window.out.map((m) => ({ type: m.type, payload: m.payload, ok: m.source === 'parley' && m.v === 1 })));
/** A message as the native app injects it (window.postMessage: the page's own origin). */
const nativeSays = (page, type, payload) =>
  page.evaluate(([type, payload]) => window.postMessage({ source: 'parley', v: 1, type, payload }, location.origin), [type, payload]);

scenario('webview bundle (390×844): full screen, inputs ≥ 16 px, single tab; the bridge posts ready/unread/opened/closed; open only from the allowed origin', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openWebview(t, server);
  await waitFor('ready and unread posted', async () => {
    const out = await bridgeOut(page);
    return out.length >= 2 && out[0].type === 'ready' && out[1].type === 'unread' && out[1].payload.count === 0 && out.every((m) => m.ok);
  });
  check((await page.evaluate(() => window.parley.tabs.mode)) === 'single', 'the webview bundle elects no leader (single tab)');
  check(await page.evaluate(() => window.widget.classList.contains('webview')), 'no webview class on the element');
  // An 'open' from another origin (a cross-origin frame in the page) is ignored.
  const other = t.web.url.replace('127.0.0.1', 'localhost');
  await page.evaluate((src) => new Promise((ok) => {
    const f = document.createElement('iframe');
    f.src = src;
    f.onload = ok;
    document.body.append(f);
  }), `${other}/tests/web/pages/blank.html`);
  const frame = page.frames().find((f) => f.url().startsWith(other));
  check(frame, 'the cross-origin frame did not load');
  const rejected = await page.evaluate(() => window.widget.bridge.stats.rejected);
  await frame.evaluate(() => parent.postMessage({ source: 'parley', v: 1, type: 'open' }, '*'));
  await waitFor('the foreign open counted as rejected', () => page.evaluate((n) => window.widget.bridge.stats.rejected > n, rejected));
  await sleep(200);
  check(await page.locator('parley-messenger .panel').isHidden(), 'an open from another origin opened the panel');
  // From the allowed origin (the page's own: the native app's injected message) it opens.
  await nativeSays(page, 'open');
  await page.locator('parley-messenger .panel').waitFor({ state: 'visible', timeout: WAIT_MS });
  await waitFor('opened posted', async () => (await bridgeOut(page)).some((m) => m.type === 'opened'));
  await sleep(300); // the opening animation
  const box = await page.locator('parley-messenger .panel').boundingBox();
  check(box && box.x === 0 && box.y === 0 && box.width === 390 && box.height === 844, `panel not full screen: ${JSON.stringify(box)}`);
  check(await launcher(page).isHidden(), 'the launcher shows over the full-screen panel');
  const small = await inShadow(page, (root) =>
    [...root.querySelectorAll('input,textarea,select')].map((e) => [e.id || e.className || e.tagName, parseFloat(getComputedStyle(e).fontSize)]).filter(([, px]) => px < 16),
  );
  check(!small.length, `inputs under 16 px: ${JSON.stringify(small)}`);
  const vh = await page.evaluate(() => getComputedStyle(window.widget).getPropertyValue('--parley-vh').trim());
  check(vh === '844px', `--parley-vh ${vh}`);
  // The visual viewport shrinks (as when the on-screen keyboard opens): the panel follows,
  // so the composer stays in view.
  await page.setViewportSize({ width: 390, height: 500 });
  await waitFor('the panel follows the visual viewport', async () => (await page.locator('parley-messenger .panel').boundingBox()).height === 500);
  const vh2 = await page.evaluate(() => getComputedStyle(window.widget).getPropertyValue('--parley-vh').trim());
  check(vh2 === '500px', `--parley-vh after the resize: ${vh2}`);
  const ta = await composer(page).boundingBox();
  check(ta.y + ta.height <= 500, `the composer is below the visual viewport: ${JSON.stringify(ta)}`);
  await page.setViewportSize({ width: 390, height: 844 });
  // A conversation, then closed by the app: an agent reply is posted as unread.
  await sendViaComposer(page, 'hello from the app');
  await waitFor('sent', async () => (await thread(page)).some((m) => /sent|delivered|read/.test(m.state)));
  const conv = await page.evaluate(() => window.widget.conv);
  await nativeSays(page, 'close');
  await page.locator('parley-messenger .panel').waitFor({ state: 'hidden', timeout: WAIT_MS });
  await waitFor('closed posted', async () => (await bridgeOut(page)).some((m) => m.type === 'closed'));
  await agentPost(server, AGENT, conv, 'Reply while closed');
  await waitFor('unread 1 posted', async () => (await bridgeOut(page)).some((m) => m.type === 'unread' && m.payload.count === 1));
  // A push token from the app: kept and announced.
  await page.evaluate(() => window.widget.addEventListener('parley-push-token', (e) => (window.pushed = e.detail.token)));
  await nativeSays(page, 'push_token', { token: 'apns-123' });
  await waitFor('push token', () => page.evaluate(() => window.pushed === 'apns-123' && window.widget.pushToken === 'apns-123'));
  await invariants(page, problems);
  await ctx.close();
});

scenario('webview bundle: the attach button asks the app for a file; the file it sends back reaches the server', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openWebview(t, server);
  await nativeSays(page, 'open');
  await page.locator('parley-messenger .panel').waitFor({ state: 'visible', timeout: WAIT_MS });
  await sendViaComposer(page, 'a picture follows');
  await waitFor('sent', async () => (await thread(page)).some((m) => /sent|delivered|read/.test(m.state)));
  const conv = await page.evaluate(() => window.widget.conv);
  await page.locator('parley-messenger button.attach').click();
  const req = await waitFor('request_file posted', async () => (await bridgeOut(page)).find((m) => m.type === 'request_file'));
  check(req.payload.multiple === true && req.payload.accept.split(',').includes('image/png'), `request_file ${JSON.stringify(req.payload)}`);
  // The app answers with the picked file's bytes (an ArrayBuffer, as from base64).
  await page.evaluate((b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0)).buffer;
    window.postMessage({ source: 'parley', v: 1, type: 'file', payload: { name: 'photo.png', mime: 'image/png', size: data.byteLength, data } }, location.origin);
  }, PNG.toString('base64'));
  await waitFor('the file on the server', async () => (await attachmentsOnServer(server, conv)).includes('photo.png'));
  check(JSON.stringify(await attachmentsOnServer(server, conv)) === JSON.stringify(['photo.png']), 'not on the server once');
  await invariants(page, problems);
  await ctx.close();
});

scenario('webview bundle, classic script (parley-webview.js): single tab, ready, opened by the app, full screen', async (t) => {
  const server = await t.server();
  const { ctx, page, problems } = await openWebview(t, server, { classic: '' });
  await waitFor('ready posted', async () => (await bridgeOut(page)).some((m) => m.type === 'ready'));
  check((await page.evaluate(() => window.parley.tabs.mode)) === 'single', 'the classic webview bundle elects a leader');
  check(await page.evaluate(() => typeof window.Parley.create === 'function' && typeof window.Parley.mount === 'function'), 'no global Parley');
  await nativeSays(page, 'open');
  await page.locator('parley-messenger .panel').waitFor({ state: 'visible', timeout: WAIT_MS });
  await sleep(300);
  const box = await page.locator('parley-messenger .panel').boundingBox();
  check(box && box.width === 390 && box.height === 844, `panel not full screen: ${JSON.stringify(box)}`);
  await invariants(page, problems);
  await ctx.close();
});

// ----------------------------------------------------------------------------- runner

await run();
