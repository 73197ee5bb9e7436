// Catch-up (protocol.md "Session" 3, "The event log and the cursor"): a second device of the
// same user pulls the log with sync while more:true and gets every event exactly once.

import { describe } from 'node:test';
import { ctest, assert, assertError, messageEvents, rid, settle } from './lib/harness.mjs';

describe('sync / catch-up', () => {
  ctest('a second device pulls with sync {after:0, limit:10} while more:true: every message once, contiguous chain', async (h) => {
    const a = await h.visitor();
    const [x, y] = [rid('c'), rid('c')];
    const sent = new Map(); // cid -> ack
    for (let i = 0; i < 13; i++) {
      for (const conv of [x, y]) {
        const cid = rid('k');
        sent.set(cid, await a.post(conv, `update ${i} in ${conv.slice(-4)}`, { cid }));
      }
    }
    await settle(a);

    const b = await h.visitor({ token: a.welcome.token, device: rid('d'), cursor: 0 });
    assert.equal(b.welcome.user, a.welcome.user);
    assert.ok(b.welcome.cursor > 0, 'welcome.cursor is the head of a user with events');

    const frames = [];
    let cursor = 0;
    for (let round = 0; round < 1000; round++) {
      const req = rid('q');
      const f = await b.sync(cursor, 10, req);
      assert.equal(f.type, 'events', `sync after ${cursor} must answer events (the log is young), got ${JSON.stringify(f)}`);
      assert.equal(f.req, req, 'events.req echoes the sync req');
      assert.equal(f.from, cursor, 'the answer follows the cursor asked for');
      assert.ok(f.events.length <= 10, `at most limit (10) events, got ${f.events.length}`);
      if (f.more) assert.ok(f.events.length > 0, 'more:true with no events would never progress');
      frames.push(f);
      cursor = f.cursor;
      if (!f.more) break;
    }
    assert.ok(frames.length >= 3, `26+ events with limit 10 take at least 3 answers, got ${frames.length}`);
    for (let i = 1; i < frames.length; i++) assert.equal(frames[i].from, frames[i - 1].cursor, 'cursor chain is contiguous');
    assert.ok(cursor >= b.welcome.cursor, `sync reaches the welcome head (${b.welcome.cursor}), ended at ${cursor}`);

    const events = frames.flatMap((f) => f.events);
    const cursors = events.map((e) => e.cursor);
    assert.equal(new Set(cursors).size, cursors.length, 'no event is delivered twice');
    const msgEvents = messageEvents(events).filter((e) => sent.has(e.message.cid));
    const byCid = new Map();
    for (const e of msgEvents) byCid.set(e.message.cid, (byCid.get(e.message.cid) || 0) + 1);
    for (const [cid, ack] of sent) {
      assert.equal(byCid.get(cid), 1, `message ${cid} must arrive exactly once in the catch-up, got ${byCid.get(cid) || 0}`);
      const e = msgEvents.find((m) => m.message.cid === cid);
      assert.equal(e.message.seq, ack.seq);
      assert.equal(e.message.id, ack.id);
      assert.equal(e.conv, ack.conv);
    }

    // Caught up: asking again from the head answers an empty frame at the head.
    const tail = await b.sync(cursor, 10);
    assert.equal(tail.type, 'events');
    assert.deepEqual({ from: tail.from, cursor: tail.cursor, more: tail.more, n: tail.events.length }, { from: cursor, cursor, more: false, n: 0 }, 'sync from the head is empty');
  });

  ctest('sync from the middle of the log gives exactly the suffix', async (h) => {
    const a = await h.visitor();
    const conv = rid('c');
    for (let i = 0; i < 8; i++) await a.post(conv, `line ${i}`);
    await settle(a);
    const all = (await a.syncAll(0, 1000)).events;
    const mid = all[Math.floor(all.length / 2)].cursor;
    const suffix = (await a.syncAll(mid, 3)).events;
    assert.deepEqual(suffix.map((e) => e.cursor), all.filter((e) => e.cursor > mid).map((e) => e.cursor));
    assert.deepEqual(suffix, all.filter((e) => e.cursor > mid), 'the same events, field for field');
  });

  ctest('new events are pushed live to every connection of the user, chained by from', async (h) => {
    const a = await h.visitor();
    const b = await h.visitor({ token: a.welcome.token, device: rid('d') });
    const conv = rid('c');
    const from = b.mark();
    const ack = await a.post(conv, 'seen on the other device?');
    const ev = await b.waitEvent((e) => e.kind === 'message' && e.message.id === ack.id, { from, what: 'the message pushed to the second device' });
    assert.equal(ev.message.cid, ack.cid);
  });

  ctest('sync limit outside 1..1000 is invalid_field', async (h) => {
    const c = await h.visitor();
    for (const limit of [0, 1001]) {
      const req = rid('q');
      const f = await c.request({ type: 'sync', req, after: 0, limit }, ['events'], { also: (x) => x.type === 'reset' });
      assertError(f, 'invalid_field', { recoverable: 'permanent', messageIncludes: 'sync.limit', req });
    }
    await c.ping();
  });
});
