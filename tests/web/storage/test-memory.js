// The JS memory store (web/src/storage/memory.js) with the storage contract's test hooks,
// which the shipped store leaves out (they would weigh on every visitor's bundle):
//   setQuotaBytes(n)        the contract's quota, 0 = unlimited, in the native MemoryStore's
//                           byte accounting (ops.js recordBytes); a commit (or importAll) that
//                           would end above it answers "quota" and changes nothing
//   failNextCommits(n, how) the next n commits answer `how` ("aborted" | "quota") and change
//                           nothing
//   messageCount()          number of stored messages
//   importAll(dump)         replaces the whole content with an exportAll() dump (the product
//                           only imports into IndexedDB)
// The same hooks as the native store's and as IdbStore's (openStore({faults: true})).

import { MemoryStore } from '../../../web/src/storage/memory.js';
import { recordBytes, RESULTS, STORES } from '../../../web/src/storage/ops.js';

/** @typedef {import('../../../web/src/storage/ops.js').CommitResult} CommitResult */
/** @typedef {import('../../../web/src/storage/ops.js').StorageBatch} StorageBatch */
/** @typedef {import('../../../web/src/storage/ops.js').Dump} Dump */

/** A copy that can be mutated without touching the original (values are shared: they are
 * private clones that are never mutated). @param {any} s */
const copyState = (s) => ({
  keyed: new Map([...s.keyed].map(([n, m]) => [n, new Map(m)])),
  messages: new Map([...s.messages].map(([c, arr]) => [c, arr.slice()])),
});

/** @param {any} s */
function stateBytes(s) {
  let bytes = 0;
  for (const [name, m] of s.keyed) for (const [k, v] of m) bytes += recordBytes(name, k, v);
  for (const [conv, arr] of s.messages) for (const [, v] of arr) bytes += recordBytes('messages', conv, v);
  return bytes;
}

export class TestMemoryStore extends MemoryStore {
  /** @param {{fallbackReason?: string | null}} [options] */
  constructor(options) {
    super(options);
    this._quota = 0;
    this._failN = 0;
    /** @type {CommitResult} */
    this._failHow = 'aborted';
  }

  /** @param {StorageBatch} batch @returns {Promise<CommitResult>} */
  async commit(batch) {
    if (this._closed) return 'aborted';
    if (this._failN > 0) {
      this._failN -= 1;
      return this._failHow;
    }
    if (this._quota === 0) return super.commit(batch);
    // The base store applies a valid batch to this._s in place: give it a copy, keep the
    // original unless the result fits.
    const before = this._s;
    this._s = copyState(before);
    const r = await super.commit(batch);
    if (r === 'ok' && stateBytes(this._s) <= this._quota) return 'ok';
    this._s = before;
    return r === 'ok' ? 'quota' : r;
  }

  /** @param {number} bytes */
  setQuotaBytes(bytes) {
    this._quota = Math.max(0, Number(bytes) || 0);
  }

  /** @param {number} n @param {CommitResult} [how] */
  failNextCommits(n, how = 'aborted') {
    if (!RESULTS.has(how) || how === 'ok') throw new TypeError(`failNextCommits: bad result ${how}`);
    this._failN = n;
    this._failHow = how;
  }

  /**
   * Replaces the whole content with a dump: all or nothing (quota included). Never throws.
   * @param {Dump} dump
   * @returns {Promise<CommitResult>}
   */
  async importAll(dump) {
    if (this._closed || !dump || typeof dump !== 'object') return 'aborted';
    /** @type {any[]} */
    const ops = STORES.map((store) => ({ op: /** @type {const} */ ('clear'), store }));
    for (const store of STORES) {
      for (const r of dump[store] || []) {
        if (store !== 'messages') ops.push({ op: 'put', store, key: /** @type {string} */ (r.key), value: r.value });
        else if (Array.isArray(r.key) && r.key.length === 2) ops.push({ op: 'put', store, key: r.key[0], seq: r.key[1], value: r.value });
        else return 'aborted';
      }
    }
    return this.commit({ ops });
  }

  async messageCount() {
    this._check();
    let n = 0;
    for (const arr of this._s.messages.values()) n += arr.length;
    return n;
  }
}

/** @param {{fallbackReason?: string | null}} [options] */
export const createTestMemoryStore = (options) => new TestMemoryStore(options);
