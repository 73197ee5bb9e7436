// In-page side of tests/web/storage/run.mjs. Each exported section runs in Chromium against
// the real modules (/web/src/storage/*.js, loaded as ES modules) and returns
// [{name, ok, detail?}]. Module URLs are relative to this file, so the sections also work
// from a sandboxed (opaque-origin) iframe.

import { canonical, runCase, same } from './contract.js';
import {
  currentUser,
  dbName,
  directoryName,
  moveNamespace,
  openStore,
  resumeMove,
  setCurrentUser,
} from '../../../web/src/storage/idb.js';
import { createTestMemoryStore as createMemoryStore } from './test-memory.js';
import { DB_VERSION, MIGRATIONS } from '../../../web/src/storage/migrations/index.js';
import { STORES } from '../../../web/src/storage/ops.js';

// ---------------------------------------------------------------------------- utilities

function collector() {
  /** @type {{name: string, ok: boolean, detail?: string}[]} */
  const results = [];
  /** @param {string} name @param {() => Promise<void>} fn */
  const test = async (name, fn) => {
    try {
      await fn();
      results.push({ name, ok: true });
    } catch (e) {
      results.push({ name, ok: false, detail: e instanceof Error ? e.message : String(e) });
    }
  };
  return { results, test };
}

/** @param {unknown} cond @param {string} msg */
function expect(cond, msg) {
  if (!cond) throw new Error(msg);
}

/** @param {unknown} got @param {unknown} want @param {string} what */
function expectSame(got, want, what) {
  if (!same(got, want)) throw new Error(`${what}: got ${canonical(got)}, expected ${canonical(want)}`);
}

/** @param {IDBRequest | IDBTransaction} r */
const settle = (r) =>
  new Promise((ok, bad) => {
    if ('oncomplete' in r) {
      r.oncomplete = () => ok(undefined);
      r.onabort = () => bad(r.error);
    } else {
      r.onsuccess = () => ok(r.result);
      r.onerror = () => bad(r.error);
    }
  });

export async function dbNames() {
  return (await indexedDB.databases()).map((d) => d.name);
}

/** @param {string} name */
export async function rawDelete(name) {
  await settle(indexedDB.deleteDatabase(name));
}

/**
 * Opens a database as old code would (no Parley migrations). @param {string} name
 * @param {number} [version] @param {(db: IDBDatabase, tx: IDBTransaction) => void} [upgrade]
 * @returns {Promise<IDBDatabase>}
 */
function rawOpen(name, version, upgrade) {
  return new Promise((ok, bad) => {
    const req = version ? indexedDB.open(name, version) : indexedDB.open(name);
    req.onupgradeneeded = () => upgrade && upgrade(req.result, /** @type {IDBTransaction} */ (req.transaction));
    req.onsuccess = () => ok(req.result);
    req.onerror = () => bad(req.error);
    req.onblocked = () => bad(new Error(`rawOpen ${name}: blocked`));
  });
}

/** @param {any} v fixture value: {"$blob": {type, base64}} becomes a Blob */
function decodeValue(v) {
  if (v && typeof v === 'object' && v.$blob) {
    const bin = atob(v.$blob.base64);
    const bytes = Uint8Array.from(bin, (c) => c.charCodeAt(0));
    return new Blob([bytes], { type: v.$blob.type });
  }
  return v;
}

/** @param {any} v a stored value: a Blob becomes {"$blob": {type, base64}} */
async function encodeValue(v) {
  if (v instanceof Blob) {
    const bytes = new Uint8Array(await v.arrayBuffer());
    return { $blob: { type: v.type, base64: btoa(String.fromCharCode(...bytes)) } };
  }
  return v;
}

/**
 * Every record of an existing database, without creating or upgrading it.
 * @param {string} name
 * @returns {Promise<{version: number, stores: Record<string, {key: any, value: any}[]>} | null>}
 */
