// Exposes the widget parts to tests/widget_parts/run.mjs as window.WP, plus helpers:
// audit(node) lists every element or attribute outside the allowlist, shape(node) is a
// compact serialization for structural assertions. Security violations (CSP) are recorded.
import { renderMarkdown, linkify as linkifyTemplate, safeUrl, toFragment } from '/web/src/widget/markdown.js';
import { renderBody } from '/web/src/widget/rich.js';
import { createBridge } from '/web/src/widget/bridge.js';
import { enableWebviewMode } from '/web/src/widget/webview.js';

const TAGS = new Set(
  'DIV P SPAN BR STRONG EM CODE PRE UL OL LI A IMG BUTTON FORM FIELDSET LABEL INPUT SELECT OPTION'.split(' '),
);
const ATTRS = new Set(
  'class href rel target src alt referrerpolicy loading type name required role aria-label aria-pressed start value disabled dir'.split(' '),
);

// lit-html renders templates with empty comment nodes as part markers: inert, and the only
// comments allowed (a comment with content would come from parsed HTML).
const marker = (c) => c.nodeType === 8 && /^(\?(lit\$\d+\$)?)?$/.test(c.data);

function audit(root) {
  const bad = [];
  const walk = (n) => {
    for (const c of n.childNodes) {
      if (c.nodeType === 3 || marker(c)) continue;
      if (c.nodeType !== 1) {
        bad.push(`node type ${c.nodeType}`);
        continue;
      }
      if (!TAGS.has(c.tagName)) bad.push(`element ${c.tagName}`);
      for (const a of c.attributes) {
        if (!ATTRS.has(a.name)) bad.push(`attribute ${c.tagName} ${a.name}=${a.value}`);
      }
      const href = c.getAttribute('href');
      if (href != null && !/^(https?:|mailto:)/i.test(href)) bad.push(`href ${href}`);
      if (c.tagName === 'A' && (c.rel !== 'noopener noreferrer nofollow' || c.target !== '_blank')) bad.push('link rel/target');
      const src = c.getAttribute('src');
      if (src != null && !/^https:/i.test(src)) bad.push(`src ${src}`);
      walk(c);
    }
  };
  walk(root);
  return bad;
}

function shape(root) {
  const out = [];
  let text = null; // adjacent text nodes (lit-html renders parts as separate nodes) read as one
  const flush = () => {
    if (text) out.push(JSON.stringify(text));
    text = null;
  };
  for (const c of root.childNodes) {
    if (marker(c)) continue;
    if (c.nodeType === 3) text = (text || '') + c.data;
    else {
      flush();
      const attrs = ['href', 'start', 'src', 'alt']
        .filter((a) => c.hasAttribute(a))
        .map((a) => `${a}=${c.getAttribute(a)}`);
      const inner = shape(c);
      out.push(`${c.tagName.toLowerCase()}${attrs.length ? `[${attrs.join(' ')}]` : ''}${inner ? `(${inner})` : ''}`);
    }
  }
  flush();
  return out.join(' ');
}

const violations = [];
document.addEventListener('securitypolicyviolation', (e) => violations.push(`${e.violatedDirective} ${e.blockedURI}`));

const linkify = (s) => toFragment(linkifyTemplate(s));

window.WP = { renderMarkdown, linkify, safeUrl, renderBody, createBridge, enableWebviewMode, audit, shape, violations };
