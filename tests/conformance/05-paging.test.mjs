// Paging (protocol.md "Paging"): history {before, after, limit} returns up to `limit`
// messages with after < seq < before, ascending: the newest of the range when only
// `before` is given, the oldest when `after` is given; `complete`/`next` drive the paging.

import { describe, before } from 'node:test';
import { ctest, assert, assertError, cfg, rid, settle } from './lib/harness.mjs';
import { Conn } from './lib/client.mjs';

const SENT = 23;
const LIMIT = 5;

// One conversation with SENT visitor messages (a bot may add its own) shared by the tests.
let setup = null;
async function conversation() {
  if (setup) return setup;
  const c = await Conn.open({ app: cfg.app, label: 'paging-setup' });
  await c.hello({ device: rid('d') });
  const conv = rid('c');
  const cids = [];
  for (let i = 0; i < SENT; i++) {
    const cid = rid('k');
    cids.push(cid);
    await c.post(conv, `paging line ${i + 1}`, { cid });
  }
  await settle(c);
  c.close();
  setup = { conv, cids, token: c.token };
  return setup;
}

const seqsOf = (page) => page.messages.map((m) => m.seq);

describe('paging', () => {
  before(conversation);

  ctest('history after:0 limit:200 returns the whole conversation, complete:true', async (h) => {
    const { conv, cids, token } = await conversation();
    const c = await h.visitor({ token });
    const p = await c.page({ conv, after: 0, limit: 200 });
    assert.equal(p.complete, true, 'fewer than 200 messages: one complete page');
    assert.equal(p.conv, conv);
    const mine = p.messages.filter((m) => cids.includes(m.cid)).map((m) => m.cid);
    assert.deepEqual(mine, cids, 'every sent message, in send order');
  });

  ctest(`scrolling back: before:0 limit:${LIMIT} is the newest ${LIMIT} ascending, then before:next until complete`, async (h) => {
    const { conv, token } = await conversation();
    const c = await h.visitor({ token });
    const all = (await c.page({ conv, after: 0, limit: 200 })).messages.map((m) => m.seq);

    const first = await c.page({ conv, before: 0, limit: LIMIT });
    assert.deepEqual(seqsOf(first), all.slice(-LIMIT), `before:0 gives the newest ${LIMIT}, ascending`);
    assert.equal(first.complete, false, 'older messages exist: complete:false');
    assert.ok(Number.isInteger(first.next) && first.next > 0, `complete:false carries next, got ${first.next}`);

    const union = [...seqsOf(first)];
    let page = first;
    let pages = 1;
    while (!page.complete) {
      const bound = page.next;
      assert.ok(bound <= page.messages[0]?.seq || page.messages.length === 0, `next (${bound}) continues below the page's oldest seq`);
      page = await c.page({ conv, before: bound, limit: LIMIT });
      pages++;
      assert.ok(pages < 100, 'paging back terminates');
      const range = all.filter((s) => s < bound);
      const k = page.messages.length;
      assert.ok(k <= LIMIT, `at most limit messages, got ${k}`);
      assert.deepEqual(seqsOf(page), k ? range.slice(-k) : [], `before:${bound} gives the newest messages below ${bound}, ascending`);
      union.unshift(...seqsOf(page));
    }
    assert.deepEqual(union, all, 'the pages together hold every message exactly once');
  });

  ctest(`backfill: after:0 limit:${LIMIT} is the oldest ${LIMIT}, then after:next until complete`, async (h) => {
    const { conv, token } = await conversation();
    const c = await h.visitor({ token });
    const all = (await c.page({ conv, after: 0, limit: 200 })).messages.map((m) => m.seq);

    const union = [];
    let after = 0;
    for (let pages = 0; ; pages++) {
      assert.ok(pages < 100, 'backfill terminates');
      const page = await c.page({ conv, after, limit: LIMIT });
      const range = all.filter((s) => s > after);
      const k = page.messages.length;
      assert.ok(k <= LIMIT);
      assert.deepEqual(seqsOf(page), range.slice(0, k), `after:${after} gives the oldest messages above ${after}, ascending`);
      if (pages === 0) assert.equal(k, LIMIT, `the first backfill page is full (${LIMIT})`);
      union.push(...seqsOf(page));
      if (page.complete) break;
      assert.ok(Number.isInteger(page.next) && page.next >= (page.messages.at(-1)?.seq ?? after), `next (${page.next}) continues above the page's newest seq`);
      after = page.next;
    }
    assert.deepEqual(union, all, 'the pages together hold every message exactly once');
  });

  ctest('a bounded range after < seq < before', async (h) => {
    const { conv, token } = await conversation();
    const c = await h.visitor({ token });
    const all = (await c.page({ conv, after: 0, limit: 200 })).messages.map((m) => m.seq);
    const lo = all[3];
    const hi = all[12];
    const inside = all.filter((s) => s > lo && s < hi);
    const p = await c.page({ conv, after: lo, before: hi, limit: 200 });
    assert.deepEqual(seqsOf(p), inside, `after:${lo} before:${hi} holds exactly the seqs strictly between`);
    assert.equal(p.complete, true, 'the whole range fit: complete');
    const q = await c.page({ conv, after: lo, before: hi, limit: 3 });
    assert.deepEqual(seqsOf(q), inside.slice(0, 3), 'with both bounds and a small limit: the oldest of the range');
    assert.equal(q.complete, false);
  });

  ctest('history limit 0 and 201 are invalid_field; 200 is fine', async (h) => {
    const { conv, token } = await conversation();
    const c = await h.visitor({ token });
    for (const limit of [0, 201]) {
      const req = rid('q');
      const f = await c.history({ conv, before: 0, limit, req });
      assertError(f, 'invalid_field', { recoverable: 'permanent', messageIncludes: 'history.limit', req });
    }
    const ok = await c.page({ conv, before: 0, limit: 200 });
    assert.ok(ok.messages.length >= SENT);
  });
});
