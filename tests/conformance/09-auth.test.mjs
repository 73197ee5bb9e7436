// Authentication and authorization: bad tokens are error{unauthorized, recoverable:"auth"}
// (protocol.md "Session"); identified users sign in with HS256 JWTs (docs/server.md
// "Identity"); one user never sees another user's conversation.

import { describe } from 'node:test';
import { ctest, assert, assertError, cfg, rid, settle, short } from './lib/harness.mjs';
import { Agent, postFrame, pollEvents, signJwt, userJwt } from './lib/client.mjs';
import { ERROR_CODES } from './lib/schema.mjs';

describe('auth failures', () => {
  ctest('hello with a garbage token: unauthorized, recoverable auth; a new hello on the same socket works', async (h) => {
    const c = await h.open();
    const f = await c.helloRaw({ token: 'garbage-token-123', cursor: 0, device: rid('d') });
    assertError(f, 'unauthorized', { recoverable: 'auth' });
    // "the client asks the host for a fresh token and says hello again"
    if (c.closed) {
      h.log(`the server closed the socket after unauthorized (code ${c.closed.code}); hello again on a new socket`);
      const d = await h.open();
      await d.hello({ token: '', device: rid('d') });
    } else {
      const w = await c.hello({ token: '', device: rid('d') });
      assert.ok(w.user);
    }
  });

  ctest('hello with a tampered server token: unauthorized (auth)', async (h) => {
    const a = await h.visitor();
    const t = a.welcome.token;
    const i = Math.floor(t.length / 2);
    const tampered = t.slice(0, i) + (t[i] === 'A' ? 'B' : 'A') + t.slice(i + 1);
    const c = await h.open();
    const f = await c.helloRaw({ token: tampered, cursor: 0, device: a.device });
    assertError(f, 'unauthorized', { recoverable: 'auth' });
  });

  ctest('requests before hello are refused with a typed error and not applied', async (h) => {
    const c = await h.open();
    const conv = rid('c');
    const cid = rid('k');
    const f = await c.request({ type: 'send', req: rid('q'), conv, cid, body: { text: 'sneaky' } }, ['ack']);
    assert.equal(f.type, 'error', `a send before hello must not be acked: ${short(f)}`);
    assert.ok(ERROR_CODES.includes(f.code), `a documented error code, got ${f.code}`);
    h.log(`send before hello → error ${f.code} (${f.recoverable}) "${f.message}"`);
    if (f.code !== 'unauthorized') h.log('note: protocol.md does not name the code for this case; unauthorized would be the natural one');
    if (c.closed) {
      // Closing a socket that talks before hello is a defensible choice; nothing was stored.
      h.log(`the server closed the socket after a send before hello (code ${c.closed.code})`);
      const d = await h.visitor();
      const p = await d.history({ conv, after: 0, limit: 10 });
      if (p.type === 'page') assert.ok(!p.messages.some((m) => m.cid === cid), 'the refused send was not stored');
      return;
    }
    const s = await c.request({ type: 'sync', req: rid('q'), after: 0, limit: 10 }, ['events'], { also: (x) => x.type === 'reset' });
    assert.equal(s.type, 'error', `a sync before hello must not be answered with events: ${short(s)}`);
    // After a hello the connection is normal, and the refused send was not stored.
    const w = await c.hello({ token: '', device: rid('d') });
    const p = await c.history({ conv, after: 0, limit: 10 });
    if (p.type === 'page') assert.ok(!p.messages.some((m) => m.cid === cid), 'the refused send was not stored');
    assert.ok(w.user);
  });

  ctest('HTTP POST /v1/frames send without Authorization, or with a bad one: error unauthorized', async (h) => {
    const frame = { type: 'send', req: rid('q'), conv: rid('c'), cid: rid('k'), body: { text: 'no token' } };
    for (const [how, token] of [['no Authorization header', undefined], ['a garbage Bearer token', 'garbage']]) {
      const r = await postFrame(frame, { token });
      h.note(r.problems);
      const f = r.frames.find((x) => x.type === 'error');
      assert.ok(f, `${how}: expected an error frame, got HTTP ${r.status} ${short(r.text)}`);
      assertError(f, 'unauthorized', { recoverable: 'auth' });
      assert.ok([200, 401].includes(r.status), `${how}: HTTP 401 (or 200 with the error frame), got ${r.status}`);
      h.log(`POST /v1/frames with ${how}: HTTP ${r.status}, ${r.isArray ? 'array' : 'object'} body`);
    }
  });

  ctest('HTTP GET /v1/events without Authorization: unauthorized', async (h) => {
    const r = await pollEvents(0, { timeout: 10_000 });
    const f = Array.isArray(r.json) ? r.json.find((x) => x.type === 'error') : r.json;
    assert.ok(r.status === 401 || f?.type === 'error', `expected 401 or an error frame, got HTTP ${r.status} ${short(r.text)}`);
    if (f?.type === 'error') assertError(f, 'unauthorized', { recoverable: 'auth' });
    h.log(`GET /v1/events without token: HTTP ${r.status} ${short(r.text, 200)}`);
  });

  ctest("one visitor cannot read or write another visitor's conversation", async (h) => {
    const a = await h.visitor();
    const b = await h.visitor();
    const conv = rid('c');
    const secret = await a.post(conv, 'my card ends with 4242');

    const p = await b.history({ conv, after: 0, limit: 50 });
    if (p.type === 'page') {
      assert.ok(!p.messages.some((m) => m.id === secret.id), `user B must not page user A's messages: ${short(p)}`);
    } else {
      assert.ok(['forbidden', 'not_found'].includes(p.code), `history of another user's conversation: forbidden or not_found, got ${short(p)}`);
    }
    h.log(`history of another user's conversation → ${p.type === 'page' ? `an empty page (conversations are per user)` : `error ${p.code}`}`);

    const s = await b.sendMessage({ conv, text: 'intruding' });
    h.log(`send into another user's conversation → ${s.type === 'ack' ? 'ack (a separate conversation of B)' : `error ${s.code}`}`);
    await settle(a);
    const mine = await a.allMessages(conv);
    assert.ok(!mine.some((m) => m.body.text === 'intruding'), "B's send must not land in A's conversation");
    assert.ok(!a.events().some((e) => e.conv === conv && e.kind === 'message' && e.message.body.text === 'intruding'), 'nor be pushed to A');
    assert.ok(!b.events().some((e) => e.kind === 'message' && e.message.id === secret.id), "A's message must not be pushed to B");
  });

  ctest('agent API with a bad token: 401 unauthorized with an error body', { needs: ['agent'] }, async () => {
    const r = await new Agent({ token: 'not-an-agent' }).call('GET', '/v1/agent/conversations');
    assert.equal(r.status, 401, `HTTP ${r.status} ${short(r.text)}`);
    assertError(r.json, 'unauthorized');
  });
});

