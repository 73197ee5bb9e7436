// Gaps are explicit (protocol.md "Gaps are explicit"): a `gap {from, to}` event says messages
// from..to of a conversation exist but are not in the stream; the client backfills with
// history {after: from-1, before: to+1} until complete:true.
//
// A server produces gaps when conversations move between users. Two flows drive that here:
//  - identify/merge (docs/server.md "Identity"): hello with a JWT and merge_token = the
//    anonymous token; needs --jwt-secret/--jwt-audience;
//  - device resume: a `device` handoff gives a resume_token; a hello with it from another
//    device makes that device the same visitor and merges its own anonymous conversations.

import { describe } from 'node:test';
import { ctest, assert, assertError, messageEvents, rid, settle, short } from './lib/harness.mjs';
import { userJwt } from './lib/client.mjs';

/** Backfills one gap event with history pages of `limit`; returns the messages, checking
 *  every page stays inside the gap and the paging terminates with complete:true. */
async function backfillGap(conn, gap, limit = 2) {
  const out = [];
  let after = gap.from - 1;
  const before = gap.to + 1;
  for (let pages = 0; ; pages++) {
    assert.ok(pages < 500, 'gap backfill terminates');
    const p = await conn.page({ conv: gap.conv, after, before, limit });
    for (const m of p.messages) {
      assert.ok(m.seq > after && m.seq < before, `backfill page holds seq ${m.seq} outside after:${after} before:${before}`);
    }
    out.push(...p.messages);
    if (p.complete) return out;
    // "A page may be empty and still say complete:false; the client continues from next."
    const next = Number.isInteger(p.next) && p.next > 0 ? p.next : p.messages.at(-1)?.seq;
    assert.ok(Number.isInteger(next) && next > after, `an incomplete page must let the backfill progress: ${short(p)}`);
    after = next;
  }
}

/** Checks that the gaps of `conv` in `events` cover every message in `known` (seq → cid)
 *  that is not otherwise in the stream, via backfill. Returns the backfilled seqs. */
async function checkGapsCover(conn, events, conv, known) {
  const gaps = events.filter((e) => e.kind === 'gap' && e.conv === conv);
  const streamed = new Set(messageEvents(events, conv).map((e) => e.message.seq));
  const got = new Map();
  for (const gap of gaps) {
    for (const m of await backfillGap(conn, gap)) {
      assert.ok(!got.has(m.seq) || got.get(m.seq) === m.id, `seq ${m.seq} backfilled twice with different ids`);
      got.set(m.seq, m.id);
    }
  }
  for (const [seq, msg] of known) {
    assert.ok(streamed.has(seq) || got.has(seq), `message seq ${seq} (${msg.cid || msg.id}) of ${conv} is neither in the stream nor in a backfilled gap; gaps: ${short(gaps)}`);
    if (got.has(seq)) assert.equal(got.get(seq), msg.id, `backfilled seq ${seq} has the original message id`);
  }
  return { gaps, backfilled: [...got.keys()].sort((x, y) => x - y) };
}

