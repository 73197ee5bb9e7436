// Renders a message body (docs/protocol.md "Body object", "Rich payloads", "Attachment
// object") as inert DOM: createElement / textContent / setAttribute only, never HTML.
//
//   renderBody(body, { onAction, doc = document, author, locale, labels, fileBase }) → Node
//
// author: the participant ({role}) or a role string. Text of `agent` and `bot` authors goes
//   through renderMarkdown; everyone else's (visitor, system, unknown) through linkify.
// onAction(action) is called with
//   {type: 'reply', value, label, id}  a quick reply (its buttons then become disabled) or a
//                                     button without url (value = option value || label)
//   {type: 'form', values}            a valid form submit; values = {name: string}, number
//                                     fields as numbers (null when empty); fields then disable
//   {type: 'csat', score}             1..scale; the scale's buttons then become disabled
// labels (i18n, English defaults): {submit: 'Send', rate: (n, scale) => 'n of scale'}.
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
//   .pl-file-name .pl-file-size
// Elements: div, p, span, button, a, img, form, fieldset, label, input, select, option,
// ul, li (+ markdown's). Attributes: class, type, href, rel, target, src, alt,
// referrerpolicy, loading, name, required, aria-label, aria-pressed, role, value, start, dir.

import { attrs, linkify, renderMarkdown, safeLink, safeUrl } from './markdown.js';

const RATE = [
  ['🙁', '😐', '🙂'],
  ['😞', '🙁', '😐', '🙂', '😄'],
];
const FIELD_TYPES = ['text', 'email', 'number', 'select'];

const str = (v) => typeof v === 'string' && v.length > 0;
const list = (v, max = 10) => (Array.isArray(v) ? v.slice(0, max) : []);

function el(doc, tag, cls, text) {
  const e = doc.createElement(tag);
  if (cls) e.className = cls;
  if (text != null) e.textContent = text;
  return e;
}

function button(doc, cls, text, onClick) {
  const b = el(doc, 'button', cls, text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

/** Plain text of a payload that cannot be rendered: its labels, titles and questions. */
function fallbackText(p, out = [], depth = 0) {
  if (depth > 5 || out.length > 50 || !p || typeof p !== 'object') return out;
  for (const [k, v] of Object.entries(p)) {
    if (str(v) && /^(label|title|subtitle|question|text)$/.test(k)) out.push(v);
    else if (typeof v === 'object') fallbackText(v, out, depth + 1);
  }
  return out;
}

/** Buttons of `buttons` payloads and carousel cards. */
function optionButtons(doc, cls, options, act) {
  const box = el(doc, 'div', cls);
  for (const o of list(options)) {
    if (!o || !str(o.label)) continue;
    if (o.url != null) {
      const href = safeUrl(o.url);
      box.append(href ? safeLink(doc, href, o.label) : el(doc, 'span', 'pl-btn-off', o.label));
      if (href) box.lastChild.className = 'pl-btn';
    } else {
      const value = str(o.value) ? o.value : o.label;
      box.append(button(doc, 'pl-btn', o.label, () => act({ type: 'reply', value, label: o.label, id: o.id })));
    }
  }
  return box;
}

/** Disables every button in `box` after the first click on one of them. */
function once(doc, box, cls, items, action) {
  for (const [text, value, aria] of items) {
    const b = button(doc, cls, text, () => {
      for (const x of box.querySelectorAll('button')) x.disabled = true;
      b.classList.add('is-chosen');
      b.setAttribute('aria-pressed', 'true');
      action(value);
    });
    if (aria) b.setAttribute('aria-label', aria);
    box.append(b);
  }
}

const KINDS = {
  quick_replies(doc, p, act) {
    const box = attrs(el(doc, 'div'), { role: 'group' });
    const opts = list(p.options).filter((o) => o && str(o.label));
    once(doc, box, 'pl-qr', opts.map((o) => [o.label, o]), (o) =>
      act({ type: 'reply', value: str(o.value) ? o.value : o.label, label: o.label, id: o.id }),
    );
    return opts.length && box;
  },
  buttons(doc, p, act) {
    const box = optionButtons(doc, '', p.options, act);
    return box.firstChild && box;
  },
  carousel(doc, p, act) {
    const box = attrs(el(doc, 'div'), { role: 'list' });
    for (const it of list(p.items)) {
      if (!it || !str(it.title)) continue;
      const card = attrs(el(doc, 'div', 'pl-card'), { role: 'listitem' });
      const src = safeUrl(it.image);
      if (src && src.startsWith('https:')) {
        card.append(
          attrs(el(doc, 'img', 'pl-card-img'), { src, alt: it.title, referrerpolicy: 'no-referrer', loading: 'lazy' }),
        );
      }
      card.append(el(doc, 'div', 'pl-card-title', it.title));
      if (str(it.subtitle)) card.append(el(doc, 'div', 'pl-card-subtitle', it.subtitle));
      const btns = optionButtons(doc, 'pl-card-buttons', it.buttons, act);
      if (btns.firstChild) card.append(btns);
      box.append(card);
    }
    return box.firstChild && box;
  },
  form(doc, p, act, labels) {
    const form = el(doc, 'form', 'pl-form');
    const set = el(doc, 'fieldset');
    const fields = list(p.fields).filter(
      (f) => f && str(f.name) && str(f.label) && FIELD_TYPES.includes(f.type) &&
        (f.type !== 'select' || list(f.options, 100).some(str)),
    );
    for (const f of fields) {
      const label = el(doc, 'label', 'pl-field');
      label.append(el(doc, 'span', 'pl-field-label', f.label));
      let input;
      if (f.type === 'select') {
        input = el(doc, 'select', 'pl-input');
        input.append(el(doc, 'option', '', ''));
        for (const o of list(f.options, 100).filter(str)) input.append(el(doc, 'option', '', o));
      } else {
        input = el(doc, 'input', 'pl-input');
        input.type = f.type;
      }
      input.name = f.name;
      input.required = f.required === true;
      label.append(input);
      set.append(label);
    }
    const submit = el(doc, 'button', 'pl-submit', labels.submit || 'Send');
    submit.type = 'submit';
    set.append(submit);
    form.append(set);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (set.disabled || !form.reportValidity()) return;
      const values = {};
      for (const [i, f] of fields.entries()) {
        const v = set.elements[i].value;
        values[f.name] = f.type === 'number' ? (v === '' ? null : Number(v)) : v;
      }
      set.disabled = true;
      act({ type: 'form', values });
    });
    return fields.length && form;
  },
  csat(doc, p, act, labels) {
    const scale = p.scale;
    if (scale !== 3 && scale !== 5) return null;
    const box = el(doc, 'div');
    const q = str(p.question) ? p.question : '';
    if (q) box.append(el(doc, 'p', 'pl-csat-question', q));
    const row = attrs(el(doc, 'div', 'pl-csat-scale'), q ? { role: 'group', 'aria-label': q } : { role: 'group' });
    const rate = labels.rate || ((n, s) => `${n} of ${s}`);
    once(doc, row, 'pl-csat-btn', RATE[scale >> 2].map((t, i) => [t, i + 1, rate(i + 1, scale)]), (score) =>
      act({ type: 'csat', score }),
    );
    box.append(row);
    return box;
  },
};

