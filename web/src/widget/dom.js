// A tiny DOM helper: h('button', { class: 'x', 'aria-label': 'Send', onclick }, 'text', child).
// Strings become text nodes (never HTML). There is no way to set a `style` attribute here:
// styles come only from the shadow root's constructable stylesheet (strict CSP).
export function h(tag, props, ...kids) {
  const el = document.createElement(tag);
  if (props) {
    for (const k in props) {
      const v = props[k];
      if (v == null || v === false || k === 'style') continue;
      if (k[0] === 'o' && k[1] === 'n') el.addEventListener(k.slice(2), v);
      else if (k === 'text') el.textContent = v;
      else if (k === 'class') el.className = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  for (const c of kids.flat(4)) if (c != null && c !== false) el.append(c);
  return el;
}

/** Replaces `parent`'s children by `nodes`, moving only what changed (keeps focus alive). */
export function reconcile(parent, nodes) {
  let cur = parent.firstChild;
  for (const n of nodes) {
    if (n === cur) {
      cur = cur.nextSibling;
      continue;
    }
    parent.insertBefore(n, cur);
  }
  while (cur) {
    const next = cur.nextSibling;
    cur.remove();
    cur = next;
  }
}