describe('gaps', () => {
  ctest('a device handoff with address "" (a device link to be generated) is accepted with a resume token', async (h) => {
    // protocol.md, `handoff.address`: "may be \"\" (web, or a device link to be generated)".
    const a = await h.visitor();
    const conv = rid('c');
    await a.post(conv, 'I will continue on another device');
    const req = rid('q');
    const from = a.mark();
    const ack = await a.request({ type: 'handoff', req, conv, channel: 'device', address: '' }, ['ack']);
    assert.equal(ack.type, 'ack', `protocol.md allows address "" for a device link to be generated; got ${short(ack)}`);
    const ev = await a.waitEvent((e) => e.kind === 'handoff' && e.conv === conv, { from, what: 'the handoff event' });
    assert.ok(ev.resume_token, `a device handoff carries a resume_token: ${short(ev)}`);
  });

  ctest('identify/merge: the identified user gets a conversation event and a gap per moved conversation; backfill recovers every message', { needs: ['jwt'] }, async (h) => {
    const device = rid('d');
    const anon = await h.visitor({ device });
    const conv = rid('c');
    const acks = [];
    for (let i = 0; i < 5; i++) acks.push(await anon.post(conv, `before sign-in ${i}`));
    await settle(anon);
    // Everything the anonymous visitor's conversation holds (bot replies included).
    const known = new Map((await anon.allMessages(conv)).map((m) => [m.seq, m]));
    const lastSeq = Math.max(...known.keys());
    anon.close();

    const sub = rid('sub');
    const id = await h.open();
    const w = await id.hello({ token: userJwt(sub), cursor: 0, device, merge_token: anon.welcome.token });
    assert.notEqual(w.user, anon.welcome.user, 'the identified user is not the anonymous one');
    await settle(id);
    const { events } = await id.syncAll(0, 100);

    const summary = events.find((e) => e.kind === 'conversation' && e.conv === conv);
    assert.ok(summary, `the identified user's log has a conversation event for the moved conversation ${conv}: ${short(events, 1500)}`);
    assert.equal(summary.last_seq, lastSeq, 'the conversation event carries the last seq');
    const gap = events.find((e) => e.kind === 'gap' && e.conv === conv);
    assert.ok(gap, `the identified user's log has a gap event for ${conv}: ${short(events, 1500)}`);
    assert.deepEqual({ from: gap.from, to: gap.to }, { from: 1, to: lastSeq }, 'docs/server.md: a gap 1..last seq per moved conversation');

    const { backfilled } = await checkGapsCover(id, events, conv, known);
    assert.deepEqual(backfilled, [...known.keys()].sort((x, y) => x - y), 'backfill returns exactly the messages that exist in 1..last_seq');

    // protocol.md "Sign-in and merge": merging is idempotent; the same hello again (a lost
    // welcome) changes nothing more.
    const again = await h.open();
    const w2 = await again.hello({ token: userJwt(sub), cursor: 0, device, merge_token: anon.welcome.token });
    assert.equal(w2.user, w.user, 'the repeated sign-in hello welcomes the same user');
    await settle(again);
    const after = (await again.syncAll(0, 100)).events;
    assert.equal(after.filter((e) => e.kind === 'gap' && e.conv === conv).length, 1, 'a repeated merge adds no second gap');
    assert.equal(after.filter((e) => e.kind === 'conversation' && e.conv === conv).length, events.filter((e) => e.kind === 'conversation' && e.conv === conv).length, 'nor another conversation event');

    // The moved conversation continues for the identified user.
    const next = await id.post(conv, 'after sign-in');
    assert.ok(next.seq > lastSeq, 'a new message continues the moved conversation');

    // protocol.md "Sign-in and merge" (and docs/server.md "Identity"): the merged visitor's
    // token stops working: a hello with it is unauthorized.
    const old = await h.open();
    const f = await old.helloRaw({ token: anon.welcome.token, cursor: 0, device: rid('d') });
    assertError(f, 'unauthorized', { recoverable: 'auth' });
  });

  ctest('device resume: the other device becomes the same visitor; its own conversations come as gaps or messages, and gaps backfill completely', async (h) => {
    const a = await h.visitor();
    const convA = rid('c');
    await a.post(convA, 'started on my laptop');
    await a.post(convA, 'continuing on my phone');

    const b = await h.visitor(); // another device, its own anonymous visitor
    const convB = rid('c');
    for (let i = 0; i < 3; i++) await b.post(convB, `phone-only question ${i}`);
    await settle(b);
    const knownB = new Map((await b.allMessages(convB)).map((m) => [m.seq, m]));

    // Device handoff from A to B's device id: ack, then a handoff event with a resume token.
    const req = rid('q');
    const from = a.mark();
    const ack = await a.request({ type: 'handoff', req, conv: convA, channel: 'device', address: b.device }, ['ack']);
    assert.equal(ack.type, 'ack', `device handoff: ${short(ack)}`);
    assert.equal(ack.req, req);
    assert.equal(ack.conv, convA);
    const hev = await a.waitEvent((e) => e.kind === 'handoff' && e.conv === convA && e.resume_token, { from, what: 'a handoff event with resume_token' });
    const resume = hev.resume_token;

    // Device B says hello with the resume token.
    const b2 = await h.open();
    const w = await b2.hello({ token: b.welcome.token, cursor: 0, device: b.device, resume_token: resume });
    assert.equal(w.user, a.welcome.user, 'after resume the other device is the same visitor');
    await settle(b2);
    const { events } = await b2.syncAll(0, 100);
    assert.ok(messageEvents(events, convA).length >= 2 || events.some((e) => e.conv === convA), 'the resumed device sees the handed-off conversation');
    const historyA = await b2.allMessages(convA);
    assert.ok(historyA.some((m) => m.body.text === 'started on my laptop'), 'and can page its history');

    // B's own anonymous conversation was merged in: streamed as messages, or announced as a gap.
    const seenB = events.filter((e) => e.conv === convB);
    assert.ok(seenB.length > 0, `the resumed device's own conversation ${convB} must not vanish: nothing about it in ${short(events, 1500)}`);
    const { gaps } = await checkGapsCover(b2, events, convB, knownB);
    h.log(`device resume merged ${convB} with ${gaps.length} gap event(s)`);

    // A resume token is single use.
    const c = await h.open();
    const again = await c.helloRaw({ token: '', cursor: 0, device: rid('d'), resume_token: resume });
    assert.ok(again.type === 'error' || again.user !== a.welcome.user, `a used resume token must not make a third device the same visitor: ${short(again)}`);
  });
});
