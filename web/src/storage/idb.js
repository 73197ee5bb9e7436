// IndexedDB store: one database per (app, user) namespace, one readwrite transaction per core
// storage batch (web/README.md; DESIGN.md "Browser storage", guarantees 8-10).
//
//   const store = await openStore({ app, user })   // IdbStore, or a MemoryStore when blocked
//   store.persistent, store.fallbackReason         // false + why, for the memory fallback
//   await store.commit(batch)                      // "ok" | "aborted" | "quota", never throws
//   await store.restore()                          // {meta, conversations, outbox}
//   await store.page(conv, before, limit)          // seq < before (0 = newest), ascending
//   await store.destroy()                          // logout: delete the database + directory entry
//   store.close()
//   await store.exportAll() / importAll(dump)      // whole content (memory -> IndexedDB adoption)
//   await store.messageCount()                     // tests, diagnostics
//   store.setQuotaBytes(n), failNextCommits(n, r)  // test hooks, openStore({faults: true})
//
//   currentUser(app), setCurrentUser(app, user), moveNamespace(app, from, to), resumeMove(app)
//
// Databases: `parley:<app>:<user>` (object stores meta, conversations, messages keyed
// [conv, seq], outbox, blobs; versions in ./migrations/) and the directory `parley:<app>`
// (object store `directory`: key "current" -> the user this browser last held; key "moving"
// -> a namespace move whose copy committed but whose source is not deleted yet).
// `:` and `%` inside app or user ids are percent-encoded so names cannot collide.
// Write transactions use durability "strict" (flushed before "ok"): a message shown as
// queued is durable (guarantee 1).

import { createMemoryStore } from './memory.js';
import { checkMigrations, MIGRATIONS, runMigrations } from './migrations/index.js';
import {
  META_KEY,
  normalizeBatch,
  recordBytes,
  RESTORE_STORES,
  RESULTS,
  resultOfError,
  STORES,
  touchedStores,
} from './ops.js';

/** @typedef {import('./ops.js').StorageBatch} StorageBatch */
/** @typedef {import('./ops.js').CommitResult} CommitResult */
/** @typedef {import('./ops.js').NormalOp} NormalOp */
/** @typedef {import('./ops.js').Restored} Restored */
/** @typedef {import('./ops.js').StoreName} StoreName */
/** @typedef {import('./migrations/index.js').Migration} Migration */
/** @typedef {import('./memory.js').MemoryStore} MemoryStore */
/** @typedef {'strict' | 'relaxed' | 'default'} Durability */

/** The namespace of a visitor before the first welcome names them. */
export const NEW_USER = '_new';
/** How long an open may take before the store falls back to memory. */
export const DEFAULT_OPEN_TIMEOUT_MS = 3000;

const DIRECTORY_STORE = 'directory';
const CURRENT = 'current';
const MOVING = 'moving';
/** @type {readonly Migration[]} */
const DIRECTORY_MIGRATIONS = Object.freeze([
  {
    version: 1,
    /** @param {IDBDatabase} db */
    upgrade(db) {
      if (!db.objectStoreNames.contains(DIRECTORY_STORE)) db.createObjectStore(DIRECTORY_STORE);
    },
  },
]);

/** @param {string} s */
const encodePart = (s) => String(s).replace(/%/g, '%25').replace(/:/g, '%3A');

/** The database of one (app, user) namespace. @param {string} app @param {string} user */
export function dbName(app, user) {
  return `parley:${encodePart(app)}:${encodePart(user)}`;
}

/** The directory database of an app. @param {string} app */
export function directoryName(app) {
  return `parley:${encodePart(app)}`;
}

/**
 * Options shared by every entry point.
 * @typedef {{
 *   indexedDB?: IDBFactory | null,   // default globalThis.indexedDB; null = unavailable
 *   openTimeoutMs?: number,          // default 3000
 *   onBlocked?: () => void,          // an open or delete waits for other tabs' connections
 *   durability?: Durability,         // write transactions, default 'strict'
 *   migrations?: readonly Migration[],               // tests only
 * }} CommonOptions
 */

