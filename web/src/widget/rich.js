// Renders a message body (docs/protocol.md "Body object", "Rich payloads", "Attachment
// object") with lit-html templates: every value from the body is interpolated as text or
// as an attribute value, never parsed as HTML.
//
//   bodyView(body, { onAction, author, locale, labels, fileBase }) → TemplateResult
//   renderBody(body, { …, doc = document }) → Node (a div.pl-body with bodyView rendered in)
//
// author: the participant ({role}) or a role string. Text of `agent` and `bot` authors goes
//   through renderMarkdown; everyone else's (visitor, system, unknown) through linkify.
// onAction(action) is called with
//   {type: 'reply', value, label, id}  a quick reply (its buttons then become disabled) or a
//                                     button without url (value = option value || label)
//   {type: 'form', values}            a valid form submit; values = {name: string}, number
//                                     fields as numbers (null when empty); fields then disable
//   {type: 'csat', score, scale}      1..scale; the scale's buttons then become disabled
// labels (i18n, English defaults): {submit: 'Send', rate: (n, scale) => 'n of scale'}.
// preview(attachment) → an image URL to show as a thumbnail (the widget gives object URLs
//   of images picked in this session), or nothing.
// locale: for Intl.NumberFormat of attachment sizes. fileBase: base URL that relative
//   /v1/files/… attachment URLs resolve against (the Parley server); default the page's.
// Links (buttons with url, attachments) are http:, https: or mailto: only (attachments:
// http(s) or /v1/files/…), rel="noopener noreferrer nofollow", target="_blank"; carousel
// images only https:. Anything unknown or malformed degrades to text; it never throws.
//
// Class names (styled by the widget's stylesheet):
//   .pl-body                 the returned root (div)
//   .pl-text                 the message text (div; markdown p/ul/ol/pre/code/a inside)
//   .pl-rich .pl-rich-<kind> the rich part; kind = quick_replies|buttons|carousel|form|csat
//   .pl-rich-fallback        a payload that could not be rendered, as plain text
//   .pl-qr                   a quick-reply button; .is-chosen on the clicked one
//   .pl-btn                  a payload button (button, or a for url options)
//   .pl-btn-off              an option with a refused url, shown as inert text (span)
//   .pl-card .pl-card-img .pl-card-title .pl-card-subtitle .pl-card-buttons   carousel
//   .pl-form .pl-field .pl-field-label .pl-input .pl-submit                   form
//   .pl-csat-question .pl-csat-scale .pl-csat-btn (.is-chosen)                csat
//   .pl-attachments (ul) .pl-attachment (li) .pl-file (a, or span without url)
//   .pl-file-name .pl-file-size .pl-thumb (img, from opts.preview only)
// Elements: div, p, span, button, a, img, form, fieldset, label, input, select, option,
// ul, li (+ markdown's). Attributes: class, type, href, rel, target, src, alt,
// referrerpolicy, loading, name, required, aria-label, aria-pressed, role, value, start, dir.

import { html, nothing, render } from './lit.js';
import { link, linkify, markdown, safeUrl } from './markdown.js';

// Faces from the Emoticons block's first range (U+1F600..1F640), which fonts without colour
// emoji (DejaVu Sans) have too; the number beside each is the readable label either way.
const RATE = [
  ['😟', '😐', '😊'],
  ['😞', '😟', '😐', '😊', '😄'],
];
const FIELD_TYPES = ['text', 'email', 'number', 'select'];

const str = (v) => typeof v === 'string' && v.length > 0;
const list = (v, max = 10) => (Array.isArray(v) ? v.slice(0, max) : []);

/** Plain text of a payload that cannot be rendered: its labels, titles and questions. */
function fallbackText(p, out = [], depth = 0) {
  if (depth > 5 || out.length > 50 || !p || typeof p !== 'object') return out;
  for (const [k, v] of Object.entries(p)) {
    if (str(v) && /^(label|title|subtitle|question|text)$/.test(k)) out.push(v);
    else if (typeof v === 'object') fallbackText(v, out, depth + 1);
  }
  return out;
}

