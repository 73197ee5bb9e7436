// The message body hook. renderBody(body, ctx) -> Node. The fallback renders plain text
// only (textContent: inert); rich messages, markdown and links come from rich.js (written
// separately), installed with setBodyRenderer(fn) or the `renderBody` mount option.
import { h } from './dom.js';

let custom = null;

/** Installs a renderer with rich.js's signature: (body, { onAction, t, locale }) -> Node. */
export function setBodyRenderer(fn) {
  custom = typeof fn === 'function' ? fn : null;
}

export function plainBody(body, ctx) {
  const b = body || {};
  const atts = (b.attachments || []).map((a) => {
    const label = `${a.name || ctx.t('attachment')}${a.size ? ` (${ctx.size(a.size)})` : ''}`;
    const safe = typeof a.url === 'string' && /^https?:\/\//i.test(a.url);
    return safe
      ? h('a', { class: 'att', href: a.url, target: '_blank', rel: 'noopener noreferrer nofollow' }, label)
      : h('span', { class: 'att' }, label);
  });
  return h('div', { class: 'text', dir: 'auto' }, b.text || '', atts.length ? h('div', { class: 'atts' }, atts) : null);
}

export function renderBody(body, ctx) {
  if (custom) {
    try {
      const node = custom(body, ctx);
      if (node instanceof Node) return node;
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
    }
  }
  return plainBody(body, ctx);
}
