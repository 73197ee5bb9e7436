// Shared by idb.js and memory.js: the batch format (tests/contract/storage_contract.json),
// validation, commit results and the byte accounting the storage contract's quota uses.

/** @typedef {'meta'|'conversations'|'messages'|'outbox'|'blobs'} StoreName */
/** @typedef {'ok'|'aborted'|'quota'} CommitResult */

/**
 * One op of a core storage batch. Messages are keyed by (key = conversation id, seq); the
 * other stores by `key` alone. delete_range deletes a conversation's messages with
 * seq < `seq` (on a keyed store it deletes `key`, as the native MemoryStore does).
 * @typedef {{op: 'put'|'delete'|'delete_range'|'clear', store: StoreName, key?: string,
 *            seq?: number, value?: unknown}} StorageOp
 */

/** @typedef {{id?: number, ops: StorageOp[]}} StorageBatch */

/**
 * What a cold start reads: the meta record (null if absent), every conversation and every
 * outbox record, each ordered by key.
 * @typedef {{meta: unknown, conversations: unknown[], outbox: unknown[]}} Restored
 */

/**
 * A whole store's content, by object store: records ordered by key; a message's key is
 * [conversation id, seq]. Made by exportAll(), taken by importAll().
 * @typedef {Partial<Record<StoreName, {key: string | [string, number], value: unknown}[]>>} Dump
 */

/** Every object store, in a fixed order. @type {readonly StoreName[]} */
export const STORES = Object.freeze(['meta', 'conversations', 'messages', 'outbox', 'blobs']);

/** Stores read by restore(). */
export const RESTORE_STORES = Object.freeze(['meta', 'conversations', 'outbox']);

/** The key of the single meta record. */
export const META_KEY = 'meta';

const KINDS = new Set(['put', 'delete', 'delete_range', 'clear']);
const STORE_SET = new Set(STORES);
/** @type {ReadonlySet<CommitResult>} */
export const RESULTS = new Set(['ok', 'aborted', 'quota']);

/**
 * A validated op with the defaults the native runner uses (key "", seq 0).
 * @typedef {{op: StorageOp['op'], store: StoreName, key: string, seq: number, value: unknown}} NormalOp
 */

/**
 * Validates a batch and fills in defaults. Returns null when the batch is malformed (an
 * unknown store or op, a non-string key, a non-finite seq): such a batch is answered
 * "aborted" without touching storage.
 * @param {StorageBatch} batch
 * @returns {NormalOp[] | null}
 */
export function normalizeBatch(batch) {
  const ops = batch && Array.isArray(batch.ops) ? batch.ops : null;
  if (!ops) return null;
  /** @type {NormalOp[]} */
  const out = [];
  for (const op of ops) {
    if (!op || typeof op !== 'object') return null;
    if (!KINDS.has(op.op) || !STORE_SET.has(op.store)) return null;
    const key = op.key === undefined || op.key === null ? '' : op.key;
    const seq = op.seq === undefined || op.seq === null ? 0 : op.seq;
    if (typeof key !== 'string') return null;
    if (typeof seq !== 'number' || !Number.isFinite(seq)) return null;
    out.push({ op: op.op, store: op.store, key, seq, value: op.value === undefined ? null : op.value });
  }
  return out;
}

/** The stores a batch touches, in STORES order. @param {NormalOp[]} ops */
export function touchedStores(ops) {
  const s = new Set(ops.map((o) => o.store));
  return STORES.filter((n) => s.has(n));
}

/**
 * Maps an error (a transaction's error, or one thrown while queuing requests) to a commit
 * result: QuotaExceededError is "quota", anything else "aborted".
 * @param {unknown} e
 * @returns {CommitResult}
 */
export function resultOfError(e) {
  const name = e && typeof e === 'object' && 'name' in e ? /** @type {any} */ (e).name : '';
  return name === 'QuotaExceededError' ? 'quota' : 'aborted';
}

const encoder = new TextEncoder();

/** UTF-8 length of a string. @param {string} s */
export function utf8Length(s) {
  return encoder.encode(s).length;
}

/**
 * Size of a stored value in the native MemoryStore's accounting: the length of its compact
 * JSON (a Blob counts its size).
 * @param {unknown} v
 */
export function valueBytes(v) {
  if (typeof Blob !== 'undefined' && v instanceof Blob) return v.size;
  const s = JSON.stringify(v);
  return utf8Length(s === undefined ? 'null' : s);
}

/**
 * Size of one record in the native MemoryStore's accounting (memory_store.cpp): key bytes
 * plus JSON bytes; a message's key is its conversation id plus 8 for the seq.
 * @param {StoreName} store @param {string} key @param {unknown} value
 */
export function recordBytes(store, key, value) {
  return utf8Length(key) + (store === 'messages' ? 8 : 0) + valueBytes(value);
}
