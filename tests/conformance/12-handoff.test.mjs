// Channel handoff (protocol.md `handoff` frame and event; docs/server.md "Channels"): the
// widget moves a conversation to SMS; agent replies then go to the SMS outbox, and an
// inbound SMS from that number lands in the same conversation as a visitor message.
//
// Each run uses its own random +1555 number so re-runs against one database stay apart.

import { describe } from 'node:test';
import { ctest, assert, eventually, rid, short } from './lib/harness.mjs';

const phone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, '0')}`;

/** Visitor with a conversation handed off to SMS at `address`; returns the handoff event. */
async function handedOff(h, address) {
  const c = await h.visitor();
  const conv = rid('c');
  await c.post(conv, 'Can you text me when it ships?');
  const req = rid('q');
  const from = c.mark();
  const ack = await c.request({ type: 'handoff', req, conv, channel: 'sms', address }, ['ack']);
  assert.equal(ack.type, 'ack', `handoff is answered with an ack, got ${short(ack)}`);
  assert.equal(ack.req, req);
  assert.equal(ack.conv, conv);
  assert.ok(ack.cid === undefined || ack.cid === '', 'ack.cid is absent for handoff');
  const ev = await c.waitEvent((e) => e.kind === 'handoff' && e.conv === conv, { from, what: `a handoff event for ${conv}` });
  return { c, conv, ev, ack };
}

describe('handoff', () => {
  ctest('widget handoff {channel:"sms", address} → ack, then a handoff event with an active sms binding', async (h) => {
    const address = phone();
    const { ev, conv, c } = await handedOff(h, address);
    const sms = ev.channels.find((b) => b.channel === 'sms' && b.address === address);
    assert.ok(sms, `the handoff event lists the sms binding for ${address}: ${short(ev)}`);
    assert.equal(sms.active, true, 'the sms binding is active');
    assert.ok(sms.since > 0);
    assert.equal(ev.message.conv, conv, 'the handoff carries its timeline item');
    // The timeline item is a real message of the conversation.
    const msgs = await c.allMessages(conv);
    assert.ok(msgs.some((m) => m.id === ev.message.id), 'the handoff timeline item is in history');
  });

  ctest('an agent reply after the handoff is written to the sms outbox', { needs: ['agent'] }, async (h) => {
    const address = phone();
    const { conv } = await handedOff(h, address);
    const agent = h.agent();
    const text = `Your order shipped today ${rid('t')}`;
    const m = await agent.say(conv, text);
    const out = await eventually(async () => (await agent.outbox('sms', address)).find((x) => x.text === text), { what: `"${text}" in the outbox of ${address}` });
    assert.equal(out.conv, conv);
    assert.equal(out.seq, m.seq);
    assert.equal(out.id, m.id);
    const all = await agent.outbox('sms', address);
    for (let i = 1; i < all.length; i++) assert.ok(all[i].ts >= all[i - 1].ts, 'outbox is oldest first');
    assert.ok(all.every((x) => x.conv === conv), 'this number only carries its own conversation');
  });

  ctest('an inbound sms lands in the bound conversation as a visitor message event', { needs: ['agent'] }, async (h) => {
    const address = phone();
    const { c, conv } = await handedOff(h, address);
    const agent = h.agent();
    const text = `Thanks, what is the tracking number? ${rid('t')}`;
    const from = c.mark();
    const r = await agent.inbound('sms', address, text);
    assert.equal(r.conv, conv, 'the reply lands in the conversation bound to that address');
    assert.ok(Number.isInteger(r.seq) && r.seq >= 1);
    assert.ok(r.id);
    const ev = await c.waitEvent((e) => e.kind === 'message' && e.conv === conv && e.message.id === r.id, { from, what: 'the inbound sms as a message event' });
    assert.equal(ev.message.seq, r.seq);
    assert.equal(ev.message.body.text, text);
    assert.equal(ev.message.author.role, 'visitor', 'the customer wrote it');
    const msgs = await c.allMessages(conv);
    assert.ok(msgs.some((m) => m.id === r.id), 'and it is in history');
  });
});
