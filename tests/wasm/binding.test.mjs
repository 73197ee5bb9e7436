// The wasm binding (wasm/src/bindings.cpp) driven through its `_raw` surface
// (web/README.md) in Node: build/wasm/parley_core_node.js (target parley_core_node).
//
//   node --no-experimental-fetch --test tests/wasm/
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import { EMPTY_EFFECTS_KEYS, Host, MemoryStore, WEB_GLUE, loadNodeCore, message } from './lib/host.mjs';

const M = await loadNodeCore();

const CONFIG = { app_id: 'demo', seed: 2 ** 52 + 7, style: 'live_chat', locale: 'en', page_size: 50 };

function client(config = CONFIG) {
  return new M.RawClient(JSON.stringify(config));
}

function errorOf(result) {
  const parsed = JSON.parse(result);
  assert.ok(parsed && parsed.error, `expected an error result, got ${result}`);
  assert.deepEqual(Object.keys(parsed.error).sort(), ['code', 'message', 'recoverable']);
  return parsed.error;
}

// start -> restore -> a conversation with one queued message, committed; offline.
function bootOffline() {
  const raw = client();
  const h = new Host(raw);
  h.autoCommit = null;
  assert.equal(raw.onOnline(h.now, false), 'null');
  assert.equal(raw.start(h.now), 'null');
  let fx = h.drain();
  assert.deepEqual(Object.keys(fx).sort(), EMPTY_EFFECTS_KEYS);
  assert.deepEqual(fx.reads, [{ kind: 'restore' }]);
  assert.deepEqual(fx.batches, []);

  assert.equal(raw.onRestored(h.now, JSON.stringify({ meta: null, conversations: [], outbox: [] })), 'null');
  fx = h.drain();
  assert.equal(fx.connect, false, 'offline: no connection yet');
  assert.equal(fx.batches.length, 1);
  assert.deepEqual(fx.batches[0].ops.map((o) => [o.op, o.store, o.key]), [['put', 'meta', 'meta']]);
  h.commit(fx.batches[0]);
  return { raw, h };
}

