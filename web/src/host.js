// The effect loop: runs the core (RawClient) and carries out what it asks for.
//
// Every input to the core is a synchronous call that carries `now`; after it the host
// drains the effects and executes them: storage batches (committed strictly in order, each
// one IndexedDB transaction, the result fed back), storage reads, the adapter's connect /
// disconnect / send, timers, view-change notices, typed errors, auth and logout. Storage
// and network are asynchronous; their results come back as new inputs. Nothing here makes
// a decision the core makes (retries, backoff, dedupe, ordering are all the core's).

/** @typedef {{ id: number, ops: object[] }} Batch */

export class Host {
  /**
   * @param {object} o
   * @param {any} o.raw              a RawClient (wasm/src/bindings.cpp)
   * @param {any} o.store            an open store (storage/idb.js or storage/memory.js)
   * @param {(hooks: object) => any} o.makeAdapter  builds the network adapter
   * @param {(ns: {from: string, to: string}) => Promise<any>} [o.switchUser]
   *        called when a welcome names another user than the store's namespace; resolves to
   *        the store to use from now on
   * @param {(name: string, detail?: any) => void} o.emit
   * @param {() => Promise<string|null>} [o.getToken]  a fresh token on `auth_required`
   * @param {() => number} [o.now]
   */
  constructor({ raw, store, makeAdapter, switchUser, emit, getToken, now = () => Date.now(), namespaceUser }) {
    this.raw = raw;
    this.store = store;
    this.emit = emit;
    this.getToken = getToken;
    this.now = now;
    this.switchUser = switchUser;
    this.namespaceUser = namespaceUser || '';
    this.timers = new Map(); // core timer id -> setTimeout handle
    this.storage = Promise.resolve(); // storage work, strictly in order
    this.pumping = false;
    this.closed = false;
    this.adapter = makeAdapter({
      onConnected: () => this.input((t) => raw.onConnected(t)),
      onDisconnected: () => this.input((t) => raw.onDisconnected(t)),
      onFrame: (text) => this.input((t) => raw.onFrame(t, text)),
      onRequestFailed: (req, error) =>
        this.input((t) => raw.onRequestFailed(t, req, JSON.stringify(error))),
    });
  }

  start() {
    this.input((t) => this.raw.start(t));
  }

  /** Feeds one input to the core, then executes the effects. */
  input(fn) {
    if (this.closed) return undefined;
    const result = fn(this.now());
    this.pump();
    return result;
  }

  pump() {
    if (this.pumping || this.closed) return;
    this.pumping = true;
    try {
      for (let guard = 0; guard < 1000; guard++) {
        const fx = JSON.parse(this.raw.drain());
        if (!this.execute(fx)) break;
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Executes one drained effects object; false when it was empty. */
  execute(fx) {
    let any = false;
    for (const batch of fx.batches || []) {
      any = true;
      this.queueStorage(async () => {
        const result = await this.store.commit(batch);
        this.input((t) => this.raw.onCommit(t, batch.id, result));
      });
    }
    for (const read of fx.reads || []) {
      any = true;
      this.queueStorage(async () => {
        if (read.kind === 'restore') {
          const r = await this.store.restore();
          this.input((t) => this.raw.onRestored(t, JSON.stringify(r)));
          this.emit('restored');
        } else {
          const msgs = await this.store.page(read.conv, read.before, read.limit);
          this.input((t) => this.raw.onPageLoaded(t, read.conv, JSON.stringify(msgs)));
        }
      });
    }
    if (fx.disconnect) {
      any = true;
      this.adapter.disconnect();
    }
    if (fx.connect) {
      any = true;
      this.adapter.connect();
    }
    for (const frame of fx.frames || []) {
      any = true;
      this.adapter.send(frame);
    }
    for (const id of fx.timers_cancelled || []) {
      any = true;
      clearTimeout(this.timers.get(id));
      this.timers.delete(id);
    }
    for (const { id, at } of fx.timers_set || []) {
      any = true;
      clearTimeout(this.timers.get(id));
      const delay = Math.max(0, at - this.now());
      this.timers.set(
        id,
        setTimeout(() => {
          this.timers.delete(id);
          this.input((t) => this.raw.onTimer(t, id));
        }, Math.min(delay, 2 ** 31 - 1)),
      );
    }
    for (const e of fx.errors || []) {
      any = true;
      this.emit('error', e);
    }
    if (fx.auth_required) {
      any = true;
      this.refreshToken();
    }
    if (fx.wiped) {
      any = true;
      this.queueStorage(async () => {
        await this.store.destroy();
        this.emit('wiped');
      });
    }
    const view = fx.view || {};
    if ((view.conversations && view.conversations.length) || view.connection || view.unread || view.availability) {
      any = true;
      this.checkUser();
      this.emit('view', view);
    }
    return any;
  }

  queueStorage(task) {
    this.storage = this.storage.then(task).catch((e) => this.emit('error', {
      code: 'storage_aborted',
      recoverable: 'recoverable',
      message: `storage: ${e && e.message ? e.message : e}`,
    }));
  }

  /** A welcome for another user than the store's namespace: move to that user's database. */
  checkUser() {
    const user = this.raw.user();
    if (!user || user === this.namespaceUser || !this.switchUser) return;
    const from = this.namespaceUser;
    this.namespaceUser = user;
    this.queueStorage(async () => {
      this.store = await this.switchUser({ from, to: user, store: this.store });
    });
  }

  async refreshToken() {
    let token = null;
    try {
      token = this.getToken ? await this.getToken() : null;
    } catch {
      token = null;
    }
    if (token) this.input((t) => this.raw.onToken(t, token));
    else this.emit('auth_required');
  }

  /** Stops timers and the network; the store stays open for the caller to close. */
  close() {
    if (this.closed) return;
    for (const h of this.timers.values()) clearTimeout(h);
    this.timers.clear();
    try {
      this.adapter.disconnect();
    } catch {
      // already closed
    }
    this.closed = true;
  }

  /** Resolves when every queued storage operation has finished. */
  idle() {
    return this.storage;
  }
}
