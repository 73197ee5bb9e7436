// The widget's screenshot suite: <parley-messenger> in Debian's Chromium against the real
// reference server, at 1280×800 and at 390×844 (a phone: isMobile, touch, 2× pixels).
// Every capture first asserts the state it claims (the suite fails when a state cannot be
// reached), checks the panel's layout (inside the viewport, no horizontal overflow, nothing
// cut off at its edges), then writes build/screens/<viewport>-<state>.png and rewrites
// build/screens/index.html, the page for humans to look at them.
//
//   node tests/widget/screens.mjs [--only NAME] [--binary build/native/parley_server]
//
// States: closed (launcher over a site), open-empty, states (every message state; the stub
// instance of pages/widget.mjs), offline (real: context offline, then sends), rich (agent
// carousel, buttons, quick replies), csat (survey after solve), handoff (the "continue
// elsewhere" sheet), rtl (locale ar), dark (prefers-color-scheme: dark; the note says
// whether the panel actually turned dark). Last, the strict-CSP page: the snippet
// (parley-widget.js) and the ES module from build/dist under `default-src 'self';
// style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' <server>`.
// Then the webview bundle (build/dist/parley-webview.mjs) at 390×844, opened by the native
// bridge: the full-screen panel.
// Last line: "screens: N passed, M failed".

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startStatic, watchPage } from '../web/lib/browser.mjs';
import { agentPost, scenarios, waitFor, WAIT_MS } from '../web/lib/scenarios.mjs';

const APP = 'screens';
const AGENT = 'screens-agent-token';
const OUT = join(ROOT, 'build/screens');
const PAGE = '/tests/widget/pages/screens.html';

