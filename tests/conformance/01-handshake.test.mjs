// Session handshake (protocol.md "Session"): hello → welcome, token reuse, anonymous hello
// idempotent per device, version check, ping.

import { describe } from 'node:test';
import { ctest, assert, assertError, rid } from './lib/harness.mjs';
import { postFrame } from './lib/client.mjs';

const CLOCK_SKEW_MS = 10 * 60 * 1000;

describe('handshake', () => {
  ctest('anonymous hello is answered by welcome {v:1, user, token, cursor, server_time}', async (h) => {
    const c = await h.open();
    const w = await c.hello({ token: '', cursor: 0, device: rid('d') });
    assert.equal(w.v, 1);
    assert.ok(typeof w.user === 'string' && w.user.length > 0, 'welcome.user is a non-empty id');
    assert.ok(typeof w.token === 'string' && w.token.length > 0, 'an anonymous hello must be given a token to store');
    assert.ok(Number.isInteger(w.cursor) && w.cursor >= 0, 'welcome.cursor is an int >= 0');
    assert.ok(Math.abs(w.server_time - Date.now()) < CLOCK_SKEW_MS, `welcome.server_time ${w.server_time} is milliseconds since the epoch`);
  });

  ctest('hello with the returned token is the same user (same device and another device)', async (h) => {
    const a = await h.visitor();
    const b = await h.open();
    const w1 = await b.hello({ token: a.welcome.token, cursor: 0, device: a.device });
    assert.equal(w1.user, a.welcome.user, 'same token, same device → same user');
    const c = await h.open();
    const w2 = await c.hello({ token: a.welcome.token, cursor: 0, device: rid('d') });
    assert.equal(w2.user, a.welcome.user, 'same token, other device → same user');
    // The token the server hands back is the one to use from now on: it must work too.
    const d = await h.open();
    const w3 = await d.hello({ token: w2.token, cursor: 0, device: rid('d') });
    assert.equal(w3.user, a.welcome.user, 'the token of a later welcome also identifies the user');
  });

  ctest('repeated anonymous hello from the same device gets the same user (WebSocket and HTTP)', async (h) => {
    const device = rid('d');
    const a = await h.visitor({ device });
    const b = await h.visitor({ device });
    assert.equal(b.welcome.user, a.welcome.user, 'a second tokenless hello from the same device must not create a second visitor');
    // A retried HTTP hello (the case the docs name) as well.
    const r = await postFrame({ type: 'hello', v: 1, token: '', cursor: 0, device });
    h.note(r.problems);
    assert.equal(r.status, 200, `POST /v1/frames hello: HTTP ${r.status} ${r.text}`);
    assert.ok(r.isArray, `POST /v1/frames answers a JSON array of server frames, got ${r.text}`);
    const w = r.frames.find((f) => f.type === 'welcome');
    assert.ok(w, `POST /v1/frames hello: no welcome in ${r.text}`);
    assert.equal(w.user, a.welcome.user, 'HTTP tokenless hello from the same device → same user');
  });

  ctest('a different device gets a different anonymous user', async (h) => {
    const a = await h.visitor();
    const b = await h.visitor();
    assert.notEqual(b.welcome.user, a.welcome.user);
    assert.notEqual(b.welcome.token, a.welcome.token);
  });

  ctest('hello v:2 is answered error unsupported_version', async (h) => {
    const c = await h.open();
    const f = await c.helloRaw({ v: 2, token: '', cursor: 0, device: rid('d') });
    // A decoding error (step 7 of the decoder), so permanent by default.
    assertError(f, 'unsupported_version', { recoverable: 'permanent' });
  });

  ctest('a version the server cannot speak: unsupported_version, then the server closes', async (h) => {
    // protocol.md "Versioning": "a server that cannot speak the client's version answers
    // unsupported_version and closes".
    const c = await h.open();
    const f = await c.helloRaw({ v: 2, token: '', cursor: 0, device: rid('d') });
    assertError(f, 'unsupported_version');
    const closed = await c.waitClose({ timeout: 3000 }).catch(() => null);
    assert.ok(closed, 'after unsupported_version the server closes the connection (still open after 3 s)');
    h.log(`closed with code ${closed.code} reason ${JSON.stringify(closed.reason)}`);
  });

  ctest('ping is answered pong {req, server_time}', async (h) => {
    const c = await h.visitor();
    const req = rid('q');
    const p = await c.expect({ type: 'ping', req }, 'pong');
    assert.equal(p.req, req);
    assert.ok(Math.abs(p.server_time - Date.now()) < CLOCK_SKEW_MS, 'pong.server_time is milliseconds since the epoch');
    // Requests are answered in any number, each by its own req.
    const reqs = [rid('q'), rid('q'), rid('q')];
    const from = c.mark();
    for (const r of reqs) c.send({ type: 'ping', req: r });
    for (const r of reqs) await c.waitFor((f) => f.type === 'pong' && f.req === r, { from, what: `pong ${r}` });
  });

  ctest('the HTTP fallback speaks the same session: hello, then ping with the Bearer token', async (h) => {
    const r = await postFrame({ type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') });
    h.note(r.problems);
    const w = r.frames.find((f) => f.type === 'welcome');
    assert.ok(w, `no welcome in ${r.text}`);
    const req = rid('q');
    const p = await postFrame({ type: 'ping', req }, { token: w.token });
    h.note(p.problems);
    assert.equal(p.status, 200, `POST /v1/frames ping: HTTP ${p.status} ${p.text}`);
    assert.ok(p.isArray, `POST /v1/frames answers a JSON array, got ${p.text}`);
    const pong = p.frames.find((f) => f.type === 'pong');
    assert.ok(pong && pong.req === req, `expected pong ${req}, got ${p.text}`);
  });
});