test('a realistic flow through the raw surface', () => {
  const { raw, h } = bootOffline();
  assert.match(raw.device(), /^d_/);

  // startConversation + send: the outbox put comes in a batch; committed "ok".
  const conv = raw.startConversation(h.now, 'Order #1');
  assert.match(conv, /^c_/);
  const { cid } = JSON.parse(raw.send(h.now, conv, JSON.stringify({ text: 'Hello' })));
  assert.match(cid, /^k_/);

  let outboxPut;
  for (let i = 0; i < 5 && !outboxPut; i++) {
    const fx = h.drain();
    assert.ok(fx.batches.length > 0, 'the outbox write arrives in a batch');
    for (const b of fx.batches) {
      assert.equal(typeof b.id, 'number');
      outboxPut ??= b.ops.find((o) => o.store === 'outbox' && o.op === 'put');
      h.commit(b, 'ok');
    }
  }
  assert.ok(outboxPut, 'a batch put the message in the outbox');
  assert.equal(outboxPut.key, cid);
  assert.equal(outboxPut.seq, undefined, 'only messages ops carry seq');
  assert.equal(outboxPut.value.cid, cid);
  assert.deepEqual(outboxPut.value.body, { text: 'Hello' });
  assert.deepEqual(h.store.restore().outbox.map((r) => r.cid), [cid]);
  assert.deepEqual(h.timeline(conv).map((t) => [t.key, t.state]), [[cid, 'queued']]);

  // Online -> connect; connected -> hello.
  assert.equal(raw.onOnline(h.now, true), 'null');
  let fx = h.drain();
  assert.equal(fx.connect, true);
  assert.equal(fx.view.connection, true);
  assert.equal(raw.connection(), 'connecting');

  assert.equal(raw.onConnected(h.now), 'null');
  fx = h.drain();
  assert.equal(fx.frames.length, 1);
  const hello = JSON.parse(fx.frames[0]);
  assert.deepEqual(hello, { type: 'hello', v: 1, token: '', cursor: 0, device: raw.device() });
  assert.equal(raw.connection(), 'handshaking');

  // Welcome: ready; the queued message goes out.
  h.autoCommit = 'ok';
  h.deliver({
    type: 'welcome', v: 1, user: 'u1', token: 't1', cursor: 0, server_time: h.now,
    availability: { open: true, reply_ms: 7_200_000, next_change: h.now + 3_600_000 },
  });
  assert.equal(raw.connection(), 'ready');
  assert.equal(raw.user(), 'u1');
  assert.deepEqual(JSON.parse(raw.availability()), {
    open: true, reply_ms: 7_200_000, next_change: h.now + 3_600_000,
  });
  assert.equal(h.store.restore().meta.token, 't1');
  const [send] = h.sent('send');
  assert.ok(send, 'the queued message was sent');
  assert.equal(send.cid, cid);
  assert.equal(send.conv, conv);
  assert.deepEqual(h.timeline(conv).map((t) => t.state), ['sending']);

  // Ack -> sent.
  h.now += 120;
  h.deliver({ type: 'ack', req: send.req, cid, conv, id: 'm1', seq: 1, ts: h.now });
  let tl = h.timeline(conv);
  assert.equal(tl.length, 1);
  assert.equal(tl[0].key, cid);
  assert.equal(tl[0].state, 'sent');
  assert.equal(tl[0].message.seq, 1);
  assert.equal(tl[0].message.id, 'm1');
  assert.equal(tl[0].error, undefined);
  assert.deepEqual(h.store.restore().outbox, [], 'the acked message left the outbox');

  // Events: the visitor's own message and an agent reply -> unread 1.
  h.now += 2_000;
  h.deliver({
    type: 'events', from: 0, cursor: 2, more: false,
    events: [
      { kind: 'message', cursor: 1, conv, message: message({ conv, seq: 1, id: 'm1', role: 'visitor', authorId: 'u1', name: '', text: 'Hello', ts: h.now - 2_000, cid }) },
      { kind: 'message', cursor: 2, conv, message: message({ conv, seq: 2, id: 'm2', text: 'Hi, how can I help?', ts: h.now }) },
    ],
  });
  const list = h.conversations();
  assert.equal(list.length, 1);
  assert.equal(list[0].conv.id, conv);
  assert.equal(list[0].conv.subject, 'Order #1');
  assert.equal(list[0].unread, 1);
  assert.equal(list[0].preview, 'Hi, how can I help?');
  assert.equal(list[0].typing, false);
  assert.equal(raw.unreadTotal(), 1);
  assert.equal(raw.cursor(), 2);
  tl = h.timeline(conv);
  assert.deepEqual(tl.map((t) => [t.message.seq, t.state]), [[1, 'sent'], [2, 'sent']]);
  // Messages are stored keyed by (conv, seq), and the cursor with them.
  assert.deepEqual(h.store.messages(conv).map((m) => m.seq), [1, 2]);
  assert.equal(h.store.restore().meta.cursor, 2);
  const msgPut = h.committed.flatMap((b) => b.ops).find((o) => o.store === 'messages');
  assert.equal(msgPut.key, conv);
  assert.equal(typeof msgPut.seq, 'number');

  // markRead -> a read frame, unread 0.
  const before = h.frames.length;
  assert.equal(raw.markRead(h.now, conv, 2), 'null');
  h.settle();
  const read = h.frames.slice(before).find((f) => f.type === 'read');
  assert.deepEqual(read, { type: 'read', conv, seq: 2 });
  assert.equal(raw.unreadTotal(), 0);
  assert.equal(h.conversations()[0].unread, 0);

  // A commit answered "quota" -> storage_quota in the effects' errors, and a retry timer.
  // (The core's rule: a send whose first write failed is rejected visibly, not kept.)
  h.autoCommit = null;
  const second = JSON.parse(raw.send(h.now, conv, JSON.stringify({ text: 'Second' }))).cid;
  fx = h.drain();
  assert.equal(fx.batches.length, 1);
  assert.ok(fx.batches[0].ops.some((o) => o.store === 'outbox' && o.key === second));
  assert.equal(raw.onCommit(h.now, fx.batches[0].id, 'quota'), 'null');
  fx = h.drain();
  const quota = fx.errors.filter((e) => e.code === 'storage_quota');
  assert.ok(quota.length > 0, `storage_quota reported: ${JSON.stringify(fx.errors)}`);
  for (const e of quota) assert.equal(e.recoverable, 'recoverable');
  assert.ok(quota.some((e) => e.message.includes(second)), 'the rejected send is named');
  assert.ok(!h.timeline(conv).some((t) => t.key === second));
  assert.equal(fx.timers_set.length, 1, 'a storage retry timer');

  // timers_set -> onTimer roundtrip: the rest of the write is tried again when it fires.
  const [timer] = fx.timers_set;
  assert.equal(typeof timer.id, 'number');
  assert.ok(timer.at > h.now);
  assert.deepEqual(h.drain().batches, [], 'nothing is written before the timer');
  h.now = timer.at;
  assert.equal(raw.onTimer(h.now, timer.id), 'null');
  fx = h.drain();
  assert.equal(fx.batches.length, 1, 'the write is retried after the timer');
  assert.ok(fx.batches[0].ops.some((o) => o.store === 'meta' && o.op === 'put'));
  h.commit(fx.batches[0], 'ok');
  h.autoCommit = 'ok';
  h.settle();
  assert.deepEqual(h.store.restore().outbox, []);

  // Logout -> wiped, and a batch that clears every store.
  assert.equal(raw.logout(h.now), 'null');
  fx = h.drain();
  assert.equal(fx.wiped, true);
  assert.equal(fx.disconnect, true);
  assert.equal(fx.batches.length, 1);
  assert.deepEqual(fx.batches[0].ops, [
    { op: 'clear', store: 'meta' },
    { op: 'clear', store: 'conversations' },
    { op: 'clear', store: 'messages' },
    { op: 'clear', store: 'outbox' },
    { op: 'clear', store: 'blobs' },
  ]);
  h.commit(fx.batches[0], 'ok');
  assert.deepEqual(h.store.restore(), { meta: null, conversations: [], outbox: [] });
  assert.equal(raw.connection(), 'offline');
  assert.deepEqual(h.conversations(), []);
  raw.delete();
});

