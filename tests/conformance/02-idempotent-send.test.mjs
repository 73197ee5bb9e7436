// `send` is idempotent, forever (protocol.md): a repeated cid is answered with the same ack
// (same id, seq, ts) however it arrives, and the message is stored once.

import { describe } from 'node:test';
import { ctest, assert, messageEvents, rid, settle } from './lib/harness.mjs';
import { postFrame } from './lib/client.mjs';

const sameAck = (a, b, how) => {
  assert.deepEqual({ conv: b.conv, cid: b.cid, id: b.id, seq: b.seq, ts: b.ts }, { conv: a.conv, cid: a.cid, id: a.id, seq: a.seq, ts: a.ts }, `${how}: a repeated cid must be answered with the first ack's conv/cid/id/seq/ts`);
};

describe('idempotent send', () => {
  ctest('send is acked {req, cid, conv, id, seq >= 1, ts} and echoed as a message event carrying the cid', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const cid = rid('k');
    const req = rid('q');
    const from = c.mark();
    const ack = await c.post(conv, 'Is the blue model in stock?', { cid, req });
    assert.equal(ack.req, req);
    assert.equal(ack.cid, cid);
    assert.equal(ack.conv, conv);
    assert.ok(typeof ack.id === 'string' && ack.id.length > 0, 'ack.id is set for send');
    assert.ok(Number.isInteger(ack.seq) && ack.seq >= 1, 'ack.seq >= 1 for send');
    assert.ok(Number.isInteger(ack.ts) && Math.abs(ack.ts - Date.now()) < 600_000, 'ack.ts is the commit time');
    const ev = await c.waitEvent((e) => e.kind === 'message' && e.conv === conv && e.message.cid === cid, { from, what: `the message event echoing cid ${cid}` });
    assert.equal(ev.message.id, ack.id, 'echo carries the acked id');
    assert.equal(ev.message.seq, ack.seq, 'echo carries the acked seq');
    assert.equal(ev.message.ts, ack.ts, 'echo carries the acked ts');
    assert.equal(ev.message.author.role, 'visitor');
    assert.equal(ev.message.body.text, 'Is the blue model in stock?');
  });

  ctest('a repeated cid gets the identical ack: same req, new req, new connection, HTTP; stored once', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const cid = rid('k');
    const first = await c.post(conv, 'Please call me back', { cid });

    const sameReq = rid('q');
    const a1 = await c.post(conv, 'Please call me back', { cid, req: sameReq });
    const a1b = await c.post(conv, 'Please call me back', { cid, req: sameReq });
    sameAck(first, a1, 'same connection, new req');
    sameAck(first, a1b, 'same connection, same req again');
    assert.equal(a1b.req, sameReq, 'the ack echoes the req of the retry');

    const newReq = rid('q');
    const a2 = await c.post(conv, 'Please call me back', { cid, req: newReq });
    sameAck(first, a2, 'same connection, another req');
    assert.equal(a2.req, newReq, 'the ack echoes the req of the retry');

    const d = await h.visitor({ token: c.welcome.token, device: c.device });
    const a3 = await d.post(conv, 'Please call me back', { cid });
    sameAck(first, a3, 'new WebSocket connection');

    const e = await h.visitor({ token: c.welcome.token, device: rid('d') });
    const a4 = await e.post(conv, 'Please call me back', { cid });
    sameAck(first, a4, 'new connection from another device of the same user');

    const httpReq = rid('q');
    const r = await postFrame({ type: 'send', req: httpReq, conv, cid, body: { text: 'Please call me back' } }, { token: c.welcome.token });
    h.note(r.problems);
    assert.equal(r.status, 200, `POST /v1/frames send: HTTP ${r.status} ${r.text}`);
    const a5 = r.frames.find((f) => f.type === 'ack');
    assert.ok(a5, `POST /v1/frames send: no ack in ${r.text}`);
    sameAck(first, a5, 'HTTP POST /v1/frames');
    assert.equal(a5.req, httpReq);

    const msgs = (await c.allMessages(conv)).filter((m) => m.cid === cid);
    assert.equal(msgs.length, 1, `history must hold the message once, got ${msgs.length}`);
    assert.equal(msgs[0].id, first.id);
    assert.equal(msgs[0].seq, first.seq);

    // And the event log holds one message event for it.
    await settle(c);
    const { events } = await c.syncAll(0);
    const echoes = messageEvents(events, conv).filter((ev) => ev.message.cid === cid);
    assert.equal(echoes.length, 1, `the event log must hold one message event for cid ${cid}, got ${echoes.length}`);
  });

  ctest('a repeated cid with a different body is not stored again (the first one stands)', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const cid = rid('k');
    const first = await c.post(conv, 'original text', { cid });
    const again = await c.post(conv, 'changed text', { cid });
    sameAck(first, again, 'same cid, other body');
    const msgs = (await c.allMessages(conv)).filter((m) => m.cid === cid);
    assert.equal(msgs.length, 1);
    assert.equal(msgs[0].body.text, 'original text');
  });

  ctest('the idempotency key is per user: the same cid from two users is two messages', async (h) => {
    const a = await h.visitor();
    const b = await h.visitor();
    const cid = rid('k');
    const ackA = await a.post(rid('c'), 'from A', { cid });
    const ackB = await b.post(rid('c'), 'from B', { cid });
    assert.notEqual(ackB.id, ackA.id, 'two users sending the same cid get two messages');
  });

  ctest('a send to an unseen conversation id creates it (history holds the message)', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const ack = await c.post(conv, 'first words');
    const msgs = await c.allMessages(conv);
    assert.ok(msgs.some((m) => m.id === ack.id), 'history of the new conversation holds the message');
    assert.ok(msgs[0].seq >= 1);
    const mine = msgs.find((m) => m.id === ack.id);
    assert.equal(mine.seq, ack.seq);
    assert.equal(mine.cid, ack.cid);
  });
});
