// The agent WebSocket (GET /v1/agent/ws?app=A): the first frame authenticates
// ({"type":"auth","token"}), the server answers {"type":"ready","agent"} and then pushes
// `conversation`, `message` and `signal` frames. Reconnects with jittered exponential
// backoff (0.5 s … 30 s); the owner re-fetches what it shows on every `ready`, since
// pushes missed while disconnected are not replayed.
//
//   const s = new AgentSocket(url, token, {
//     onState(state)   'connecting' | 'live' | 'offline'
//     onReady(frame)   authenticated (first time and after each reconnect)
//     onPush(frame)    conversation / message / signal
//     onUnauthorized() the token was refused: no more reconnects
//   });
//   s.start(); … s.stop();

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30000;
const READY_TIMEOUT_MS = 10000;

export class AgentSocket {
  constructor(url, token, handlers) {
    this.url = url;
    this.token = token;
    this.h = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.readyTimer = null;
    this.stopped = true;
    this.onOnline = () => this.reconnectNow();
  }

  start() {
    this.stopped = false;
    addEventListener('online', this.onOnline);
    this.connect();
  }

  stop() {
    this.stopped = true;
    removeEventListener('online', this.onOnline);
    clearTimeout(this.timer);
    clearTimeout(this.readyTimer);
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      try {
        ws.close(1000);
      } catch {}
    }
  }

  /** Skips the backoff wait (the browser says it is online again). */
  reconnectNow() {
    if (this.stopped || (this.ws && this.ws.readyState <= WebSocket.OPEN)) return;
    clearTimeout(this.timer);
    this.connect();
  }

  connect() {
    if (this.stopped) return;
    this.h.onState('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let unauthorized = false;
    ws.addEventListener('open', () => {
      ws.send(JSON.stringify({ type: 'auth', token: this.token }));
      this.readyTimer = setTimeout(() => ws.close(4000, 'no ready'), READY_TIMEOUT_MS);
    });
    ws.addEventListener('message', (ev) => {
      if (ws !== this.ws) return;
      let f;
      try {
        f = JSON.parse(ev.data);
      } catch {
        return; // not JSON: nothing the console can use
      }
      if (!f || typeof f !== 'object') return;
      if (f.type === 'ready') {
        clearTimeout(this.readyTimer);
        this.attempt = 0;
        this.h.onState('live');
        this.h.onReady(f);
      } else if (f.type === 'error') {
        if (f.code === 'unauthorized') unauthorized = true;
      } else {
        this.h.onPush(f);
      }
    });
    ws.addEventListener('close', () => {
      clearTimeout(this.readyTimer);
      if (ws !== this.ws) return;
      this.ws = null;
      if (this.stopped) return;
      if (unauthorized) {
        this.stopped = true;
        this.h.onState('offline');
        this.h.onUnauthorized();
        return;
      }
      this.h.onState('offline');
      this.scheduleReconnect();
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const cap = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 16);
    const delay = cap / 2 + Math.random() * (cap / 2);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.connect(), delay);
  }
}