const VIEWPORTS = {
  '1280x800': { viewport: { width: 1280, height: 800 } },
  '390x844': { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
};

const { scenario, run } = scenarios('screens', {
  config: {
    apps: [{ id: APP, bot: false, style: 'social_messaging' }],
    agents: [{ id: 'ag_s', name: 'Ada', token: AGENT }],
    limits: { frames_per_second: 1000, burst: 5000 },
  },
});

for (const f of ['build/dist/parley-widget.mjs', 'build/dist/parley-widget.js', 'build/dist/parley-webview.mjs', 'build/wasm/parley_core.mjs']) {
  if (!existsSync(join(ROOT, f))) {
    console.error(`screens: ${f} is missing (tests/run.sh ui builds it)`);
    process.exit(1);
  }
}
// Only this suite's own files: others (the demo's screenshots) may share the folder.
mkdirSync(OUT, { recursive: true });
for (const f of readdirSync(OUT)) if (/^(\d+x\d+-.*\.png|index\.(html|css))$/.test(f)) rmSync(join(OUT, f));

// ----------------------------------------------------------------------------- helpers

function check(cond, what) {
  if (!cond) throw new Error(what);
}

const host = (page) => page.locator('parley-messenger');
const launcher = (page) => page.locator('parley-messenger button[aria-haspopup=dialog]');
const panel = (page) => page.getByRole('dialog');
const composer = (page) => page.locator('parley-messenger textarea');
const BUNDLE_SHIM = "export { defineParleyMessenger, mount } from '/build/dist/parley-widget.mjs';";
const state = (page, s) => page.locator(`parley-messenger .msg .state[data-state=${s}]`);

/** A browser context at the named viewport, the screenshot page loaded (query: see pages/widget.mjs). */
async function openAt(t, vp, query, { dark = false } = {}) {
  const ctx = await t.browser.newContext({ ...VIEWPORTS[vp], locale: query.locale || 'en-US' });
  const page = await ctx.newPage();
  const problems = watchPage(page);
  // The screenshots show the shipped bundle: pages/widget.mjs's import of the source
  // modules is answered with build/dist/parley-widget.mjs (tests/run.sh ui builds it).
  await ctx.route('**/web/src/widget/index.js', (route) => route.fulfill({ contentType: 'text/javascript', body: BUNDLE_SHIM }));
  if (dark) await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto(`${t.web.url}${PAGE}?${new URLSearchParams(query)}`);
  await page.waitForFunction(() => window.ready, null, { timeout: WAIT_MS }).catch((e) => {
    throw new Error(`${e.message}; page: ${problems.join(' | ')}`);
  });
  await launcher(page).waitFor({ state: 'visible', timeout: WAIT_MS });
  return { ctx, page, problems };
}

async function openPanel(page) {
  await launcher(page).click();
  await panel(page).waitFor({ state: 'visible', timeout: WAIT_MS });
  // Geometry is measured after the opening animation.
  await host(page).evaluate((el) => Promise.all(el.shadowRoot.getAnimations().map((a) => a.finished)));
}

/** Sends from the composer and waits until the message is on the server. */
async function send(page, text) {
  await composer(page).fill(text);
  await composer(page).press('Enter');
  await waitFor(`"${text}" sent`, () =>
    host(page).evaluate(
      (el, want) => [...el.shadowRoot.querySelectorAll('.msg.me')].some((m) => m.textContent.includes(want) && /^(sent|delivered|read)$/.test(m.querySelector('.state')?.dataset.state)),
      text,
    ),
  );
}

/** The conversation the visitor just wrote in (public API of the instance). */
const convOf = (page) => page.evaluate(() => window.parley.conversations()[0].conv.id);

/** POST /v1/agent/conversations/<conv>/<what> (agentPost covers plain-text messages). */
async function agentApi(server, conv, what, body) {
  const init = { method: 'POST', headers: { authorization: `Bearer ${AGENT}`, 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const r = await fetch(`${server.url}/v1/agent/conversations/${encodeURIComponent(conv)}/${what}`, init);
  check(r.ok, `agent ${what}: HTTP ${r.status} ${await r.text()}`);
}
const agentSays = (server, conv, body) => agentApi(server, conv, 'messages', body);

/**
 * What is wrong with the panel's geometry (a list, empty when fine). Wanted: inside the
 * viewport; no horizontal overflow of the panel, its scroll areas or the page; nothing cut
 * off at the side by an ancestor that clips without scrolling (overflow hidden/clip, paint containment, content-visibility: auto —
 * the panel itself included). Content inside a horizontal scroller (the carousel) may
 * extend: it scrolls into view.
 */
async function layoutProblems(page) {
  const g = await host(page).evaluate((el) => {
    const p = el.shadowRoot.querySelector('[role=dialog]');
    const b = p.getBoundingClientRect();
    const name = (n) => `${n.tagName.toLowerCase()}${[...n.classList].map((c) => `.${c}`).join('')}`;
    const cut = [];
    for (const n of p.querySelectorAll('*')) {
      const r = n.getBoundingClientRect();
      if (!r.width || !r.height) continue;
      for (let a = n.parentElement; a; a = a === p ? null : a.parentElement) {
        const s = getComputedStyle(a);
        if (/auto|scroll/.test(s.overflowX)) break;
        const clips = /hidden|clip/.test(s.overflowX) || /paint|strict|content/.test(s.contain) || s.contentVisibility === 'auto';
        const c = a.getBoundingClientRect();
        if (clips && (r.left < c.left - 1 || r.right > c.right + 1)) {
          cut.push(`${name(n)} [${Math.round(r.left)}..${Math.round(r.right)}] cut by ${name(a)} [${Math.round(c.left)}..${Math.round(c.right)}]`);
          break;
        }
      }
    }
    const wide = [p, ...p.querySelectorAll('[role=log],.list')].filter((n) => n.scrollWidth > n.clientWidth + 1).map(name);
    return {
      rect: [b.left, b.top, b.right, b.bottom].map(Math.round),
      vw: innerWidth,
      vh: innerHeight,
      pageWide: document.documentElement.scrollWidth > innerWidth,
      cut: cut.slice(0, 3),
      wide,
    };
  });
  const [l, tp, r, bt] = g.rect;
  const bad = [];
  if (!(l >= 0 && tp >= 0 && r <= g.vw && bt <= g.vh && r > l && bt > tp)) bad.push(`panel [${g.rect}] not inside the ${g.vw}×${g.vh} viewport`);
  if (g.wide.length) bad.push(`horizontal overflow in: ${g.wide.join(', ')}`);
  if (g.cut.length) bad.push(`cut off at the side: ${g.cut.join('; ')}`);
  if (g.pageWide) bad.push('the page scrolls horizontally');
  return bad;
}

/** Asserts that the element is visible and inside the message log's visible area. */
async function inView(page, locator, what) {
  const box = await locator.boundingBox();
  const log = await page.getByRole('log').boundingBox();
  check(box && log, `${what}: not rendered`);
  check(box.y >= log.y - 1 && box.y + box.height <= log.y + log.height + 1, `${what}: outside the visible part of the thread`);
}

const shots = [];

/**
 * The page's invariants, then the PNG and the index; a layout problem fails the scenario
 * after the PNG is written, so the defect can be looked at.
 */
async function capture(t, page, problems, vp, name, claims) {
  const styled = await host(page).evaluate((el) => el.shadowRoot.querySelectorAll('[style]').length);
  check(styled === 0, `${styled} elements with a style attribute in the shadow root`);
  const bad = problems.filter((p) => !/favicon|ERR_INTERNET_DISCONNECTED|WebSocket/i.test(p));
  check(!bad.length, `page problems: ${bad.join(' | ')}`);
  const layout = (await panel(page).isVisible()) ? await layoutProblems(page) : [];
  let small = [];
  if (VIEWPORTS[vp].hasTouch) {
    // Controls under the 44×44 px touch target on the phone (≤ 480 px wide): reported, and
    // the scenario fails after the PNG is written.
    small = await host(page).evaluate((el) =>
      [...el.shadowRoot.querySelectorAll('button,a[href],input,select,textarea')]
        .map((n) => [n, n.getBoundingClientRect()])
        .filter(([, r]) => r.width && r.height && (r.width < 44 || r.height < 44))
        .map(([n, r]) => `${(n.getAttribute('aria-label') || n.textContent).trim().slice(0, 16)} ${Math.round(r.width)}×${Math.round(r.height)}`),
    );
    if (small.length) t.note = [t.note, `touch targets under 44 px: ${small.join(', ')}`].filter(Boolean).join('; ');
  }
  const file = `${vp}-${name}.png`;
  await page.screenshot({ path: join(OUT, file), animations: 'disabled', caret: 'hide' });
  shots.push({ file, vp, name, claims, note: [t.note, ...layout.map((p) => `LAYOUT: ${p}`)].filter(Boolean).join(' · ') });
  writeIndex();
  check(!layout.length, layout.join(' | '));
  check(!small.length, `touch targets under 44 px: ${small.join(', ')}`);
}

function writeIndex() {
  const esc = (s) => String(s).replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  const rows = shots
    .map((s) => `<figure><a href="${esc(s.file)}"><img src="${esc(s.file)}" alt="${esc(s.vp)} ${esc(s.name)}" loading="lazy"></a>
<figcaption><b>${esc(s.vp)} · ${esc(s.name)}</b><br>${esc(s.claims)}${s.note ? `<br><i>${esc(s.note)}</i>` : ''}</figcaption></figure>`)
    .join('\n');
  const mine = new Set(shots.map((s) => s.file));
  const others = readdirSync(OUT).filter((f) => f.endsWith('.png') && !mine.has(f));
  writeFileSync(
    join(OUT, 'index.html'),
    `<!doctype html><html lang="en"><meta charset="utf-8"><title>Parley widget screenshots</title>
<link rel="stylesheet" href="index.css">
<h1>Parley widget screenshots</h1>
<p>Written by tests/widget/screens.mjs on ${esc(new Date().toISOString())}. Each state was asserted before its capture.</p>
<main>
${rows}
</main>
${others.length ? `<h2>Other PNGs in this folder</h2><ul>${others.map((f) => `<li><a href="${esc(f)}">${esc(f)}</a></li>`).join('')}</ul>` : ''}
</html>
`,
  );
  writeFileSync(
    join(OUT, 'index.css'),
    'body{font:14px system-ui,sans-serif;margin:20px}main{display:flex;flex-wrap:wrap;gap:20px;align-items:flex-start}' +
      'figure{margin:0;width:420px}img{max-width:100%;max-height:520px;border:1px solid #ccc}figcaption{margin-top:4px}\n',
  );
}

// ----------------------------------------------------------------------------- states

for (const vp of Object.keys(VIEWPORTS)) {
  const live = { app: APP };

  scenario(`${vp} closed: the launcher over the site, nothing else`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url });
    check(await panel(page).isHidden(), 'the panel is open on load');
    const g = await host(page).evaluate((el) => ({ pos: getComputedStyle(el).position, vw: innerWidth, vh: innerHeight }));
    check(g.pos === 'fixed', `host position ${g.pos}`);
    const b = await launcher(page).boundingBox();
    check(b.x + b.width <= g.vw && b.y + b.height <= g.vh && b.x > g.vw / 2 && b.y > g.vh / 2, `launcher at ${JSON.stringify(b)}`);
    check(b.width >= 44 && b.height >= 44, `launcher ${b.width}×${b.height} is below the 44 px touch target`);
    await capture(t, page, problems, vp, 'closed', 'Launcher visible at the bottom right, panel hidden.');
    await ctx.close();
  });

  scenario(`${vp} open-empty: the panel with no conversation yet`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url });
    await openPanel(page);
    check((await page.locator('parley-messenger .msg').count()) === 0, 'messages in a new visitor panel');
    check(await composer(page).isVisible(), 'no composer');
    check(await composer(page).evaluate((ta) => ta.getRootNode().activeElement === ta), 'composer not focused');
    const title = await page.locator('parley-messenger [role=dialog] h2').textContent();
    check(title === 'Messages', `title ${title}`);
    await capture(t, page, problems, vp, 'open-empty', 'Panel open, empty thread, composer visible and focused.');
    await ctx.close();
  });

  scenario(`${vp} states: queued, sending, sent, delivered, read, failed with Retry/Delete (stub instance)`, async (t) => {
    const { ctx, page, problems } = await openAt(t, vp, { fake: '' });
    await openPanel(page);
    for (const s of ['read', 'delivered', 'sent', 'sending', 'queued', 'failed']) {
      check((await state(page, s).count()) >= 1, `state ${s} not shown`);
    }
    for (const s of ['delivered', 'sent', 'sending', 'queued', 'failed']) await inView(page, state(page, s).last(), `state ${s}`);
    const failed = page.locator('parley-messenger .msg.failed');
    for (const a of ['retry', 'delete']) await inView(page, failed.locator(`[data-action=${a}]`), `failed: ${a}`);
    // The failure reason wraps in its own space: Retry and Delete stay side by side.
    const [r, d] = await Promise.all(['retry', 'delete'].map((a) => failed.locator(`[data-action=${a}]`).boundingBox()));
    check(Math.abs(r.y - d.y) < 1 && d.x !== r.x, `Retry at ${JSON.stringify(r)}, Delete at ${JSON.stringify(d)}: not on one line`);
    // The oldest (read, yesterday) may be scrolled off at the top: the log sits at the bottom.
    await inView(page, state(page, 'read').first(), 'read').catch(() => (t.note = 'read: scrolled out of view above'));
    await capture(t, page, problems, vp, 'states', 'Every visitor message state in one thread; the failed one offers Retry and Delete.');
    await ctx.close();
  });

  scenario(`${vp} offline: queued messages and the offline banner (context offline, then send)`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url });
    await openPanel(page);
    await send(page, 'Hi! Has order #4417 left the roastery?');
    await ctx.setOffline(true);
    const banner = page.locator('parley-messenger .banner').filter({ hasText: /offline/ });
    await banner.waitFor({ state: 'visible', timeout: WAIT_MS });
    for (const text of ['I am on the train, signal comes and goes.', 'Could you add a bag of the decaf too?']) {
      await composer(page).fill(text);
      await composer(page).press('Enter');
    }
    await waitFor('two queued', async () => (await state(page, 'queued').count()) === 2);
    const q = page.locator('parley-messenger .msg.queued').last();
    await inView(page, q.locator('[data-action=edit]'), 'queued: Edit');
    await inView(page, q.locator('[data-action=cancel]'), 'queued: Cancel');
    await capture(t, page, problems, vp, 'offline', 'Offline banner; two messages queued with Edit and Cancel; the earlier one sent.');
    await ctx.close();
  });

  scenario(`${vp} rich: carousel, buttons and quick replies from the agent`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url });
    await openPanel(page);
    await send(page, 'Which beans would you recommend for espresso?');
    const conv = await convOf(page);
    await agentSays(server, conv, {
      text: 'Two **espresso** favourites:',
      rich: 'carousel',
      payload: {
        items: [
          { title: 'Minas Gerais', subtitle: 'Hazelnut, milk chocolate · $14', buttons: [{ id: 'mg', label: 'Add to cart' }] },
          { title: 'Huila', subtitle: 'Caramel, cocoa · $16', buttons: [{ id: 'hu', label: 'Add to cart' }] },
          { title: 'Decaf Peru', subtitle: 'Brown sugar, plum · $15', buttons: [{ id: 'dp', label: 'Add to cart' }] },
        ],
      },
    });
    await agentSays(server, conv, {
      text: 'Our brewing guide has the ratios.',
      rich: 'buttons',
      payload: { options: [{ id: 'guide', label: 'Open the guide', url: 'https://example.com/guide' }, { id: 'call', label: 'Call me back' }] },
    });
    await agentSays(server, conv, {
      text: 'How do you grind at home?',
      rich: 'quick_replies',
      payload: { options: [{ id: 'burr', label: 'Burr grinder' }, { id: 'blade', label: 'Blade grinder' }, { id: 'pre', label: 'Pre-ground please' }] },
    });
    for (const k of ['carousel', 'buttons', 'quick_replies']) {
      await page.locator(`parley-messenger .pl-rich-${k}`).waitFor({ state: 'attached', timeout: WAIT_MS });
    }
    check((await page.locator('parley-messenger .pl-card').count()) === 3, 'carousel cards');
    await inView(page, page.locator('parley-messenger .pl-qr').last(), 'quick replies');
    await inView(page, page.locator('parley-messenger .pl-rich-buttons .pl-btn').first(), 'buttons');
    await capture(t, page, problems, vp, 'rich', 'Agent carousel (3 cards), link and action buttons, quick replies in view.');
    await ctx.close();
  });

  scenario(`${vp} csat: the survey after the conversation is solved`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url });
    await openPanel(page);
    await send(page, 'The grinder arrived, thanks!');
    const conv = await convOf(page);
    await agentPost(server, AGENT, conv, 'Glad to hear it. Enjoy your coffee!');
    await agentApi(server, conv, 'status', { status: 'solved' });
    await agentSays(server, conv, { text: '', rich: 'csat', payload: { scale: 5, question: 'How did we do?' } });
    await page.locator('parley-messenger .pl-rich-csat').waitFor({ state: 'visible', timeout: WAIT_MS });
    check((await page.locator('parley-messenger .pl-csat-btn').count()) === 5, 'five rating buttons');
    await inView(page, page.locator('parley-messenger .pl-csat-btn').last(), 'CSAT scale');
    // Readable without an emoji font: each button shows its number beside the face, and
    // keeps its aria-label; the question has no blank band around it.
    const btns = await page.locator('parley-messenger .pl-csat-btn').evaluateAll((bs) => bs.map((b) => [b.textContent, b.getAttribute('aria-label')]));
    btns.forEach(([text, label], i) => check(text.trim().endsWith(String(i + 1)) && label === `${i + 1} / 5`, `CSAT button ${i + 1}: "${text}" (${label})`));
    const margins = await page.locator('parley-messenger .pl-csat-question').evaluate((q) => getComputedStyle(q).marginTop + ' ' + getComputedStyle(q).marginBottom);
    check(margins === '0px 0px', `CSAT question margins ${margins}`);
    // A system line's time sits under its centred pill.
    const sys = await page.locator('parley-messenger .msg.system').first().evaluate((m) => {
      const c = (r) => r.left + r.width / 2;
      return Math.abs(c(m.querySelector('.bubble').getBoundingClientRect()) - c(m.querySelector('time').getBoundingClientRect()));
    });
    check(sys <= 2, `the system line's time is ${sys} px off its pill's centre`);
    await capture(t, page, problems, vp, 'csat', 'CSAT survey (scale 5) after the agent solved the conversation.');
    await ctx.close();
  });

  scenario(`${vp} handoff: the "continue by SMS / WhatsApp / e-mail" sheet`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url });
    await openPanel(page);
    await send(page, 'Can we continue on WhatsApp?');
    await page.getByRole('button', { name: 'Continue elsewhere' }).click();
    const sheet = page.locator('parley-messenger .sheet');
    await sheet.waitFor({ state: 'visible', timeout: WAIT_MS });
    const select = sheet.getByRole('combobox');
    const options = await select.locator('option').allTextContents();
    for (const o of ['SMS', 'WhatsApp', 'Email']) check(options.includes(o), `channel ${o} missing: ${options}`);
    await select.selectOption('whatsapp');
    await sheet.locator('input').fill('+15551234567');
    const go = sheet.getByRole('button', { name: 'Continue' });
    check(await go.isVisible(), 'no Continue button');
    const box = await go.boundingBox();
    const vh = await page.evaluate(() => innerHeight);
    check(box.y + box.height <= vh, 'the Continue button is below the viewport');
    await capture(t, page, problems, vp, 'handoff', 'Handoff sheet open: WhatsApp chosen, a number typed, Continue visible.');
    await ctx.close();
  });

  scenario(`${vp} rtl: Arabic, dir=rtl, the visitor on the left and the agent on the right`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url, locale: 'ar' });
    const label = await launcher(page).getAttribute('aria-label');
    check(/[\u0600-\u06ff]/.test(label), `launcher label ${label}`);
    await openPanel(page);
    check((await panel(page).getAttribute('dir')) === 'rtl', 'panel not dir=rtl');
    await send(page, 'مرحبا، هل وصل طلبي؟');
    await agentPost(server, AGENT, await convOf(page), 'أهلا! نعم، وصل طلبك صباح اليوم.');
    const them = page.locator('parley-messenger .msg.them .bubble').last();
    await them.waitFor({ state: 'visible', timeout: WAIT_MS });
    const me = await page.locator('parley-messenger .msg.me .bubble').last().boundingBox();
    const ag = await them.boundingBox();
    const p = await panel(page).boundingBox();
    const mid = p.x + p.width / 2;
    check(me.x < mid && ag.x + ag.width > mid && me.x < ag.x, `bubbles not mirrored: visitor x=${me.x}, agent x=${ag.x}`);
    await capture(t, page, problems, vp, 'rtl', 'Arabic, dir=rtl: the visitor on the left, the agent on the right.');
    await ctx.close();
  });

  scenario(`${vp} dark: prefers-color-scheme dark`, async (t) => {
    const server = await t.server();
    const { ctx, page, problems } = await openAt(t, vp, { ...live, server: server.url }, { dark: true });
    check(await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches), 'dark scheme not emulated');
    await openPanel(page);
    await send(page, 'Is the Ethiopian still in stock?');
    await agentPost(server, AGENT, await convOf(page), 'It is, and the new harvest lands next week.');
    await page.locator('parley-messenger .msg.them').waitFor({ state: 'visible', timeout: WAIT_MS });
    const lum = await panel(page).evaluate((p) => {
      const [r, g, b] = getComputedStyle(p).backgroundColor.match(/\d+(\.\d+)?/g).map(Number);
      return Math.round(0.2126 * r + 0.7152 * g + 0.0722 * b);
    });
    t.note = lum < 100 ? `panel background dark (luma ${lum})` : `NOT DARK: the panel background is light (luma ${lum}) under prefers-color-scheme: dark`;
    await capture(t, page, problems, vp, 'dark', 'prefers-color-scheme: dark emulated; a short thread.');
    await ctx.close();
  });
}

