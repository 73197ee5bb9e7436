// The public, headless API: Parley.create(options) -> a Parley instance.
//
// One tab (the leader, chosen with Web Locks) runs the core, the store and the network
// connection. Other tabs run no core: they mirror the leader's state from change notices on
// a BroadcastChannel and route their commands to it. When the leader closes, another tab
// takes over by starting its own core from the same IndexedDB database.

import { loadCore } from './core/raw.js';
import { Host } from './host.js';
import {
  currentUser,
  directoryName,
  moveNamespace,
  openStore,
  resumeMove,
  setCurrentUser,
} from './storage/idb.js';
import { createTabs } from './tabs/leader.js';
import { createAdapter } from './transport/parley-ws.js';

const NEW_USER = '_new';
const COMMANDS = new Set([
  'send',
  'retry',
  'cancel',
  'editQueued',
  'markRead',
  'typing',
  'startConversation',
  'requestHandoff',
  'identify',
  'resume',
  'logout',
  'openConversation',
  'loadOlder',
]);

/** A typed error the API rejects with (the core's error shape). */
export class ParleyError extends Error {
  constructor(e) {
    super(e && e.message ? e.message : String(e));
    this.name = 'ParleyError';
    this.code = (e && e.code) || 'invalid_command';
    this.recoverable = (e && e.recoverable) || 'permanent';
  }
}

/** What a file may be (the reference server's rules: docs/server.md "Attachments"). */
export const MAX_FILE_BYTES = 10 * 1024 * 1024;
export const FILE_TYPES = Object.freeze([
  'image/png',
  'image/jpeg',
  'image/gif',
  'image/webp',
  'application/pdf',
  'text/plain',
]);

/** Throws a ParleyError (invalid_field) when `file` cannot be sent; returns its mime type. */
function checkFile(file) {
  const isBlob = typeof Blob !== 'undefined' && file instanceof Blob;
  if (!isBlob) throw new ParleyError({ code: 'invalid_field', message: 'sendFile: file must be a Blob or File' });
  if (file.size > MAX_FILE_BYTES) {
    throw new ParleyError({
      code: 'invalid_field',
      message: `sendFile: the file has ${file.size} bytes; files are limited to 10 MiB (${MAX_FILE_BYTES} bytes)`,
    });
  }
  const mime = String(file.type || '').split(';')[0].trim().toLowerCase();
  if (!FILE_TYPES.includes(mime)) {
    throw new ParleyError({
      code: 'invalid_field',
      message: `sendFile: file type "${mime || 'unknown'}" is not allowed (allowed: ${FILE_TYPES.join(', ')})`,
    });
  }
  return mime;
}