describe('JWT sign-in', () => {
  const now = () => Math.floor(Date.now() / 1000);

  ctest('a valid JWT gets a welcome; the same sub is the same user on any device; another sub is another user', { needs: ['jwt'] }, async (h) => {
    const sub = rid('sub');
    const a = await h.open();
    const w1 = await a.hello({ token: userJwt(sub), device: rid('d') });
    assert.ok(w1.token, 'the welcome carries a server token for the user');
    const b = await h.open();
    const w2 = await b.hello({ token: userJwt(sub), device: rid('d') });
    assert.equal(w2.user, w1.user, 'two hellos with the same sub are the same user');
    const c = await h.open();
    const w3 = await c.hello({ token: w1.token, device: rid('d') });
    assert.equal(w3.user, w1.user, "the welcome's server token identifies the same user");
    const d = await h.open();
    const w4 = await d.hello({ token: userJwt(rid('sub')), device: rid('d') });
    assert.notEqual(w4.user, w1.user, 'another sub is another user');
    h.log(`identified user id for sub ${sub}: ${w1.user}`);
    // An identified user's conversation is visible from every device that signs in.
    const conv = rid('c');
    const ack = await a.post(conv, 'signed in on device one');
    const msgs = await b.allMessages(conv);
    assert.ok(msgs.some((m) => m.id === ack.id), 'the same user pages the same conversation from another device');
  });

  ctest('a merge_token the server cannot use is ignored and never fails the hello', { needs: ['jwt'] }, async (h) => {
    // protocol.md "Sign-in and merge": unknown, identified or same-user merge tokens are ignored.
    const other = await h.open();
    const wo = await other.hello({ token: userJwt(rid('sub')), device: rid('d') });
    const otherConv = rid('c');
    const kept = await other.post(otherConv, 'belongs to the other identified user');

    const sub = rid('sub');
    const cases = [
      ['an unknown token', 'not-a-token-at-all'],
      ["another identified user's token", wo.token],
    ];
    let user = null;
    for (const [name, mergeToken] of cases) {
      const c = await h.open();
      const f = await c.helloRaw({ token: userJwt(sub), cursor: 0, device: rid('d'), merge_token: mergeToken });
      assert.equal(f.type, 'welcome', `merge_token = ${name}: the hello must still be welcomed, got ${short(f)}`);
      user ??= f.user;
      assert.equal(f.user, user, 'always the JWT user');
      // The same user's own token as merge_token.
      const d = await h.open();
      const g = await d.helloRaw({ token: userJwt(sub), cursor: 0, device: rid('d'), merge_token: f.token });
      assert.equal(g.type, 'welcome', `merge_token = the same user's token: welcomed, got ${short(g)}`);
      assert.equal(g.user, user);
    }
    // The identified user's conversation was not merged away.
    const again = await h.open();
    await again.hello({ token: wo.token, device: rid('d') });
    assert.ok((await again.allMessages(otherConv)).some((m) => m.id === kept.id), "an identified user's conversation is never merged into another user");
  });

  const bad = [
    ['expired (exp in the past)', () => userJwt(rid('sub'), { iat: now() - 7200, exp: now() - 3600 })],
    ['wrong audience', () => userJwt(rid('sub'), { aud: `${cfg.jwtAudience}-not` })],
    ['signed with another secret', () => userJwt(rid('sub'), {}, `${cfg.jwtSecret}-wrong`)],
    ['bad signature bytes', () => `${userJwt(rid('sub')).slice(0, -4)}AAAA`],
    ['alg none', () => {
      const t = signJwt({ sub: rid('sub'), aud: cfg.jwtAudience, exp: now() + 600 }, 'x', { header: { alg: 'none' } });
      return `${t.split('.').slice(0, 2).join('.')}.`;
    }],
    ['no exp', () => userJwt(rid('sub'), { exp: undefined })],
    ['no sub', () => userJwt(undefined)],
  ];
  for (const [name, make] of bad) {
    ctest(`JWT ${name}: unauthorized (auth)`, { needs: ['jwt'] }, async (h) => {
      const c = await h.open();
      const f = await c.helloRaw({ token: make(), cursor: 0, device: rid('d') });
      assertError(f, 'unauthorized', { recoverable: 'auth' });
    });
  }
});