const reply = (o) => ({ type: 'reply', value: str(o.value) ? o.value : o.label, label: o.label, id: o.id });

/** Buttons of `buttons` payloads and carousel cards. */
function optionButtons(options, act) {
  return list(options)
    .filter((o) => o && str(o.label))
    .map((o) => {
      if (o.url == null) return html`<button type="button" class="pl-btn" @click=${() => act(reply(o))}>${o.label}</button>`;
      const href = safeUrl(o.url);
      return href ? html`<a class="pl-btn" href=${href} rel="noopener noreferrer nofollow" target="_blank">${o.label}</a>` : html`<span class="pl-btn-off">${o.label}</span>`;
    });
}

/** A group of buttons that can be used once: the chosen one is marked, all are disabled. */
const once = (cls, items, action) =>
  items.map(
    ([label, value, aria]) => html`<button type="button" class=${cls} aria-label=${aria || nothing} @click=${(e) => {
      const b = e.currentTarget;
      for (const x of b.parentNode.querySelectorAll('button')) x.disabled = true;
      b.classList.add('is-chosen');
      b.setAttribute('aria-pressed', 'true');
      action(value);
    }}>${label}</button>`,
  );

const rich = (kind, attrs, kids) => html`<div class="pl-rich pl-rich-${kind}" role=${attrs || nothing}>${kids}</div>`;

const KINDS = {
  quick_replies(p, act) {
    const opts = list(p.options).filter((o) => o && str(o.label));
    return opts.length && rich('quick_replies', 'group', once('pl-qr', opts.map((o) => [o.label, o]), (o) => act(reply(o))));
  },
  buttons(p, act) {
    const b = optionButtons(p.options, act);
    return b.length && rich('buttons', 0, b);
  },
  carousel(p, act) {
    const cards = list(p.items)
      .filter((it) => it && str(it.title))
      .map((it) => {
        const src = safeUrl(it.image);
        const btns = optionButtons(it.buttons, act);
        return html`<div class="pl-card" role="listitem">${src && src.startsWith('https:') ? html`<img class="pl-card-img" src=${src} alt=${it.title} referrerpolicy="no-referrer" loading="lazy">` : nothing}<div class="pl-card-title">${it.title}</div>${
          str(it.subtitle) ? html`<div class="pl-card-subtitle">${it.subtitle}</div>` : nothing
        }${btns.length ? html`<div class="pl-card-buttons">${btns}</div>` : nothing}</div>`;
      });
    return cards.length && rich('carousel', 'list', cards);
  },
  form(p, act, labels) {
    const fields = list(p.fields).filter(
      (f) => f && str(f.name) && str(f.label) && FIELD_TYPES.includes(f.type) &&
        (f.type !== 'select' || list(f.options, 100).some(str)),
    );
    const submit = (e) => {
      e.preventDefault();
      const form = e.currentTarget;
      const set = form.firstElementChild;
      if (set.disabled || !form.reportValidity()) return;
      const values = {};
      for (const [i, f] of fields.entries()) {
        const v = set.elements[i].value;
        values[f.name] = f.type === 'number' ? (v === '' ? null : Number(v)) : v;
      }
      set.disabled = true;
      act({ type: 'form', values });
    };
    return fields.length && html`<form class="pl-form pl-rich pl-rich-form" @submit=${submit}><fieldset>${fields.map(
      (f) => html`<label class="pl-field"><span class="pl-field-label">${f.label}</span>${
        f.type === 'select'
          ? html`<select class="pl-input" name=${f.name} ?required=${f.required === true}><option></option>${list(f.options, 100).filter(str).map((o) => html`<option>${o}</option>`)}</select>`
          : html`<input class="pl-input" type=${f.type} name=${f.name} ?required=${f.required === true}>`
      }</label>`,
    )}<button type="submit" class="pl-submit">${labels.submit || 'Send'}</button></fieldset></form>`;
  },
  csat(p, act, labels) {
    const scale = p.scale;
    if (scale !== 3 && scale !== 5) return null;
    const q = str(p.question) ? p.question : '';
    const rate = labels.rate || ((n, s) => `${n} of ${s}`);
    return rich('csat', 0, html`${q ? html`<p class="pl-csat-question">${q}</p>` : nothing}<div class="pl-csat-scale" role="group" aria-label=${q || nothing}>${once(
      'pl-csat-btn',
      RATE[scale >> 2].map((t, i) => [`${t} ${i + 1}`, i + 1, rate(i + 1, scale)]),
      (score) => act({ type: 'csat', score, scale }),
    )}</div>`);
  },
};

