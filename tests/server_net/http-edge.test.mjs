// The HTTP edge: CORS, unknown endpoints, bearer checks on the agent and channel APIs,
// /healthz.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rid } from '../load/lib.mjs';
import { AGENT_TOKEN, Inbox, postFrame, spawnServer, WAIT_MS } from './lib.mjs';

let srv;

before(async () => {
  srv = await spawnServer('http');
});

after(async () => {
  if (srv) await srv.stop('SIGTERM', 5000).catch(() => srv.stop('SIGKILL'));
});

async function req(method, path, { headers = {}, body } = {}) {
  const r = await fetch(`${srv.url}${path}`, { method, headers, body, signal: AbortSignal.timeout(WAIT_MS) });
  const text = await r.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {}
  return { status: r.status, headers: r.headers, text, json };
}

function assertError(r, status, code, what) {
  assert.equal(r.status, status, `${what}: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  assert.match(r.headers.get('content-type') || '', /^application\/json/, `${what}: content-type`);
  assert.equal(r.json?.type, 'error', `${what}: ${r.text.slice(0, 200)}`);
  assert.equal(r.json?.code, code, `${what}: ${r.text.slice(0, 200)}`);
}

describe('health', () => {
  test('GET /healthz → 200 {"ok":true}', async () => {
    const r = await req('GET', '/healthz');
    assert.equal(r.status, 200);
    assert.deepEqual(r.json, { ok: true });
    assert.match(r.headers.get('content-type') || '', /^application\/json/);
  });
});

describe('CORS', () => {
  test('preflight OPTIONS /v1/frames → 204 with Allow-Origin * and Authorization allowed', async () => {
    const r = await req('OPTIONS', '/v1/frames?app=demo', {
      headers: {
        origin: 'https://shop.example',
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    assert.equal(r.status, 204);
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const allowHeaders = (r.headers.get('access-control-allow-headers') || '').toLowerCase().split(/\s*,\s*/);
    assert.ok(allowHeaders.includes('authorization'), `Allow-Headers: ${r.headers.get('access-control-allow-headers')}`);
    assert.ok(allowHeaders.includes('content-type'), `Allow-Headers: ${r.headers.get('access-control-allow-headers')}`);
    const allowMethods = (r.headers.get('access-control-allow-methods') || '').toUpperCase();
    assert.match(allowMethods, /\bPOST\b/);
    assert.equal(r.text, '');
  });

  test('POST /v1/frames answers carry Access-Control-Allow-Origin (welcome and error alike)', async () => {
    const ok = await postFrame(srv.url, 'demo', { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d_cors') });
    assert.equal(ok.status, 200);
    assert.equal(ok.frames[0]?.type, 'welcome');
    assert.equal(ok.headers.get('access-control-allow-origin'), '*');
    const bad = await postFrame(srv.url, 'demo', { type: 'ping', req: 'r1' }, 'not-a-token');
    assert.equal(bad.status, 200);
    assert.equal(bad.frames[0]?.code, 'unauthorized');
    assert.equal(bad.headers.get('access-control-allow-origin'), '*');
  });

  test('API error responses carry Access-Control-Allow-Origin too', async () => {
    const r = await req('GET', '/v1/nope');
    assert.equal(r.headers.get('access-control-allow-origin'), '*');
    const a = await req('GET', '/v1/agent/conversations?app=demo');
    assert.equal(a.headers.get('access-control-allow-origin'), '*');
  });
});

describe('unknown endpoints and bearer checks', () => {
  test('GET /v1/nope → 404 not_found (JSON)', async () => {
    assertError(await req('GET', '/v1/nope'), 404, 'not_found', 'GET /v1/nope');
    assertError(await req('POST', '/v1/nope', { body: '{}' }), 404, 'not_found', 'POST /v1/nope');
    assertError(await req('GET', '/v1/frames'), 404, 'not_found', 'GET /v1/frames (POST only)');
  });

  test('unknown app → 404 not_found; /v1/ws without an upgrade → 400', async () => {
    const r = await req('POST', '/v1/frames?app=no_such_app', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'hello', v: 1, token: '', cursor: 0, device: rid('d_noapp') }),
    });
    assertError(r, 404, 'not_found', 'POST /v1/frames?app=no_such_app');
    assertError(await req('GET', '/v1/ws?app=demo'), 400, 'malformed_frame', 'GET /v1/ws without Upgrade');
    for (const path of ['/v1/ws?app=no_such_app', '/v1/agent/ws?app=no_such_app']) {
      await assert.rejects(Inbox.open(`ws://127.0.0.1:${srv.port}${path}`), /WebSocket error/, `${path} was upgraded`);
    }
  });

  test('agent endpoints without or with a bad bearer → 401 unauthorized', async () => {
    const paths = [
      ['GET', '/v1/agent/conversations?app=demo'],
      ['GET', '/v1/agent/conversations/c_nope'],
      ['GET', '/v1/agent/conversations/c_nope/messages'],
      ['POST', '/v1/agent/conversations/c_nope/messages', '{"text":"hi"}'],
      ['POST', '/v1/agent/conversations/c_nope/typing', '{"on":true}'],
      ['POST', '/v1/agent/conversations/c_nope/status', '{"status":"solved"}'],
      ['GET', '/v1/agent/nothing-here'],
    ];
    // A visitor token is not an agent token.
    const hello = await postFrame(srv.url, 'demo', { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d_401') });
    const visitorToken = hello.frames[0].token;
    const auths = [
      [undefined, 'no header'],
      ['Bearer garbage', 'garbage bearer'],
      ['Bearer ', 'empty bearer'],
      [`Basic ${Buffer.from(`x:${AGENT_TOKEN}`).toString('base64')}`, 'Basic scheme'],
      [`bearer-ish ${AGENT_TOKEN}`, 'wrong scheme word'],
      [`Bearer ${visitorToken}`, 'visitor token'],
      [`Bearer ${AGENT_TOKEN}x`, 'agent token with a suffix'],
    ];
    for (const [method, path, body] of paths) {
      for (const [authorization, what] of auths) {
        const headers = authorization === undefined ? {} : { authorization };
        if (body) headers['content-type'] = 'application/json';
        assertError(await req(method, path, { headers, body }), 401, 'unauthorized', `${method} ${path} (${what})`);
      }
    }
    // And the right token gets past the check (404: no such conversation).
    const r = await req('GET', '/v1/agent/conversations/c_nope', { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
    assertError(r, 404, 'not_found', 'GET unknown conversation with the agent token');
  });

  test('channel endpoints without the agent token → 401 unauthorized', async () => {
    const hello = await postFrame(srv.url, 'demo', { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d_ch') });
    const visitorToken = hello.frames[0].token;
    for (const headers of [{}, { authorization: 'Bearer garbage' }, { authorization: `Bearer ${visitorToken}` }]) {
      assertError(await req('GET', '/v1/channels/sms/%2B4790000000/outbox', { headers }), 401, 'unauthorized', `outbox ${JSON.stringify(headers)}`);
      assertError(
        await req('POST', '/v1/channels/sms/inbound', {
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ address: '+4790000000', text: 'hi' }),
        }),
        401,
        'unauthorized',
        `inbound ${JSON.stringify(headers)}`,
      );
    }
    const ok = await req('GET', '/v1/channels/sms/%2B4790000000/outbox', { headers: { authorization: `Bearer ${AGENT_TOKEN}` } });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.json, { messages: [] });
  });
});

describe('attachment bytes', () => {
  test('PUT then GET /v1/files/{id}: the uploader and agents read it, inert headers, limits', async () => {
    const hello = await postFrame(srv.url, 'demo', { type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    const token = hello.frames[0].token;
    assert.ok(token, 'welcome token');
    const auth = { authorization: `Bearer ${token}` };
    const id = rid('a');
    const put = await req('PUT', `/v1/files/${id}?app=demo`, {
      headers: { ...auth, 'content-type': 'text/plain' },
      body: '<script>alert(1)</script>',
    });
    assert.equal(put.status, 201, put.text);
    assert.match(put.json.url, new RegExp(`^/v1/files/${id}\\?sig=[\\w-]+$`));
    // The signed URL needs no token (an <img src> or <a href> cannot send one) and stays inert.
    const signed = await req('GET', `${put.json.url}&app=demo`);
    assert.equal(signed.status, 200);
    assert.equal(signed.headers.get('content-disposition'), 'attachment');
    assertError(await req('GET', `/v1/files/${id}?app=demo&sig=AAAA${put.json.url.slice(-8)}`), 401, 'unauthorized', 'forged signature');
    for (const h of [auth, { authorization: `Bearer ${AGENT_TOKEN}` }]) {
      const got = await req('GET', `/v1/files/${id}?app=demo`, { headers: h });
      assert.equal(got.status, 200);
      assert.equal(got.text, '<script>alert(1)</script>');
      assert.equal(got.headers.get('x-content-type-options'), 'nosniff');
      assert.match(got.headers.get('content-security-policy') || '', /sandbox/);
      assert.equal(got.headers.get('content-disposition'), 'attachment');
    }
    assertError(await req('GET', `/v1/files/${id}?app=demo`), 401, 'unauthorized', 'no token');
    const html = await req('PUT', `/v1/files/${rid('a')}?app=demo`, {
      headers: { ...auth, 'content-type': 'text/html' },
      body: '<p>x</p>',
    });
    assertError(html, 415, 'invalid_field', 'text/html upload');
    const upload = await postFrame(srv.url, 'demo', {
      type: 'upload', req: 'u1', conv: rid('c'), cid: id,
      attachment: { id, name: 'x.txt', mime: 'text/plain', size: 25 },
    }, token);
    assert.equal(upload.frames[0].type, 'ack', JSON.stringify(upload.frames));
    assert.equal(upload.frames[0].url, put.json.url);
  });
});
