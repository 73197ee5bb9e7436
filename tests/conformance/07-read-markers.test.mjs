// Read markers (protocol.md: `read` frame, `read` event "only moves forward").

import { describe } from 'node:test';
import { ctest, assert, rid, settle, short } from './lib/harness.mjs';

const readEvents = (conn, conv, reader, from = 0) => conn.events(from).filter((e) => e.kind === 'read' && e.conv === conv && e.reader === reader && !e.delivered);

describe('read markers', () => {
  ctest('read {conv, seq} gives a read event (reader visitor); a lower seq does not move it back', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const acks = [];
    for (let i = 0; i < 4; i++) acks.push(await c.post(conv, `read marker line ${i}`));
    const high = acks[3].seq;

    let from = c.mark();
    c.send({ type: 'read', conv, seq: high });
    const ev = await c.waitEvent((e) => e.kind === 'read' && e.conv === conv && e.reader === 'visitor', { from, what: `a read event for seq ${high}` });
    assert.equal(ev.seq, high);
    assert.equal(ev.delivered, false, 'a read marker, not a delivery marker');

    // A lower seq afterwards: no read event below the marker.
    from = c.mark();
    c.send({ type: 'read', conv, seq: acks[1].seq });
    await settle(c);
    const lower = readEvents(c, conv, 'visitor', from).filter((e) => e.seq < high);
    assert.deepEqual(lower, [], `a lower read seq must not move the marker back: ${short(lower)}`);

    // The same on another connection of the user (the marker is per user, not per socket).
    const d = await h.visitor({ token: c.welcome.token });
    from = d.mark();
    d.send({ type: 'read', conv, seq: acks[0].seq });
    await settle(d);
    assert.deepEqual(readEvents(d, conv, 'visitor', from).filter((e) => e.seq < high), [], 'lower read from another device is not applied');

    // The log never shows the visitor marker going backwards.
    const { events } = await c.syncAll(0);
    const marks = events.filter((e) => e.kind === 'read' && e.conv === conv && e.reader === 'visitor' && !e.delivered).map((e) => e.seq);
    for (let i = 1; i < marks.length; i++) assert.ok(marks[i] >= marks[i - 1], `visitor read markers in the log only move forward: ${marks}`);
  });

  ctest('the agent sees the visitor marker; it stays after a lower read', { needs: ['agent'] }, async (h) => {
    const c = await h.visitor();
    const agent = h.agent();
    const conv = rid('c');
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(await c.post(conv, `agent-visible read ${i}`));
    const high = acks[2].seq;
    const from = c.mark();
    c.send({ type: 'read', conv, seq: high });
    await c.waitEvent((e) => e.kind === 'read' && e.conv === conv && e.reader === 'visitor' && e.seq === high, { from });
    assert.equal((await agent.summary(conv)).visitor_read_seq, high, 'summary.visitor_read_seq');
    c.send({ type: 'read', conv, seq: acks[0].seq });
    await settle(c);
    assert.equal((await agent.summary(conv)).visitor_read_seq, high, 'summary.visitor_read_seq stays after a lower read');
  });

  ctest('an agent read via the agent API gives a read event with reader agent; it only moves forward', { needs: ['agent'] }, async (h) => {
    const c = await h.visitor();
    const agent = h.agent();
    const conv = rid('c');
    const acks = [];
    for (let i = 0; i < 3; i++) acks.push(await c.post(conv, `please read me ${i}`));
    const high = acks[2].seq;

    let from = c.mark();
    await agent.read(conv, high);
    const ev = await c.waitEvent((e) => e.kind === 'read' && e.conv === conv && e.reader === 'agent' && !e.delivered, { from, what: 'the agent read event' });
    assert.equal(ev.seq, high);
    assert.equal((await agent.summary(conv)).agent_read_seq, high, 'summary.agent_read_seq');

    from = c.mark();
    await agent.read(conv, acks[0].seq);
    await settle(c);
    assert.deepEqual(readEvents(c, conv, 'agent', from).filter((e) => e.seq < high), [], 'a lower agent read is not pushed');
    assert.equal((await agent.summary(conv)).agent_read_seq, high, 'summary.agent_read_seq stays');
  });
});
