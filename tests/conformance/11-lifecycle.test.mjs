// Conversation lifecycle (docs/server.md, core/include/parley/lifecycle.hpp): statuses move
// new/open → pending (agent replied) → open (customer wrote) → solved → closed, and what a
// customer message does after a solve depends on the app's conversational style, which the
// test reads from the `conversation` event:
//
//   live_chat            solved closes at once; the next message starts a new ticket (+1)
//   live_chat_returning  a message within the reopen window reopens the same ticket
//   social_messaging     solved stays solved (closes after 4–28 days); a message reopens it
//
// Ineffectual messages ("thanks", "no, that's all") after a solve (or while pending) neither
// reopen nor prolong anything. After a close, only the customer starts a new ticket: an
// agent message or status change into a closed conversation is 409 conflict.
//
// Runs once per app of --apps (default: --app). Needs --agent-token.

import { describe } from 'node:test';
import { ctest, assert, cfg, rid, settle, short } from './lib/harness.mjs';
import { validateSummary } from './lib/schema.mjs';

const EXPECTED_STYLE = { live: 'live_chat', returning: 'live_chat_returning', social: 'social_messaging' };

/** A visitor on `app` with a fresh conversation opened by an effectual message. */
async function startConversation(h, app) {
  const c = await h.visitor({ app });
  const agent = h.agent(app);
  const conv = rid('c');
  const from = c.mark();
  await c.post(conv, 'My parcel arrived damaged, can someone help me?');
  const ce = await c.waitEvent((e) => e.kind === 'conversation' && e.conv === conv, { from, what: `the conversation event for the new conversation ${conv}` });
  await settle(c); // a bot may answer first; let it
  const sum = await agent.summary(conv);
  h.note(validateSummary(sum).map((p) => `GET summary: ${p}`));
  assert.equal(sum.style, ce.style, 'the agent summary and the conversation event agree on the style');
  if (EXPECTED_STYLE[app]) assert.equal(ce.style, EXPECTED_STYLE[app], `app "${app}" is configured as ${EXPECTED_STYLE[app]}`);
  return { c, agent, conv, style: ce.style, ticket: ce.ticket, conversation: ce };
}

const statusEvents = (c, conv, from) => c.events(from).filter((e) => e.kind === 'status' && e.conv === conv);

async function waitStatus(c, conv, status, from) {
  return c.waitEvent((e) => e.kind === 'status' && e.conv === conv && e.status === status, { from, what: `a status event ${status} for ${conv}` });
}

/** Agent replies; the conversation ends up pending (waiting on the customer). */
async function agentReplies(h, s, text = 'Sorry to hear that! Could you send a photo?') {
  const before = await s.agent.summary(s.conv);
  const from = s.c.mark();
  const m = await s.agent.say(s.conv, text);
  assert.equal(m.author.role, 'agent');
  await s.c.waitEvent((e) => e.kind === 'message' && e.conv === s.conv && e.message.id === m.id, { from, what: 'the agent message pushed to the visitor' });
  if (before.status !== 'pending') await waitStatus(s.c, s.conv, 'pending', from);
  assert.equal((await s.agent.summary(s.conv)).status, 'pending', 'after an agent reply the conversation waits on the customer');
  return m;
}

/** Visitor sends; returns the echoed message (with its ticket). */
async function visitorSays(s, text) {
  const from = s.c.mark();
  const ack = await s.c.post(s.conv, text);
  const ev = await s.c.waitEvent((e) => e.kind === 'message' && e.message.id === ack.id, { from, what: `the echo of "${text}"` });
  return { ack, message: ev.message, from };
}

/** Asserts nothing about the status changed: no status event since `from`, summary same. */
async function assertUnchanged(s, from, sumBefore, why) {
  await settle(s.c);
  assert.deepEqual(statusEvents(s.c, s.conv, from), [], `${why}: no status event expected`);
  const sum = await s.agent.summary(s.conv);
  assert.deepEqual({ status: sum.status, ticket: sum.ticket }, { status: sumBefore.status, ticket: sumBefore.ticket }, `${why}: status and ticket unchanged`);
}