test('a timer roundtrip: no welcome in time -> backoff -> reconnect', () => {
  const raw = client();
  const h = new Host(raw);
  raw.start(h.now);
  h.settle(); // restore, connect requested
  assert.equal(h.connects, 1);
  raw.onConnected(h.now);
  let fx = h.drain();
  assert.equal(fx.timers_set.length, 1, 'a handshake timer');
  const [handshake] = fx.timers_set;

  // A stale or unknown timer id is ignored.
  assert.equal(raw.onTimer(h.now, 987654), 'null');
  assert.ok(h.drain().frames.length === 0);

  h.now = handshake.at;
  assert.equal(raw.onTimer(h.now, handshake.id), 'null');
  fx = h.drain();
  assert.equal(fx.disconnect, true);
  assert.equal(raw.connection(), 'backoff');
  assert.equal(fx.timers_set.length, 1, 'a reconnect timer');
  const [reconnect] = fx.timers_set;
  assert.ok(reconnect.at > h.now);

  h.now = reconnect.at;
  raw.onTimer(h.now, reconnect.id);
  fx = h.drain();
  assert.equal(fx.connect, true);
  assert.equal(raw.connection(), 'connecting');
  raw.delete();
});

test('restore from stored records, paging, request failures, and timeline errors', () => {
  // A first client writes records...
  const store = new MemoryStore();
  const a = new Host(client(), store);
  a.raw.start(a.now);
  a.settle();
  a.raw.onConnected(a.now);
  a.settle();
  a.deliver({ type: 'welcome', v: 1, user: 'u1', token: 't1', cursor: 0, server_time: a.now });
  const conv = 'c_server1';
  const events = [];
  for (let seq = 1; seq <= 3; seq++) {
    events.push({ kind: 'message', cursor: seq, conv, message: message({ conv, seq, id: `m${seq}`, text: `agent ${seq}`, ts: a.now + seq }) });
  }
  a.deliver({ type: 'events', from: 0, cursor: 3, more: false, events });
  assert.deepEqual(store.messages(conv).map((m) => m.seq), [1, 2, 3]);
  a.raw.openConversation(a.now, conv);
  a.settle();
  a.raw.delete();

  // ...a second one restores them and pages the open conversation in from storage.
  const b = new Host(client({ ...CONFIG, seed: 99 }), store);
  b.raw.onOnline(b.now, false);
  b.raw.start(b.now);
  const all = b.settle();
  const pageRead = all.flatMap((fx) => fx.reads).find((r) => r.kind === 'page');
  assert.deepEqual(pageRead, { kind: 'page', conv, before: 0, limit: 50 });
  assert.equal(b.raw.user(), 'u1');
  assert.equal(b.raw.cursor(), 3);
  assert.deepEqual(b.timeline(conv).map((t) => t.message.seq), [1, 2, 3]);
  assert.equal(b.raw.unreadTotal(), 3);

  // A send that fails permanently below the protocol -> failed, with the error.
  b.raw.onOnline(b.now, true);
  b.settle();
  b.raw.onConnected(b.now);
  b.settle();
  b.deliver({ type: 'welcome', v: 1, user: 'u1', token: 't1', cursor: 3, server_time: b.now });
  const { cid } = JSON.parse(b.raw.send(b.now, conv, JSON.stringify({ text: 'will fail' })));
  b.settle();
  const send = b.sent('send').find((f) => f.cid === cid);
  assert.ok(send);
  assert.equal(
    b.raw.onRequestFailed(b.now, send.req, JSON.stringify({ code: 'forbidden', recoverable: 'permanent', message: 'not yours' })),
    'null',
  );
  b.settle();
  const failed = b.timeline(conv).find((t) => t.key === cid);
  assert.equal(failed.state, 'failed');
  assert.deepEqual(failed.error, { code: 'forbidden', recoverable: 'permanent', message: 'not yours' });
  // retry / cancel answer null or an error.
  assert.equal(b.raw.cancel(b.now, cid), 'null');
  assert.equal(errorOf(b.raw.retry(b.now, 'k_nope')).code, 'invalid_command');
  b.raw.delete();
});