/**
 * The IndexedDB factory to use, or why there is none. Reading globalThis.indexedDB can
 * itself throw in some embedding contexts.
 * @param {IDBFactory | null | undefined} given
 * @returns {{factory: IDBFactory | null, reason: string}}
 */
function resolveFactory(given) {
  if (given !== undefined) return { factory: given, reason: given ? '' : 'unavailable' };
  try {
    const f = globalThis.indexedDB;
    return { factory: f || null, reason: f ? '' : 'unavailable' };
  } catch (e) {
    return { factory: null, reason: errorName(e) === 'SecurityError' ? 'security' : `error:${errorName(e)}` };
  }
}

/** @param {unknown} e */
function errorName(e) {
  return (e && typeof e === 'object' && 'name' in e && /** @type {any} */ (e).name) || 'Error';
}

/** @param {IDBTransaction} tx */
function abortQuietly(tx) {
  try {
    tx.abort();
  } catch {
    // already finished or aborting
  }
}

/**
 * Opens a database, running the migration steps in onupgradeneeded. Resolves {db} or
 * {reason}; never rejects. A connection that opens after the timeout fired is closed at once.
 * Reasons: security, timeout, blocked (timed out while other connections blocked the
 * upgrade), version (the database is newer than this code), absent (mustExist and there is
 * no such database), error:<DOMException name>.
 * @param {IDBFactory} factory @param {string} name
 * @param {{version?: number, migrations?: readonly Migration[], onBlocked?: () => void,
 *          timeoutMs?: number, mustExist?: boolean}} o
 * @returns {Promise<{db: IDBDatabase, reason?: undefined} | {db?: undefined, reason: string}>}
 */
function openDb(factory, name, o) {
  return new Promise((resolve) => {
    let settled = false;
    let blocked = false;
    /** @type {ReturnType<typeof setTimeout> | undefined} */
    let timer;
    /** @param {{db: IDBDatabase} | {reason: string}} r */
    const finish = (r) => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      resolve(/** @type {any} */ (r));
      return true;
    };
    /** @type {IDBOpenDBRequest} */
    let req;
    try {
      req = o.version === undefined ? factory.open(name) : factory.open(name, o.version);
    } catch (e) {
      finish({ reason: errorName(e) === 'SecurityError' ? 'security' : `error:${errorName(e)}` });
      return;
    }
    let absent = false;
    timer = setTimeout(
      () => finish({ reason: blocked ? 'blocked' : 'timeout' }),
      o.timeoutMs ?? DEFAULT_OPEN_TIMEOUT_MS,
    );
    req.onupgradeneeded = (ev) => {
      const tx = /** @type {IDBTransaction} */ (req.transaction);
      if (o.mustExist && ev.oldVersion === 0) {
        absent = true; // aborting the first upgrade leaves no database behind
        abortQuietly(tx);
        return;
      }
      try {
        runMigrations(o.migrations || [], req.result, tx, ev.oldVersion, ev.newVersion ?? ev.oldVersion);
      } catch {
        abortQuietly(tx); // the database stays at its old version; the next open resumes
      }
    };
    req.onblocked = () => {
      blocked = true;
      if (!settled && o.onBlocked) o.onBlocked();
    };
    req.onsuccess = () => {
      const db = req.result;
      if (!finish({ db })) db.close();
    };
    req.onerror = (ev) => {
      ev.preventDefault();
      const n = errorName(req.error);
      finish({ reason: absent ? 'absent' : n === 'VersionError' ? 'version' : `error:${n}` });
    };
  });
}

/**
 * Deletes a database; resolves when it is gone. Other connections get a versionchange event
 * (IdbStore closes itself on it, so a logout in one tab closes the store in every tab).
 * @param {IDBFactory} factory @param {string} name @param {() => void} [onBlocked]
 * @returns {Promise<void>}
 */
