// IndexedDB version 1: the stores of record schema v1 (core/include/parley/records.hpp).
// Keys are out-of-line: the core's batch ops carry them. Messages are keyed by the compound
// key [conversation id, seq], so a page is a key range and a re-delivered message
// overwrites itself.

export default {
  version: 1,
  /** @param {IDBDatabase} db @param {IDBTransaction} _tx */
  upgrade(db, _tx) {
    for (const name of ['meta', 'conversations', 'messages', 'outbox']) {
      if (!db.objectStoreNames.contains(name)) db.createObjectStore(name);
    }
  },
};
