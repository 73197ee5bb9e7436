// The agent API of the reference server (docs/server.md, "Agent API"), same origin, with
// the agent's token as a Bearer header. Errors are typed values (ApiError), never strings:
// `status` is the HTTP status (0 when the request never got an answer), `code` the error
// frame's code, `recoverable` its recoverability ("recoverable" / "permanent" / "auth").

export class ApiError extends Error {
  constructor(status, code, message, recoverable) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.recoverable = recoverable;
  }

  /** The request may be sent again as is (no answer, 5xx, 429). */
  get retryable() {
    return this.status === 0 || this.status >= 500 || this.status === 429 || this.recoverable === 'recoverable';
  }
}

const TIMEOUT_MS = 15000;

export class AgentApi {
  constructor(token, app = 'demo', base = '') {
    this.token = token;
    this.app = app;
    this.base = base;
  }

  async request(method, path, body) {
    let r;
    try {
      r = await fetch(`${this.base}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      throw new ApiError(0, 'disconnected', `no answer from the server (${e.name === 'TimeoutError' ? 'timed out' : 'network error'})`, 'recoverable');
    }
    if (r.status === 204) return null;
    const text = await r.text().catch(() => '');
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = null;
    }
    if (!r.ok) {
      const code = (json && json.code) || (r.status === 401 ? 'unauthorized' : r.status === 404 ? 'not_found' : 'server_error');
      const message = (json && json.message) || `HTTP ${r.status}`;
      throw new ApiError(r.status, code, message, (json && json.recoverable) || (r.status >= 500 ? 'recoverable' : 'permanent'));
    }
    return json;
  }

  conv(id) {
    return `/v1/agent/conversations/${encodeURIComponent(id)}`;
  }

  listConversations() {
    return this.request('GET', `/v1/agent/conversations?app=${encodeURIComponent(this.app)}`);
  }

  getConversation(conv) {
    return this.request('GET', this.conv(conv));
  }

  /** A page of messages, ascending: {messages, complete, next}. `before` 0 = the newest. */
  messages(conv, { before = 0, after, limit = 50 } = {}) {
    const q = new URLSearchParams({ limit: String(limit) });
    if (before) q.set('before', String(before));
    if (after !== undefined) q.set('after', String(after));
    return this.request('GET', `${this.conv(conv)}/messages?${q}`);
  }

  /** body: {text, rich?, payload?}; cid makes a retried POST answer the first message. */
  postMessage(conv, body, cid) {
    return this.request('POST', `${this.conv(conv)}/messages`, { ...body, cid });
  }

  typing(conv, on) {
    return this.request('POST', `${this.conv(conv)}/typing`, { on });
  }

  markRead(conv, seq) {
    return this.request('POST', `${this.conv(conv)}/read`, { seq });
  }

  setStatus(conv, status) {
    return this.request('POST', `${this.conv(conv)}/status`, { status });
  }

  /** target: {to:"bot"|"queue"} | {to:"agent", agent_id} | {to:"channel", channel, address} */
  handoff(conv, target) {
    return this.request('POST', `${this.conv(conv)}/handoff`, target);
  }

  /** {agents:[{id,name,present}]}, or null when the server has no such endpoint (404). */
  async agents() {
    try {
      return await this.request('GET', `/v1/agent/agents?app=${encodeURIComponent(this.app)}`);
    } catch (e) {
      if (e instanceof ApiError && (e.status === 404 || e.status === 405)) return null;
      throw e;
    }
  }

  socketUrl() {
    const u = new URL(`${this.base}/v1/agent/ws`, location.href);
    u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
    u.searchParams.set('app', this.app);
    return u.href;
  }
}