// ----------------------------------------------------------------------------- strict CSP

// The screenshot page, served under the strict CSP with an integrator's markup in place of
// the test loader: the snippet (<script src=parley-widget.js defer> + <parley-messenger>)
// or the ES module (parley-widget.mjs).
function cspPage(form, server) {
  const widget = form === 'snippet' ? '<script src="/build/dist/parley-widget.js" defer></script>' : '<script type="module" src="/build/dist/parley-widget.mjs"></script>';
  const el = `<parley-messenger class="csp-themed" app-id="${APP}" server="${server.url}"></parley-messenger>`;
  return readFileSync(join(ROOT, PAGE), 'utf8')
    .replace(/<script type="module" src="[^"]*screens\.mjs"><\/script>/, widget)
    .replace('</body>', `${el}\n</body>`);
}

for (const [form, vp] of [
  ['snippet', '1280x800'],
  ['module', '390x844'],
]) {
  scenario(`${vp} strict CSP (${form}): no violation, styled launcher and panel, no [style]`, async (t) => {
    const server = await t.server();
    const csp = `default-src 'self'; style-src 'self'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self' ${server.url} ${server.url.replace(/^http/, 'ws')}`;
    const web = await startStatic({
      csp,
      routes: {
        '/favicon.ico': (req, res) => res.writeHead(204).end(),
        '/csp.html': (req, res) => res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'content-security-policy': csp }).end(cspPage(form, server)),
      },
    });
    const ctx = await t.browser.newContext(VIEWPORTS[vp]);
    try {
      await ctx.addInitScript(() => {
        window.cspViolations = [];
        document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      const page = await ctx.newPage();
      const problems = watchPage(page);
      page.on('console', (m) => /content security policy/i.test(m.text()) && problems.push(`csp: ${m.text()}`));
      await page.goto(`${web.url}/csp.html`);
      await launcher(page).waitFor({ state: 'visible', timeout: WAIT_MS });
      const accent = 'rgb(10, 125, 69)'; // .csp-themed in screens.css
      const l = await launcher(page).evaluate((b) => {
        const s = getComputedStyle(b);
        const hs = getComputedStyle(b.getRootNode().host);
        return { host: hs.position, w: b.offsetWidth, h: b.offsetHeight, bg: s.backgroundColor, radius: s.borderTopLeftRadius };
      });
      check(l.host === 'fixed', `host position ${l.host}`);
      check(l.w >= 44 && l.h >= 44, `launcher ${l.w}×${l.h}`);
      check(l.bg === accent, `launcher background ${l.bg}, want the accent ${accent}`);
      await openPanel(page);
      const p = await panel(page).evaluate((d) => {
        const s = getComputedStyle(d);
        return { display: s.display, dir: s.flexDirection, w: d.offsetWidth, h: d.offsetHeight, header: getComputedStyle(d.querySelector('header')).backgroundColor };
      });
      check(p.display === 'flex' && p.dir === 'column' && p.w >= 300 && p.h >= 300, `panel layout ${JSON.stringify(p)}`);
      check(p.header === accent, `header background ${p.header}`);
      await send(page, 'Hello from a strict-CSP page');
      const v = await page.evaluate(() => window.cspViolations);
      check(!v.length, `securitypolicyviolation: ${v.join('; ')}`);
      await capture(t, page, problems, vp, `csp-${form}`, `Strict CSP, the ${form} from build/dist: themed accent, panel laid out, a message sent, zero violations.`);
    } finally {
      await ctx.close();
      await web.close();
    }
  });
}