export async function rawDump(name) {
  if (!(await dbNames()).includes(name)) return null;
  const db = await rawOpen(name);
  try {
    const names = [...db.objectStoreNames];
    /** @type {Record<string, {key: any, value: any}[]>} */
    const stores = {};
    if (names.length) {
      const tx = db.transaction(names, 'readonly');
      const reqs = names.map((n) => [n, tx.objectStore(n).getAllKeys(), tx.objectStore(n).getAll()]);
      await settle(tx);
      for (const [n, k, v] of /** @type {any[]} */ (reqs)) {
        stores[n] = await Promise.all(k.result.map(async (key, i) => ({ key, value: await encodeValue(v.result[i]) })));
      }
    }
    return { version: db.version, stores };
  } finally {
    db.close();
  }
}

/** Builds a database exactly as a fixture describes it (its own schema, not the migration
 * code under test). @param {string} name @param {any} fixture */
export async function createFromFixture(name, fixture) {
  await rawDelete(name);
  const db = await rawOpen(name, fixture.version, (d) => {
    for (const [store, spec] of Object.entries(fixture.schema)) {
      const os = d.createObjectStore(store, spec.keyPath ? { keyPath: spec.keyPath } : undefined);
      for (const ix of spec.indexes || []) os.createIndex(ix.name, ix.keyPath, ix.options || {});
    }
  });
  const stores = Object.keys(fixture.records);
  const tx = db.transaction(stores, 'readwrite');
  for (const s of stores) for (const r of fixture.records[s]) tx.objectStore(s).put(decodeValue(r.value), r.key);
  await settle(tx);
  db.close();
}

/** @param {number} ms */
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** @param {string} conv @param {number} seq @param {string} [text] */
const msgPut = (conv, seq, text = 'm') => ({
  op: 'put',
  store: 'messages',
  key: conv,
  seq,
  value: { conv, seq, text },
});
/** @param {string} store @param {string} key @param {unknown} value */
const put = (store, key, value) => ({ op: 'put', store, key, value });

/** A batch touching every store. @param {string} tag */
function fullBatch(tag) {
  return {
    id: 1,
    ops: [
      put('meta', 'meta', { user: tag, cursor: 3 }),
      put('conversations', 'c1', { id: 'c1', subject: tag }),
      msgPut('c1', 1, `${tag}-1`),
      msgPut('c1', 2, `${tag}-2`),
      put('outbox', 'k1', { cid: 'k1', conv: 'c1', body: { text: tag } }),
      put('blobs', 'b1', { bytes: tag }),
    ],
  };
}

/** Reads a store's whole content through the interface (plus blobs raw). @param {any} store */
async function snapshot(store) {
  const r = await store.restore();
  const pages = {};
  for (const c of r.conversations) pages[c.id] = await store.page(c.id, 0, 10000);
  return { ...r, pages, count: await store.messageCount() };
}

// ----------------------------------------------------------------------------- sections

/**
 * (a) Every case of the storage contract against one backend.
 * @param {{backend: 'idb' | 'memory', suite: {cases: {name: string, steps: any[]}[]}}} o
 */
export async function contract({ backend, suite }) {
  const { results, test } = collector();
  for (const [i, kase] of suite.cases.entries()) {
    await test(`contract[${backend}]: ${kase.name}`, async () => {
      /** @type {any} */
      let store;
      if (backend === 'memory') {
        store = createMemoryStore();
      } else {
        store = await openStore({ app: 'contract', user: `case${i}`, faults: true });
        expect(store.persistent, `IndexedDB store expected, fell back: ${store.fallbackReason}`);
      }
      try {
        const problems = await runCase(store, kase);
        expect(problems.length === 0, problems.join('; '));
      } finally {
        await store.destroy();
      }
    });
  }
  return results;
}

/**
 * (b) Migrations: each fixture database, created at its version with its own schema, opened
 * by the current code.
 * @param {{fixtures: any[]}} o
 */
