// Agent WebSocket (/v1/agent/ws) and agent typing over HTTP reaching the visitor's socket.
// One server with two apps, so pushes can be checked to stay within their app.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { nextReq, rid, sleep, Visitor } from '../load/lib.mjs';
import { AGENT_TOKEN, Inbox, spawnServer, WAIT_MS } from './lib.mjs';

let srv;
const open = [];

async function agentSocket(app, { auth = true } = {}) {
  const box = await Inbox.open(srv.ws(`/v1/agent/ws?app=${app}`));
  open.push(box);
  if (auth) {
    box.send({ type: 'auth', token: AGENT_TOKEN });
    const ready = await box.waitFor((f) => f.type === 'ready', `ready on agent socket (${app})`);
    assert.equal(ready.agent, 'ag_grace');
  }
  return box;
}

async function visitor(app) {
  const v = await Visitor.open(srv.url, app, WAIT_MS);
  open.push(v);
  v.pushes = [];
  v.onPush = (f) => v.pushes.push(f);
  await v.hello({ device: rid('d_net') }, WAIT_MS);
  return v;
}

async function visitorSends(v, text) {
  const conv = rid('c_net');
  const ack = await v.request({ type: 'send', req: nextReq(), conv, cid: rid('k'), body: { text } }, WAIT_MS);
  assert.equal(ack.type, 'ack', `send answered ${JSON.stringify(ack)}`);
  return conv;
}

const aboutConv = (conv) => (f) => f.conv === conv || f.conversation?.conv === conv;

before(async () => {
  srv = await spawnServer('agentws', {
    config: {
      apps: [{ id: 'demo' }, { id: 'other' }],
      agents: [{ id: 'ag_grace', name: 'Grace', token: AGENT_TOKEN }],
    },
  });
});

after(async () => {
  await Promise.all(open.map((s) => s.close()));
  if (srv) await srv.stop('SIGTERM', 5000).catch(() => srv.stop('SIGKILL'));
});

describe('agent WebSocket', () => {
  test('wrong token: error frame unauthorized, then close 1008', async () => {
    const box = await Inbox.open(srv.ws('/v1/agent/ws?app=demo'));
    open.push(box);
    box.send({ type: 'auth', token: 'not-the-agent-token' });
    const err = await box.waitFor((f) => f.type === 'error', 'error frame');
    assert.equal(err.code, 'unauthorized');
    const closed = await box.waitClosed();
    assert.equal(closed.code, 1008, `close code ${closed.code} ${closed.reason}`);
    assert.ok(!box.frames.some((f) => f.type === 'ready'), 'no ready after a wrong token');
  });

  test('a first frame that is not auth: error frame, then close 1008', async () => {
    const box = await Inbox.open(srv.ws('/v1/agent/ws?app=demo'));
    open.push(box);
    box.send({ type: 'hello', v: 1, token: AGENT_TOKEN, cursor: 0, device: rid('d') });
    const err = await box.waitFor((f) => f.type === 'error', 'error frame');
    assert.equal(err.code, 'unauthorized');
    assert.equal((await box.waitClosed()).code, 1008);
  });

  test('auth → ready; visitor message and typing are pushed to the app’s agents only', async () => {
    const agent = await agentSocket('demo');
    const silent = await agentSocket('demo', { auth: false }); // never says auth
    const otherApp = await agentSocket('other');

    const v = await visitor('demo');
    const conv = await visitorSends(v, 'hello from the net test');
    const convPush = await agent.waitFor((f) => f.type === 'conversation' && f.conversation?.conv === conv, 'conversation push');
    assert.equal(convPush.conversation.user, v.user);
    const msgPush = await agent.waitFor(
      (f) => f.type === 'message' && f.conv === conv && f.message?.body?.text === 'hello from the net test',
      'message push with the visitor text',
    );
    assert.equal(msgPush.message.author?.role, 'visitor');
    assert.equal(msgPush.message.author?.id, v.user);

    v.send({ type: 'typing', conv, on: true });
    const sig = await agent.waitFor((f) => f.type === 'signal' && f.conv === conv, 'typing signal push');
    assert.equal(sig.kind, 'typing');
    assert.equal(sig.on, true);
    assert.equal(sig.who?.role, 'visitor');

    await sleep(300); // anything the others were going to get has been written by now
    assert.deepEqual(silent.frames, [], `unauthenticated agent socket got ${silent.dump()}`);
    assert.equal(silent.closed, null, 'the unauthenticated socket stays open (it may still send auth)');
    assert.deepEqual(otherApp.frames.filter(aboutConv(conv)), [], `agent on app "other" got ${otherApp.dump()}`);

    // The other-app agent does hear its own app (so its silence above means something)
    // and the demo agent does not hear app "other".
    const w = await visitor('other');
    const conv2 = await visitorSends(w, 'hello other app');
    await otherApp.waitFor((f) => f.type === 'message' && f.conv === conv2, 'message push on app "other"');
    await sleep(200);
    assert.deepEqual(agent.frames.filter(aboutConv(conv2)), [], 'demo agent got pushes of app "other"');
  });

  test('the silent socket can still authenticate later and then gets pushes', async () => {
    const late = await agentSocket('demo', { auth: false });
    await sleep(200);
    late.send({ type: 'auth', token: AGENT_TOKEN });
    await late.waitFor((f) => f.type === 'ready', 'ready after a late auth');
    const v = await visitor('demo');
    const conv = await visitorSends(v, 'after late auth');
    await late.waitFor((f) => f.type === 'message' && f.conv === conv, 'message push after a late auth');
  });
});

describe('agent typing over HTTP', () => {
  test('POST /v1/agent/conversations/{conv}/typing reaches the visitor WebSocket as a signal', async () => {
    const v = await visitor('demo');
    const conv = await visitorSends(v, 'is anyone there?');
    const r = await fetch(`${srv.url}/v1/agent/conversations/${encodeURIComponent(conv)}/typing?app=demo`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ on: true }),
      signal: AbortSignal.timeout(WAIT_MS),
    });
    assert.equal(r.status, 204, await r.text());
    const deadline = Date.now() + WAIT_MS;
    let sig;
    while (!(sig = v.pushes.find((f) => f.type === 'signal' && f.conv === conv)) && Date.now() < deadline) await sleep(20);
    assert.ok(sig, `no signal on the visitor socket; pushes: ${JSON.stringify(v.pushes).slice(0, 500)}`);
    assert.equal(sig.kind, 'typing');
    assert.equal(sig.on, true);
    assert.equal(sig.who?.role, 'agent');
    assert.equal(sig.who?.id, 'ag_grace');
  });
});
