// The webview bundle's entry (build/dist/parley-webview.mjs and .js): <parley-messenger> in
// mobile webview mode, for a page shown in a native app's webview. It is the widget plus
// the native bridge (bridge.js) and the webview layout (webview.js), with the single-tab
// tabs module (web/build.mjs aliases ../tabs/leader.js to ../tabs/single.js: a webview has
// one page, so there is no leader to elect), which pays for the bridge in the same budget.
//
//   <meta name="viewport" content="width=device-width, initial-scale=1, viewport-fit=cover">
//   <script type="module" src=".../parley-webview.mjs"></script>
//   <parley-messenger app-id="acme" server="https://chat.acme.example"
//                     bridge-origins="https://app.acme.example"></parley-messenger>
//
// Layout: the open panel fills the visual viewport (its height follows the on-screen
// keyboard), inside the safe-area insets; inputs are at least 16 px (iOS does not zoom).
// Bridge (bridge.js has the message shapes): out 'ready' once bound to its Parley instance,
// 'unread' {count} then on every change, 'opened' / 'closed', 'request_file' when the
// visitor taps attach (the native picker; without a native channel the page's own picker);
// in 'open', 'close', 'push_token' {token}, 'file' {name, mime, size, data} (sent as if
// picked). Incoming messages are accepted from the origins in `bridge-origins` (space
// separated; default the page's own origin, which is the origin of a message the app
// injects with window.postMessage). A push token is kept in `el.pushToken`, dispatched as
// the event `parley-push-token` {detail: {token}}, and handed to the network adapter when it
// has the optional registerPushToken(token) (docs/adapters.md).
import { create, ParleyError, version } from '../index.js';
import { FILE_TYPES } from '../parley.js';
import { createAdapter } from '../transport/parley-ws.js';
import { createBridge } from './bridge.js';
import { mount as mountWidget, ParleyMessenger } from './index.js';
import { enableWebviewMode } from './webview.js';

const TAG = 'parley-messenger';
const CSS = `:host(.webview) .panel{position:fixed;top:var(--parley-vtop,0px);left:0;right:0;bottom:auto;width:auto;height:var(--parley-vh,100dvh);border-radius:0;box-shadow:none;padding:env(safe-area-inset-top) env(safe-area-inset-right) env(safe-area-inset-bottom) env(safe-area-inset-left)}
:host(.webview) .panel:not([hidden])+.launcher{display:none}
:host(.webview) .launcher{margin-bottom:env(safe-area-inset-bottom)}
:host(.webview) input,:host(.webview) textarea,:host(.webview) select{font-size:max(16px,1em)}`;
let sheet = null;

export class WebviewMessenger extends ParleyMessenger {
  connectedCallback() {
    if (!this.bridge) {
      // The adapter, for the push token (the integrator's adapter factory if given).
      const o = this.createOptions;
      const make = o.adapter || ((h) => createAdapter({ server: o.server || this.getAttribute('server'), app: o.appId || this.getAttribute('app-id') }, h));
      o.adapter = (h) => {
        const a = (this.adapter = make(h));
        if (this.pushToken && a.registerPushToken) a.registerPushToken(this.pushToken);
        return a;
      };
      const b = (this.bridge = createBridge({ allowedOrigins: (this.getAttribute('bridge-origins') || location.origin).split(/\s+/) }));
      b.on('open', () => this.open());
      b.on('close', () => this.close());
      b.on('push_token', (p) => this.setPushToken(p.token));
      b.on('file', (p) => this.attach([new File([p.data], p.name, { type: p.mime })]));
    }
    super.connectedCallback();
    if (!this.layout) {
      if (!sheet) (sheet = new CSSStyleSheet()).replaceSync(CSS);
      const root = this.shadowRoot;
      root.adoptedStyleSheets = [...root.adoptedStyleSheets, sheet];
      this.layout = enableWebviewMode(this, { root });
    }
  }

  bind(parley) {
    super.bind(parley);
    this.off.push(parley.on('unread', (count) => this.bridge.send('unread', { count })));
    this.bridge.send('ready');
    this.bridge.send('unread', { count: parley.unread });
  }

  open() {
    const was = this.isOpen;
    super.open();
    if (!was && this.isOpen) this.bridge.send('opened');
  }

  close(returnFocus) {
    const was = this.isOpen;
    super.close(returnFocus);
    if (was) this.bridge.send('closed');
  }

  pickFile() {
    if (!this.bridge.send('request_file', { accept: FILE_TYPES.join(), multiple: true })) super.pickFile();
  }

  setPushToken(token) {
    this.pushToken = token;
    if (this.adapter && this.adapter.registerPushToken) this.adapter.registerPushToken(token);
    this.dispatchEvent(new CustomEvent('parley-push-token', { detail: { token }, bubbles: true, composed: true }));
  }

  async destroy() {
    this.bridge.close();
    this.layout();
    await super.destroy();
  }
}

/** Registers <parley-messenger> in webview mode (once). */
export function defineParleyMessenger(tag = TAG) {
  if (!customElements.get(tag)) customElements.define(tag, class extends WebviewMessenger {});
  return customElements.get(tag);
}

/** Mounts the webview widget for an existing Parley instance (the widget's mount, with
 * the tag defined as the webview element first). */
export function mount(...args) {
  defineParleyMessenger();
  return mountWidget(...args);
}

defineParleyMessenger();

export { create, ParleyError, version };
const Parley = { create, mount, defineParleyMessenger, ParleyError, version };
export default Parley;