function fileHref(url, base) {
  if (typeof url !== 'string') return null;
  if (/^\/v1\/files\/[\w.~%=&?/-]+$/.test(url) && !/\/\.\.?(\/|$|\?)|\/\//.test(url)) {
    try {
      return new URL(url, base || document.baseURI).href;
    } catch {
      return null;
    }
  }
  const href = safeUrl(url);
  return href && /^https?:/.test(href) ? href : null;
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
export function fileSize(n, locale) {
  let i = 0;
  while (n >= 1000 && i < 3) (n /= 1000), i++;
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: UNITS[i],
    unitDisplay: i ? 'short' : 'long',
    maximumFractionDigits: i ? 1 : 0,
  }).format(n);
}

function attachments(items, opts) {
  const lis = list(items)
    .filter((a) => a && str(a.name))
    .map((a) => {
      const href = fileHref(a.url, opts.fileBase);
      const inner = html`<span class="pl-file-name">${a.name}</span>${
        Number.isFinite(a.size) && a.size >= 0 ? html` <span class="pl-file-size">${fileSize(a.size, opts.locale)}</span>` : nothing
      }`;
      const thumb = opts.preview && opts.preview(a);
      return html`<li class="pl-attachment">${thumb ? html`<img class="pl-thumb" src=${thumb} alt="">` : nothing}${href ? html`<a class="pl-file" href=${href} rel="noopener noreferrer nofollow" target="_blank">${inner}</a>` : html`<span class="pl-file">${inner}</span>`}</li>`;
    });
  return lis.length && html`<ul class="pl-attachments">${lis}</ul>`;
}

/** Each part degrades on its own: a throwing part is text (or nothing), never an exception. */
function part(fn, fallback = null) {
  try {
    return fn() || null;
  } catch {
    return fallback;
  }
}

/** The body's template (what the widget renders inside a message bubble). */
export function bodyView(body, opts = {}) {
  if (typeof body === 'string') body = { text: body };
  if (!body || typeof body !== 'object') return nothing;
  const role = typeof opts.author === 'string' ? opts.author : opts.author?.role;
  const act = (a) => opts.onAction?.(a);
  const kind = body.rich;
  const t = body.text;
  // RTL/LTR per message: dir=auto.
  return html`${t != null && t !== '' ? part(() => html`<div class="pl-text" dir="auto">${(role === 'agent' || role === 'bot' ? markdown : linkify)(String(t))}</div>`, html`<div class="pl-text">${String(t)}</div>`) : nothing}${
    kind && kind !== 'none'
      ? part(() => {
          const p = body.payload;
          return Object.hasOwn(KINDS, kind) && p && typeof p === 'object' && KINDS[kind](p, act, opts.labels || {});
        }) ||
        part(() => {
          const text = fallbackText(body.payload);
          return text.length && html`<div class="pl-rich-fallback">${text.join('\n')}</div>`;
        })
      : null
  }${part(() => attachments(body.attachments, opts))}`;
}

/** bodyView rendered into a new div.pl-body. */
export function renderBody(body, opts = {}) {
  const root = (opts.doc || document).createElement('div');
  root.className = 'pl-body';
  render(bodyView(body, opts), root);
  return root;
}
