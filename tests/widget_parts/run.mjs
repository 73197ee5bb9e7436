#!/usr/bin/env node
// The widget's self-contained parts in Chromium: web/src/widget/markdown.js, rich.js,
// bridge.js, webview.js. Pages are tests/widget_parts/pages/*.html (no inline scripts).
//
//   node tests/widget_parts/run.mjs [--only NAME]
//
// Servers: A (127.0.0.1, no CSP, so an injected script WOULD run and set window.__pwned),
// B (127.0.0.1, another port, strict CSP: script-src 'self', style-src 'self'), and B's
// other origin http://localhost:<B port> as the disallowed bridge peer.
// Last line: `widget-parts: N passed, M failed`; exit status 1 on any failure.

import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { ROOT, launchChromium, startStatic } from '../web/lib/browser.mjs';
import { HOSTILE, HOSTILE_URLS } from './corpus.mjs';

const { values: args } = parseArgs({ options: { only: { type: 'string', default: '' } } });
const watchdog = setTimeout(() => {
  console.error('widget-parts: watchdog (180 s) expired');
  process.exit(1);
}, 180000);

const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' https:; " +
  "frame-src http://127.0.0.1:* http://localhost:*; object-src 'none'; base-uri 'none'";

function check(cond, what) {
  if (!cond) throw new Error(what);
}
function eq(a, b, what) {
  if (JSON.stringify(a) !== JSON.stringify(b)) {
    throw new Error(`${what}:\n    got      ${JSON.stringify(a)}\n    expected ${JSON.stringify(b)}`);
  }
}