for (const app of cfg.apps) {
  describe(`lifecycle on app "${app}"`, () => {
    ctest('new conversation: a conversation event with style; agent reply → pending; customer → open', { needs: ['agent'], app }, async (h) => {
      const s = await startConversation(h, app);
      h.log(`app ${app}: style ${s.style}, initial ${short(s.conversation)}`);
      assert.ok(['new', 'open', 'pending'].includes(s.conversation.status), `a new conversation starts new/open (pending if a bot answered), got ${s.conversation.status}`);
      assert.ok(s.ticket >= 1);
      assert.ok(['new', 'open', 'pending'].includes((await s.agent.summary(s.conv)).status));

      await agentReplies(h, s);

      const { from, message } = await visitorSays(s, 'Here is the photo of the box');
      const ev = await waitStatus(s.c, s.conv, 'open', from);
      assert.equal(ev.ticket, s.ticket, 'the same ticket reopens to open');
      assert.equal(message.ticket, s.ticket);
      assert.equal((await s.agent.summary(s.conv)).status, 'open');

      // Ineffectual while pending: the conversation keeps waiting on the customer.
      await agentReplies(h, s, 'Thanks, a replacement is on its way.');
      const sumPending = await s.agent.summary(s.conv);
      const t = await visitorSays(s, 'ok thanks');
      await assertUnchanged(s, t.from, sumPending, '"ok thanks" while pending is ineffectual');
    });

    ctest('solve: the style decides; "thanks" afterwards changes nothing; the next real message reopens or starts a new ticket', { needs: ['agent'], app }, async (h) => {
      const s = await startConversation(h, app);
      await agentReplies(h, s);
      const T = (await s.agent.summary(s.conv)).ticket;

      const from = s.c.mark();
      const res = await s.agent.setStatus(s.conv, 'solved');
      h.log(`app ${app} (${s.style}): POST status solved → ${short(res)}`);
      if (s.style === 'live_chat') {
        assert.equal(res.status, 'closed', 'live_chat: solved closes at once');
        await waitStatus(s.c, s.conv, 'closed', from);
      } else {
        assert.equal(res.status, 'solved');
        await waitStatus(s.c, s.conv, 'solved', from);
        await settle(s.c);
        assert.ok(!statusEvents(s.c, s.conv, from).some((e) => e.status === 'closed'), `${s.style}: solved does not close at once`);
      }
      assert.equal(res.ticket, T);
      const sumSolved = await s.agent.summary(s.conv);
      assert.equal(sumSolved.status, s.style === 'live_chat' ? 'closed' : 'solved');

      // An ineffectual message after the solve: recorded, but no reopen, no new ticket.
      const thanks = await visitorSays(s, 'Thanks!');
      assert.equal(thanks.message.ticket, T, '"Thanks!" stays on the solved ticket');
      await assertUnchanged(s, thanks.from, sumSolved, '"Thanks!" after solve is ineffectual');
      const thatsAll = await visitorSays(s, "no, that's all");
      await assertUnchanged(s, thatsAll.from, sumSolved, `"no, that's all" after solve is ineffectual`);

      // A real question.
      const again = await visitorSays(s, 'Actually the replacement is the wrong colour');
      if (s.style === 'live_chat') {
        assert.equal(again.message.ticket, T + 1, 'live_chat: a message after the close starts ticket +1');
        const ev = await s.c.waitEvent((e) => e.kind === 'status' && e.conv === s.conv && e.ticket === T + 1, { from: again.from, what: `a status event for ticket ${T + 1}` });
        assert.ok(['new', 'open'].includes(ev.status), `the new ticket is new/open, got ${ev.status}`);
        assert.equal((await s.agent.summary(s.conv)).ticket, T + 1);
      } else {
        const ev = await waitStatus(s.c, s.conv, 'open', again.from);
        assert.equal(ev.ticket, T, `${s.style}: a message within the window reopens the same ticket`);
        assert.equal(again.message.ticket, T);
        const sum = await s.agent.summary(s.conv);
        assert.deepEqual({ status: sum.status, ticket: sum.ticket }, { status: 'open', ticket: T });
      }
    });

    ctest('closed is final: agent message and status change are 409 conflict; the customer starts ticket +1', { needs: ['agent'], app }, async (h) => {
      const s = await startConversation(h, app);
      await agentReplies(h, s);
      const T = (await s.agent.summary(s.conv)).ticket;
      const from = s.c.mark();
      const res = await s.agent.setStatus(s.conv, 'closed');
      assert.equal(res.status, 'closed');
      const closed = await waitStatus(s.c, s.conv, 'closed', from);
      assert.equal(closed.ticket, T);

      const say = await s.agent.call('POST', `${s.agent.conv(s.conv)}/messages`, { text: 'one more thing from us' });
      assert.equal(say.status, 409, `an agent message into a closed conversation: 409, got ${say.status} ${say.text}`);
      assert.equal(say.json?.code, 'conflict');
      const reopen = await s.agent.call('POST', `${s.agent.conv(s.conv)}/status`, { status: 'open' });
      assert.equal(reopen.status, 409, `leaving closed by a status change: 409, got ${reopen.status} ${reopen.text}`);
      assert.equal(reopen.json?.code, 'conflict');

      const sumClosed = await s.agent.summary(s.conv);
      const bye = await visitorSays(s, 'bye');
      assert.equal(bye.message.ticket, T, '"bye" after a close does not start a ticket');
      await assertUnchanged(s, bye.from, sumClosed, '"bye" after close is ineffectual');

      const next = await visitorSays(s, 'I need to change my delivery address');
      assert.equal(next.message.ticket, T + 1, 'a real message after a close is on ticket +1');
      const ev = await s.c.waitEvent((e) => e.kind === 'status' && e.conv === s.conv && e.ticket === T + 1, { from: next.from, what: `a status event for ticket ${T + 1}` });
      assert.ok(['new', 'open'].includes(ev.status), `the new ticket starts new/open, got ${ev.status}`);
      const m = await s.agent.say(s.conv, 'Sure, what is the new address?');
      assert.equal(m.ticket, T + 1, 'the agent answers on the new ticket');
      assert.equal((await s.agent.summary(s.conv)).status, 'pending');
    });
  });
}