test('bad arguments are error results, never exceptions or aborts', () => {
  const { raw, h } = bootOffline();
  const conv = raw.startConversation(h.now, 's');
  const now = h.now;

  const bad = [
    () => raw.onRestored(now, '{'),
    () => raw.onRestored(now, '[]'),
    () => raw.onRestored(now, '{"conversations": 5}'),
    () => raw.onPageLoaded(now, conv, '{"not": "an array"}'),
    () => raw.onPageLoaded(now, conv, '['.repeat(100_000)),
    () => raw.onPageLoaded(now, conv, '['.repeat(200) + ']'.repeat(200)),
    () => raw.onCommit(now, 1, 'maybe'),
    () => raw.onCommit(now, -1, 'ok'),
    () => raw.onCommit(now, NaN, 'ok'),
    () => raw.send(now, conv, 'nope'),
    () => raw.send(now, conv, ''),
    () => raw.send(now, conv, '{"text": "\\ud800"}'),
    () => raw.editQueued(now, 'k_x', '{'),
    () => raw.requestHandoff(now, conv, 'pigeon', ''),
    () => raw.onRequestFailed(now, 'r1', '{"code": "nope", "recoverable": "permanent", "message": ""}'),
    () => raw.onRequestFailed(now, 'r1', '"server_error"'),
    () => raw.onRequestFailed(now, 'r1', '{'),
    () => raw.markRead(now, conv, NaN),
    () => raw.markRead(now, conv, -1),
    () => raw.onTimer(now, Infinity),
    () => raw.start(NaN),
    () => raw.onFrame(Infinity, '{}'),
    () => raw.send(2 ** 60, conv, '{"text": "x"}'),
  ];
  for (const call of bad) {
    const e = errorOf(call());
    assert.equal(e.code, 'invalid_command', `${call}: ${e.message}`);
    assert.equal(e.recoverable, 'permanent');
    assert.ok(e.message.length > 0);
  }
  // Body problems are the codec's own typed errors.
  assert.equal(errorOf(raw.send(now, conv, '{"text": 5}')).code, 'invalid_field');
  assert.equal(errorOf(raw.send(now, conv, '{}')).code, 'invalid_command'); // empty message
  assert.equal(errorOf(raw.send(now, 'c_unknown', '{"text": "x"}')).code, 'not_found');

  // A malformed frame is the core's typed error, reported in the next drain.
  assert.equal(raw.onFrame(now, 'not json'), 'null');
  assert.equal(raw.onFrame(now, '{"type": "nonsense"}'), 'null');
  const codes = h.drain().errors.map((e) => e.code);
  assert.ok(codes.includes('malformed_frame'), codes.join());
  assert.ok(codes.includes('unknown_frame_type'), codes.join());

  // Wrong JS types are refused by the embind glue (a JS BindingError, thrown before any
  // C++ runs); the client is unharmed.
  assert.throws(() => raw.send(now, 42, '{}'), /non-string/);
  assert.throws(() => raw.start(), /expected 1 args/);

  // Still fully usable after all of that.
  const { cid } = JSON.parse(raw.send(now, conv, '{"text": "still here"}'));
  assert.match(cid, /^k_/);
  raw.delete();
});

