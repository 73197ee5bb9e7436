// Graceful shutdown (SIGTERM) with a long-poll and a WebSocket in flight: the long-poll is
// answered with an empty events frame, the WebSocket is closed with 1001, the server exits 0.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rid, sleep, withTimeout } from '../load/lib.mjs';
import { Inbox, postFrame, spawnServer, WAIT_MS } from './lib.mjs';

let srv;

before(async () => {
  srv = await spawnServer('shutdown');
});

after(async () => {
  if (srv) await srv.stop('SIGKILL', 5000).catch(() => {});
});

test('SIGTERM answers a pending long-poll with an empty events frame, closes WebSockets 1001, exits 0', async () => {
  const hello = await postFrame(srv.url, 'demo', { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d_stop') });
  const welcome = hello.frames[0];
  assert.equal(welcome?.type, 'welcome', JSON.stringify(hello.frames));
  const head = welcome.cursor;

  let settled = false;
  const poll = fetch(`${srv.url}/v1/events?app=demo&after=${head}`, {
    headers: { authorization: `Bearer ${welcome.token}` },
    signal: AbortSignal.timeout(20000),
  }).then(async (r) => ({ status: r.status, text: await r.text() }));
  poll.then(
    () => (settled = true),
    () => (settled = true),
  );

  const ws = await Inbox.open(srv.ws('/v1/ws?app=demo'));
  ws.send({ type: 'hello', v: 1, token: welcome.token, cursor: head, device: rid('d_stop_ws') });
  await ws.waitFor((f) => f.type === 'welcome', 'welcome on the WebSocket');

  await sleep(300);
  assert.equal(settled, false, 'the long-poll answered before the shutdown (it had nothing to wait for?)');

  const t0 = Date.now();
  srv.proc.kill('SIGTERM');
  const answer = await withTimeout(poll, WAIT_MS, 'long-poll answer after SIGTERM');
  const exit = await withTimeout(srv.exited, WAIT_MS, 'server exit after SIGTERM');
  const closed = await ws.waitClosed();

  assert.equal(answer.status, 200, answer.text);
  const frame = JSON.parse(answer.text);
  assert.equal(frame.type, 'events');
  assert.deepEqual(frame.events, []);
  assert.equal(frame.more, false);
  assert.equal(frame.cursor, head);
  assert.ok(Date.now() - t0 < WAIT_MS);
  assert.deepEqual(exit, { code: 0, signal: null }, `exit ${JSON.stringify(exit)}`);
  assert.equal(closed.code, 1001, `WebSocket close ${closed.code} ${closed.reason}`);
});