// ----------------------------------------------------------------------------- webview

scenario('390x844 webview: the webview bundle opened by the native bridge, full screen', async (t) => {
  const server = await t.server();
  const vp = '390x844';
  const ctx = await t.browser.newContext(VIEWPORTS[vp]);
  try {
    const page = await ctx.newPage();
    const problems = watchPage(page);
    await page.goto(`${t.web.url}/tests/widget/pages/webview.html?${new URLSearchParams({ server: server.url, app: APP })}`);
    await page.waitForFunction(() => window.ready && window.out.some((m) => m.type === 'ready'), null, { timeout: WAIT_MS });
    await page.evaluate(() => window.postMessage({ source: 'parley', v: 1, type: 'open' }, location.origin));
    await panel(page).waitFor({ state: 'visible', timeout: WAIT_MS });
    await host(page).evaluate((el) => Promise.all(el.shadowRoot.getAnimations().map((a) => a.finished)));
    await send(page, 'Hi from the app! Where is my order?');
    await agentPost(server, AGENT, await convOf(page), 'It left the roastery this morning.');
    await page.locator('parley-messenger .msg.them').waitFor({ state: 'visible', timeout: WAIT_MS });
    const b = await panel(page).boundingBox();
    check(b.x === 0 && b.y === 0 && b.width === 390 && b.height === 844, `panel not full screen: ${JSON.stringify(b)}`);
    check(await launcher(page).isHidden(), 'launcher over the full-screen panel');
    await capture(t, page, problems, vp, 'webview', 'Webview bundle, opened by the native bridge: the panel fills the screen, no launcher.');
  } finally {
    await ctx.close();
  }
});

await run();