export async function migrations({ fixtures }) {
  const { results, test } = collector();
  for (const f of fixtures) {
    await test(`migration: v${f.version} fixture opens at v${DB_VERSION} with every record intact`, async () => {
      const app = 'mig';
      const user = `fixture-v${f.version}`;
      const name = dbName(app, user);
      await createFromFixture(name, f);
      const before = /** @type {any} */ (await rawDump(name));
      expect(before.version === f.version, `fixture database at v${before.version}`);
      const store = await openStore({ app, user });
      expect(store.persistent, `fell back to memory: ${store.fallbackReason}`);
      const r = await store.restore();
      const rec = f.records;
      const byKey = (/** @type {any[]} */ l) => [...(l || [])].sort((a, b) => indexedDB.cmp(a.key, b.key));
      expectSame(r.meta, rec.meta && rec.meta.length ? rec.meta[0].value : null, 'restore().meta');
      expectSame(r.conversations, byKey(rec.conversations).map((x) => x.value), 'restore().conversations');
      expectSame(r.outbox, byKey(rec.outbox).map((x) => x.value), 'restore().outbox');
      const convs = [...new Set((rec.messages || []).map((/** @type {any} */ m) => m.key[0]))];
      for (const conv of convs) {
        const want = rec.messages.filter((/** @type {any} */ m) => m.key[0] === conv).sort((a, b) => a.key[1] - b.key[1]);
        expectSame(await store.page(conv, 0, 1000), want.map((/** @type {any} */ m) => m.value), `page(${conv})`);
      }
      store.close();
      const after = /** @type {any} */ (await rawDump(name));
      expect(after.version === DB_VERSION, `migrated database at v${after.version}, expected v${DB_VERSION}`);
      expectSame(Object.keys(after.stores).sort(), [...STORES].sort(), 'object stores after migration');
      for (const s of Object.keys(rec)) {
        expectSame(after.stores[s], before.stores[s], `raw records of ${s} (before vs after)`);
        expectSame(after.stores[s], byKey(rec[s]).map((x) => ({ key: x.key, value: x.value })), `raw records of ${s} (fixture)`);
      }
      // The migrated database is fully usable, the store added by later steps included.
      const again = await openStore({ app, user });
      const res = await again.commit({ ops: [put('blobs', 'b_new', { n: 1 }), msgPut('c_new', 1)] });
      expect(res === 'ok', `commit after migration: ${res}`);
      expectSame(await again.page('c_new', 0, 10), [{ conv: 'c_new', seq: 1, text: 'm' }], 'page after migration');
      await again.destroy();
    });
  }

  const v1 = fixtures.find((f) => f.version === 1);
  await test('migration: an upgrade that fails part-way leaves v1 intact and is resumed by the next open', async () => {
    const app = 'mig';
    const user = 'interrupted';
    const name = dbName(app, user);
    await createFromFixture(name, v1);
    const before = await rawDump(name);
    const crashing = [
      ...MIGRATIONS,
      {
        version: DB_VERSION + 1,
        /** @param {IDBDatabase} db */
        upgrade(db) {
          db.createObjectStore('half_done');
          throw new Error('crash in the middle of an upgrade');
        },
      },
    ];
    const s1 = await openStore({ app, user, migrations: crashing });
    expect(!s1.persistent, 'the failed upgrade should fall back to memory');
    expect(/^error:/.test(String(s1.fallbackReason)), `fallbackReason ${s1.fallbackReason}`);
    const mid = /** @type {any} */ (await rawDump(name));
    expect(mid.version === 1, `after the failed upgrade the database is at v${mid.version}`);
    expect(!('blobs' in mid.stores) && !('half_done' in mid.stores), 'no step of the failed upgrade survived');
    expectSame(mid, before, 'records after the failed upgrade');
    const s2 = await openStore({ app, user });
    expect(s2.persistent, `resume: ${s2.fallbackReason}`);
    expectSame((await s2.restore()).meta, v1.records.meta[0].value, 'meta after resume');
    await s2.destroy();
  });

  await test('migration: a database newer than this code falls back to memory ("version")', async () => {
    const name = dbName('mig', 'future');
    await rawDelete(name);
    const db = await rawOpen(name, DB_VERSION + 5, (d) => d.createObjectStore('meta'));
    db.close();
    const s = await openStore({ app: 'mig', user: 'future' });
    expect(!s.persistent && s.fallbackReason === 'version', `got persistent=${s.persistent} reason=${s.fallbackReason}`);
    expect((/** @type {any} */ (await rawDump(name))).version === DB_VERSION + 5, 'the newer database was left alone');
    await rawDelete(name);
  });

  await test('migration: an upgrade blocked by an old tab calls onBlocked, times out to memory, then opens', async () => {
    const app = 'mig';
    const user = 'blocked';
    const name = dbName(app, user);
    await createFromFixture(name, v1);
    const old = await rawOpen(name); // an old tab: no versionchange handler, never closes
    let blockedCalls = 0;
    const t0 = performance.now();
    const s = await openStore({ app, user, openTimeoutMs: 400, onBlocked: () => blockedCalls++ });
    const took = performance.now() - t0;
    expect(blockedCalls === 1, `onBlocked called ${blockedCalls} times`);
    expect(!s.persistent && s.fallbackReason === 'blocked', `got ${s.persistent} ${s.fallbackReason}`);
    expect(took >= 350 && took < 3000, `fell back after ${Math.round(took)} ms`);
    old.close(); // the old tab goes away: the pending upgrade runs, its late connection is closed
    await sleep(100);
    const s2 = await openStore({ app, user, openTimeoutMs: 2000 });
    expect(s2.persistent, `after the old tab closed: ${s2.fallbackReason}`);
    expectSame((await s2.restore()).meta, v1.records.meta[0].value, 'meta');
    await s2.destroy();
  });
  return results;
}

