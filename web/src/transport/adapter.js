// The network adapter interface (docs/adapters.md is the reference).
//
// The core is sans-I/O: it asks the host to connect / disconnect, hands it encoded
// protocol-v1 client frames to send, and is fed onConnected / onDisconnected /
// onFrame(text) / onRequestFailed(req, error). An adapter is the piece of the host that does
// that I/O for one kind of backend. Protocol v1 frames are the lingua franca: an adapter
// for another backend translates frames both ways.
//
// This file holds the typedefs and the few helpers every adapter needs (typed errors, the
// `req` of a frame). It has no behaviour of its own.

/**
 * A typed error, as on the wire (`error` frame without `type`/`req`).
 * @typedef {object} AdapterError
 * @property {string} code  one of protocol.md's error codes (`server_error`, `unauthorized`, ...)
 * @property {'recoverable'|'permanent'|'auth'} recoverable
 * @property {string} message  human-readable detail (never contains a token)
 */

/**
 * What the adapter reports to the host. The host feeds each call to the core
 * (`RawClient.onConnected(now)`, ...). Rules (docs/adapters.md, "Calling rules"):
 * hooks are never called synchronously from inside connect / disconnect / send; each
 * connect() ends in exactly one onConnected or one onDisconnected; after onDisconnected, or
 * after the host called disconnect(), nothing more is reported for that connection.
 * @typedef {object} AdapterHooks
 * @property {() => void} onConnected  the transport is up: the core now says `hello`
 * @property {(reason?: string) => void} onDisconnected  the connection is gone, or the
 *   attempt started by connect() failed; `reason` is for logs only
 * @property {(text: string) => void} onFrame  one protocol-v1 server frame (JSON text)
 * @property {(req: string, error: AdapterError) => void} onRequestFailed  the frame with this
 *   `req` got no protocol answer because of a failure below the protocol (HTTP status,
 *   network error)
 */

/**
 * What the adapter can do. Read it after onConnected: it may change between connections
 * (the reference adapter falls back from WebSocket to long-poll).
 * @typedef {object} AdapterCapabilities
 * @property {string} transport  e.g. `websocket`, `long-poll`, `xmpp`
 * @property {boolean} push  server events arrive without the core asking (WebSocket push,
 *   long-poll). The core does not poll: an adapter without push must poll itself.
 * @property {boolean} signals  ephemeral typing / presence `signal` frames arrive
 * @property {boolean} uploads  uploadBytes() is available (attachment bytes out of band)
 */

/**
 * An adapter instance.
 * @typedef {object} Adapter
 * @property {AdapterCapabilities} capabilities  a live view (see above)
 * @property {() => void} connect  one connection attempt
 * @property {() => void} disconnect  close now, silently (no onDisconnected)
 * @property {(frameText: string) => void} send  one encoded client frame, in order
 * @property {(id: string, bytes: Blob|ArrayBuffer|Uint8Array, mime: string) => Promise<{url: string}>} [uploadBytes]
 *   attachment bytes for an `upload` frame with cid `id` (capabilities.uploads)
 * @property {() => (void|Promise<void>)} [forget]  the user is being wiped (logout): remove
 *   what the adapter keeps of them outside Parley's database, and write nothing more
 */

/**
 * Every adapter module exports a factory of this shape (parley-ws.js: `createAdapter`).
 * @callback CreateAdapter
 * @param {object} options  adapter-specific (server URL, app, ...)
 * @param {AdapterHooks} hooks
 * @returns {Adapter}
 */

export const ERROR_CODES = [
  'malformed_frame', 'unknown_frame_type', 'missing_field', 'invalid_field',
  'unsupported_version', 'frame_too_large', 'message_too_long', 'unauthorized', 'forbidden',
  'not_found', 'rate_limited', 'server_error', 'timeout', 'disconnected', 'conflict',
  'storage_quota', 'storage_aborted', 'storage_corrupt', 'invalid_command',
];
const RECOVERABILITY = ['recoverable', 'permanent', 'auth'];

/** @returns {AdapterError} */
export function adapterError(code, recoverable, message = '') {
  return { code, recoverable, message: String(message) };
}

/** The same error as an `error` frame (JSON text), for hooks.onFrame. */
export function errorFrame(error, req) {
  const f = { type: 'error', code: error.code, recoverable: error.recoverable, message: error.message };
  if (req) f.req = req;
  return JSON.stringify(f);
}

/** An error-frame-shaped object with a known code and recoverability, or null. */
export function asAdapterError(v) {
  if (!v || typeof v !== 'object' || v.type !== 'error') return null;
  if (!ERROR_CODES.includes(v.code) || !RECOVERABILITY.includes(v.recoverable)) return null;
  return adapterError(v.code, v.recoverable, typeof v.message === 'string' ? v.message : '');
}

/**
 * The typed error for an HTTP answer that is not 2xx. A body shaped like an `error` frame
 * (the reference server's) wins; otherwise the status decides: 401 is `unauthorized`
 * (auth), 408 `timeout`, 429 `rate_limited`, 5xx `server_error` (all recoverable), any
 * other 4xx permanent.
 * @returns {AdapterError}
 */
export function httpError(status, bodyText = '') {
  let parsed = null;
  try {
    parsed = asAdapterError(JSON.parse(bodyText));
  } catch {
    parsed = null;
  }
  if (parsed) return parsed;
  const msg = `HTTP ${status}`;
  if (status === 401) return adapterError('unauthorized', 'auth', msg);
  if (status === 403) return adapterError('forbidden', 'permanent', msg);
  if (status === 404) return adapterError('not_found', 'permanent', msg);
  if (status === 408) return adapterError('timeout', 'recoverable', msg);
  if (status === 409) return adapterError('conflict', 'permanent', msg);
  if (status === 413) return adapterError('frame_too_large', 'permanent', msg);
  if (status === 429) return adapterError('rate_limited', 'recoverable', msg);
  if (status >= 500 || status < 400) return adapterError('server_error', 'recoverable', msg);
  return adapterError('invalid_field', 'permanent', msg);
}

/** `{type, req}` of an encoded client frame (both '' when it is not a JSON object). */
export function frameHead(text) {
  try {
    const f = JSON.parse(text);
    if (f && typeof f === 'object' && !Array.isArray(f)) {
      return { type: typeof f.type === 'string' ? f.type : '', req: typeof f.req === 'string' ? f.req : '', frame: f };
    }
  } catch {
    // not JSON: the server will answer malformed_frame
  }
  return { type: '', req: '', frame: null };
}