function deleteDb(factory, name, onBlocked) {
  return new Promise((resolve, reject) => {
    const req = factory.deleteDatabase(name);
    req.onsuccess = () => resolve();
    req.onerror = () => reject(req.error);
    req.onblocked = () => onBlocked && onBlocked();
  });
}

/** Resolves when the transaction commits, rejects with its error when it aborts.
 * @param {IDBTransaction} tx @returns {Promise<void>} */
function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(tx.error || new DOMException('transaction aborted', 'AbortError'));
  });
}

/** @param {IDBDatabase} db @param {string[]} stores @param {IDBTransactionMode} mode
 * @param {Durability} [durability] */
function transaction(db, stores, mode, durability) {
  return durability
    ? db.transaction(stores, mode, /** @type {IDBTransactionOptions} */ ({ durability }))
    : db.transaction(stores, mode);
}

/** The key range of a conversation's messages with seq < before (0 = all).
 * @param {string} conv @param {number} before */
function messageRange(conv, before) {
  return before > 0
    ? IDBKeyRange.bound([conv, -Infinity], [conv, before], false, true)
    : IDBKeyRange.bound([conv, -Infinity], [conv, Infinity]);
}

/** Queues one op's request. Throws (DataError, DataCloneError...) if it cannot be queued.
 * @param {IDBTransaction} tx @param {NormalOp} op */
function applyOp(tx, op) {
  const os = tx.objectStore(op.store);
  if (op.op === 'clear') {
    os.clear();
  } else if (op.store === 'messages') {
    if (op.op === 'put') os.put(op.value, [op.key, op.seq]);
    else if (op.op === 'delete') os.delete([op.key, op.seq]);
    else os.delete(IDBKeyRange.bound([op.key, -Infinity], [op.key, op.seq], false, true));
  } else if (op.op === 'put') {
    os.put(op.value, op.key);
  } else {
    os.delete(op.key); // delete, and delete_range on a keyed store (as natively)
  }
}

export class IdbStore {
  /**
   * Use openStore().
   * @param {IDBDatabase} db
   * @param {{app: string, user: string, factory: IDBFactory, faults?: boolean,
   *          durability?: Durability, openTimeoutMs?: number, onBlocked?: () => void,
   *          onVersionChange?: () => void}} o
   */
  constructor(db, o) {
    /** IndexedDB: survives reloads. */
    this.persistent = true;
    /** @type {string | null} */
    this.fallbackReason = null;
    this.app = o.app;
    this.user = o.user;
    this.name = db.name;
    this._db = db;
    this._o = o;
    this._closed = false;
    this._faults = !!o.faults;
    this._quota = 0;
    this._failN = 0;
    /** @type {CommitResult} */
    this._failHow = 'aborted';
    // Another connection wants to upgrade or delete this database (a newer tab, a logout in
    // another tab): step aside so it is not blocked. Later commits answer "aborted".
    db.onversionchange = () => {
      this.close();
      if (o.onVersionChange) o.onVersionChange();
    };
    db.onclose = () => {
      this._closed = true; // closed by the browser (storage cleared, disk error)
    };
  }

  /**
   * One readwrite transaction over the touched stores: every op or none. Resolves "ok",
   * "quota" (QuotaExceededError) or "aborted" (any other failure); never throws.
   * @param {StorageBatch} batch
   * @returns {Promise<CommitResult>}
   */
  commit(batch) {
    try {
      return this._commit(batch).catch(() => 'aborted');
    } catch {
      return Promise.resolve('aborted');
    }
  }

