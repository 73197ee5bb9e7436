// Ordering: per-conversation FIFO sends get strictly increasing seqs, history keeps send
// order, and the event log is a chain (cursors strictly increasing, each frame's `from` is
// the previous frame's `cursor`).

import { describe } from 'node:test';
import { ctest, assert, messageEvents, rid, settle, short } from './lib/harness.mjs';
import { Applier } from './lib/client.mjs';

const N = 50;

describe('ordering', () => {
  ctest(`${N} sends in one conversation: increasing seqs, history and event log in send order`, { timeout: 120_000 }, async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const live = new Applier(c.welcome.cursor);
    const startFrame = c.mark();
    const cids = [];
    const acks = [];
    for (let i = 0; i < N; i++) {
      const cid = rid('k');
      cids.push(cid);
      acks.push(await c.post(conv, `note number ${i + 1} of ${N}`, { cid })); // one in flight (FIFO)
    }

    for (let i = 1; i < N; i++) {
      assert.ok(acks[i].seq > acks[i - 1].seq, `ack seqs must increase in send order: #${i} seq ${acks[i - 1].seq} then #${i + 1} seq ${acks[i].seq}`);
    }
    assert.equal(new Set(acks.map((a) => a.id)).size, N, 'every send got its own message id');

    // History: the visitor's messages appear once each, in send order, seq ascending.
    const msgs = await c.allMessages(conv);
    for (let i = 1; i < msgs.length; i++) assert.ok(msgs[i].seq > msgs[i - 1].seq, 'history seqs ascend');
    const mine = msgs.filter((m) => cids.includes(m.cid)).map((m) => m.cid);
    assert.deepEqual(mine, cids, 'history holds each sent message once, in send order');

    // The live (pushed) frames: each is well formed (checked for every frame), and applied
    // with the client's chain rule they should form an unbroken chain from welcome.cursor.
    await settle(c);
    live.applyAll(c, startFrame);
    if (live.breaks.length) {
      h.log(`pushed events broke the from-chain ${live.breaks.length}× (a client repairs this with sync): ${short(live.breaks, 500)}`);
    }

    // The whole log via sync: a contiguous chain with strictly increasing cursors, the
    // message events of this conversation in send order, each once.
    const full = await c.syncAll(0, 500);
    let prev = 0;
    for (const ev of full.events) {
      assert.ok(ev.cursor > prev, `event cursors strictly increase: ${prev} then ${ev.cursor}`);
      prev = ev.cursor;
    }
    for (let i = 1; i < full.frames.length; i++) {
      assert.equal(full.frames[i].from, full.frames[i - 1].cursor, 'each sync answer starts where the previous ended');
    }
    const logged = messageEvents(full.events, conv).filter((e) => cids.includes(e.message.cid));
    assert.deepEqual(logged.map((e) => e.message.cid), cids, 'the event log holds each message once, in send order');
    assert.deepEqual(logged.map((e) => e.message.seq), acks.map((a) => a.seq), 'logged seqs are the acked seqs');

    // Live and synced views agree: what was pushed and applied is a prefix of the log.
    const liveCursors = live.events.map((e) => e.cursor);
    const logCursors = full.events.map((e) => e.cursor).filter((x) => x > c.welcome.cursor && x <= live.cursor);
    if (!live.breaks.length) assert.deepEqual(liveCursors, logCursors, 'pushed events equal the synced log over the same cursor range');
  });

  ctest('two conversations interleaved: each keeps its own seq order', async (h) => {
    const c = await h.visitor();
    const [x, y] = [rid('c'), rid('c')];
    const seqs = { [x]: [], [y]: [] };
    for (let i = 0; i < 10; i++) {
      for (const conv of [x, y]) seqs[conv].push((await c.post(conv, `item ${i} for ${conv.slice(-4)}`)).seq);
    }
    for (const conv of [x, y]) {
      for (let i = 1; i < seqs[conv].length; i++) assert.ok(seqs[conv][i] > seqs[conv][i - 1], `seqs of ${conv} increase`);
      const msgs = await c.allMessages(conv);
      assert.ok(msgs.every((m) => m.conv === conv), 'history of a conversation holds only its own messages');
    }
  });
});