/** (c) Namespaces, logout, directory, moves. */
export async function namespaces() {
  const { results, test } = collector();
  const app = 'ns';

  await test('namespaces: two users get two separate databases', async () => {
    const a = await openStore({ app, user: 'u1' });
    const b = await openStore({ app, user: 'u2' });
    expect(a.persistent && b.persistent, 'IndexedDB expected');
    expect((await a.commit(fullBatch('alice'))) === 'ok', 'commit u1');
    expect((await b.commit(fullBatch('bob'))) === 'ok', 'commit u2');
    expectSame((await a.restore()).meta, { user: 'alice', cursor: 3 }, 'u1 meta');
    expectSame((await b.restore()).meta, { user: 'bob', cursor: 3 }, 'u2 meta');
    expectSame((await b.page('c1', 0, 10)).map((m) => m.text), ['bob-1', 'bob-2'], 'u2 messages');
    const names = await dbNames();
    expect(names.includes('parley:ns:u1') && names.includes('parley:ns:u2'), `databases: ${names}`);
    a.close();
    b.close();
  });

  await test('namespaces: the directory remembers the current user', async () => {
    expect((await currentUser(app)) === null, 'no current user at first');
    expect((await setCurrentUser(app, 'u1')) === true, 'setCurrentUser');
    expect((await currentUser(app)) === 'u1', 'currentUser after set');
    expect((await dbNames()).includes(directoryName(app)), 'directory database parley:ns exists');
  });

  await test('namespaces: destroy() deletes the database and its directory entry, and closes other tabs\' stores', async () => {
    const a = await openStore({ app, user: 'u1' });
    let otherClosed = 0;
    const otherTab = await openStore({ app, user: 'u1', onVersionChange: () => otherClosed++ });
    await a.destroy();
    const names = await dbNames();
    expect(!names.includes('parley:ns:u1'), `u1 database still listed: ${names}`);
    expect(names.includes('parley:ns:u2'), 'u2 database must survive u1 logout');
    expect((await currentUser(app)) === null, 'directory entry for u1 removed');
    expect(otherClosed === 1, `the other connection was told ${otherClosed} times`);
    expect((await otherTab.commit(fullBatch('late'))) === 'aborted', 'a commit after logout elsewhere is aborted');
    expect(!(await dbNames()).includes('parley:ns:u1'), 'the late commit must not recreate the database');
    // Logging out a user the directory does not name leaves the entry alone.
    await setCurrentUser(app, 'u3');
    const b = await openStore({ app, user: 'u2' });
    await b.destroy();
    expect((await currentUser(app)) === 'u3', 'entry for another user untouched');
    await setCurrentUser(app, null);
    expect((await currentUser(app)) === null, 'setCurrentUser(null) forgets');
  });

  await test('namespaces: moveNamespace copies every record, overwrites the target, deletes the source', async () => {
    const src = await openStore({ app, user: '_new' });
    expect((await src.commit(fullBatch('anon'))) === 'ok', 'commit source');
    expect((await src.commit({ ops: [msgPut('c2', 7, 'other conv')] })) === 'ok', 'commit source 2');
    const want = await snapshot(src);
    const tgt = await openStore({ app, user: 'u9' }); // the target already holds stale records
    expect((await tgt.commit({ ops: [put('conversations', 'stale', { id: 'stale' }), msgPut('stale', 1)] })) === 'ok', 'stale');
    tgt.close();
    await setCurrentUser(app, '_new');
    // The host's open store on the source closes itself when the source is deleted.
    expect((await moveNamespace(app, '_new', 'u9')) === 'ok', 'moveNamespace');
    const names = await dbNames();
    expect(!names.includes('parley:ns:_new'), `source still exists: ${names}`);
    expect((await currentUser(app)) === 'u9', 'directory now names the target');
    const moved = await openStore({ app, user: 'u9' });
    const got = await snapshot(moved);
    expectSame(got, want, 'target content');
    expectSame(await moved.page('stale', 0, 10), [], 'stale target messages gone');
    expectSame(await moved.page('c2', 0, 10), [{ conv: 'c2', seq: 7, text: 'other conv' }], 'messages of a conversation without a record');
    const raw = /** @type {any} */ (await rawDump(dbName(app, 'u9')));
    expectSame(raw.stores.blobs, [{ key: 'b1', value: { bytes: 'anon' } }], 'blobs moved');
    // Idempotent: a rerun after completion finds no source and changes nothing.
    expect((await moveNamespace(app, '_new', 'u9')) === 'ok', 'rerun');
    expectSame(await snapshot(moved), want, 'target after rerun');
    expect(!(await dbNames()).includes('parley:ns:_new'), 'the rerun must not recreate the source');
    await moved.destroy();
  });

  await test('namespaces: a move interrupted after the copy is finished by resumeMove without re-copying', async () => {
    const src = await openStore({ app, user: '_new' });
    expect((await src.commit(fullBatch('anon2'))) === 'ok', 'commit source');
    src.close();
    await setCurrentUser(app, '_new');
    // A factory whose deleteDatabase "crashes": the copy commits, the source stays.
    const crashing = {
      open: (/** @type {string} */ n, /** @type {number} */ v) => (v === undefined ? indexedDB.open(n) : indexedDB.open(n, v)),
      deleteDatabase: () => {
        throw new Error('tab closed');
      },
    };
    const r = await moveNamespace(app, '_new', 'u8', { indexedDB: /** @type {any} */ (crashing) });
    expect(r === 'aborted', `interrupted move answered ${r}`);
    let names = await dbNames();
    expect(names.includes('parley:ns:_new') && names.includes('parley:ns:u8'), `after the crash: ${names}`);
    expect((await currentUser(app)) === 'u8', 'the directory already names the complete copy');
    // The app runs on the target and writes; the leftover source must not overwrite that.
    const tgt = await openStore({ app, user: 'u8' });
    expect((await tgt.commit({ ops: [msgPut('c1', 3, 'written after the move')] })) === 'ok', 'new write');
    expect((await resumeMove(app)) === 'ok', 'resumeMove');
    names = await dbNames();
    expect(!names.includes('parley:ns:_new'), `source not deleted: ${names}`);
    expectSame((await tgt.page('c1', 0, 10)).map((m) => m.text), ['anon2-1', 'anon2-2', 'written after the move'], 'target messages');
    expect((await resumeMove(app)) === 'ok', 'resumeMove with nothing pending');
    await tgt.destroy();
  });

  await test('namespaces: exportAll/importAll move a memory store into IndexedDB (and back), all or nothing', async () => {
    const mem = createMemoryStore({ fallbackReason: 'waiting for consent' });
    expect((await mem.commit(fullBatch('mem'))) === 'ok', 'memory commit');
    expect((await mem.commit({ ops: [msgPut('c2', 5, 'five'), msgPut('c10', 1)] })) === 'ok', 'memory commit 2');
    const want = await snapshot(mem);
    const idb = await openStore({ app, user: 'adopt' });
    expect((await idb.commit({ ops: [put('conversations', 'stale', { id: 'stale' })] })) === 'ok', 'stale');
    const dump = await mem.exportAll();
    expect((await idb.importAll(dump)) === 'ok', 'importAll into IndexedDB');
    expectSame(await snapshot(idb), want, 'IndexedDB content after importAll');
    expectSame(await idb.exportAll(), dump, 'IndexedDB exportAll equals the memory dump');
    const back = createMemoryStore();
    expect((await back.importAll(await idb.exportAll())) === 'ok', 'importAll into memory');
    expectSame(await back.exportAll(), dump, 'round trip');
    const poisoned = { ...dump, outbox: [{ key: 'kx', value: { f: () => 1 } }] };
    expect((await idb.importAll(poisoned)) === 'aborted', 'an uncloneable value aborts the import');
    expect((await back.importAll(poisoned)) === 'aborted', 'memory import aborts too');
    expectSame(await snapshot(idb), want, 'IndexedDB unchanged after the failed import');
    expectSame(await back.exportAll(), dump, 'memory unchanged after the failed import');
    await idb.destroy();
  });

  await test('namespaces: a move whose copy did not commit is redone and overwrites the target', async () => {
    const src = await openStore({ app, user: '_new' });
    expect((await src.commit(fullBatch('anon3'))) === 'ok', 'commit source');
    src.close();
    // Interrupted before the copy committed: the target holds an older partial state.
    const tgt = await openStore({ app, user: 'u7' });
    expect((await tgt.commit(fullBatch('partial'))) === 'ok', 'partial target');
    expect((await tgt.commit({ ops: [put('outbox', 'k_partial', { cid: 'k_partial' })] })) === 'ok', 'partial target 2');
    tgt.close();
    expect((await moveNamespace(app, '_new', 'u7')) === 'ok', 'move');
    const t = await openStore({ app, user: 'u7' });
    const r = await t.restore();
    expectSame(r.meta, { user: 'anon3', cursor: 3 }, 'meta from the source');
    expectSame(r.outbox.map((o) => o.cid), ['k1'], 'outbox exactly the source\'s');
    await t.destroy();
    await setCurrentUser(app, null);
  });
  return results;
}

