// The store interface in memory. Used when IndexedDB is blocked or unavailable (private
// modes, sandboxed or partitioned iframes, an open that never succeeds): the widget then
// runs on this store, shows a flag (`persistent === false`, `fallbackReason`), and the
// server stays the source of truth. Its semantics are the native MemoryStore's
// (core/src/memory_store.cpp), checked by the same storage contract; key order is the
// IndexedDB order (JS string comparison), so both JS stores answer alike.
//
// exportAll() hands a memory store's content to an IndexedDB store's importAll() once
// storage is allowed (consent). Not shipped, as nothing in the product calls them on a
// memory store: importAll and the storage contract's test hooks (setQuotaBytes,
// failNextCommits, messageCount); tests/web/storage/test-memory.js adds them in a subclass.

import { META_KEY, normalizeBatch } from './ops.js';

/** @typedef {import('./ops.js').StorageBatch} StorageBatch */
/** @typedef {import('./ops.js').CommitResult} CommitResult */
/** @typedef {import('./ops.js').NormalOp} NormalOp */
/** @typedef {import('./ops.js').Restored} Restored */
/** @typedef {import('./ops.js').Dump} Dump */
/** @typedef {'meta'|'conversations'|'outbox'|'blobs'} KeyedStoreName */

/**
 * @typedef {{
 *   keyed: Map<KeyedStoreName, Map<string, unknown>>,
 *   messages: Map<string, Array<[number, unknown]>>,
 * }} State
 */

/** @param {string} a @param {string} b */
const compareStrings = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** First index whose seq is >= seq. @param {Array<[number, unknown]>} arr @param {number} seq */
function lowerBound(arr, seq) {
  let lo = 0;
  let hi = arr.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (arr[mid][0] < seq) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** @returns {State} */
function emptyState() {
  return {
    keyed: new Map([
      ['meta', new Map()],
      ['conversations', new Map()],
      ['outbox', new Map()],
      ['blobs', new Map()],
    ]),
    messages: new Map(),
  };
}

/** Applies ops in batch order. @param {State} s @param {NormalOp[]} ops @param {unknown[]} values */
function apply(s, ops, values) {
  ops.forEach((op, i) => {
    if (op.store === 'messages') {
      if (op.op === 'clear') {
        s.messages.clear();
        return;
      }
      let arr = s.messages.get(op.key);
      if (op.op === 'put') {
        if (!arr) s.messages.set(op.key, (arr = []));
        const at = lowerBound(arr, op.seq);
        if (at < arr.length && arr[at][0] === op.seq) arr[at] = [op.seq, values[i]];
        else arr.splice(at, 0, [op.seq, values[i]]);
        return;
      }
      if (!arr) return;
      if (op.op === 'delete') {
        const at = lowerBound(arr, op.seq);
        if (at < arr.length && arr[at][0] === op.seq) arr.splice(at, 1);
      } else {
        arr.splice(0, lowerBound(arr, op.seq)); // delete_range: seq < op.seq
      }
      if (arr.length === 0) s.messages.delete(op.key);
      return;
    }
    const m = /** @type {Map<string, unknown>} */ (s.keyed.get(/** @type {KeyedStoreName} */ (op.store)));
    if (op.op === 'put') m.set(op.key, values[i]);
    else if (op.op === 'clear') m.clear();
    else m.delete(op.key); // delete, and delete_range on a keyed store (as natively)
  });
}

export class MemoryStore {
  /** @param {{fallbackReason?: string | null}} [options] */
  constructor({ fallbackReason = null } = {}) {
    /** Never survives a reload. */
    this.persistent = false;
    /** Why IndexedDB was not used (null when the memory store was chosen on purpose). */
    this.fallbackReason = fallbackReason;
    /** @type {State} */
    this._s = emptyState();
    this._closed = false;
  }

  /**
   * Applies every op of the batch, or none of them. Never throws.
   * @param {StorageBatch} batch
   * @returns {Promise<CommitResult>}
   */
  async commit(batch) {
    if (this._closed) return 'aborted';
    const ops = normalizeBatch(batch);
    if (!ops) return 'aborted';
    /** @type {unknown[]} */
    let values;
    try {
      // Stored values are private copies, as IndexedDB's structured clones are.
      values = ops.map((op) => (op.op === 'put' ? structuredClone(op.value) : null));
    } catch {
      return 'aborted';
    }
    apply(this._s, ops, values); // validated and cloned: nothing can fail part-way
    return 'ok';
  }

  /** A pending attachment's stored bytes record, or undefined. @param {string} key */
  async getBlob(key) {
    this._check();
    const blobs = /** @type {Map<string, unknown>} */ (this._s.keyed.get('blobs'));
    return blobs && blobs.has(key) ? structuredClone(blobs.get(key)) : undefined;
  }

  /** @returns {Promise<Restored>} */
  async restore() {
    this._check();
    const k = this._s.keyed;
    const meta = /** @type {Map<string, unknown>} */ (k.get('meta'));
    return {
      meta: meta.has(META_KEY) ? structuredClone(meta.get(META_KEY)) : null,
      conversations: this._values('conversations'),
      outbox: this._values('outbox'),
    };
  }

  /**
   * Up to `limit` messages of `conv` with seq < before (0 = newest), ascending.
   * @param {string} conv @param {number} [before] @param {number} [limit]
   * @returns {Promise<unknown[]>}
   */
  async page(conv, before = 0, limit = 50) {
    this._check();
    const arr = this._s.messages.get(conv) || [];
    const end = before > 0 ? lowerBound(arr, before) : arr.length;
    const start = Math.max(0, end - Math.max(0, limit));
    return arr.slice(start, end).map(([, v]) => structuredClone(v));
  }

  /**
   * Every record of every store ({store: [{key, value}]}, messages keyed [conv, seq]).
   * @returns {Promise<Dump>}
   */
  async exportAll() {
    this._check();
    /** @type {Dump} */
    const out = {};
    for (const [name, m] of this._s.keyed) {
      out[name] = [...m.keys()].sort(compareStrings).map((key) => ({ key, value: structuredClone(m.get(key)) }));
    }
    out.messages = [...this._s.messages.keys()].sort(compareStrings).flatMap((conv) =>
      /** @type {Array<[number, unknown]>} */ (this._s.messages.get(conv)).map(([seq, v]) => ({
        key: /** @type {[string, number]} */ ([conv, seq]),
        value: structuredClone(v),
      })),
    );
    return out;
  }

  /** Logout: forget everything. The store is closed afterwards. */
  async destroy() {
    this._s = emptyState();
    this._closed = true;
  }

  close() {
    this._closed = true;
  }

  /** @param {KeyedStoreName} name */
  _values(name) {
    const m = /** @type {Map<string, unknown>} */ (this._s.keyed.get(name));
    return [...m.keys()].sort(compareStrings).map((key) => structuredClone(m.get(key)));
  }

  _check() {
    if (this._closed) throw new Error('parley storage: the store is closed');
  }
}

/**
 * A memory store; `fallbackReason` says why IndexedDB is not used.
 * @param {{fallbackReason?: string | null}} [options]
 */
export function createMemoryStore(options) {
  return new MemoryStore(options);
}
