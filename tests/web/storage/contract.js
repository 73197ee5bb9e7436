// The storage contract interpreter (tests/contract/storage_contract.json) for the JS stores.
// It reads the steps exactly as tests/core/test_storage_contract.cpp does:
//   commit        -> store.commit({id, ops}) must answer `result`
//   fail_next     -> store.failNextCommits(1, result)
//   quota_bytes   -> store.setQuotaBytes(n) (0 = unlimited)
//   expect        -> meta (deep equal, null = absent), conversations (the "id" of each
//                    record in order), outbox (each "cid"), message_count, page
//                    {conv, before, limit, seqs, texts?}
// The contract names results as the native enum does; the JS stores answer the host's
// strings: ok -> "ok", aborted -> "aborted", quota_exceeded -> "quota".

/** @type {Readonly<Record<string, string>>} */
export const RESULT_NAMES = Object.freeze({ ok: 'ok', aborted: 'aborted', quota_exceeded: 'quota' });

/** JSON with sorted keys, for deep equality as nlohmann::json == compares. @param {unknown} v */
export function canonical(v) {
  return JSON.stringify(v, (_k, x) =>
    x && typeof x === 'object' && !Array.isArray(x)
      ? Object.fromEntries(Object.keys(x).sort().map((k) => [k, x[k]]))
      : x,
  );
}

/** @param {unknown} a @param {unknown} b */
export const same = (a, b) => canonical(a) === canonical(b);

/** r.value(f, "") as the native runner reads it. @param {any} r @param {string} f */
const field = (r, f) => (r && typeof r === 'object' && r[f] !== undefined ? r[f] : '');

/**
 * Runs one case against a fresh store; returns the problems found (empty = pass).
 * @param {any} store  an IdbStore opened with {faults: true}, or a MemoryStore
 * @param {{name: string, steps: any[]}} kase
 * @returns {Promise<string[]>}
 */
export async function runCase(store, kase) {
  /** @type {string[]} */
  const problems = [];
  let batchId = 0;
  for (const [i, step] of kase.steps.entries()) {
    const at = `step ${i}`;
    if ('commit' in step) {
      const want = RESULT_NAMES[step.result];
      if (!want) {
        problems.push(`${at}: unknown result ${step.result}`);
        continue;
      }
      const got = await store.commit({ id: ++batchId, ops: step.commit });
      if (got !== want) problems.push(`${at}: commit answered ${got}, expected ${want}`);
    } else if ('fail_next' in step) {
      const how = RESULT_NAMES[step.fail_next];
      if (!how) problems.push(`${at}: unknown result ${step.fail_next}`);
      else store.failNextCommits(1, how);
    } else if ('quota_bytes' in step) {
      store.setQuotaBytes(step.quota_bytes);
    } else if ('expect' in step) {
      const e = step.expect;
      if ('meta' in e || 'conversations' in e || 'outbox' in e) {
        const r = await store.restore();
        if ('meta' in e && !same(r.meta, e.meta)) {
          problems.push(`${at}: meta ${canonical(r.meta)}, expected ${canonical(e.meta)}`);
        }
        if ('conversations' in e) {
          const ids = r.conversations.map((/** @type {any} */ c) => field(c, 'id'));
          if (!same(ids, e.conversations)) problems.push(`${at}: conversations ${canonical(ids)}, expected ${canonical(e.conversations)}`);
        }
        if ('outbox' in e) {
          const cids = r.outbox.map((/** @type {any} */ o) => field(o, 'cid'));
          if (!same(cids, e.outbox)) problems.push(`${at}: outbox ${canonical(cids)}, expected ${canonical(e.outbox)}`);
        }
      }
      if ('message_count' in e) {
        const n = await store.messageCount();
        if (n !== e.message_count) problems.push(`${at}: message_count ${n}, expected ${e.message_count}`);
      }
      if ('page' in e) {
        const p = e.page;
        const page = await store.page(p.conv, p.before, p.limit);
        const seqs = page.map((/** @type {any} */ m) => m.seq);
        if (!same(seqs, p.seqs)) problems.push(`${at}: page seqs ${canonical(seqs)}, expected ${canonical(p.seqs)}`);
        if ('texts' in p) {
          const texts = page.map((/** @type {any} */ m) => field(m, 'text'));
          if (!same(texts, p.texts)) problems.push(`${at}: page texts ${canonical(texts)}, expected ${canonical(p.texts)}`);
        }
      }
    } else {
      problems.push(`${at}: unknown step ${canonical(step)}`);
    }
  }
  return problems;
}