/**
 * (d) Storage unavailable: an init script made indexedDB.open throw SecurityError (or the
 * page is a sandboxed iframe, where Chromium itself throws it).
 * @param {{label: string, expectReason: string}} o
 */
export async function blocked({ label, expectReason }) {
  const { results, test } = collector();
  await test(`blocked storage (${label}): openStore falls back to memory, persistent false`, async () => {
    const s = await openStore({ app: 'blk', user: 'u1', faults: true });
    expect(s.persistent === false, 'persistent should be false');
    expect(s.fallbackReason === expectReason, `fallbackReason ${s.fallbackReason}, expected ${expectReason}`);
    expect((await s.commit(fullBatch('mem'))) === 'ok', 'commit in memory');
    expectSame((await s.restore()).meta, { user: 'mem', cursor: 3 }, 'restore in memory');
    expectSame((await s.page('c1', 0, 1)).map((m) => m.seq), [2], 'page in memory');
    // (The fault hooks are not shipped in memory.js: the fallback is checked with a real
    // abort, a malformed batch, which must leave the memory content as it was.)
    expect((await s.commit({ ops: [put('meta', 'meta', { x: 1 }), put('nope', 'k', {})] })) === 'aborted', 'a malformed batch aborts on the fallback');
    expectSame((await s.restore()).meta, { user: 'mem', cursor: 3 }, 'the fallback unchanged by the aborted batch');
    expect((await currentUser('blk')) === null, 'currentUser answers null');
    expect((await setCurrentUser('blk', 'u1')) === false, 'setCurrentUser answers false');
    expect((await moveNamespace('blk', '_new', 'u1')) === 'aborted', 'moveNamespace answers aborted');
    await s.destroy();
  });
  return results;
}

