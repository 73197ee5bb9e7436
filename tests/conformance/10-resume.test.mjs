// Resume after a disconnect: reconnecting with the token and the last committed cursor,
// sync gives exactly the events missed; the HTTP long-poll GET /v1/events?after=N gives the
// same, and a long-poll with nothing new waits and resolves when something happens.
//
// The "while disconnected" replies come from the agent API when --agent-token is given,
// otherwise from another device of the same visitor (so the test runs against any backend).

import { describe } from 'node:test';
import { ctest, assert, cfg, rid, settle, short, sleep } from './lib/harness.mjs';
import { Applier, pollEvents } from './lib/client.mjs';

/** Something new in `conv` while the visitor's socket is away; returns the message text. */
async function somebodyWrites(h, conv, text, token) {
  if (cfg.agentToken) {
    await h.agent().say(conv, text);
  } else {
    const other = await h.visitor({ token });
    await other.post(conv, text);
    other.close();
  }
  return text;
}

/** The committed cursor of a connection: the events pushed to it applied by the chain rule,
 *  repaired with sync if the chain broke. */
async function committedCursor(conn) {
  await settle(conn);
  const ap = new Applier(conn.welcome.cursor).applyAll(conn);
  if (ap.breaks.length) return (await conn.syncAll(ap.cursor)).cursor;
  return ap.cursor;
}

describe('resume after disconnect', () => {
  ctest('after an abrupt disconnect, reconnect with the token and the committed cursor: sync gives exactly the missed events', async (h) => {
    const c = await h.visitor({ raw: true });
    const conv = rid('c');
    for (let i = 0; i < 3; i++) await c.post(conv, `before the tunnel ${i}`);
    const cursor = await committedCursor(c);
    assert.ok(cursor > 0);
    c.terminate(); // the TCP connection just drops: no close frame (the train enters a tunnel)

    const texts = [];
    for (let i = 0; i < 3; i++) texts.push(await somebodyWrites(h, conv, `while you were away ${i} ${rid('t')}`, c.welcome.token));

    const d = await h.visitor({ token: c.welcome.token, device: c.device, cursor });
    assert.equal(d.welcome.user, c.welcome.user);
    assert.ok(d.welcome.cursor > cursor, `welcome.cursor (${d.welcome.cursor}) is ahead of the committed cursor (${cursor})`);
    await settle(d);
    const missed = await d.syncAll(cursor, 500);
    assert.equal(missed.frames[0].from, cursor, 'the catch-up starts at the committed cursor');
    assert.ok(missed.events.every((e) => e.cursor > cursor), 'nothing at or below the committed cursor is sent again');
    for (const t of texts) {
      const n = missed.events.filter((e) => e.kind === 'message' && e.message.body.text === t).length;
      assert.equal(n, 1, `missed message "${t}" arrives exactly once, got ${n}`);
    }
    // Exactly the missed events: the same as the log's suffix seen by a fresh full sync.
    const full = await d.syncAll(0, 1000);
    assert.deepEqual(missed.events, full.events.filter((e) => e.cursor > cursor && e.cursor <= missed.cursor), 'sync after the cursor = the log after the cursor');
  });

  ctest('HTTP long-poll GET /v1/events?after=N returns the missed events', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    await c.post(conv, 'hello from the HTTP-only visitor');
    const cursor = await committedCursor(c);
    c.close();
    await c.waitClose();
    const texts = [];
    for (let i = 0; i < 2; i++) texts.push(await somebodyWrites(h, conv, `long-poll catch-up ${i} ${rid('t')}`, c.welcome.token));

    const got = [];
    let after = cursor;
    for (let i = 0; i < 100; i++) {
      const r = await pollEvents(after, { token: c.welcome.token, timeout: cfg.timeoutMs * 2 });
      h.note(r.problems);
      assert.equal(r.status, 200, `GET /v1/events?after=${after}: HTTP ${r.status} ${short(r.text)}`);
      const f = r.json;
      assert.equal(f?.type, 'events', `GET /v1/events answers an events frame, got ${short(r.text)}`);
      assert.equal(f.from, after, 'the answer follows the cursor asked for');
      got.push(...f.events);
      after = f.cursor;
      if (!f.more) break;
    }
    for (const t of texts) {
      assert.equal(got.filter((e) => e.kind === 'message' && e.message.body.text === t).length, 1, `"${t}" arrives once over HTTP`);
    }
    const d = await h.visitor({ token: c.welcome.token });
    const full = await d.syncAll(0, 1000);
    assert.deepEqual(got, full.events.filter((e) => e.cursor > cursor && e.cursor <= after), 'HTTP catch-up = the log after the cursor');
  });

  ctest('a long-poll with nothing new waits, and resolves with the event posted meanwhile', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    await c.post(conv, 'waiting for an answer');
    const head = await committedCursor(c);

    const started = Date.now();
    const poll = pollEvents(head, { token: c.welcome.token, timeout: 30_000 });
    const early = await Promise.race([poll.then(() => 'resolved'), sleep(1500).then(() => 'waiting')]);
    assert.equal(early, 'waiting', 'with nothing after the cursor the long-poll must wait, not answer at once');
    const posted = Date.now();
    const text = await somebodyWrites(h, conv, `an answer ${rid('t')}`, c.welcome.token);
    const r = await poll;
    h.note(r.problems);
    const arrived = Date.now();
    assert.equal(r.status, 200, `HTTP ${r.status} ${short(r.text)}`);
    assert.equal(r.json?.type, 'events', `an events frame, got ${short(r.text)}`);
    assert.equal(r.json.from, head);
    assert.ok(r.json.events.some((e) => e.kind === 'message' && e.message.body.text === text), `the poll resolves with the new message: ${short(r.json)}`);
    assert.ok(arrived - posted < cfg.timeoutMs, `the poll resolved ${arrived - posted} ms after the post (should be prompt)`);
    h.log(`long-poll waited ${posted - started} ms, resolved ${arrived - posted} ms after the post`);
  });
});
