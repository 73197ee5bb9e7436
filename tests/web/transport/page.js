// In-page half of tests/web/transport/run.mjs: builds reference adapters
// (/web/src/transport/parley-ws.js) and records every hook call, for the Node side to read
// with page.evaluate / page.waitForFunction.
import { createAdapter } from '/web/src/transport/parley-ws.js';

const adapters = [];
const logs = [];
const sent = []; // frames sent through RecordingWebSocket / FakeWebSocket

// Defined only where WebSocket exists (one test page deletes it).
const RecordingWebSocket =
  typeof WebSocket === 'function'
    ? class extends WebSocket {
        send(data) {
          sent.push(String(data));
          super.send(data);
        }
      }
    : null;

// A socket that never reaches the network. mode 'open-silent': opens, then never delivers
// anything (a dead peer); 'never-open': stays CONNECTING (a proxy that hangs the upgrade).
function fakeWebSocket(mode) {
  return class FakeWebSocket {
    constructor(url) {
      this.url = url;
      this.readyState = 0;
      if (mode === 'open-silent') {
        setTimeout(() => {
          if (this.readyState !== 0) return;
          this.readyState = 1;
          if (this.onopen) this.onopen({});
        }, 10);
      }
    }
    send(data) {
      sent.push(String(data));
    }
    close(code = 1000) {
      if (this.readyState >= 2) return;
      this.readyState = 3;
      setTimeout(() => this.onclose && this.onclose({ code, reason: '', wasClean: true }), 0);
    }
  };
}

window.T = {
  hasWebSocket: typeof window.WebSocket === 'function',
  create(options = {}) {
    const i = adapters.length;
    const log = [];
    logs.push(log);
    const o = { ...options };
    if (o.socket === 'recording') o.WebSocket = RecordingWebSocket;
    else if (o.socket) o.WebSocket = fakeWebSocket(o.socket);
    delete o.socket;
    const rec = (hook, extra = {}) => log.push({ n: log.length, t: Date.now(), hook, ...extra });
    adapters.push(
      createAdapter(o, {
        onConnected: () => rec('connected', { transport: adapters[i].capabilities.transport }),
        onDisconnected: (reason) => rec('disconnected', { reason }),
        onFrame: (text) => {
          let frame = null;
          try {
            frame = JSON.parse(text);
          } catch {
            frame = null;
          }
          rec('frame', { text, frame, type: frame && frame.type });
        },
        onRequestFailed: (req, error) => rec('failed', { req, error }),
      }),
    );
    return i;
  },
  connect: (i) => adapters[i].connect(),
  disconnect: (i) => adapters[i].disconnect(),
  send: (i, f) => adapters[i].send(typeof f === 'string' ? f : JSON.stringify(f)),
  caps: (i) => adapters[i].capabilities,
  log: (i, from = 0) => logs[i].slice(from),
  size: (i) => logs[i].length,
  sent: () => sent.slice(),
  upload: (i, id, text, mime) => adapters[i].uploadBytes(id, new Blob([text], { type: mime }), mime),
};
window.dispatchEvent(new Event('T-ready'));