/** (d) Unavailable or never-opening IndexedDB, in a normal page. */
export async function unavailable() {
  const { results, test } = collector();
  await test('blocked storage: indexedDB null (unavailable) falls back to memory', async () => {
    const s = await openStore({ app: 'blk', user: 'u1', indexedDB: null });
    expect(!s.persistent && s.fallbackReason === 'unavailable', `${s.persistent} ${s.fallbackReason}`);
  });
  await test('blocked storage: an open that never succeeds falls back after the timeout', async () => {
    const never = { open: () => ({}), deleteDatabase: () => ({}) };
    const t0 = performance.now();
    const s = await openStore({ app: 'blk', user: 'u1', indexedDB: /** @type {any} */ (never), openTimeoutMs: 300 });
    const took = performance.now() - t0;
    expect(!s.persistent && s.fallbackReason === 'timeout', `${s.persistent} ${s.fallbackReason}`);
    expect(took >= 280 && took < 2000, `took ${Math.round(took)} ms`);
  });
  await test('blocked storage: the default open timeout is 3 s', async () => {
    const { DEFAULT_OPEN_TIMEOUT_MS } = await import('../../../web/src/storage/idb.js');
    expect(DEFAULT_OPEN_TIMEOUT_MS === 3000, String(DEFAULT_OPEN_TIMEOUT_MS));
  });
  return results;
}

