// The effect loop: runs the core (RawClient) and carries out what it asks for.
//
// Every input to the core is a synchronous call that carries `now`; after it the host
// drains the effects and executes them: storage batches (committed strictly in order, each
// one IndexedDB transaction, the result fed back), storage reads, the adapter's connect /
// disconnect / send, timers, view-change notices, typed errors, auth and logout. Storage
// and network are asynchronous; their results come back as new inputs. Nothing here makes
// a decision the core makes (retries, backoff, dedupe, ordering are all the core's).

/** @typedef {{ id: number, ops: object[] }} Batch */

/** The parsed frame when `text` is an `upload` client frame, else null. */
function uploadFrame(text) {
  if (typeof text !== 'string' || !text.includes('"upload"')) return null;
  try {
    const f = JSON.parse(text);
    return f && f.type === 'upload' ? f : null;
  } catch {
    return null;
  }
}

/**
 * A failed PUT as the core's error: the adapter's typed error as it is (its `recoverable`
 * decides retry / give up / new token); too large (413) and a refused type (415) are
 * permanent whatever the answer said; anything untyped (a thrown TypeError) is recoverable.
 */
function uploadError(e) {
  const code = (e && typeof e.code === 'string' && e.code) || 'server_error';
  let recoverable = (e && e.recoverable) || 'recoverable';
  if (code === 'frame_too_large' || code === 'invalid_field') recoverable = 'permanent';
  if (!['recoverable', 'permanent', 'auth'].includes(recoverable)) recoverable = 'recoverable';
  const message = `upload: ${(e && e.message) || String(e)}`;
  return { code, recoverable, message };
}

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
    // Attachments. A picked file's bytes wait here until the core's batch that queues its
    // upload record shows up; they are written in that same transaction (see withBlobs).
    this.stagedBlobs = new Map(); // blob_ref -> {value, settle(result)}
    this.uploads = new Map(); // attachment id -> the PUT of its bytes, while it runs
    this.owners = new Map(); // attachment id -> the message cid (progress events)
    this.connEpoch = 0; // bumped on every connect/disconnect: a late upload frame is dropped
    this.adapter = makeAdapter({
      onConnected: () => {
        this.connEpoch++;
        this.input((t) => raw.onConnected(t));
      },
      onDisconnected: () => {
        this.connEpoch++;
        this.input((t) => raw.onDisconnected(t));
      },
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
    for (const raw of fx.batches || []) {
      any = true;
      const { batch, staged } = this.withBlobs(raw);
      this.queueStorage(async () => {
        let result = 'aborted';
        try {
          result = await this.store.commit(batch);
        } finally {
          for (const s of staged) s.settle(result);
        }
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
      const up = uploadFrame(frame);
      if (up) this.upload(frame, up);
      else this.adapter.send(frame);
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
        // What the adapter keeps of the user outside Parley's database goes too.
        try {
          await this.adapter?.forget?.();
        } catch {
          // an adapter that fails to forget must not keep the database alive
        }
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

  // ---------------------------------------------------------------- attachments
  //
  // Order, for one picked file (parley.js sendFile):
  //   1. stageBlob(ref, value): the bytes wait in memory, keyed by the attachment's blob_ref.
  //   2. raw.send(body with the attachment {id, name, mime, size, blob_ref}): the core
  //      queues an `upload` outbox record (cid = attachment id) and the message record
  //      that depends on it, in one batch.
  //   3. withBlobs(): that batch gets a `put blobs <ref>` op, so the bytes and the records
  //      commit in one IndexedDB transaction: all or nothing (a reload offline keeps both).
  //   4. When the core starts the upload it emits an `upload` frame: upload() reads the
  //      bytes back from the store, PUTs them (adapter.uploadBytes), then sends the frame.
  //      A failed PUT is the frame's request failing (raw.onRequestFailed): the core retries
  //      with backoff, or wedges the upload (and its message) on a permanent error.
  //   5. The core's ack handling removes the upload record and deletes the blob in its own
  //      batch (as does a cancel); the host deletes nothing itself.

  /**
   * Holds a file's bytes until the batch that queues its upload record commits.
   * @returns {Promise<string>} that batch's commit result ("ok", "aborted", "quota")
   */
  stageBlob(ref, value) {
    return new Promise((settle) => this.stagedBlobs.set(ref, { value, settle }));
  }

  /** The send did not queue anything (the core refused it): drop the staged bytes. */
  unstageBlob(ref, result = 'aborted') {
    const s = this.stagedBlobs.get(ref);
    if (!s) return;
    this.stagedBlobs.delete(ref);
    s.settle(result);
  }

  /** A batch that puts an upload record whose blob is staged writes the blob too. */
  withBlobs(batch) {
    const staged = [];
    if (!this.stagedBlobs.size) return { batch, staged };
    const puts = [];
    for (const op of batch.ops || []) {
      if (op.op !== 'put' || op.store !== 'outbox' || !op.value || op.value.kind !== 'upload') continue;
      for (const a of (op.value.body && op.value.body.attachments) || []) {
        const s = a.blob_ref && this.stagedBlobs.get(a.blob_ref);
        if (!s) continue;
        this.stagedBlobs.delete(a.blob_ref);
        staged.push(s);
        puts.push({ op: 'put', store: 'blobs', key: a.blob_ref, value: s.value });
      }
    }
    if (!puts.length) return { batch, staged };
    return { batch: { ...batch, ops: [...puts, ...batch.ops] }, staged };
  }

  /** The stored bytes of a blob (undefined when gone). */
  async readBlob(key) {
    return this.store.getBlob(key);
  }

  /** The message a pending attachment belongs to (for progress events). */
  ownerOf(id, conv) {
    if (this.owners.has(id)) return this.owners.get(id);
    try {
      for (const item of JSON.parse(this.raw.timeline(conv)) || []) {
        const m = item.message || {};
        const atts = (m.body && m.body.attachments) || [];
        if (atts.some((a) => a.id === id)) {
          const cid = m.cid || item.key;
          this.owners.set(id, cid);
          return cid;
        }
      }
    } catch {
      // no timeline: report the attachment id
    }
    return id;
  }

  progress(id, conv, loaded, total) {
    this.emit('upload_progress', { cid: this.ownerOf(id, conv), attachment: id, conv, loaded, total });
  }

  /** An `upload` frame from the core: the bytes first (PUT), then the frame. */
  async upload(text, f) {
    const a = f.attachment || {};
    const id = a.id || f.cid;
    const epoch = this.connEpoch;
    let put = this.uploads.get(id);
    if (!put) {
      // One PUT per attachment at a time: a retried frame joins the running one.
      put = this.putBytes(id, a, f.conv);
      this.uploads.set(id, put);
      const clear = () => this.uploads.get(id) === put && this.uploads.delete(id);
      put.then(clear, clear);
    }
    try {
      await put;
    } catch (e) {
      if (this.closed || !f.req) return;
      const error = uploadError(e);
      this.input((t) => this.raw.onRequestFailed(t, f.req, JSON.stringify(error)));
      return;
    }
    // The connection this frame was meant for is gone: the core failed its request and
    // sends a new one on the next connection (the bytes are there by then).
    if (this.closed || epoch !== this.connEpoch) return;
    this.adapter.send(text);
  }

  async putBytes(id, a, conv) {
    const rec = await this.readBlob(a.blob_ref || id);
    if (!rec || !rec.bytes) {
      throw { code: 'not_found', recoverable: 'permanent', message: `the bytes of attachment ${id} are not on this device` };
    }
    if (typeof this.adapter.uploadBytes !== 'function') {
      throw { code: 'invalid_command', recoverable: 'permanent', message: 'the network adapter cannot upload attachments' };
    }
    const mime = rec.mime || a.mime || 'application/octet-stream';
    const total = rec.bytes.byteLength ?? rec.size ?? 0;
    this.progress(id, conv, 0, total);
    const onProgress = (loaded, t = total) => this.progress(id, conv, loaded, t);
    const r = await this.adapter.uploadBytes(id, rec.bytes, mime, { onProgress });
    this.progress(id, conv, total, total);
    return r;
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
}
