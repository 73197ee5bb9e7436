// A typed bridge between the widget (in a mobile webview or an iframe) and its native or
// embedding host, over postMessage.
//
//   const bridge = createBridge({ target = window.parent, allowedOrigins = [], win = window })
//   bridge.send(type, payload) → true when handed to a channel, false otherwise
//   bridge.on(type, fn) → off          fn(payload, event)
//   bridge.close()                      stops listening and sending
//   bridge.stats                        {accepted, rejected, sent}
//
// Every message is {source: 'parley', v: 1, type, payload}.
// Out (widget → host): 'ready' (no payload), 'unread' {count: int ≥ 0}, 'opened', 'closed',
//   'request_file' {accept?: string, multiple?: bool}.
// In (host → widget): 'open', 'close', 'push_token' {token: string}, 'file' {name: string,
//   mime: string, size: int ≥ 0, data: ArrayBuffer | Blob}.
//
// Security: an incoming message is accepted only when event.origin is exactly one of
// allowedOrigins and it has the shape above. '*' and 'null' (sandboxed frames, file:) are
// never accepted, as entries or as origins. Anything else is ignored and counted in
// stats.rejected. Outgoing postMessage uses targetOrigin = the first allowed origin, never
// '*'; with no allowed origin nothing is posted.
//
// Native conventions, used for OUTGOING messages when present (instead of postMessage):
//   React Native (react-native-webview): window.ReactNativeWebView.postMessage(JSON string)
//     — it takes strings only, so the message is JSON-encoded; read it in onMessage with
//     JSON.parse(event.nativeEvent.data).
//   iOS WKWebView: window.webkit.messageHandlers.parley.postMessage(message object) — the app
//     registers a script message handler named "parley".
// INCOMING native messages arrive as ordinary `message` events: the app runs
// `window.postMessage(msg, '<widget origin>')` through injectJavaScript /
// evaluateJavaScript, so the event's origin is the widget page's own origin, which must
// then be listed in allowedOrigins. (Files: send `data` as an ArrayBuffer or Blob built in
// the injected script, e.g. from base64.)

const OUT = ['ready', 'unread', 'opened', 'closed', 'request_file'];
const obj = (p) => p !== null && typeof p === 'object';
const count = (n) => Number.isSafeInteger(n) && n >= 0;
const str = (s, max = 4096) => typeof s === 'string' && s.length > 0 && s.length <= max;

/** Incoming payload checks, by type. */
const IN = {
  open: (p) => p == null || obj(p),
  close: (p) => p == null || obj(p),
  push_token: (p) => obj(p) && str(p.token),
  file: (p, win) =>
    obj(p) && str(p.name, 1024) && typeof p.mime === 'string' && p.mime.length <= 255 &&
    count(p.size) && (p.data instanceof win.ArrayBuffer || p.data instanceof win.Blob),
};

export function createBridge({ target = window.parent, allowedOrigins = [], win = window } = {}) {
  const origins = allowedOrigins.filter((o) => {
    try {
      return typeof o === 'string' && o !== 'null' && new URL(o).origin === o;
    } catch {
      return false;
    }
  });
  const handlers = new Map();
  const stats = { accepted: 0, rejected: 0, sent: 0 };
  let open = true;

  const listener = (e) => {
    const m = e.data;
    const ok =
      origins.includes(e.origin) && obj(m) && m.source === 'parley' && m.v === 1 &&
      Object.hasOwn(IN, m.type) && IN[m.type](m.payload, win);
    if (!ok) return void stats.rejected++;
    stats.accepted++;
    for (const fn of [...(handlers.get(m.type) || [])]) {
      try {
        fn(m.payload, e);
      } catch (err) {
        setTimeout(() => {
          throw err;
        });
      }
    }
  };
  win.addEventListener('message', listener);

  return {
    stats,
    send(type, payload) {
      // Unknown types and a bad unread count are programming errors.
      if (!OUT.includes(type) || (type === 'unread' && !(obj(payload) && count(payload?.count)))) {
        throw new TypeError(`parley bridge: bad ${type}`);
      }
      if (!open) return false;
      const msg = { source: 'parley', v: 1, type, payload };
      const rn = win.ReactNativeWebView;
      const wk = win.webkit?.messageHandlers?.parley;
      if (rn?.postMessage) rn.postMessage(JSON.stringify(msg));
      else if (wk?.postMessage) wk.postMessage(msg);
      else if (target && target !== win && origins[0]) target.postMessage(msg, origins[0]);
      else return false;
      stats.sent++;
      return true;
    },
    on(type, fn) {
      if (!handlers.has(type)) handlers.set(type, new Set());
      handlers.get(type).add(fn);
      return () => handlers.get(type)?.delete(fn);
    },
    close() {
      open = false;
      handlers.clear();
      win.removeEventListener('message', listener);
    },
  };
}