// ---------------------------------------------------------------------------------------
// The XSS corpus (tests/widget_parts/corpus.mjs, shared with tests/widget/run.mjs): every
// string goes through every text, label, url and name position.
function bodiesFor(s, url) {
  const opt = (extra = {}) => ({ id: 'o', label: s, value: s, ...extra });
  return [
    { text: s },
    { text: s, rich: 'quick_replies', payload: { options: [opt(), opt({ url })] } },
    { text: s, rich: 'buttons', payload: { options: [opt({ url }), opt()] } },
    {
      rich: 'carousel',
      payload: { items: [{ title: s, subtitle: s, image: url, buttons: [opt({ url }), opt()] }] },
    },
    {
      rich: 'form',
      payload: {
        fields: [
          { name: s, label: s, type: 'text', required: true },
          { name: 'sel', label: s, type: 'select', options: [s, s] },
          { name: 'n', label: s, type: s },
        ],
      },
    },
    { rich: 'csat', payload: { scale: 5, question: s } },
    { text: s, attachments: [{ id: 'a', name: s, mime: s, size: 1234, url }] },
    { text: s, rich: s, payload: { label: s } },
  ];
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

// ---------------------------------------------------------------------------------------
test('xss corpus renders inert (no element/attribute outside the allowlist, no script)', async ({ page }) => {
  check(HOSTILE.length + HOSTILE_URLS.length >= 50, 'corpus has at least 50 payloads');
  const urls = HOSTILE_URLS.map((u) => (u && typeof u === 'object' ? String(u) : u));
  const cases = [
    ...HOSTILE.map((s, i) => [s, bodiesFor(s, urls[i % urls.length])]),
    ...urls.map((u) => [String(u), bodiesFor('x', u)]),
  ];
  const result = await page.evaluate((cases) => {
    const { renderMarkdown, linkify, renderBody, audit } = window.WP;
    const bad = [];
    const box = document.createElement('div');
    document.body.append(box);
    for (const [s, bodies] of cases) {
      const nodes = [renderMarkdown(s), linkify(s)];
      for (const b of bodies) {
        for (const author of ['agent', 'visitor', { role: 'bot' }, undefined]) {
          nodes.push(renderBody(b, { author, onAction: () => {} }));
        }
      }
      for (const node of nodes) {
        const holder = document.createElement('div');
        holder.append(node);
        box.append(holder);
        for (const p of audit(holder)) bad.push(`${JSON.stringify(s).slice(0, 60)}: ${p}`);
      }
    }
    // Plain text survives as text.
    const lit = renderMarkdown('<script>x</script>');
    return { bad: bad.slice(0, 20), count: bad.length, literal: lit.textContent };
  }, cases);
  eq(result.bad, [], `allowlist violations (${result.count})`);
  eq(result.literal, '<script>x</script>', 'html shows as literal text');
  // Give onerror/onload a chance to fire if anything had been injected.
  await page.waitForTimeout(300);
  eq(await page.evaluate(() => window.__pwned), undefined, 'window.__pwned');
});

test('control: the audit and the __pwned flag do detect a real injection', async ({ page }) => {
  // Test-side only: proves the XSS test would notice an injected element and a running handler.
  const r = await page.evaluate(async () => {
    const d = document.createElement('div');
    d.innerHTML = '<img src="/nope.png" onerror="window.__control=1"><b style="x">b</b>';
    document.body.append(d);
    await new Promise((ok) => setTimeout(ok, 300));
    return { control: window.__control, audit: window.WP.audit(d) };
  });
  eq(r.control, 1, 'control handler ran');
  check(r.audit.some((p) => p.startsWith('attribute IMG onerror')) && r.audit.includes('element B'), `audit: ${r.audit}`);
});

test('locale tables: fr and ar have exactly the English keys, and the same {placeholders}', async () => {
  const load = async (l) => (await import(`${ROOT}/web/src/widget/i18n/${l}.js`)).default;
  const en = await load('en');
  // The launcher's label before the table arrives is English's, word for word.
  const { BOOT } = await import(`${ROOT}/web/src/widget/i18n/index.js`);
  for (const k of Object.keys(BOOT)) eq(BOOT[k], en[k], `BOOT.${k}`);
  const vars = (s) => (String(s).match(/\{\w+\}/g) || []).sort().join();
  for (const l of ['fr', 'ar']) {
    const t = await load(l);
    eq(Object.keys(t).sort(), Object.keys(en).sort(), `${l} keys`);
    const bad = Object.keys(en).filter((k) => vars(t[k]) !== vars(en[k]));
    eq(bad, [], `${l} placeholders`);
  }
});

test('sources use no HTML sinks, eval or inline styles', async () => {
  const forbidden = /innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\s*\(|new Function|Function\s*\(|setAttribute\(\s*['"](style|on\w+)|\.style\s*=(?!=)|\.cssText|srcdoc|createContextualFragment|DOMParser|unsafeHTML|unsafeSVG|unsafeMathML|unsafeStatic/;
  const bad = [];
  for (const f of ['markdown', 'rich', 'bridge', 'webview', 'index', 'body', 'lit', 'styles']) {
    const lines = readFileSync(`${ROOT}/web/src/widget/${f}.js`, 'utf8').split('\n');
    lines.forEach((l, i) => {
      if (!/^\s*\/\//.test(l) && forbidden.test(l)) bad.push(`${f}.js:${i + 1}: ${l.trim()}`);
    });
  }
  eq(bad, [], 'forbidden APIs');
});

test('objects with hostile toString and non-string fields never throw', async ({ page }) => {
  const r = await page.evaluate(() => {
    const { renderBody, renderMarkdown, linkify } = window.WP;
    const evil = { toString: () => 'javascript:window.__pwned=1' };
    const weird = [undefined, null, 0, 1, true, 'str', [], [1, 2], evil, { text: 5 }, { text: evil },
      { rich: 'buttons' }, { rich: 'buttons', payload: null }, { rich: 'buttons', payload: 'x' },
      { rich: 'buttons', payload: { options: 'x' } }, { rich: 'buttons', payload: { options: [null, 1, {}, { label: 3 }] } },
      { rich: 'carousel', payload: { items: [{ title: evil, image: evil }] } },
      { rich: 'form', payload: { fields: [{ name: 'x', label: 'X', type: 'select' }] } },
      { rich: 'form', payload: { fields: { length: 1e9 } } },
      { rich: 'csat', payload: { scale: 7 } }, { rich: 'csat', payload: { scale: '5' } },
      { rich: '__proto__', payload: {} }, { rich: 'constructor', payload: {} }, { rich: 'toString', payload: {} },
      { attachments: 'x' }, { attachments: [null, { name: evil, url: evil, size: -1 }, { name: 'a', size: NaN }] },
      { attachments: new Array(1000).fill({ name: 'f', size: 1, url: 'https://ok.example/f' }) }];
    const errors = [];
    let count = 0;
    for (const b of weird) {
      try {
        const n = renderBody(b, { author: 'agent' });
        count += n.querySelectorAll('*').length;
        for (const p of window.WP.audit(n)) errors.push(p);
      } catch (e) {
        errors.push(`${JSON.stringify(b)}: ${e.message}`);
      }
    }
    for (const t of [undefined, null, 5, evil]) {
      try {
        renderMarkdown(t);
        linkify(t);
      } catch (e) {
        errors.push(`md ${e.message}`);
      }
    }
    const att = renderBody(weird.at(-1)).querySelectorAll('.pl-attachment').length;
    return { errors, att };
  });
  eq(r.errors, [], 'errors');
  eq(r.att, 10, 'attachments are capped at 10');
});

test('pathological markdown stays fast and inert (100 KB of *, deep nesting)', async ({ page }) => {
  const r = await page.evaluate(() => {
    const { renderMarkdown, audit } = window.WP;
    const inputs = {
      stars: '*'.repeat(100000),
      stars_spaced: '* '.repeat(50000),
      underscores: '_'.repeat(100000),
      unclosed: ' **a'.repeat(25000),
      unclosed_em: ' *a'.repeat(30000),
      nested: '**_*'.repeat(2000) + 'x' + '*_**'.repeat(2000),
      brackets: '['.repeat(50000) + ']('.repeat(50000),
      backticks: '`'.repeat(100000),
      fences: '```\n'.repeat(20000),
      list: '- '.repeat(30000) + 'x',
      urls: 'https://a.example/'.repeat(5000),
      lines: 'a\n'.repeat(50000),
    };
    const out = {};
    for (const [k, s] of Object.entries(inputs)) {
      const t0 = performance.now();
      const frag = renderMarkdown(s);
      const ms = performance.now() - t0;
      const holder = document.createElement('div');
      holder.append(frag);
      let depth = 0;
      for (let n = holder; n.firstElementChild; n = n.firstElementChild) depth++;
      let maxDepth = 0;
      for (const el of holder.querySelectorAll('*')) {
        let d = 0;
        for (let n = el; n !== holder; n = n.parentNode) d++;
        maxDepth = Math.max(maxDepth, d);
      }
      out[k] = { ms: Math.round(ms), bad: audit(holder).length, maxDepth };
    }
    return out;
  });
  for (const [k, v] of Object.entries(r)) {
    check(v.ms < 1500, `${k}: took ${v.ms} ms`);
    check(v.bad === 0, `${k}: ${v.bad} allowlist violations`);
    check(v.maxDepth <= 12, `${k}: nesting depth ${v.maxDepth}`);
  }
  console.log(`    timings ms: ${Object.entries(r).map(([k, v]) => `${k}=${v.ms}`).join(' ')}`);
});

// ---------------------------------------------------------------------------------------
const MD_CASES = [
  ['hello', 'p("hello")'],
  ['a\nb\n\nc', 'p("a" br "b") p("c")'],
  ['**bold** and *it* and _it2_', 'p(strong("bold") " and " em("it") " and " em("it2"))'],
  ['snake_case_name and 2*3*4', 'p("snake_case_name and 2" em("3") "4")'],
  ['use `a *b* <c>` now', 'p("use " code("a *b* <c>") " now")'],
  ['```js\nlet a = 1;\n<b>x</b>\n```\nafter', 'pre(code("let a = 1;\\n<b>x</b>")) p("after")'],
  ['- one\n- **two**\n* three', 'ul(li("one") li(strong("two")) li("three"))'],
  ['1. a\n2. b', 'ol(li("a") li("b"))'],
  ['3) c\n4) d', 'ol[start=3](li("c") li("d"))'],
  ['intro\n- x\n\n1. y', 'p("intro") ul(li("x")) ol(li("y"))'],
  ['see [docs](https://ex.com/d?a=1&b=2)', 'p("see " a[href=https://ex.com/d?a=1&b=2]("docs"))'],
  ['[**bold link**](http://ex.com)', 'p(a[href=http://ex.com/](strong("bold link")))'],
  ['mail [me](mailto:a@ex.com)', 'p("mail " a[href=mailto:a@ex.com]("me"))'],
  ['go to https://ex.com/a_b_c.', 'p("go to " a[href=https://ex.com/a_b_c]("https://ex.com/a_b_c") ".")'],
  ['(https://ex.com/wiki/X_(y)) ok', 'p("(" a[href=https://ex.com/wiki/X_(y)]("https://ex.com/wiki/X_(y)") ") ok")'],
  ['[bad](javascript:alert(1))', 'p("[bad](javascript:alert(1))")'],
  ['[bad](data:text/html,x)', 'p("[bad](data:text/html,x)")'],
  ['[rel](/x) [proto](//evil.com)', 'p("[rel](/x) [proto](//evil.com)")'],
  ['javascript:alert(1)', 'p("javascript:alert(1)")'],
  ['**unclosed and *also', 'p("**unclosed and *also")'],
  ['# not a heading <b>', 'p("# not a heading <b>")'],
  ['***both***', 'p(strong(em("both")))'],
];

test('markdown features render as expected', async ({ page }) => {
  const got = await page.evaluate((cases) => {
    const { renderMarkdown, shape } = window.WP;
    return cases.map(([src]) => {
      const d = document.createElement('div');
      d.append(renderMarkdown(src));
      return shape(d);
    });
  }, MD_CASES);
  const bad = [];
  MD_CASES.forEach(([src, want], i) => {
    if (got[i] !== want) bad.push(`${JSON.stringify(src)}\n      got      ${got[i]}\n      expected ${want}`);
  });
  check(!bad.length, `\n    ${bad.join('\n    ')}`);
  const links = await page.evaluate(() => {
    const d = document.createElement('div');
    d.append(window.WP.renderMarkdown('[a](https://ex.com) https://ex.com/b'));
    return [...d.querySelectorAll('a')].map((a) => [a.rel, a.target]);
  });
  eq(links, [['noopener noreferrer nofollow', '_blank'], ['noopener noreferrer nofollow', '_blank']], 'link attributes');
});

test('linkify: plain text with safe auto-links only', async ({ page }) => {
  const got = await page.evaluate(() => {
    const { linkify, shape } = window.WP;
    return [
      'hi **not bold** <b>x</b>',
      'a https://ex.com/x, and javascript:alert(1) and mailto:a@ex.com!\nline2',
      '[label](https://ex.com)',
    ].map((s) => {
      const d = document.createElement('div');
      d.append(linkify(s));
      return shape(d);
    });
  });
  eq(got, [
    '"hi **not bold** <b>x</b>"',
    '"a " a[href=https://ex.com/x]("https://ex.com/x") ", and javascript:alert(1) and " a[href=mailto:a@ex.com]("mailto:a@ex.com") "!" br "line2"',
    '"[label](" a[href=https://ex.com/]("https://ex.com") ")"',
  ], 'linkify');
});

// ---------------------------------------------------------------------------------------
test('text: markdown for agent/bot, linkify for visitor/others', async ({ page }) => {
  const got = await page.evaluate(() => {
    const { renderBody, shape } = window.WP;
    return ['agent', { role: 'bot' }, 'visitor', { role: 'system' }, undefined].map((author) =>
      shape(renderBody({ text: '**b** https://ex.com' }, { author }).querySelector('.pl-text')),
    );
  });
  const md = 'p(strong("b") " " a[href=https://ex.com/]("https://ex.com"))';
  const lk = '"**b** " a[href=https://ex.com/]("https://ex.com")';
  eq(got, [md, md, lk, lk, lk], 'text rendering by author');
});

test('quick_replies: buttons, onAction reply, then disabled', async ({ page }) => {
  const r = await page.evaluate(() => {
    const actions = [];
    const n = window.WP.renderBody(
      { text: 'Pick', rich: 'quick_replies', payload: { options: [{ id: 'yes', label: 'Yes' }, { id: 'no', label: 'No', value: 'n' }] } },
      { author: 'bot', onAction: (a) => actions.push(a) },
    );
    document.body.append(n);
    const btns = [...n.querySelectorAll('.pl-rich-quick_replies button.pl-qr')];
    const before = btns.map((b) => [b.textContent, b.type, b.disabled]);
    btns[1].click();
    btns[0].click();
    const after = btns.map((b) => [b.disabled, b.classList.contains('is-chosen')]);
    return { before, after, actions };
  });
  eq(r.before, [['Yes', 'button', false], ['No', 'button', false]], 'buttons');
  eq(r.actions, [{ type: 'reply', value: 'n', label: 'No', id: 'no' }], 'actions');
  eq(r.after, [[true, false], [true, true]], 'disabled after use');
});

test('buttons: url → safe link, others → reply with value||label', async ({ page }) => {
  const r = await page.evaluate(() => {
    const actions = [];
    const n = window.WP.renderBody(
      {
        rich: 'buttons',
        payload: {
          options: [
            { id: 'd', label: 'Docs', url: 'https://ex.com/d' },
            { id: 'x', label: 'Evil', url: 'javascript:window.__pwned=1' },
            { id: 'a', label: 'Agent', value: 'talk_to_agent' },
            { id: 'b', label: 'Bye' },
          ],
        },
      },
      { author: 'bot', onAction: (a) => actions.push(a) },
    );
    const box = n.querySelector('.pl-rich-buttons');
    const kids = [...box.children].map((c) => [c.tagName, c.className, c.textContent, c.getAttribute('href'), c.getAttribute('rel'), c.getAttribute('target')]);
    for (const b of box.querySelectorAll('button')) b.click();
    for (const b of box.querySelectorAll('button')) b.click();
    return { kids, actions };
  });
  eq(r.kids, [
    ['A', 'pl-btn', 'Docs', 'https://ex.com/d', 'noopener noreferrer nofollow', '_blank'],
    ['SPAN', 'pl-btn-off', 'Evil', null, null, null],
    ['BUTTON', 'pl-btn', 'Agent', null, null, null],
    ['BUTTON', 'pl-btn', 'Bye', null, null, null],
  ], 'children');
  eq(r.actions, [
    { type: 'reply', value: 'talk_to_agent', label: 'Agent', id: 'a' },
    { type: 'reply', value: 'Bye', label: 'Bye', id: 'b' },
    { type: 'reply', value: 'talk_to_agent', label: 'Agent', id: 'a' },
    { type: 'reply', value: 'Bye', label: 'Bye', id: 'b' },
  ], 'actions (buttons stay usable)');
});

test('carousel: cards, https images only, buttons', async ({ page }) => {
  const r = await page.evaluate(() => {
    const actions = [];
    const n = window.WP.renderBody(
      {
        rich: 'carousel',
        payload: {
          items: [
            { title: 'Plan A', subtitle: '$10/month', image: 'https://ex.com/a.png', buttons: [{ id: 'a', label: 'Choose' }] },
            { title: 'Plan B', image: 'http://ex.com/b.png' },
            { title: 'Plan C', image: 'data:image/png;base64,iVBORw0KGgo=' },
            { subtitle: 'no title: skipped' },
          ],
        },
      },
      { author: 'bot', onAction: (a) => actions.push(a) },
    );
    const cards = [...n.querySelectorAll('.pl-rich-carousel > .pl-card')].map((c) => window.WP.shape(c));
    const img = n.querySelector('img');
    n.querySelector('.pl-card button').click();
    return {
      cards,
      img: [img.getAttribute('alt'), img.getAttribute('referrerpolicy'), img.getAttribute('loading')],
      actions,
    };
  });
  eq(r.cards, [
    'img[src=https://ex.com/a.png alt=Plan A] div("Plan A") div("$10/month") div(button("Choose"))',
    'div("Plan B")',
    'div("Plan C")',
  ], 'cards');
  eq(r.img, ['Plan A', 'no-referrer', 'lazy'], 'img attributes');
  eq(r.actions, [{ type: 'reply', value: 'Choose', label: 'Choose', id: 'a' }], 'actions');
});

test('form: labelled fields, required enforced, submit → values', async ({ page }) => {
  const r = await page.evaluate(() => {
    const actions = [];
    const n = window.WP.renderBody(
      {
        rich: 'form',
        payload: {
          fields: [
            { name: 'email', label: 'E-mail', type: 'email', required: true },
            { name: 'size', label: 'Size', type: 'select', options: ['S', 'M', 'L'] },
            { name: 'qty', label: 'Quantity', type: 'number' },
            { name: 'note', label: 'Note', type: 'text' },
            { name: 'bad', label: 'Bad', type: 'password' },
          ],
        },
      },
      { author: 'bot', onAction: (a) => actions.push(a), labels: { submit: 'Envoyer' } },
    );
    document.body.append(n);
    const form = n.querySelector('form.pl-form');
    const fields = [...form.querySelectorAll('label.pl-field')].map((l) => {
      const i = l.querySelector('.pl-input');
      return [l.querySelector('.pl-field-label').textContent, i.tagName, i.type, i.name, i.required, i.labels[0] === l];
    });
    const submit = form.querySelector('button.pl-submit');
    form.requestSubmit(submit); // invalid: the required e-mail is empty
    const afterInvalid = actions.length;
    form.elements.email.value = 'a@ex.com';
    form.elements.size.value = 'M';
    form.elements.qty.value = '3';
    form.requestSubmit(submit);
    form.requestSubmit(submit); // disabled now: no second action
    return { fields, submit: [submit.type, submit.textContent], afterInvalid, actions, disabled: form.querySelector('fieldset').disabled };
  });
  eq(r.fields, [
    ['E-mail', 'INPUT', 'email', 'email', true, true],
    ['Size', 'SELECT', 'select-one', 'size', false, true],
    ['Quantity', 'INPUT', 'number', 'qty', false, true],
    ['Note', 'INPUT', 'text', 'note', false, true],
  ], 'fields (unknown type skipped)');
  eq(r.submit, ['submit', 'Envoyer'], 'submit button');
  eq(r.afterInvalid, 0, 'invalid form does not submit');
  eq(r.actions, [{ type: 'form', values: { email: 'a@ex.com', size: 'M', qty: 3, note: '' } }], 'actions');
  eq(r.disabled, true, 'fieldset disabled after submit');
});

test('csat: 3 and 5 point scales with aria-labels → score', async ({ page }) => {
  const r = await page.evaluate(() => {
    const out = {};
    for (const scale of [3, 5]) {
      const actions = [];
      const n = window.WP.renderBody(
        { rich: 'csat', payload: { scale, question: 'How did we do?' } },
        { author: 'bot', onAction: (a) => actions.push(a), labels: scale === 5 ? { rate: (i, s) => `Note ${i}/${s}` } : undefined },
      );
      const btns = [...n.querySelectorAll('.pl-csat-scale button.pl-csat-btn')];
      const group = n.querySelector('.pl-csat-scale');
      const labels = btns.map((b) => b.getAttribute('aria-label'));
      btns[scale - 2].click();
      btns[0].click();
      out[scale] = {
        q: n.querySelector('.pl-csat-question').textContent,
        group: [group.getAttribute('role'), group.getAttribute('aria-label')],
        labels,
        actions,
        disabled: btns.every((b) => b.disabled),
        pressed: btns.map((b) => b.getAttribute('aria-pressed')),
      };
    }
    return out;
  });
  eq(r[3].labels, ['1 of 3', '2 of 3', '3 of 3'], 'scale 3 labels');
  eq(r[5].labels, ['Note 1/5', 'Note 2/5', 'Note 3/5', 'Note 4/5', 'Note 5/5'], 'scale 5 labels');
  eq(r[3].actions, [{ type: 'csat', score: 2, scale: 3 }], 'scale 3 action');
  eq(r[5].actions, [{ type: 'csat', score: 4, scale: 5 }], 'scale 5 action');
  eq(r[5].q, 'How did we do?', 'question');
  eq(r[5].group, ['group', 'How did we do?'], 'group label');
  check(r[3].disabled && r[5].disabled, 'disabled after a score');
  eq(r[5].pressed, [null, null, null, 'true', null], 'aria-pressed');
});

test('attachments: safe links with name and Intl size', async ({ page }) => {
  const r = await page.evaluate(() => {
    const n = window.WP.renderBody(
      {
        attachments: [
          { id: 'a', name: 'report.pdf', mime: 'application/pdf', size: 1234567, url: 'https://files.ex.com/r.pdf' },
          { id: 'b', name: 'pic.png', mime: 'image/png', size: 512, url: '/v1/files/abc123?sig=x' },
          { id: 'c', name: 'evil.html', mime: 'text/html', size: 10, url: 'javascript:window.__pwned=1' },
          { id: 'd', name: 'pending.txt', mime: 'text/plain', size: 2048, blob_ref: 'k1' },
          { id: 'e', name: 'mail', mime: 'x', size: 1, url: 'mailto:a@ex.com' },
        ],
      },
      { locale: 'en', fileBase: 'https://api.parley.example/' },
    );
    return [...n.querySelectorAll('.pl-attachments > li.pl-attachment > .pl-file')].map((f) => [
      f.tagName,
      f.getAttribute('href'),
      f.querySelector('.pl-file-name').textContent,
      f.querySelector('.pl-file-size')?.textContent,
    ]);
  });
  eq(r, [
    ['A', 'https://files.ex.com/r.pdf', 'report.pdf', '1.2 MB'],
    ['A', 'https://api.parley.example/v1/files/abc123?sig=x', 'pic.png', '512 bytes'],
    ['SPAN', null, 'evil.html', '10 bytes'],
    ['SPAN', null, 'pending.txt', '2 kB'],
    ['SPAN', null, 'mail', '1 byte'],
  ], 'attachments');
});

test('malformed payloads degrade to text', async ({ page }) => {
  const r = await page.evaluate(() => {
    const { renderBody } = window.WP;
    const cases = [
      { text: 'hi', rich: 'quick_replies', payload: { options: [] } },
      { text: 'hi', rich: 'buttons', payload: { options: [{ id: 'x' }] } },
      { text: 'hi', rich: 'carousel', payload: { items: 'nope' } },
      { text: 'hi', rich: 'form', payload: { fields: [{ name: 'x', label: 'Pick one', type: 'select', options: [] }] } },
      { text: 'hi', rich: 'csat', payload: { scale: 4, question: 'Rate us' } },
      { text: 'hi', rich: 'map', payload: { title: 'Our shop', label: 'Open map' } },
      { text: 'hi', rich: 'buttons' },
    ];
    return cases.map((b) => {
      const n = renderBody(b, { author: 'agent' });
      return [n.querySelector('.pl-text').textContent, !!n.querySelector('.pl-rich'), n.querySelector('.pl-rich-fallback')?.textContent ?? null, n.querySelectorAll('button,a,form,img').length];
    });
  });
  eq(r, [
    ['hi', false, null, 0],
    ['hi', false, null, 0],
    ['hi', false, null, 0],
    ['hi', false, 'Pick one', 0],
    ['hi', false, 'Rate us', 0],
    ['hi', false, 'Our shop\nOpen map', 0],
    ['hi', false, null, 0],
  ], 'degraded');
});

test('strict CSP page (style-src/script-src self): no violations, no style attributes', async ({ csp }) => {
  const r = await csp.evaluate(async () => {
    const { renderBody, renderMarkdown } = window.WP;
    const box = document.createElement('div');
    document.body.append(box);
    box.append(renderMarkdown('**a** `b` [c](https://ex.com)\n- d\n```\ne\n```'));
    for (const b of [
      { rich: 'quick_replies', payload: { options: [{ id: 'a', label: 'A' }] } },
      { rich: 'buttons', payload: { options: [{ id: 'a', label: 'A', url: 'https://ex.com' }] } },
      { rich: 'carousel', payload: { items: [{ title: 'T', buttons: [{ id: 'a', label: 'A' }] }] } },
      { rich: 'form', payload: { fields: [{ name: 'a', label: 'A', type: 'text' }] } },
      { rich: 'csat', payload: { scale: 5 } },
    ]) box.append(renderBody(b, { author: 'bot' }));
    const host = document.createElement('div');
    document.body.append(host);
    const root = host.attachShadow({ mode: 'open' });
    const off = window.WP.enableWebviewMode(host, { root });
    await new Promise((r) => setTimeout(r, 100));
    const styled = document.querySelectorAll('[style]').length;
    off();
    return { violations: window.WP.violations, styled };
  });
  eq(r, { violations: [], styled: 0 }, 'CSP');
});

// ---------------------------------------------------------------------------------------
// Bridge: the page on origin A is the widget; frames on B (allowed) and B' (localhost, not
// allowed) post to it.
async function addFrame(page, url) {
  await page.evaluate(
    (src) =>
      new Promise((ok, fail) => {
        const f = document.createElement('iframe');
        f.src = src;
        f.onload = ok;
        f.onerror = fail;
        document.body.append(f);
      }),
    url,
  );
  return page.frames().find((f) => f.url() === url);
}

test('bridge: incoming accepted only from an allowed origin with the right shape', async ({ page, webB }) => {
  const allowed = webB.url;
  const other = webB.url.replace('127.0.0.1', 'localhost');
  await page.evaluate(
    ({ allowed }) => {
      const got = (window.GOT = []);
      window.BR = window.WP.createBridge({ allowedOrigins: [allowed, '*', 'null', 'not a url', allowed + '/'] });
      for (const t of ['open', 'close', 'push_token', 'file']) {
        window.BR.on(t, (p, e) => got.push([t, e.origin, p && p.data ? Object.prototype.toString.call(p.data) : p]));
      }
    },
    { allowed },
  );
  const good = await addFrame(page, `${allowed}/tests/widget_parts/pages/blank.html?good`);
  const bad = await addFrame(page, `${other}/tests/widget_parts/pages/blank.html?bad`);
  check(good && bad, 'frames loaded');
  const post = (frame) =>
    frame.evaluate(() => {
      const m = (type, payload) => parent.postMessage({ source: 'parley', v: 1, type, payload }, '*');
      m('open');
      m('close', {});
      m('push_token', { token: 'tok-1' });
      m('file', { name: 'a.png', mime: 'image/png', size: 3, data: new Uint8Array([1, 2, 3]).buffer });
      m('file', { name: 'b.txt', mime: 'text/plain', size: 1, data: new Blob(['x']) });
      // Wrong shapes / types: all rejected.
      m('push_token', { token: '' });
      m('push_token', 'tok');
      m('file', { name: 'a', mime: 'x', size: -1, data: new ArrayBuffer(1) });
      m('file', { name: 'a', mime: 'x', size: 1, data: 'AAAA' });
      m('ready');
      m('unread', { count: 1 });
      m('__proto__');
      parent.postMessage({ source: 'parley', v: 2, type: 'open' }, '*');
      parent.postMessage({ source: 'other', v: 1, type: 'open' }, '*');
      parent.postMessage('{"source":"parley","v":1,"type":"open"}', '*');
      parent.postMessage(null, '*');
    });
  await post(bad);
  await page.waitForTimeout(200);
  const afterBad = await page.evaluate(() => ({ got: window.GOT.length, stats: { ...window.BR.stats } }));
  eq(afterBad, { got: 0, stats: { accepted: 0, rejected: 16, sent: 0 } }, 'disallowed origin ignored');
  await post(good);
  await page.waitForTimeout(200);
  const r = await page.evaluate(() => ({ got: window.GOT, stats: { ...window.BR.stats } }));
  eq(r.got, [
    ['open', allowed, null],
    ['close', allowed, {}],
    ['push_token', allowed, { token: 'tok-1' }],
    ['file', allowed, '[object ArrayBuffer]'],
    ['file', allowed, '[object Blob]'],
  ], 'allowed origin, right shapes');
  eq(r.stats, { accepted: 5, rejected: 16 + 11, sent: 0 }, 'stats');
  // Same-origin messages (the page itself) are not allowed either unless listed.
  const self = await page.evaluate(async () => {
    window.postMessage({ source: 'parley', v: 1, type: 'open' }, '*');
    await new Promise((r) => setTimeout(r, 50));
    const n = window.GOT.length;
    const off = window.BR.on('open', () => {});
    off();
    window.BR.close();
    return [n, window.BR.send('ready')];
  });
  eq(self, [5, false], 'self-origin ignored; closed bridge does not send');
});

test("bridge: outgoing targetOrigin is the first allowed origin, never '*'", async ({ page, webB }) => {
  const r = await page.evaluate(() => {
    const calls = [];
    const target = { postMessage: (msg, origin) => calls.push([msg, origin]) };
    const { createBridge } = window.WP;
    const a = createBridge({ target, allowedOrigins: ['https://app.example', 'https://b.example'] });
    a.send('ready');
    a.send('unread', { count: 3 });
    a.send('opened');
    a.send('closed');
    a.send('request_file', { accept: 'image/*' });
    const errs = [];
    for (const [t, p] of [['open'], ['unread', { count: -1 }], ['unread'], ['bogus']]) {
      try {
        a.send(t, p);
      } catch (e) {
        errs.push(e.name);
      }
    }
    a.close();
    const star = createBridge({ target, allowedOrigins: ['*'] });
    const starSent = star.send('ready');
    star.close();
    const none = createBridge({ target });
    const noneSent = none.send('ready');
    none.close();
    return { calls, errs, starSent, noneSent };
  });
  eq(r.calls.map((c) => c[1]), Array(5).fill('https://app.example'), 'targetOrigin');
  eq(r.calls.map((c) => c[0]), [
    { source: 'parley', v: 1, type: 'ready' },
    { source: 'parley', v: 1, type: 'unread', payload: { count: 3 } },
    { source: 'parley', v: 1, type: 'opened' },
    { source: 'parley', v: 1, type: 'closed' },
    { source: 'parley', v: 1, type: 'request_file', payload: { accept: 'image/*' } },
  ], 'messages');
  eq(r.errs, ['TypeError', 'TypeError', 'TypeError', 'TypeError'], 'bad outgoing types throw');
  eq([r.starSent, r.noneSent], [false, false], "'*' or no origin: nothing posted");

  // Real cross-origin: the widget in a frame on B posts to this page (A).
  const frame = await addFrame(page, `${webB.url}/tests/widget_parts/pages/harness.html`);
  await frame.waitForFunction(() => !!window.WP);
  await page.evaluate(() => {
    window.OUT = [];
    window.addEventListener('message', (e) => window.OUT.push([e.origin, e.data]));
  });
  const origin = new URL(page.url()).origin;
  await frame.evaluate((origin) => {
    window.WP.createBridge({ allowedOrigins: [origin] }).send('unread', { count: 2 });
    // A wrong origin: the browser drops it (targetOrigin does not match the parent).
    window.WP.createBridge({ allowedOrigins: ['http://wrong.example'] }).send('ready');
  }, origin);
  await page.waitForTimeout(200);
  eq(await page.evaluate(() => window.OUT), [[webB.url, { source: 'parley', v: 1, type: 'unread', payload: { count: 2 } }]], 'received in the parent');

  // Native conventions.
  const nat = await page.evaluate(() => {
    const rn = [];
    const wk = [];
    const parent = { postMessage: () => rn.push('parent!') };
    const fakeWin = (extra) => Object.assign(new EventTarget(), { ArrayBuffer, Blob }, extra);
    const a = window.WP.createBridge({ target: parent, allowedOrigins: ['https://x.example'], win: fakeWin({ ReactNativeWebView: { postMessage: (s) => rn.push(s) } }) });
    a.send('opened');
    const b = window.WP.createBridge({ target: parent, allowedOrigins: [], win: fakeWin({ webkit: { messageHandlers: { parley: { postMessage: (m) => wk.push(m) } } } }) });
    b.send('unread', { count: 0 });
    return { rn, wk };
  });
  eq(nat, {
    rn: ['{"source":"parley","v":1,"type":"opened"}'],
    wk: [{ source: 'parley', v: 1, type: 'unread', payload: { count: 0 } }],
  }, 'native channels');
});

// ---------------------------------------------------------------------------------------
test('webview: class, visualViewport height as a custom property, dispose', async ({ page }) => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.evaluate(() => {
    const host = (window.HOST = document.createElement('div'));
    document.body.append(host);
    const root = host.attachShadow({ mode: 'open' });
    root.append(document.createElement('p'));
    window.OFF = window.WP.enableWebviewMode(host, { root });
    const host2 = (window.HOST2 = document.createElement('div'));
    document.body.append(host2);
    window.OFF2 = window.WP.enableWebviewMode(host2); // fallback: style.setProperty
  });
  const read = () =>
    page.evaluate(() => [
      getComputedStyle(window.HOST).getPropertyValue('--parley-vh'),
      getComputedStyle(window.HOST.shadowRoot.firstChild).getPropertyValue('--parley-vh'),
      getComputedStyle(window.HOST2).getPropertyValue('--parley-vh'),
      window.HOST.className,
      window.HOST.hasAttribute('style'),
      window.HOST.shadowRoot.adoptedStyleSheets.length,
    ]);
  eq(await read(), ['844px', '844px', '844px', 'webview', false, 1], 'initial');
  await page.setViewportSize({ width: 390, height: 500 }); // a "keyboard" shrinks the viewport
  await page.waitForFunction(() => getComputedStyle(window.HOST).getPropertyValue('--parley-vh') === '500px', null, { timeout: 2000 });
  eq(await read(), ['500px', '500px', '500px', 'webview', false, 1], 'after resize');
  const kb = await page.evaluate(() => getComputedStyle(window.HOST).getPropertyValue('--parley-kb'));
  eq(kb, '0px', 'keyboard inset (layout and visual viewport shrink together here)');
  await page.evaluate(() => {
    window.OFF();
    window.OFF2();
  });
  eq(await read(), ['', '', '', '', false, 0], 'disposed');
  await page.setViewportSize({ width: 1280, height: 800 });
});

// ---------------------------------------------------------------------------------------
async function main() {
  const webA = await startStatic();
  const webB = await startStatic({ csp: CSP });
  const browser = await launchChromium();
  let passed = 0;
  let failed = 0;
  try {
    for (const t of tests) {
      if (args.only && !t.name.includes(args.only)) continue;
      const context = await browser.newContext();
      // No network beyond the two local servers (carousel images, links).
      await context.route(/^https?:\/\/(?!127\.0\.0\.1|localhost)/, (route) => route.abort());
      const page = await context.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`${webA.url}/tests/widget_parts/pages/harness.html`);
      await page.waitForFunction(() => !!window.WP);
      const csp = await context.newPage();
      csp.on('pageerror', (e) => errors.push(`csp page: ${e.message}`));
      await csp.goto(`${webB.url}/tests/widget_parts/pages/harness.html`);
      await csp.waitForFunction(() => !!window.WP);
      const t0 = Date.now();
      try {
        await t.fn({ page, csp, webA, webB });
        check(!errors.length, `page errors: ${errors.join('; ')}`);
        check((await page.evaluate(() => window.__pwned)) === undefined, 'window.__pwned was set');
        passed++;
        console.log(`ok   ${t.name} (${Date.now() - t0} ms)`);
      } catch (e) {
        failed++;
        console.log(`FAIL ${t.name}: ${e.message}`);
      }
      await context.close();
    }
  } finally {
    await browser.close();
    await webA.close();
    await webB.close();
  }
  clearTimeout(watchdog);
  console.log(`widget-parts: ${passed} passed, ${failed} failed`);
  process.exit(failed || !passed ? 1 : 0);
}

main().catch((e) => {
  console.error(`widget-parts: ${e?.stack || e}`);
  console.log('widget-parts: 0 passed, 1 failed');
  process.exit(1);
});