  /** @param {StorageBatch} batch @returns {Promise<CommitResult>} */
  async _commit(batch) {
    if (this._closed) return 'aborted';
    /** @type {CommitResult | null} */
    let injected = null;
    if (this._failN > 0) {
      this._failN -= 1;
      injected = this._failHow;
    }
    const ops = normalizeBatch(batch);
    if (!ops) return injected || 'aborted';
    if (ops.length === 0) return injected || 'ok';
    const quota = this._quota;
    const stores = quota > 0 ? this._allStores() : touchedStores(ops);
    return new Promise((resolve) => {
      /** @type {IDBTransaction} */
      let tx;
      try {
        tx = transaction(this._db, stores, 'readwrite', this._o.durability ?? 'strict');
      } catch (e) {
        resolve(resultOfError(e));
        return;
      }
      /** @type {CommitResult | null} */
      let forced = null;
      tx.oncomplete = () => resolve('ok');
      tx.onabort = () => resolve(forced || resultOfError(tx.error));
      try {
        for (const op of ops) applyOp(tx, op);
      } catch (e) {
        forced = resultOfError(e); // e.g. DataCloneError: the requests already queued are undone
        abortQuietly(tx);
        return;
      }
      if (injected) {
        // Test hook: a real abort of a real transaction whose requests are all queued.
        forced = injected;
        abortQuietly(tx);
      } else if (quota > 0) {
        // Test hook: the contract's quota in the native byte accounting, measured inside the
        // same transaction after the batch's requests. Over it: abort, answer "quota".
        this._measure(tx, stores, (bytes) => {
          if (bytes > quota) {
            forced = 'quota';
            abortQuietly(tx);
          }
        });
      }
    });
  }

  /** A pending attachment's stored bytes record, or undefined. @param {string} key */
  async getBlob(key) {
    const tx = this._readTx(['blobs']);
    const r = tx.objectStore('blobs').get(key);
    await done(tx);
    return r.result;
  }

  /** @returns {Promise<Restored>} */
  async restore() {
    const tx = this._readTx([...RESTORE_STORES]);
    const meta = tx.objectStore('meta').get(META_KEY);
    const conversations = tx.objectStore('conversations').getAll();
    const outbox = tx.objectStore('outbox').getAll();
    await done(tx);
    return {
      meta: meta.result === undefined ? null : meta.result,
      conversations: conversations.result,
      outbox: outbox.result,
    };
  }

  /**
   * Up to `limit` messages of `conv` with seq < before (0 = newest), ascending: the newest
   * end of a key range, read backwards.
   * @param {string} conv @param {number} [before] @param {number} [limit]
   * @returns {Promise<unknown[]>}
   */
  async page(conv, before = 0, limit = 50) {
    if (!(limit > 0)) return [];
    const tx = this._readTx(['messages']);
    /** @type {unknown[]} */
    const out = [];
    const req = tx.objectStore('messages').openCursor(messageRange(conv, before), 'prev');
    req.onsuccess = () => {
      const cur = req.result;
      if (!cur) return;
      out.push(cur.value);
      if (out.length < limit) cur.continue();
    };
    await done(tx);
    return out.reverse();
  }

  /**
   * Every record of every store ({store: [{key, value}]}, messages keyed [conv, seq]): with
   * importAll, moves a store's content into another store (memory -> IndexedDB once
   * storage is allowed).
   * @returns {Promise<Dump>}
   */
  async exportAll() {
    if (this._closed) throw new Error('parley storage: the store is closed');
    return readAll(this._db);
  }

  /**
   * Replaces the whole content with a dump, in one readwrite transaction: all or nothing.
   * Never throws.
   * @param {Dump} dump
   * @returns {Promise<CommitResult>}
   */
  async importAll(dump) {
    if (this._closed) return 'aborted';
    return writeAll(this._db, dump, this._o.durability ?? 'strict');
  }

  /** Number of stored messages (tests, diagnostics). @returns {Promise<number>} */
  async messageCount() {
    const tx = this._readTx(['messages']);
    const req = tx.objectStore('messages').count();
    await done(tx);
    return req.result;
  }

  /**
   * Logout: deletes this namespace's database (other tabs' connections close themselves on
   * the versionchange), then the directory entry if it names this user.
   * @returns {Promise<void>}
   */
  async destroy() {
    this.close();
    const { factory, onBlocked } = this._o;
    await deleteDb(factory, this.name, onBlocked);
    await directoryTx(this.app, this._o, (os) => {
      const cur = os.get(CURRENT);
      cur.onsuccess = () => {
        if (cur.result === this.user) os.delete(CURRENT);
      };
    });
  }