/** (e) Reload / restart, part 1: write. @param {{app: string}} o */
export async function persistWrite({ app }) {
  const s = await openStore({ app, user: 'u1' });
  if (!s.persistent) throw new Error(`fell back: ${s.fallbackReason}`);
  const r1 = await s.commit(fullBatch('before-reload'));
  const r2 = await s.commit({ ops: [msgPut('c1', 3, 'last'), { op: 'delete', store: 'outbox', key: 'k1' }] });
  await setCurrentUser(app, 'u1');
  s.close();
  return [r1, r2];
}

/** (e) Reload / restart, part 2: read back. @param {{app: string, label: string}} o */
export async function persistRead({ app, label }) {
  const { results, test } = collector();
  await test(`persistence (${label}): restore() and page() see the committed batches`, async () => {
    expect((await currentUser(app)) === 'u1', 'directory entry survived');
    const s = await openStore({ app, user: 'u1' });
    expect(s.persistent, `fell back: ${s.fallbackReason}`);
    const r = await s.restore();
    expectSame(r.meta, { user: 'before-reload', cursor: 3 }, 'meta');
    expectSame(r.conversations, [{ id: 'c1', subject: 'before-reload' }], 'conversations');
    expectSame(r.outbox, [], 'outbox (deleted by the second batch)');
    expectSame((await s.page('c1', 0, 2)).map((m) => m.text), ['before-reload-2', 'last'], 'newest page');
    expectSame((await s.page('c1', 2, 2)).map((m) => m.text), ['before-reload-1'], 'older page');
    await s.destroy();
  });
  return results;
}

