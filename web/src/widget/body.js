// The message body hook. renderBody(body, ctx) -> a lit-html template (or a Node) that the
// thread renders inside the bubble. The default is rich.js's bodyView (markdown for agents
// and bots, safe links, rich payloads, attachments: all interpolated as text, never HTML);
// setBodyRenderer(fn) or the `renderBody` mount option installs another one, with the
// signature (body, { onAction, t, locale, author, labels, fileBase }) -> Node | template.
import { bodyView } from './rich.js';

let custom = null;

export function setBodyRenderer(fn) {
  custom = typeof fn === 'function' ? fn : null;
}

export function renderBody(body, ctx) {
  if (custom) {
    try {
      const out = custom(body, ctx);
      if (out != null) return out;
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
    }
  }
  return bodyView(body, ctx);
}