test('a bad config is reported, and the client refuses commands', () => {
  const cases = [
    ['not json', /config: not valid JSON/],
    ['[]', /expected an object/],
    ['{"seed": 1}', /app_id/],
    ['{"app_id": "a"}', /seed/],
    ['{"app_id": "a", "seed": 1.5}', /seed/],
    ['{"app_id": "a", "seed": -1}', /seed/],
    [JSON.stringify({ app_id: 'a', seed: 2 ** 53 }), /seed/],
    ['{"app_id": "a", "seed": 18446744073709551615}', /seed/],
    ['{"app_id": "a", "seed": 1, "style": "chatty"}', /style/],
    ['{"app_id": "a", "seed": 1, "page_size": 0}', /page_size/],
    ['{"app_id": "a", "seed": 1, "page_size": 201}', /page_size/],
    ['{"app_id": "a", "seed": 1, "cache_cap_messages": "lots"}', /cache_cap_messages/],
  ];
  for (const [config, why] of cases) {
    const raw = new M.RawClient(config);
    const fx = JSON.parse(raw.drain());
    assert.equal(fx.errors.length, 1, config);
    assert.equal(fx.errors[0].code, 'invalid_command');
    assert.match(fx.errors[0].message, why);
    assert.equal(errorOf(raw.start(1)).code, 'invalid_command');
    assert.equal(errorOf(raw.send(1, 'c', '{"text":"x"}')).code, 'invalid_command');
    assert.equal(raw.startConversation(1, 'x'), '');
    assert.equal(JSON.parse(raw.drain()).errors.length, 1, 'the refused startConversation is reported');
    assert.equal(raw.conversations(), '[]');
    assert.equal(raw.timeline('c'), '[]');
    assert.equal(raw.unreadTotal(), 0);
    assert.equal(raw.connection(), 'offline');
    assert.equal(raw.availability(), 'null');
    raw.delete();
  }
  // Valid extremes are accepted.
  const ok = new M.RawClient(JSON.stringify({ app_id: 'a', seed: 2 ** 53 - 1, device: 'd_fixed', page_size: 200, cache_cap_messages: 0, style: 'social_messaging' }));
  assert.deepEqual(JSON.parse(ok.drain()).errors, []);
  ok.start(1);
  ok.onRestored(1, '{"meta": null}');
  assert.equal(ok.device(), 'd_fixed');
  ok.delete();
});

test("the web flavour's glue has no eval and no new Function (strict CSP)", () => {
  assert.ok(fs.existsSync(WEB_GLUE), `${WEB_GLUE} is missing: build target parley_core_web`);
  const glue = fs.readFileSync(WEB_GLUE, 'utf8');
  assert.doesNotMatch(glue, /\beval\s*\(/);
  assert.doesNotMatch(glue, /new\s+Function\b/);
  assert.doesNotMatch(glue, /\bFunction\s*\(\s*["'`]/);
  assert.match(glue, /export default createParleyCore/, 'an ES module');
  assert.doesNotMatch(glue, /require\(["']fs["']\)|process\.versions\.node\)/, 'no Node code in the web flavour');
});
