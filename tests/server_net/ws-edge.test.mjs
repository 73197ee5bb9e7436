// WebSocket protocol edges of /v1/ws: binary and fragmented messages, an unsupported hello
// version, an oversized text frame, and control-frame ping/pong.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RawWebSocket } from '../conformance/lib/rawws.mjs';
import { rid, sleep, withTimeout } from '../load/lib.mjs';
import { clientFrame, Inbox, serverFrames, spawnServer, WAIT_MS } from './lib.mjs';

let srv;
const open = [];

before(async () => {
  srv = await spawnServer('wsedge');
});

after(async () => {
  await Promise.all(open.map((s) => s.close()));
  if (srv) await srv.stop('SIGTERM', 5000).catch(() => srv.stop('SIGKILL'));
});

async function visitorBox({ raw = false } = {}) {
  const url = srv.ws('/v1/ws?app=demo');
  const box = raw ? new Inbox(new RawWebSocket(url)) : await Inbox.open(url);
  if (raw) await withTimeout(box.opened, WAIT_MS, 'raw WebSocket open');
  open.push(box);
  return box;
}

async function hello(box) {
  box.send({ type: 'hello', v: 1, token: '', cursor: 0, device: rid('d_wsedge') });
  const w = await box.waitFor((f) => f.type === 'welcome' || f.type === 'error', 'welcome');
  assert.equal(w.type, 'welcome', JSON.stringify(w));
  return w;
}

async function pingPong(box, req) {
  box.send({ type: 'ping', req });
  const pong = await box.waitFor((f) => f.req === req, `answer to ping ${req}`);
  assert.equal(pong.type, 'pong', JSON.stringify(pong));
  return pong;
}

describe('visitor WebSocket edges', () => {
  test('a binary message closes the connection with 1003 and a reason', async () => {
    const box = await visitorBox();
    await hello(box);
    box.ws.send(new Uint8Array([0x7b, 0x7d])); // "{}" as binary
    const closed = await box.waitClosed();
    assert.equal(closed.code, 1003, `close ${closed.code} ${closed.reason}`);
    assert.ok(closed.reason.length > 0, 'close reason is empty');
  });

  test('a fragmented text message closes the connection with 1003 and a reason (raw client)', async () => {
    const box = await visitorBox({ raw: true });
    const text = JSON.stringify({ type: 'ping', req: 'frag' });
    box.ws.socket.write(clientFrame(0x1, text.slice(0, 5), false));
    box.ws.socket.write(clientFrame(0x0, text.slice(5), true));
    const closed = await box.waitClosed();
    assert.equal(closed.code, 1003, `close ${closed.code} ${closed.reason}`);
    assert.ok(closed.reason.length > 0, 'close reason is empty');
    assert.ok(!box.frames.some((f) => f.type === 'pong'), 'the fragmented ping was answered');
  });

  test('hello v:2 → error unsupported_version, then close 1002', async () => {
    const box = await visitorBox();
    box.send({ type: 'hello', v: 2, token: '', cursor: 0, device: rid('d_v2') });
    const err = await box.waitFor((f) => f.type === 'error', 'error frame');
    assert.equal(err.code, 'unsupported_version');
    const closed = await box.waitClosed();
    assert.equal(closed.code, 1002, `close ${closed.code} ${closed.reason}`);
    assert.ok(!box.frames.some((f) => f.type === 'welcome'), 'welcome after an unsupported version');
  });

  test('a text frame over 256 KiB → error frame_too_large, and the connection still answers ping', async () => {
    const box = await visitorBox();
    await hello(box);
    const big = JSON.stringify({ type: 'ping', req: 'big', pad: 'x'.repeat(256 * 1024 + 100) });
    assert.ok(Buffer.byteLength(big) > 256 * 1024);
    box.send(big);
    const err = await box.waitFor((f) => f.type === 'error', 'frame_too_large error');
    assert.equal(err.code, 'frame_too_large', JSON.stringify(err));
    assert.ok(!box.frames.some((f) => f.type === 'pong' && f.req === 'big'), 'the oversized ping was answered');
    await pingPong(box, 'after_big');
    assert.equal(box.closed, null, 'connection closed after an oversized frame');
  });

  test('a frame of exactly 256 KiB is not frame_too_large', async () => {
    const box = await visitorBox();
    const head = JSON.stringify({ type: 'ping', req: 'edge', pad: '' });
    const frame = head.replace('"pad":""', `"pad":"${'y'.repeat(256 * 1024 - Buffer.byteLength(head))}"`);
    assert.equal(Buffer.byteLength(frame), 256 * 1024);
    box.send(frame);
    const a = await box.waitFor((f) => f.req === 'edge' || f.type === 'error', 'answer to the 256 KiB ping');
    assert.equal(a.type, 'pong', JSON.stringify(a).slice(0, 200));
  });

  test('a WebSocket ping control frame gets a pong control frame with the same payload (raw client)', async () => {
    const box = await visitorBox({ raw: true });
    let bytes = Buffer.alloc(0);
    box.ws.socket.on('data', (d) => (bytes = Buffer.concat([bytes, d])));
    box.ws.socket.write(clientFrame(0x9, 'parley-net-ping'));
    const deadline = Date.now() + WAIT_MS;
    let pong;
    while (!(pong = serverFrames(bytes).find((f) => f.op === 0xa)) && Date.now() < deadline) await sleep(10);
    assert.ok(pong, `no pong frame; got ${bytes.length} bytes`);
    assert.equal(pong.fin, true);
    assert.equal(pong.payload.toString(), 'parley-net-ping');
    // The connection is still a protocol connection afterwards.
    await pingPong(box, 'after_control_ping');
  });
});
