// Test host for the wasm RawClient: an in-memory store that follows the storage contract
// (tests/contract/storage_contract.json), and a small effect loop that records everything.
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '../../..');
// PARLEY_WASM_DIR lets the same tests run against another build directory.
export const WASM_DIR = path.resolve(process.env.PARLEY_WASM_DIR || path.join(ROOT, 'build/wasm'));
export const NODE_GLUE = path.join(WASM_DIR, 'parley_core_node.js');
export const WEB_GLUE = path.join(WASM_DIR, 'parley_core.mjs');
export const WEB_WASM = path.join(WASM_DIR, 'parley_core.wasm');

let corePromise;
// The Node flavour (CommonJS), instantiated once per test file.
export function loadNodeCore() {
  if (!fs.existsSync(NODE_GLUE)) {
    throw new Error(`${NODE_GLUE} is missing: build it with cmake --build build/wasm --target parley_wasm`);
  }
  const require = createRequire(import.meta.url);
  const factory = require(NODE_GLUE);
  corePromise ??= factory({ wasmBinary: fs.readFileSync(NODE_GLUE.replace(/\.js$/, '.wasm')) });
  return corePromise;
}

const STORES = ['meta', 'conversations', 'messages', 'outbox', 'blobs'];

export class MemoryStore {
  constructor() {
    this.data = Object.fromEntries(STORES.map((s) => [s, new Map()]));
    this.failNext = null; // "aborted" | "quota": the next commit fails without applying
  }

  static messageKey(conv, seq) {
    return JSON.stringify([conv, seq]);
  }

  // All or nothing: ops are applied to copies, which replace the stores only when every op
  // was valid.
  commit(batch) {
    if (this.failNext) {
      const r = this.failNext;
      this.failNext = null;
      return r;
    }
    const next = Object.fromEntries(STORES.map((s) => [s, new Map(this.data[s])]));
    for (const op of batch.ops) {
      const m = next[op.store];
      if (!m) throw new Error(`unknown store ${op.store}`);
      const isMsg = op.store === 'messages';
      switch (op.op) {
        case 'put':
          m.set(isMsg ? MemoryStore.messageKey(op.key, op.seq) : op.key, structuredClone(op.value));
          break;
        case 'delete':
          m.delete(isMsg ? MemoryStore.messageKey(op.key, op.seq) : op.key);
          break;
        case 'delete_range':
          for (const k of [...m.keys()]) {
            const [conv, seq] = JSON.parse(k);
            if (conv === op.key && seq < op.seq) m.delete(k);
          }
          break;
        case 'clear':
          m.clear();
          break;
        default:
          throw new Error(`unknown op ${op.op}`);
      }
    }
    this.data = next;
    return 'ok';
  }

  restore() {
    return {
      meta: this.data.meta.get('meta') ?? null,
      conversations: [...this.data.conversations.values()],
      outbox: [...this.data.outbox.values()],
    };
  }

  page(conv, before, limit) {
    const rows = [...this.data.messages.entries()]
      .map(([k, v]) => [JSON.parse(k), v])
      .filter(([[c, seq]]) => c === conv && (before === 0 || seq < before))
      .sort((a, b) => a[0][1] - b[0][1]);
    return rows.slice(Math.max(0, rows.length - limit)).map(([, v]) => v);
  }

  messages(conv) {
    return this.page(conv, 0, Infinity);
  }
}

export const EMPTY_EFFECTS_KEYS = [
  'auth_required', 'batches', 'connect', 'disconnect', 'errors', 'frames', 'reads',
  'timers_cancelled', 'timers_set', 'view', 'wiped',
];

export function isEmpty(fx) {
  return (
    fx.batches.length === 0 && fx.reads.length === 0 && !fx.connect && !fx.disconnect &&
    fx.frames.length === 0 && fx.timers_set.length === 0 && fx.timers_cancelled.length === 0 &&
    fx.errors.length === 0 && !fx.auth_required && !fx.wiped
  );
}

// Drives a RawClient like web/src/host.js will: drain, then carry out the effects.
export class Host {
  constructor(raw, store = new MemoryStore()) {
    this.raw = raw;
    this.store = store;
    this.now = 1_700_000_000_000;
    this.frames = []; // every frame the client sent, parsed
    this.errors = [];
    this.timers = new Map(); // id -> at
    this.connects = 0;
    this.disconnects = 0;
    this.wiped = false;
    this.committed = []; // batches committed "ok"
    this.autoCommit = 'ok'; // or null: keep batches in `held`
    this.held = [];
  }

  // One drain, parsed and recorded (batches and reads are not carried out).
  drain() {
    const fx = JSON.parse(this.raw.drain());
    for (const id of fx.timers_cancelled) this.timers.delete(id);
    for (const t of fx.timers_set) this.timers.set(t.id, t.at);
    for (const f of fx.frames) this.frames.push(JSON.parse(f));
    this.errors.push(...fx.errors);
    if (fx.connect) this.connects++;
    if (fx.disconnect) this.disconnects++;
    if (fx.wiped) this.wiped = true;
    return fx;
  }

  commit(batch, result = 'ok') {
    const r = result === 'ok' ? this.store.commit(batch) : result;
    if (r === 'ok') this.committed.push(batch);
    const out = this.raw.onCommit(this.now, batch.id, r);
    if (out !== 'null') throw new Error(`onCommit refused: ${out}`);
    return r;
  }

  // Drain and carry out effects until the client is quiet. Returns every effects object.
  settle() {
    const all = [];
    for (let guard = 0; guard < 100; guard++) {
      const fx = this.drain();
      all.push(fx);
      if (isEmpty(fx)) return all;
      for (const b of fx.batches) {
        if (this.autoCommit) this.commit(b, this.autoCommit);
        else this.held.push(b);
      }
      for (const r of fx.reads) {
        if (r.kind === 'restore') {
          this.raw.onRestored(this.now, JSON.stringify(this.store.restore()));
        } else {
          this.raw.onPageLoaded(this.now, r.conv, JSON.stringify(this.store.page(r.conv, r.before, r.limit)));
        }
      }
    }
    throw new Error('the client never settled');
  }

  // Sends a server frame and settles.
  deliver(frame) {
    const out = this.raw.onFrame(this.now, JSON.stringify(frame));
    if (out !== 'null') throw new Error(`onFrame refused: ${out}`);
    return this.settle();
  }

  sent(type) {
    return this.frames.filter((f) => f.type === type);
  }

  timeline(conv) {
    return JSON.parse(this.raw.timeline(conv));
  }

  conversations() {
    return JSON.parse(this.raw.conversations());
  }
}

export function message({ conv, seq, id, role = 'agent', authorId = 'a1', name = 'Ann', text, ts, cid }) {
  const m = { conv, seq, id, ticket: 1, ts, author: { role, id: authorId, name }, body: { text } };
  if (cid) m.cid = cid;
  return m;
}