  close() {
    if (this._closed) return;
    this._closed = true;
    this._db.close();
  }

  /** Test hook (openStore({faults: true})): simulated quota, 0 = unlimited. @param {number} bytes */
  setQuotaBytes(bytes) {
    this._needFaults();
    this._quota = Math.max(0, Number(bytes) || 0);
  }

  /** Test hook (openStore({faults: true})): the next `n` commits are aborted and answer `how`.
   * @param {number} n @param {CommitResult} [how] */
  failNextCommits(n, how = 'aborted') {
    this._needFaults();
    if (!RESULTS.has(how) || how === 'ok') throw new TypeError(`failNextCommits: bad result ${how}`);
    this._failN = n;
    this._failHow = how;
  }

  _needFaults() {
    if (!this._faults) throw new Error('parley storage: fault injection needs openStore({faults: true})');
  }

  _allStores() {
    return STORES.filter((n) => this._db.objectStoreNames.contains(n));
  }

  /** @param {string[]} stores */
  _readTx(stores) {
    if (this._closed) throw new Error('parley storage: the store is closed');
    return this._db.transaction(stores, 'readonly');
  }

  /** Sums the native byte accounting over `stores` inside `tx`, then calls back.
   * @param {IDBTransaction} tx @param {string[]} stores @param {(bytes: number) => void} cb */
  _measure(tx, stores, cb) {
    let pending = stores.length;
    let bytes = 0;
    for (const name of stores) {
      const os = tx.objectStore(name);
      const keys = os.getAllKeys();
      const values = os.getAll();
      values.onsuccess = () => {
        values.result.forEach((v, i) => {
          const k = /** @type {any} */ (keys.result[i]);
          bytes += recordBytes(/** @type {StoreName} */ (name), name === 'messages' ? k[0] : k, v);
        });
        if (--pending === 0) cb(bytes);
      };
    }
  }
}

/**
 * Opens the (app, user) namespace. Falls back to a MemoryStore (persistent false, with a
 * fallbackReason) when IndexedDB is unavailable ("unavailable"), refused ("security"), does
 * not open within openTimeoutMs ("timeout", or "blocked" when other connections held up the
 * upgrade), is newer than this code ("version"), or fails ("error:<name>").
 * @param {CommonOptions & {app: string, user?: string, faults?: boolean,
 *                          onVersionChange?: () => void}} options
 *   faults: enables setQuotaBytes / failNextCommits (tests).
 *   onVersionChange: this connection closed itself for another tab's upgrade or logout.
 * @returns {Promise<IdbStore | MemoryStore>}
 */
export async function openStore(options) {
  const { app, user = NEW_USER, migrations = MIGRATIONS } = options;
  if (typeof app !== 'string' || app === '') throw new TypeError('openStore: app is required');
  if (typeof user !== 'string' || user === '') throw new TypeError('openStore: user must be a non-empty string');
  const { factory, reason } = resolveFactory(options.indexedDB);
  if (!factory) return createMemoryStore({ fallbackReason: reason });
  const version = checkMigrations(migrations);
  const r = await openDb(factory, dbName(app, user), {
    version,
    migrations,
    onBlocked: options.onBlocked,
    timeoutMs: options.openTimeoutMs,
  });
  if (!r.db) return createMemoryStore({ fallbackReason: r.reason });
  return new IdbStore(r.db, {
    app,
    user,
    factory,
    faults: options.faults,
    durability: options.durability,
    openTimeoutMs: options.openTimeoutMs,
    onBlocked: options.onBlocked,
    onVersionChange: options.onVersionChange,
  });
}

// ------------------------------------------------------------------------------ directory

/**
 * Runs `fn` on the directory store in one readwrite transaction. Resolves false when the
 * directory cannot be opened (storage blocked); rejects if the transaction fails.
 * @param {string} app @param {CommonOptions} options
 * @param {(os: IDBObjectStore) => void} fn
 * @param {IDBTransactionMode} [mode]
 * @returns {Promise<boolean>}
 */