function fileHref(url, base, doc) {
  if (typeof url !== 'string') return null;
  if (/^\/v1\/files\/[\w.~%=&?/-]+$/.test(url) && !/\/\.\.?(\/|$|\?)|\/\//.test(url)) {
    try {
      return new URL(url, base || doc.baseURI).href;
    } catch {
      return null;
    }
  }
  const href = safeUrl(url);
  return href && /^https?:/.test(href) ? href : null;
}

const UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte'];
function fileSize(n, locale) {
  let i = 0;
  while (n >= 1000 && i < 3) (n /= 1000), i++;
  return new Intl.NumberFormat(locale, {
    style: 'unit',
    unit: UNITS[i],
    unitDisplay: i ? 'short' : 'long',
    maximumFractionDigits: i ? 1 : 0,
  }).format(n);
}

function attachments(doc, items, opts) {
  const ul = el(doc, 'ul', 'pl-attachments');
  for (const a of list(items)) {
    if (!a || !str(a.name)) continue;
    const href = fileHref(a.url, opts.fileBase, doc);
    const f = href ? safeLink(doc, href) : el(doc, 'span');
    f.className = 'pl-file';
    f.append(el(doc, 'span', 'pl-file-name', a.name));
    if (Number.isFinite(a.size) && a.size >= 0) {
      f.append(' ', el(doc, 'span', 'pl-file-size', fileSize(a.size, opts.locale)));
    }
    const li = el(doc, 'li', 'pl-attachment');
    li.append(f);
    ul.append(li);
  }
  return ul.firstChild && ul;
}

export function renderBody(body, opts = {}) {
  const doc = opts.doc || document;
  const root = el(doc, 'div', 'pl-body');
  if (typeof body === 'string') body = { text: body };
  if (!body || typeof body !== 'object') return root;
  const role = typeof opts.author === 'string' ? opts.author : opts.author?.role;
  const act = (a) => opts.onAction?.(a);
  try {
    if (body.text != null && body.text !== '') {
      const t = attrs(el(doc, 'div', 'pl-text'), { dir: 'auto' }); // RTL/LTR per message
      const text = String(body.text);
      t.append(role === 'agent' || role === 'bot' ? renderMarkdown(text, doc) : linkify(text, doc));
      root.append(t);
    }
  } catch {
    root.append(el(doc, 'div', 'pl-text', String(body.text)));
  }
  const kind = body.rich;
  if (kind && kind !== 'none') {
    let node = null;
    try {
      const p = body.payload;
      if (Object.hasOwn(KINDS, kind) && p && typeof p === 'object') {
        node = KINDS[kind](doc, p, act, opts.labels || {}) || null;
      }
    } catch {
      node = null;
    }
    if (node) {
      node.classList.add('pl-rich', `pl-rich-${kind}`);
    } else {
      let text = [];
      try {
        text = fallbackText(body.payload);
      } catch {}
      if (text.length) node = el(doc, 'div', 'pl-rich-fallback', text.join('\n'));
    }
    if (node) root.append(node);
  }
  try {
    const files = attachments(doc, body.attachments, opts);
    if (files) root.append(files);
  } catch {}
  return root;
}
