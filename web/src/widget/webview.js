// Mobile webview mode: full-screen layout and keyboard handling through visualViewport.
//
//   const dispose = enableWebviewMode(hostElement, { win = window, root })
//   dispose()          undoes everything;  dispose.update() re-measures at once
//
// Adds the class `webview` to hostElement (the widget's CSS makes it full screen) and keeps
// these custom properties current, in px, on the host:
//   --parley-vh   height of the visual viewport (shrinks when the on-screen keyboard opens)
//   --parley-vtop visual viewport offsetTop (iOS scrolls the layout viewport under it)
//   --parley-kb   keyboard inset: innerHeight − visual height − offsetTop, ≥ 0
// Updates follow visualViewport resize/scroll and window resize, batched per animation frame.
//
// Where the values live (decided): when `root` (the widget's ShadowRoot, or a Document) is
// given and constructable stylesheets exist, they are a rule in a CSSStyleSheet this module
// owns and adopts into root.adoptedStyleSheets (`:host{…}` for a shadow root, `:root{…}`
// for a document). That needs no style attribute at all and works under CSP
// style-src 'self'. Without `root` it falls back to hostElement.style.setProperty: CSSOM
// writes are also allowed by CSP (only style attributes/elements from markup are blocked),
// but they do show up as a style attribute in the DOM, so the widget should pass its root.
//
// CSS the widget is expected to have (not set here):
//   :host(.webview) { position: fixed; inset: 0 auto auto 0; width: 100%;
//     height: var(--parley-vh, 100dvh); transform: translateY(var(--parley-vtop, 0px));
//     padding: env(safe-area-inset-top) env(safe-area-inset-right)
//              env(safe-area-inset-bottom) env(safe-area-inset-left); }
//   :host(.webview) input, :host(.webview) textarea, :host(.webview) select
//     { font-size: max(16px, 1em); }   /* iOS zooms into inputs under 16 px */
// env(safe-area-inset-*) is non-zero only when the page's viewport meta has
// viewport-fit=cover: <meta name="viewport" content="width=device-width, initial-scale=1,
// viewport-fit=cover">. When the keyboard is open the bottom inset is usually covered, so
// `max(env(safe-area-inset-bottom), 0px)` on the composer is enough.

export function enableWebviewMode(host, { win = window, root } = {}) {
  const vv = win.visualViewport;
  let sheet = null;
  let frame = 0;
  try {
    if (root && 'adoptedStyleSheets' in root) {
      sheet = new win.CSSStyleSheet();
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
    }
  } catch {
    sheet = null;
  }
  const sel = root?.host ? ':host' : ':root';

  const update = () => {
    frame = 0;
    const h = Math.round(vv ? vv.height : win.innerHeight);
    const top = Math.round(vv ? vv.offsetTop : 0);
    const kb = Math.max(0, Math.round(win.innerHeight - h - top));
    const vars = { '--parley-vh': h, '--parley-vtop': top, '--parley-kb': kb };
    if (sheet) {
      sheet.replaceSync(`${sel}{${Object.entries(vars).map(([k, v]) => `${k}:${v}px`).join(';')}}`);
    } else {
      for (const [k, v] of Object.entries(vars)) host.style.setProperty(k, `${v}px`);
    }
  };
  const schedule = () => {
    if (!frame) frame = win.requestAnimationFrame(update);
  };

  host.classList.add('webview');
  update();
  const on = [[vv, 'resize'], [vv, 'scroll'], [win, 'resize']];
  for (const [t, e] of on) t?.addEventListener(e, schedule);

  const dispose = () => {
    if (frame) win.cancelAnimationFrame(frame);
    for (const [t, e] of on) t?.removeEventListener(e, schedule);
    host.classList.remove('webview');
    if (sheet) root.adoptedStyleSheets = root.adoptedStyleSheets.filter((s) => s !== sheet);
    else for (const k of ['--parley-vh', '--parley-vtop', '--parley-kb']) host.style.removeProperty(k);
  };
  dispose.update = update;
  return dispose;
}