async function directoryTx(app, options, fn, mode = 'readwrite') {
  const { factory } = resolveFactory(options.indexedDB);
  if (!factory) return false;
  const r = await openDb(factory, directoryName(app), {
    version: 1,
    migrations: DIRECTORY_MIGRATIONS,
    timeoutMs: options.openTimeoutMs,
  });
  if (!r.db) return false;
  const db = r.db;
  db.onversionchange = () => db.close();
  try {
    const tx = transaction(db, [DIRECTORY_STORE], mode, mode === 'readwrite' ? 'strict' : undefined);
    fn(tx.objectStore(DIRECTORY_STORE));
    await done(tx);
    return true;
  } finally {
    db.close();
  }
}

/** @param {string} app @param {string} key @param {CommonOptions} options */
async function directoryGet(app, key, options) {
  /** @type {unknown} */
  let value = null;
  const ok = await directoryTx(
    app,
    options,
    (os) => {
      const req = os.get(key);
      req.onsuccess = () => {
        value = req.result === undefined ? null : req.result;
      };
    },
    'readonly',
  );
  return ok ? value : null;
}

/**
 * The user this browser last held for `app` (null: none, or storage blocked).
 * @param {string} app @param {CommonOptions} [options]
 * @returns {Promise<string | null>}
 */
export async function currentUser(app, options = {}) {
  try {
    const v = await directoryGet(app, CURRENT, options);
    return typeof v === 'string' ? v : null;
  } catch {
    return null;
  }
}

/**
 * Remembers `user` as this browser's current one for `app` (null forgets it). Resolves
 * false when storage is blocked or the write failed.
 * @param {string} app @param {string | null} user @param {CommonOptions} [options]
 * @returns {Promise<boolean>}
 */