function attachmentId() {
  const a = new Uint8Array(12);
  crypto.getRandomValues(a);
  return `a_${Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function randomSeed() {
  const a = new Uint32Array(2);
  crypto.getRandomValues(a);
  return (a[0] & 0x1fffff) * 2 ** 32 + a[1]; // < 2^53
}

/**
 * requireConsent: Parley's databases exist on this device only if consent was given here
 * before, so their presence means it was. Listing databases writes nothing.
 */
async function consentGivenBefore(app) {
  try {
    const names = (await globalThis.indexedDB?.databases?.()) || [];
    return names.some((d) => d.name === directoryName(app));
  } catch {
    return false;
  }
}

function parseResult(json) {
  if (json === undefined || json === null || json === '' || json === 'null') return null;
  const v = typeof json === 'string' ? JSON.parse(json) : json;
  if (v && v.error) throw new ParleyError(v.error);
  return v;
}

/**
 * @param {import('../types/index').CreateOptions} options
 * @returns {Promise<import('../types/index').Parley>}
 */
export async function create(options = {}) {
  const app = options.appId;
  if (!app || typeof app !== 'string') throw new ParleyError({ code: 'invalid_field', message: 'appId is required' });
  if (!options.server && !options.adapter) {
    throw new ParleyError({ code: 'invalid_field', message: 'server (URL of a Parley server) or adapter is required' });
  }
  const instance = new ParleyInstance(options);
  await instance.init();
  return instance;
}

class ParleyInstance {
  constructor(options) {
    this.options = options;
    this.app = options.appId;
    this.listeners = new Map();
    this.state = {
      conversations: [],
      timelines: new Map(),
      connection: 'offline',
      outOfSync: false,
      unread: 0,
      availability: null,
      user: '',
      storage: { persistent: false, reason: 'starting' },
    };
    this.leader = null; // { raw, host, store } when this tab leads
    this.consented = !options.requireConsent;
    this.destroyed = false;
    this.readyResolve = null;
    this.ready = new Promise((ok) => (this.readyResolve = ok));
    this.onWindow = [];
  }

  async init() {
    if (!this.consented) this.consented = await consentGivenBefore(this.app);
    this.tabs = createTabs({
      app: this.app,
      onBecomeLeader: () => this.becomeLeader().catch((e) => this.fail(e)),
      onLoseLeadership: () => this.stepDown(),
      onMessage: (msg) => this.onTabMessage(msg),
    });
    // Followers get the leader's state at once; a leader gets there by starting.
    if (!this.tabs.isLeader) this.tabs.post({ type: 'hello' });
    await Promise.race([
      this.ready,
      new Promise((ok) => setTimeout(ok, this.options.readyTimeoutMs ?? 3000)),
    ]);
  }

  // ------------------------------------------------------------------ events
  on(event, fn) {
    if (!this.listeners.has(event)) this.listeners.set(event, new Set());
    this.listeners.get(event).add(fn);
    return () => this.off(event, fn);
  }

  off(event, fn) {
    this.listeners.get(event)?.delete(fn);
  }

  emit(event, detail) {
    for (const fn of [...(this.listeners.get(event) || [])]) {
      try {
        fn(detail);
      } catch (e) {
        setTimeout(() => {
          throw e;
        });
      }
    }
  }

  // ------------------------------------------------------------------ views
  get connection() {
    return this.state.connection;
  }

  /** Connected but out of sync: the core's catch-up is failing and being retried. */
  get outOfSync() {
    return this.state.outOfSync;
  }

  get unread() {
    return this.state.unread;
  }

  get availability() {
    return this.state.availability;
  }

  get user() {
    return this.state.user;
  }

  get storage() {
    return { ...this.state.storage };
  }

  get isLeader() {
    return !!this.leader;
  }

  conversations() {
    return this.state.conversations.map((c) => ({ ...c }));
  }

  /** The loaded window of a conversation's timeline, oldest first. */
  messages(conv) {
    return (this.state.timelines.get(conv) || []).slice();
  }

  // ------------------------------------------------------------------ commands
  async send(conv, body) {
    const b = typeof body === 'string' ? { text: body } : body;
    return (await this.command('send', [conv, JSON.stringify(b)])).cid;
  }

  /**
   * Sends a file (with an optional caption). Checked here, before anything is queued; the
   * bytes are stored with the queued message, so a file picked offline survives reloads
   * and goes out when back online. Resolves with the message's cid once it is stored.
   */
  async sendFile(conv, file, opts = {}) {
    checkFile(file);
    const text = opts && opts.text != null ? String(opts.text) : '';
    if (this.destroyed) throw new ParleyError({ code: 'invalid_command', message: 'destroyed' });
    await this.ready;
    if (this.leader) return this.leader.sendFile(conv, file, text);
    // A follower: the Blob goes to the leader (structured clone over the BroadcastChannel).
    const answer = await this.tabs.request({ type: 'sendFile', conv, file, text }, { timeoutMs: 30_000 });
    if (answer && answer.error) throw new ParleyError(answer.error);
    return answer ? answer.value : null;
  }

  retry(cid) {
    return this.command('retry', [cid]).then(() => undefined);
  }

  cancel(cid) {
    return this.command('cancel', [cid]).then(() => undefined);
  }

  editQueued(cid, body) {
    const b = typeof body === 'string' ? { text: body } : body;
    return this.command('editQueued', [cid, JSON.stringify(b)]).then(() => undefined);
  }

  markRead(conv, seq) {
    return this.command('markRead', [conv, seq]).then(() => undefined);
  }

  typing(conv, on) {
    return this.command('typing', [conv, !!on]).then(() => undefined);
  }

  startConversation(subject = '') {
    return this.command('startConversation', [subject]);
  }

  requestHandoff(conv, channel, address = '') {
    return this.command('requestHandoff', [conv, channel, address]).then(() => undefined);
  }

  identify(token) {
    return this.command('identify', [token]).then(() => undefined);
  }

  resume(token) {
    return this.command('resume', [token]).then(() => undefined);
  }

  openConversation(conv) {
    return this.command('openConversation', [conv]).then(() => undefined);
  }

  loadOlder(conv) {
    return this.command('loadOlder', [conv]).then(() => undefined);
  }

  /** Wipes every trace of the user in every tab; the instance continues as a new visitor.
   *  Resolves once the data is gone (the `wiped` event), so a page may leave right after. */
  logout() {
    return new Promise((resolve, reject) => {
      const off = this.on('wiped', () => {
        off();
        resolve();
      });
      this.command('logout', []).catch((e) => {
        off();
        reject(e);
      });
    });
  }

  /** With requireConsent: from now on, history is kept on this device. */
  async consent() {
    if (this.consented) return;
    this.consented = true;
    if (this.leader) await this.leader.adoptPersistentStore();
    else this.tabs.post({ type: 'consent' });
  }

  async destroy() {
    if (this.destroyed) return;
    this.destroyed = true;
    this.stepDown();
    this.tabs.close();
    for (const [target, name, fn] of this.onWindow) target.removeEventListener(name, fn);
  }

  async command(name, args) {
    if (!COMMANDS.has(name)) throw new ParleyError({ code: 'invalid_command', message: name });
    if (this.destroyed) throw new ParleyError({ code: 'invalid_command', message: 'destroyed' });
    await this.ready;
    if (this.leader) return this.leader.run(name, args);
    const answer = await this.tabs.request({ type: 'command', name, args });
    if (answer && answer.error) throw new ParleyError(answer.error);
    return answer ? answer.value : null;
  }

  // ------------------------------------------------------------------ leader
  async becomeLeader() {
    if (this.leader || this.destroyed) return;
    const core = await loadCore({ wasmUrl: this.options.wasmUrl, moduleUrl: this.options.coreModuleUrl });
    this.leader = new Leader(this, core);
    await this.leader.start();
    this.readyResolve();
  }

  stepDown() {
    if (!this.leader) return;
    this.leader.stop();
    this.leader = null;
  }

  fail(e) {
    this.emit('error', { code: e.code || 'server_error', recoverable: 'permanent', message: e.message || String(e) });
    this.readyResolve();
  }

  /** Applies a state snapshot or notice (from our own core or from the leader tab). */
  apply(update) {
    const s = this.state;
    if (update.conversations) {
      s.conversations = update.conversations;
      this.emit('conversations', this.conversations());
    }
    if (update.timelines) {
      for (const [conv, items] of Object.entries(update.timelines)) {
        s.timelines.set(conv, items);
        this.emit('messages', { conv, messages: items.slice() });
      }
    }
    if (update.connection !== undefined && update.connection !== s.connection) {
      s.connection = update.connection;
      this.emit('connection', s.connection);
    }
    if (update.outOfSync !== undefined && update.outOfSync !== s.outOfSync) {
      s.outOfSync = update.outOfSync;
      this.emit('out_of_sync', s.outOfSync);
    }
    if (update.unread !== undefined && update.unread !== s.unread) {
      s.unread = update.unread;
      this.emit('unread', s.unread);
    }
    if (update.availability !== undefined) {
      s.availability = update.availability;
      this.emit('availability', s.availability);
    }
    if (update.user !== undefined) s.user = update.user;
    if (update.storage) {
      const changed = update.storage.persistent !== s.storage.persistent;
      s.storage = update.storage;
      if (changed) this.emit('storage', { ...s.storage });
    }
    if (update.wiped) {
      s.timelines.clear();
      s.conversations = [];
      s.unread = 0;
      this.emit('wiped');
      this.emit('conversations', []);
      this.emit('unread', 0);
    }
  }

  onTabMessage(msg) {
    if (!msg || typeof msg !== 'object') return undefined;
    if (this.leader) {
      if (msg.type === 'hello') this.tabs.post({ type: 'state', ...this.leader.snapshot(true) });
      if (msg.type === 'consent') this.consent();
      if (msg.type === 'command') {
        return this.leader
          .run(msg.name, msg.args)
          .then((value) => ({ value }))
          .catch((e) => ({ error: { code: e.code, recoverable: e.recoverable, message: e.message } }));
      }
      if (msg.type === 'sendFile') {
        return this.leader
          .sendFile(msg.conv, msg.file, msg.text || '')
          .then((value) => ({ value }))
          .catch((e) => ({ error: { code: e.code, recoverable: e.recoverable, message: e.message } }));
      }
      return undefined;
    }
    if (msg.type === 'state') {
      this.apply(msg);
      this.readyResolve();
    }
    if (msg.type === 'event' && msg.name === 'upload_progress') this.emit(msg.name, msg.detail);
    return undefined;
  }

  listen(target, name, fn) {
    if (!target || !target.addEventListener) return;
    target.addEventListener(name, fn);
    this.onWindow.push([target, name, fn]);
  }
}

class Leader {
  constructor(api, core) {
    this.api = api;
    this.core = core;
    this.raw = null;
    this.host = null;
    this.store = null;
    this.namespaceUser = NEW_USER;
  }

  start() {
    // Commands that arrive while the core is (re)starting wait for it.
    this.starting = this.doStart();
    return this.starting;
  }

  async doStart() {
    const { api } = this;
    const o = api.options;
    this.raw = new this.core.RawClient(
      JSON.stringify({ app_id: api.app, seed: randomSeed(), locale: o.locale || 'en', style: o.style }),
    );
    if (api.consented) await resumeMove(api.app).catch(() => {}); // a move a crash interrupted
    // Before consent not even the directory database is opened (opening creates it).
    this.namespaceUser =
      (api.consented && (await currentUser(api.app).catch(() => null))) || NEW_USER;
    this.store = await this.openStore(this.namespaceUser);
    this.host = new Host({
      raw: this.raw,
      store: this.store,
      namespaceUser: this.namespaceUser === NEW_USER ? '' : this.namespaceUser,
      makeAdapter: (hooks) =>
        o.adapter ? o.adapter(hooks) : createAdapter({ server: o.server, app: api.app }, hooks),
      switchUser: ({ from, to, store }) => this.switchUser(from || NEW_USER, to, store),
      emit: (name, detail) => this.onHostEvent(name, detail),
      getToken: o.getToken,
    });
    // create() resolves once the stored state is back (history shows at once, before any
    // network), not later than restoreTimeoutMs.
    const restored = new Promise((ok) => (this.restoredResolve = ok));
    this.host.start();
    await Promise.race([restored, new Promise((ok) => setTimeout(ok, o.restoreTimeoutMs ?? 10_000))]);
    this.listenOnce();
    if (o.user && o.user.token) this.host.input((t) => this.raw.identify(t, o.user.token));
    const state = this.snapshot(true);
    api.apply(state);
    this.publish(state);
  }

  /** Environment inputs: online/offline, focus, visibility (registered once per instance). */
  listenOnce() {
    const { api } = this;
    const nav = globalThis.navigator;
    this.host.input((t) => this.raw.onOnline(t, nav ? nav.onLine !== false : true));
    const doc = globalThis.document;
    if (doc) this.host.input((t) => this.raw.onVisibility(t, doc.visibilityState === 'visible'));
    if (this.listening) return;
    if (doc) {
      api.listen(doc, 'visibilitychange', () =>
        this.host.input((t) => this.raw.onVisibility(t, doc.visibilityState === 'visible')),
      );
    }
    this.listening = true;
    api.listen(globalThis, 'online', () => this.host.input((t) => this.raw.onOnline(t, true)));
    api.listen(globalThis, 'offline', () => this.host.input((t) => this.raw.onOnline(t, false)));
    api.listen(globalThis, 'focus', () => this.host.input((t) => this.raw.onFocus(t, true)));
    api.listen(globalThis, 'blur', () => this.host.input((t) => this.raw.onFocus(t, false)));
  }

  async openStore(user) {
    const { api } = this;
    if (!api.consented) {
      const { createMemoryStore } = await import('./storage/memory.js');
      const store = createMemoryStore();
      store.fallbackReason = 'waiting for consent';
      return store;
    }
    return openStore({ app: api.app, user });
  }

  async adoptPersistentStore() {
    if (this.store.persistent) return;
    const target = await openStore({ app: this.api.app, user: this.namespaceUser });
    if (target.persistent && this.store.exportAll && target.importAll) {
      await target.importAll(await this.store.exportAll());
    }
    this.store = target;
    this.host.store = target;
    if (target.persistent && this.namespaceUser !== NEW_USER) await setCurrentUser(this.api.app, this.namespaceUser);
    this.api.apply({ storage: this.storageState() });
  }

  async switchUser(from, to, store) {
    if (!store.persistent) {
      this.namespaceUser = to;
      return store;
    }
    store.close();
    await moveNamespace(this.api.app, from, to);
    await setCurrentUser(this.api.app, to);
    this.namespaceUser = to;
    const next = await openStore({ app: this.api.app, user: to });
    this.store = next;
    return next;
  }

  storageState() {
    return { persistent: !!this.store.persistent, reason: this.store.fallbackReason || '' };
  }

  async run(name, args) {
    await this.starting;
    const raw = this.raw;
    const result = this.host.input((t) => raw[name](t, ...args));
    if (name === 'startConversation') {
      if (!result) throw new ParleyError({ code: 'invalid_command', message: 'could not start a conversation' });
      return result;
    }
    return parseResult(result);
  }

  /** sendFile in the leader: the bytes commit with the core's outbox batch (host.js). */
  async sendFile(conv, file, text) {
    await this.starting;
    const mime = checkFile(file);
    const bytes = await file.arrayBuffer();
    const id = attachmentId(); // the attachment id, the upload's cid and the blob key
    const name = (typeof file.name === 'string' && file.name) || `file.${mime.split('/')[1]}`;
    const attachment = { id, name: name.slice(0, 200), mime, size: bytes.byteLength, blob_ref: id };
    const body = { attachments: [attachment] };
    if (text) body.text = text;
    const host = this.host;
    const stored = host.stageBlob(id, { id, name: attachment.name, mime, size: bytes.byteLength, bytes });
    let res;
    try {
      res = parseResult(host.input((t) => this.raw.send(t, conv, JSON.stringify(body))));
    } catch (e) {
      host.unstageBlob(id);
      throw e;
    }
    if (!res || !res.cid) {
      host.unstageBlob(id);
      throw new ParleyError({ code: 'invalid_command', message: 'sendFile: nothing was queued' });
    }
    host.owners.set(id, res.cid);
    const result = await stored;
    if (result !== 'ok') {
      // The core drops a message whose batch did not commit (an "error" event says so).
      throw new ParleyError({
        code: result === 'quota' ? 'storage_quota' : 'storage_aborted',
        recoverable: 'recoverable',
        message: `sendFile: the file could not be stored (${result}); not sent`,
      });
    }
    return res.cid;
  }

  snapshot(full, view = {}) {
    const raw = this.raw;
    const update = {
      connection: raw.connection(),
      outOfSync: raw.syncRetrying(),
      unread: raw.unreadTotal(),
      user: raw.user(),
      storage: this.storageState(),
    };
    const avail = raw.availability();
    update.availability = avail && avail !== 'null' ? JSON.parse(avail) : null;
    if (full || (view.conversations && view.conversations.length)) {
      update.conversations = JSON.parse(raw.conversations());
      update.timelines = {};
      const which = full ? update.conversations.map((c) => c.conv.id) : view.conversations;
      for (const conv of which) update.timelines[conv] = JSON.parse(raw.timeline(conv));
    }
    return update;
  }

  publish(update) {
    this.api.tabs.post({ type: 'state', ...update });
  }

  onHostEvent(name, detail) {
    const { api } = this;
    if (name === 'view') {
      const update = this.snapshot(false, detail);
      api.apply(update);
      this.publish(update);
    } else if (name === 'wiped') {
      // The directory forgets the user before anyone hears of the wipe: a page that leaves
      // as soon as logout() resolves keeps nothing, not even the user's id.
      setCurrentUser(api.app, null)
        .catch(() => {})
        .then(() => {
          api.apply({ wiped: true });
          this.publish({ wiped: true });
          // Continue as a brand-new visitor in a fresh namespace.
          this.restartFresh();
        });
    } else if (name === 'restored') {
      this.restoredResolve?.();
    } else if (name === 'error') {
      api.emit('error', detail);
    } else if (name === 'auth_required') {
      api.emit('auth_required');
    } else if (name === 'upload_progress') {
      api.emit(name, detail);
      try {
        api.tabs.post({ type: 'event', name, detail }); // followers emit it too
      } catch {
        // tabs closed
      }
    }
  }

  async restartFresh() {
    // Signed out: the next start is anonymous, whatever user the page was created with (the
    // directory already forgot the user, before the wipe was announced).
    this.api.options = { ...this.api.options, user: undefined };
    this.host.close();
    this.raw.delete?.();
    this.starting = this.doStart();
    await this.starting;
  }

  stop() {
    if (this.host) this.host.close();
    if (this.store) this.store.close();
    this.raw?.delete?.();
  }
}
