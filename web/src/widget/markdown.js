// A small sanitizing markdown renderer for agent/bot messages, and a linkifier for visitor
// messages. Both return lit-html templates: static markup plus interpolated values, which
// lit-html writes as text nodes and attribute values, never as HTML — so the input is never
// parsed as HTML and `<script>` and friends come out as literal text.
//
//   markdown(text) → TemplateResult          linkify(text) → TemplateResult
//   renderMarkdown(text, doc = document) → DocumentFragment   (the same, rendered)
//   safeUrl(url) → normalized href string, or null unless http:, https: or mailto:
//
// Supported: paragraphs (blank line), line breaks (newline → <br>), **bold**, *italic*,
// _italic_ (not inside words), `inline code`, ``` fenced code blocks ```, bullet lists
// (-, *, +) and numbered lists (1. or 1)), one level, [label](url) links and bare
// http(s):// / mailto: URLs. Everything else (headings, HTML, images, tables) is text.
// A link whose URL is not http:, https: or mailto: (javascript:, data:, vbscript:,
// relative or protocol-relative paths, …) is rendered as its literal source text.
//
// Elements produced: p, br, strong, em, code, pre, ul, ol (attribute `start`), li,
// a (attributes href, rel="noopener noreferrer nofollow", target="_blank").
// Class names: none; the widget's stylesheet styles these by tag inside its message
// container. Emphasis nests at most MAX_DEPTH levels and spans at most one line of at most
// 1000 characters, which keeps rendering linear on hostile input (e.g. 100 KB of `*`).

import { html, nothing, render } from './lit.js';

const MAX_DEPTH = 6;
const SAFE_PROTOCOLS = ['http:', 'https:', 'mailto:'];

export function safeUrl(url) {
  if (typeof url !== 'string' || !url || url.length > 2048) return null;
  // No base: relative and protocol-relative URLs throw and are refused.
  try {
    const u = new URL(url);
    return SAFE_PROTOCOLS.includes(u.protocol) ? u.href : null;
  } catch {
    return null;
  }
}

/** An <a> for an already checked href. */
export const link = (href, label) => html`<a href=${href} rel="noopener noreferrer nofollow" target="_blank">${label}</a>`;

// Bare URLs: stop at whitespace, quotes, angle brackets and backticks.
const URL_SRC = '(?:https?:\\/\\/|mailto:)[^\\s<>"\'`]+';
// 1 `code` | 2,3 [label](url) | 4 bare URL | 5 ***both*** | 6 **bold** | 7 *em* | 8 _em_
const INLINE = new RegExp(
  '`([^`\\n]{1,1000})`' +
    '|\\[([^\\[\\]\\n]{1,500})\\]\\(\\s*([^\\s()<>]{1,2048})\\s*\\)' +
    `|(${URL_SRC})` +
    '|\\*\\*\\*(?=[^\\s*])(.{0,1000}?[^\\s*])\\*\\*\\*' +
    '|\\*\\*(?=\\S)(.{0,1000}?\\S)\\*\\*' +
    '|\\*(?=[^\\s*])(.{0,1000}?[^\\s*])\\*' +
    '|(?<![\\p{L}\\p{N}_])_(?=\\S)(.{0,1000}?\\S)_(?![\\p{L}\\p{N}_])',
  'gu',
);
const BARE = new RegExp(URL_SRC, 'g');

/** Splits off trailing punctuation that is almost never part of a URL. */
function trimUrl(u) {
  let m;
  while ((m = /[.,;:!?'")\]]$/.exec(u))) {
    if (m[0] === ')' && u.split('(').length > u.split(')').length - 1) break;
    u = u.slice(0, -1);
  }
  return u;
}

/** Pushes `s` onto `out`, merged with a string before it (one text node, not two). */
function text(out, s) {
  if (!s) return;
  if (typeof out[out.length - 1] === 'string') out[out.length - 1] += s;
  else out.push(s);
}

/** Text with bare URLs turned into safe links. */
function linked(out, s) {
  let last = 0;
  for (const m of s.matchAll(BARE)) {
    const raw = trimUrl(m[0]);
    const href = safeUrl(raw);
    if (!href) continue;
    text(out, s.slice(last, m.index));
    out.push(link(href, raw));
    last = m.index + raw.length;
  }
  text(out, s.slice(last));
}

function inline(out, s, depth, links) {
  if (depth > MAX_DEPTH) return text(out, s);
  let last = 0;
  // matchAll clones the regex, so recursion does not disturb this loop.
  for (const m of s.matchAll(INLINE)) {
    text(out, s.slice(last, m.index));
    last = m.index + m[0].length;
    if (m[1] != null) {
      out.push(html`<code>${m[1]}</code>`);
    } else if (m[2] != null) {
      const href = links && safeUrl(m[3]);
      if (href) out.push(link(href, inline([], m[2], depth + 1, false)));
      else text(out, m[0]);
    } else if (m[4] != null) {
      const raw = trimUrl(m[4]);
      const href = links && safeUrl(raw);
      last = m.index + raw.length;
      if (href) out.push(link(href, raw));
      else text(out, raw);
    } else {
      const kids = inline([], m[5] ?? m[6] ?? m[7] ?? m[8], depth + 1, links);
      out.push(
        m[5] != null ? html`<strong><em>${kids}</em></strong>` : m[6] != null ? html`<strong>${kids}</strong>` : html`<em>${kids}</em>`,
      );
    }
  }
  text(out, s.slice(last));
  return out;
}

const FENCE = /^\s{0,3}```/;
const ITEM = /^\s{0,3}(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/;
const BR = html`<br>`;
const split = (s) => String(s ?? '').replace(/\r\n?/g, '\n').split('\n');

/** Lines of one block, separated by <br>. */
function lines(list, fn) {
  const out = [];
  list.forEach((l, i) => {
    if (i) out.push(BR);
    fn(out, l);
  });
  return out;
}

export function markdown(src) {
  src = split(src);
  const out = [];
  for (let i = 0; i < src.length; ) {
    const line = src[i];
    if (FENCE.test(line)) {
      const body = [];
      for (i++; i < src.length && !/^\s{0,3}```\s*$/.test(src[i]); i++) body.push(src[i]);
      i++;
      out.push(html`<pre><code>${body.join('\n')}</code></pre>`);
    } else if (!line.trim()) {
      i++;
    } else {
      let m = ITEM.exec(line);
      if (m) {
        const ordered = !m[1];
        const items = [];
        const start = ordered && +m[2] !== 1 ? +m[2] : nothing;
        while (i < src.length && (m = ITEM.exec(src[i])) && !m[1] === ordered) {
          items.push(html`<li>${inline([], m[3], 0, true)}</li>`);
          i++;
        }
        out.push(ordered ? html`<ol start=${start}>${items}</ol>` : html`<ul>${items}</ul>`);
      } else {
        const para = [];
        while (i < src.length && src[i].trim() && !FENCE.test(src[i]) && !ITEM.test(src[i])) {
          para.push(src[i++]);
        }
        out.push(html`<p>${lines(para, (o, l) => inline(o, l, 0, true))}</p>`);
      }
    }
  }
  return html`${out}`;
}

export const linkify = (s) => html`${lines(split(s), linked)}`;

/** Renders a template into a fragment (tests and callers that want nodes). */
export function toFragment(tpl, doc = document) {
  const frag = doc.createDocumentFragment();
  render(tpl, frag);
  return frag;
}

export const renderMarkdown = (s, doc) => toFragment(markdown(s), doc);