export async function setCurrentUser(app, user, options = {}) {
  try {
    return await directoryTx(app, options, (os) => {
      if (user === null || user === undefined) os.delete(CURRENT);
      else os.put(user, CURRENT);
    });
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------ namespace moves

/** @typedef {import('./ops.js').Dump} Dump */

/** Every record of every store present. @param {IDBDatabase} db @returns {Promise<Dump>} */
async function readAll(db) {
  const names = STORES.filter((n) => db.objectStoreNames.contains(n));
  /** @type {Dump} */
  const dump = {};
  if (names.length === 0) return dump;
  const tx = db.transaction(names, 'readonly');
  /** @type {Array<[StoreName, IDBRequest<IDBValidKey[]>, IDBRequest<unknown[]>]>} */
  const reqs = names.map((n) => [n, tx.objectStore(n).getAllKeys(), tx.objectStore(n).getAll()]);
  await done(tx);
  for (const [n, k, v] of reqs) dump[n] = k.result.map((key, i) => ({ key: /** @type {any} */ (key), value: v.result[i] }));
  return dump;
}

/**
 * Makes `db` hold exactly the dumped records (stores absent from the dump end up empty), in
 * one readwrite transaction.
 * @param {IDBDatabase} db @param {Dump} dump @param {Durability} durability
 * @returns {Promise<CommitResult>}
 */
function writeAll(db, dump, durability) {
  return new Promise((resolve) => {
    /** @type {IDBTransaction} */
    let tx;
    try {
      tx = transaction(db, [...STORES], 'readwrite', durability);
    } catch (e) {
      resolve(resultOfError(e));
      return;
    }
    tx.oncomplete = () => resolve('ok');
    tx.onabort = () => resolve(resultOfError(tx.error));
    try {
      if (!dump || typeof dump !== 'object') throw new TypeError('bad dump');
      for (const n of STORES) {
        const os = tx.objectStore(n);
        os.clear(); // a target that already holds records gets the source's instead
        for (const r of dump[n] || []) os.put(r.value, /** @type {IDBValidKey} */ (r.key));
      }
    } catch (e) {
      abortQuietly(tx);
      resolve(resultOfError(e));
    }
  });
}

/**
 * Moves a namespace: copies every record of `fromUser`'s database into `toUser`'s (which is
 * left holding exactly the source's records) in one readwrite transaction on the target;
 * then, in one directory transaction, points "current" at `toUser` (if it named `fromUser`
 * or nobody) and notes the move; then deletes the source database and the note.
 *
 * Idempotent if interrupted: the source is deleted only after the copy committed; a rerun
 * before that copies again (overwriting the target); a rerun after it (the note says the
 * copy committed) only deletes the source; a source that no longer exists means the move is
 * done. resumeMove() finishes a noted move at start-up. Resolves "ok", or "quota" /
 * "aborted" when the copy could not commit (nothing deleted); never throws.
 * @param {string} app @param {string} fromUser @param {string} toUser
 * @param {CommonOptions} [options]
 * @returns {Promise<CommitResult>}
 */
export async function moveNamespace(app, fromUser, toUser, options = {}) {
  try {
    return await move(app, fromUser, toUser, options);
  } catch {
    return 'aborted';
  }
}

/** @param {string} app @param {string} fromUser @param {string} toUser @param {CommonOptions} options
 * @returns {Promise<CommitResult>} */
async function move(app, fromUser, toUser, options) {
  if (fromUser === toUser) return 'ok';
  const { factory } = resolveFactory(options.indexedDB);
  if (!factory) return 'aborted';
  const note = /** @type {{from: string, to: string} | null} */ (await directoryGet(app, MOVING, options));
  if (note && (note.from !== fromUser || note.to !== toUser)) {
    const r = await resumeMove(app, options); // an older move: finish it first
    if (r !== 'ok') return r;
  }
  const copied = !!note && note.from === fromUser && note.to === toUser;
  if (!copied) {
    const src = await openDb(factory, dbName(app, fromUser), {
      mustExist: true,
      timeoutMs: options.openTimeoutMs,
    });
    if (!src.db) return src.reason === 'absent' ? 'ok' : 'aborted'; // absent: already moved
    /** @type {Dump} */
    let dump;
    try {
      dump = await readAll(src.db);
    } finally {
      src.db.close();
    }
    const migrations = options.migrations || MIGRATIONS;
    const dst = await openDb(factory, dbName(app, toUser), {
      version: checkMigrations(migrations),
      migrations,
      onBlocked: options.onBlocked,
      timeoutMs: options.openTimeoutMs,
    });
    if (!dst.db) return 'aborted';
    /** @type {CommitResult} */
    let res;
    try {
      res = await writeAll(dst.db, dump, options.durability ?? 'strict');
    } finally {
      dst.db.close();
    }
    if (res !== 'ok') return res;
    const noted = await directoryTx(app, options, (os) => {
      const cur = os.get(CURRENT);
      cur.onsuccess = () => {
        if (cur.result === undefined || cur.result === fromUser) os.put(toUser, CURRENT);
      };
      os.put({ from: fromUser, to: toUser }, MOVING);
    });
    if (!noted) return 'aborted';
  }
  await deleteDb(factory, dbName(app, fromUser), options.onBlocked);
  await directoryTx(app, options, (os) => {
    const req = os.get(MOVING);
    req.onsuccess = () => {
      const v = req.result;
      if (v && v.from === fromUser && v.to === toUser) os.delete(MOVING);
    };
  });
  return 'ok';
}

/**
 * Finishes a namespace move whose copy committed but whose source was not deleted yet (a
 * crash or a closed tab in between). Call at start-up before opening the store. Resolves
 * "ok" when there was nothing to do or it is done.
 * @param {string} app @param {CommonOptions} [options]
 * @returns {Promise<CommitResult>}
 */
export async function resumeMove(app, options = {}) {
  try {
    const note = /** @type {{from: string, to: string} | null} */ (await directoryGet(app, MOVING, options));
    if (!note) return 'ok';
    return await move(app, note.from, note.to, options);
  } catch {
    return 'aborted';
  }
}
