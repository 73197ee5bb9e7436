// Demo controls over the wire (docs/server.md, "Demo controls"): the network switch cuts the
// widget's side only, settings and reset answer the demo state, and none of it exists without
// --demo or without an agent token.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, nextReq, rid, Visitor } from '../load/lib.mjs';
import { AGENT_TOKEN, Inbox, spawnServer, WAIT_MS } from './lib.mjs';

let demo; // --demo
let plain; // no --demo
const open = [];

before(async () => {
  const www = makeTempDir('parley-net-demo-www-');
  mkdirSync(www, { recursive: true });
  writeFileSync(join(www, 'index.html'), '<!doctype html><title>demo</title>\n');
  demo = await spawnServer('demo', { extraArgs: ['--demo', www] });
  plain = await spawnServer('nodemo');
});

after(async () => {
  for (const c of open) {
    try {
      c.ws.close();
    } catch {}
  }
  for (const s of [demo, plain]) if (s) await s.stop('SIGTERM', 5000).catch(() => s.stop('SIGKILL'));
});

function control(srv, method, path, body, token = AGENT_TOKEN) {
  return fetch(`${srv.url}/v1/demo/${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function visitorWithConversation(srv) {
  const v = await Visitor.open(srv.url, 'demo', WAIT_MS);
  open.push(v);
  await v.hello({ device: rid('d_demo') }, WAIT_MS);
  const conv = rid('c_demo');
  const ack = await v.request({ type: 'send', req: nextReq(), conv, cid: rid('k'), body: { text: 'hi' } }, WAIT_MS);
  assert.equal(ack.type, 'ack');
  return { v, conv };
}

describe('demo controls', () => {
  test('network off cuts the visitor WebSocket without a close frame and refuses the visitor endpoints; agents stay up', async () => {
    const { v, conv } = await visitorWithConversation(demo);
    const agent = await Inbox.open(demo.ws('/v1/agent/ws?app=demo'));
    open.push(agent);
    agent.send({ type: 'auth', token: AGENT_TOKEN });
    await agent.waitFor((f) => f.type === 'ready', 'agent ready');

    const r = await control(demo, 'POST', 'network', { online: false });
    assert.equal(r.status, 200);
    assert.equal((await r.json()).online, false);
    const closed = await v.closedP;
    assert.equal(closed.wasClean, false, `the visitor socket closed cleanly (${JSON.stringify(closed)})`);

    await assert.rejects(Visitor.open(demo.url, 'demo', WAIT_MS), /WebSocket/);
    assert.equal((await fetch(`${demo.url}/v1/frames?app=demo`, { method: 'POST', body: '{}' })).status, 503);
    assert.equal((await fetch(`${demo.url}/v1/events?app=demo&after=0`)).status, 503);

    // The agent side works while the visitor is offline, and its socket was not cut.
    const reply = await fetch(`${demo.url}/v1/agent/conversations/${conv}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${AGENT_TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'We are here' }),
    });
    assert.equal(reply.status, 201);
    await agent.waitFor((f) => f.type === 'message' && f.conv === conv, 'the agent push of its reply');
    assert.equal(agent.closed, null);

    assert.equal((await (await control(demo, 'POST', 'network', { online: true })).json()).online, true);
    const back = await Visitor.open(demo.url, 'demo', WAIT_MS);
    open.push(back);
    await back.hello({ device: rid('d_demo') }, WAIT_MS);
  });

  test('settings answer the new state; bad values are 400 invalid_field', async () => {
    let r = await control(demo, 'POST', 'settings', { style: 'live_chat', hours: 'closed' });
    assert.equal(r.status, 200);
    const s = await r.json();
    assert.equal(s.style, 'live_chat');
    assert.equal(s.hours, 'closed');
    assert.equal(s.availability.open, false);
    r = await control(demo, 'POST', 'settings', { style: 'chatty' });
    assert.equal(r.status, 400);
    assert.equal((await r.json()).code, 'invalid_field');
    const state = await (await control(demo, 'GET', 'state')).json();
    assert.equal(state.style, 'live_chat');
    await control(demo, 'POST', 'settings', { style: 'social_messaging', hours: 'none' });
  });

  test('reset deletes the conversations and closes the connections', async () => {
    const { v } = await visitorWithConversation(demo);
    const list = async () =>
      (await (await fetch(`${demo.url}/v1/agent/conversations?app=demo`, { headers: { authorization: `Bearer ${AGENT_TOKEN}` } })).json())
        .conversations;
    assert.ok((await list()).length > 0);
    const r = await control(demo, 'POST', 'reset');
    assert.equal(r.status, 200);
    await v.closedP;
    assert.deepEqual(await list(), []);
  });

  test('an agent token is required, and without --demo the controls do not exist', async () => {
    assert.equal((await control(demo, 'POST', 'reset', undefined, 'wrong')).status, 401);
    assert.equal((await control(demo, 'GET', 'state', undefined, '')).status, 401);
    assert.equal((await control(plain, 'POST', 'reset')).status, 404);
    assert.equal((await control(plain, 'POST', 'network', { online: false })).status, 404);
  });
});