/** (f) Aborts: injected, natural (DataCloneError part-way), malformed, closed. */
export async function aborts() {
  const { results, test } = collector();
  const app = 'abort';
  const base = async (/** @type {any} */ s) => {
    expect((await s.commit(fullBatch('base'))) === 'ok', 'base commit');
    return snapshot(s);
  };
  const bad = (/** @type {unknown} */ poison) => ({
    ops: [
      put('meta', 'meta', { user: 'bad', cursor: 99 }),
      { op: 'delete', store: 'outbox', key: 'k1' },
      { op: 'delete_range', store: 'messages', key: 'c1', seq: 100 },
      put('conversations', 'c9', { id: 'c9' }),
      msgPut('c9', 1),
      put('blobs', 'b1', poison),
    ],
  });

  await test('abort: a real transaction abort (fault hook) answers "aborted" and leaves no trace', async () => {
    const s = await openStore({ app, user: 'u1', faults: true });
    const want = await base(s);
    s.failNextCommits(1, 'aborted');
    expect((await s.commit(bad({ fine: true }))) === 'aborted', 'aborted');
    expectSame(await snapshot(s), want, 'state after the abort');
    expect((await s.commit(bad({ fine: true }))) === 'ok', 'the next commit goes through');
    await s.destroy();
  });

  await test('abort: a value that cannot be stored (DataCloneError after 5 queued ops) aborts the whole batch', async () => {
    const s = await openStore({ app, user: 'u2' });
    const want = await base(s);
    const r = await s.commit(bad({ f: () => 1 }));
    expect(r === 'aborted', `answered ${r}`);
    expectSame(await snapshot(s), want, 'state after the failed batch');
    const raw = /** @type {any} */ (await rawDump(dbName(app, 'u2')));
    expectSame(raw.stores.blobs, [{ key: 'b1', value: { bytes: 'base' } }], 'blobs untouched');
    await s.destroy();
  });

  await test('abort: a malformed batch (unknown store) answers "aborted" and applies nothing', async () => {
    for (const s of [await openStore({ app, user: 'u3' }), createMemoryStore()]) {
      const want = await base(s);
      const r = await s.commit({ ops: [put('meta', 'meta', { x: 1 }), put('nope', 'k', {})] });
      expect(r === 'aborted', `answered ${r}`);
      expectSame(await snapshot(s), want, `${s.persistent ? 'idb' : 'memory'} state`);
      await s.destroy();
    }
  });

  await test('abort: memory store is atomic for an uncloneable value too', async () => {
    const s = createMemoryStore();
    const want = await base(s);
    expect((await s.commit(bad({ f: () => 1 }))) === 'aborted', 'aborted');
    expectSame(await snapshot(s), want, 'state');
  });

  await test('abort: commit on a closed store answers "aborted", never throws', async () => {
    const s = await openStore({ app, user: 'u4' });
    s.close();
    expect((await s.commit(fullBatch('closed'))) === 'aborted', 'closed commit');
    expect((await s.commit(/** @type {any} */ (null))) === 'aborted', 'null batch');
    const s2 = await openStore({ app, user: 'u4' });
    expect((await s2.commit(/** @type {any} */ ({ ops: 'nope' }))) === 'aborted', 'bad ops');
    expect((await s2.commit({ ops: [] })) === 'ok', 'empty batch');
    await s2.destroy();
  });
  return results;
}

/** (f) Real quota, part 1 (the origin's quota is overridden to a small value). */
export async function quotaOver() {
  const { results, test } = collector();
  await test('quota (real QuotaExceededError): an over-quota batch answers "quota" and leaves no trace', async () => {
    const s = await openStore({ app: 'quota', user: 'u1' });
    expect(s.persistent, `fell back: ${s.fallbackReason}`);
    expect((await s.commit(fullBatch('small'))) === 'ok', 'a small batch fits');
    const want = await snapshot(s);
    const big = 'x'.repeat(3 * 1024 * 1024);
    const r = await s.commit({
      ops: [
        put('meta', 'meta', { user: 'big', cursor: 9 }),
        put('outbox', 'k2', { cid: 'k2' }),
        msgPut('c1', 3, big),
        { op: 'delete', store: 'messages', key: 'c1', seq: 1 },
      ],
    });
    expect(r === 'quota', `answered ${r}`);
    expectSame(await snapshot(s), want, 'state after the quota failure');
    s.close();
  });
  return results;
}

/** (f) Real quota, part 2 (override removed): the same batch now fits. */
export async function quotaAfter() {
  const { results, test } = collector();
  await test('quota (real): once space is available the same batch commits', async () => {
    const s = await openStore({ app: 'quota', user: 'u1' });
    const r = await s.commit({ ops: [put('meta', 'meta', { user: 'big', cursor: 9 }), msgPut('c1', 3, 'x'.repeat(3 * 1024 * 1024))] });
    expect(r === 'ok', `answered ${r}`);
    expect((await s.restore()).meta.user === 'big', 'meta');
    expect((await s.page('c1', 0, 1))[0].text.length === 3 * 1024 * 1024, 'big message');
    await s.destroy();
  });
  return results;
}
