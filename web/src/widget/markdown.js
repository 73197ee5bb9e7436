// A small sanitizing markdown renderer for agent/bot messages, and a linkifier for visitor
// messages. Output is built only with createElement / createTextNode / setAttribute; the
// input is never parsed as HTML, so `<script>` and friends come out as literal text.
//
//   renderMarkdown(text, doc = document) → DocumentFragment
//   linkify(text, doc = document)        → DocumentFragment
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

const MAX_DEPTH = 6;
const LINK_REL = 'noopener noreferrer nofollow';
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

/** Sets attributes from an object (values are already checked by the caller). */
export function attrs(el, o) {
  for (const k in o) el.setAttribute(k, o[k]);
  return el;
}

/** An <a> for an already checked href. */
export function safeLink(doc, href, label) {
  const a = attrs(doc.createElement('a'), { href, rel: LINK_REL, target: '_blank' });
  if (label != null) a.textContent = label;
  return a;
}

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

/** Appends text with bare URLs turned into safe links. */
function appendLinked(doc, parent, text) {
  let last = 0;
  for (const m of text.matchAll(BARE)) {
    const raw = trimUrl(m[0]);
    const href = safeUrl(raw);
    if (!href) continue;
    parent.append(text.slice(last, m.index), safeLink(doc, href, raw));
    last = m.index + raw.length;
  }
  parent.append(text.slice(last));
}

function inline(doc, parent, s, depth, links) {
  if (depth > MAX_DEPTH) return void parent.append(s);
  let last = 0;
  // matchAll clones the regex, so recursion does not disturb this loop.
  for (const m of s.matchAll(INLINE)) {
    parent.append(s.slice(last, m.index));
    last = m.index + m[0].length;
    let el;
    if (m[1] != null) {
      el = doc.createElement('code');
      el.textContent = m[1];
    } else if (m[2] != null) {
      const href = links && safeUrl(m[3]);
      if (!href) {
        parent.append(m[0]);
        continue;
      }
      el = safeLink(doc, href);
      inline(doc, el, m[2], depth + 1, false);
    } else if (m[4] != null) {
      const raw = trimUrl(m[4]);
      const href = links && safeUrl(raw);
      last = m.index + raw.length;
      if (!href) {
        parent.append(raw);
        continue;
      }
      el = safeLink(doc, href, raw);
    } else {
      el = doc.createElement(m[6] != null ? 'strong' : 'em');
      let inner = el;
      if (m[5] != null) el = doc.createElement('strong'), el.append(inner);
      inline(doc, inner, m[5] ?? m[6] ?? m[7] ?? m[8], depth + 1, links);
    }
    parent.append(el);
  }
  parent.append(s.slice(last));
}

const FENCE = /^\s{0,3}```/;
const ITEM = /^\s{0,3}(?:([-*+])|(\d{1,9})[.)])\s+(.*)$/;

/** Lines of one block, separated by <br>. */
function lines(doc, parent, list, fn) {
  list.forEach((l, i) => {
    if (i) parent.append(doc.createElement('br'));
    fn(l);
  });
}

export function renderMarkdown(text, doc = document) {
  const frag = doc.createDocumentFragment();
  const src = String(text ?? '').replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < src.length; ) {
    const line = src[i];
    if (FENCE.test(line)) {
      const body = [];
      for (i++; i < src.length && !/^\s{0,3}```\s*$/.test(src[i]); i++) body.push(src[i]);
      i++;
      const pre = doc.createElement('pre');
      const code = doc.createElement('code');
      code.textContent = body.join('\n');
      pre.append(code);
      frag.append(pre);
    } else if (!line.trim()) {
      i++;
    } else {
      let m = ITEM.exec(line);
      if (m) {
        const ordered = !m[1];
        const list = doc.createElement(ordered ? 'ol' : 'ul');
        if (ordered && +m[2] !== 1) list.setAttribute('start', String(+m[2]));
        while (i < src.length && (m = ITEM.exec(src[i])) && !m[1] === ordered) {
          const li = doc.createElement('li');
          inline(doc, li, m[3], 0, true);
          list.append(li);
          i++;
        }
        frag.append(list);
      } else {
        const para = [];
        while (i < src.length && src[i].trim() && !FENCE.test(src[i]) && !ITEM.test(src[i])) {
          para.push(src[i++]);
        }
        const p = doc.createElement('p');
        lines(doc, p, para, (l) => inline(doc, p, l, 0, true));
        frag.append(p);
      }
    }
  }
  frag.normalize(); // no empty or split text nodes
  return frag;
}

export function linkify(text, doc = document) {
  const frag = doc.createDocumentFragment();
  lines(doc, frag, String(text ?? '').replace(/\r\n?/g, '\n').split('\n'), (l) =>
    appendLinked(doc, frag, l),
  );
  frag.normalize();
  return frag;
}
