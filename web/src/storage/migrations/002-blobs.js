// IndexedDB version 2: the `blobs` store, pending attachment bytes.
//
// Record schema v2 brought uploads: outbox records of kind "upload" and the `depends_on`
// list of upload cids a message waits for (records.hpp, migrate_v1_to_v2), matching the
// server's attachment bytes (PUT /v1/files). The bytes of an attachment that is queued but
// not uploaded yet must survive a reload next to its outbox record, so they get a store of
// their own, keyed by the attachment's `blob_ref` (docs/protocol.md, Attachment object):
// the host puts the bytes when the visitor picks a file, the core deletes the entry in the
// batch that records the upload (core/src/client.cpp, blob_del).
//
// The step is structural only. Record contents are never rewritten here: the core migrates
// each record lazily when it reads it (records::migrate), so databases from version 1 keep
// their v1 records untouched and the core upgrades them on restore.

export default {
  version: 2,
  /** @param {IDBDatabase} db @param {IDBTransaction} _tx */
  upgrade(db, _tx) {
    if (!db.objectStoreNames.contains('blobs')) db.createObjectStore('blobs');
  },
};
