// Typed errors (protocol.md "Errors", "How the decoder reports a bad frame", "Limits"): each
// bad frame is answered by an error frame with the decoder's code and message, recoverable
// "permanent" (all decoding errors are), and the SAME connection keeps working afterwards
// (docs/server.md: every bad frame except binary/oversized ones leaves the socket usable).
// Nothing already stored is affected.

import { describe } from 'node:test';
import { ctest, assert, assertError, rid, short, sleep } from './lib/harness.mjs';
import { postFrame } from './lib/client.mjs';

const MAX_FRAME = 262144;
const J = JSON.stringify;

/** Sends a raw text frame and returns the first error frame that follows (retrying the
 *  frame when the answer is rate_limited, which a bad frame must not be confused with). */
async function errorFor(conn, raw) {
  for (let attempt = 0; ; attempt++) {
    const from = conn.mark();
    conn.sendRaw(raw);
    const f = await conn.waitFor((x) => x.type === 'error' || x.type === 'ack' || x.type === 'pong', { from, what: `an error answering ${short(raw, 120)}` });
    if (f.type === 'error' && f.code === 'rate_limited' && attempt < 5) {
      await sleep(500 * (attempt + 1));
      continue;
    }
    return f;
  }
}

const attachment = (i) => ({ id: `att_${i}`, name: `f${i}.txt`, mime: 'text/plain', size: 1 });
const send = (over) => J({ type: 'send', req: 'r1', conv: 'c_err', cid: rid('k'), body: { text: 'x' }, ...over });

// [name, raw frame, code, {message | messageIncludes}]
const CASES = [
  ['not JSON (truncated)', '{"type":"ping","req":', 'malformed_frame'],
  ['trailing data after the object', '{"type":"ping","req":"r1"} {}', 'malformed_frame'],
  ['a comment inside', '{"type":"ping", /* hi */ "req":"r1"}', 'malformed_frame'],
  ['an unpaired \\u surrogate', '{"type":"ping","req":"\\ud800"}', 'malformed_frame'],
  ['a JSON array', '[{"type":"ping","req":"r"}]', 'malformed_frame'],
  ['a JSON number', '42', 'malformed_frame'],
  ['a JSON string', '"ping"', 'malformed_frame'],
  ['JSON null', 'null', 'malformed_frame'],
  ['missing type', '{"req":"r1"}', 'missing_field'],
  ['type null', '{"type":null,"req":"r1"}', 'missing_field'],
  ['type not a string', '{"type":7}', 'invalid_field'],
  ['unknown type', '{"type":"bogus"}', 'unknown_frame_type', { message: 'unknown client frame type "bogus"' }],
  ['a server frame type sent to the server', '{"type":"pong","req":"r1","server_time":1}', 'unknown_frame_type'],
  ['send without cid', '{"type":"send","req":"r1","conv":"c_1","body":{"text":"hi"}}', 'missing_field', { message: 'missing field send.cid' }],
  ['send with cid null', '{"type":"send","req":"r1","conv":"c_1","cid":null,"body":{"text":"hi"}}', 'missing_field', { message: 'missing field send.cid' }],
  ['send without body', '{"type":"send","req":"r1","conv":"c_1","cid":"k_1"}', 'missing_field', { message: 'missing field send.body' }],
  ['read seq -1', '{"type":"read","conv":"c","seq":-1}', 'invalid_field', { message: 'invalid field read.seq: expected an integer in 0..9223372036854775807' }],
  ['read seq 1.5', '{"type":"read","conv":"c","seq":1.5}', 'invalid_field', { messageIncludes: 'read.seq' }],
  ['read seq 1.0 (not an integer on the wire)', '{"type":"read","conv":"c","seq":1.0}', 'invalid_field', { messageIncludes: 'read.seq' }],
  ['read seq 1e3', '{"type":"read","conv":"c","seq":1e3}', 'invalid_field', { messageIncludes: 'read.seq' }],
  ['read seq "3"', '{"type":"read","conv":"c","seq":"3"}', 'invalid_field', { messageIncludes: 'read.seq' }],
  ['typing on: 1 (bools are not 0/1)', '{"type":"typing","conv":"c","on":1}', 'invalid_field', { messageIncludes: 'typing.on' }],
  ['cid of 129 bytes', send({ cid: 'k'.repeat(129) }), 'invalid_field', { messageIncludes: 'send.cid' }],
  ['conv ""', send({ conv: '' }), 'invalid_field', { messageIncludes: 'send.conv' }],
  ['ping req ""', '{"type":"ping","req":""}', 'invalid_field', { messageIncludes: 'ping.req' }],
  ['11 attachments', send({ body: { attachments: Array.from({ length: 11 }, (_, i) => attachment(i)) } }), 'invalid_field', { message: 'invalid field send.body.attachments: expected 0..10 elements' }],
  ['carousel item title not a string', send({ body: { rich: 'carousel', payload: { items: [{ title: 'A' }, { title: 5 }] } } }), 'invalid_field', { message: 'invalid field send.body.payload.items[1].title: expected a string' }],
  ['rich without payload', send({ body: { rich: 'quick_replies' } }), 'missing_field', { messageIncludes: 'send.body.payload' }],
  ['body.event not an object', send({ body: { event: 'x' } }), 'invalid_field', { messageIncludes: 'send.body.event' }],
  ['handoff to an unknown channel', J({ type: 'handoff', req: 'r1', conv: 'c', channel: 'pigeon', address: '' }), 'invalid_field', { messageIncludes: 'handoff.channel' }],
  ['engagement level out of the enum', J({ type: 'engagement', level: 'ecstatic', reply_latency_ms: 1, present: true }), 'invalid_field', { messageIncludes: 'engagement.level' }],
  ['message text of 8193 bytes', send({ body: { text: 'a'.repeat(8193) } }), 'message_too_long', { messageIncludes: 'send.body.text' }],
  ['message text of 4097 two-byte characters (8194 bytes)', send({ body: { text: 'é'.repeat(4097) } }), 'message_too_long', { messageIncludes: 'send.body.text' }],
  ['hello merge_token of 4097 bytes', J({ type: 'hello', v: 1, token: '', cursor: 0, device: 'd_err', merge_token: 'm'.repeat(4097) }), 'invalid_field', { messageIncludes: 'hello.merge_token' }],
  ['hello v:2', J({ type: 'hello', v: 2, token: '', cursor: 0, device: 'd' }), 'unsupported_version'],
];

describe('typed errors', () => {
  ctest('every bad frame gets its typed error (permanent) and the same connection keeps working', { timeout: 120_000 }, async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const kept = await c.post(conv, 'stored before the errors');

    const failures = [];
    for (const [name, raw, code, expect = {}] of CASES) {
      // hellos run on their own socket: v:2 may close it (protocol.md "Versioning"), and a
      // wrongly accepted hello would rebind the socket to another visitor.
      const conn = raw.startsWith('{"type":"hello"') ? await h.visitor({ token: c.welcome.token }) : c;
      try {
        const f = await errorFor(conn, raw);
        assertError(f, code, { recoverable: 'permanent', ...expect, req: 'r1' });
        if (conn === c) await c.ping();
      } catch (e) {
        failures.push(`${name}: ${e.message.split('\n')[0]}`);
        if (c.closed) break;
      }
      await sleep(10); // pace the frames; a rate-limited answer is retried anyway
    }
    assert.deepEqual(failures, [], `bad frames not answered as documented:\n${failures.join('\n')}`);

    assert.equal(c.closed, null, 'the connection is still open after all bad frames');
    await c.ping();
    const msgs = await c.allMessages(conv);
    assert.ok(msgs.some((m) => m.id === kept.id), 'the message stored before the errors is still there');
  });

  ctest('limits are inclusive: 8192-byte text, 4096 two-byte characters and a 262144-byte frame are accepted', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const a = await c.post(conv, 'b'.repeat(8192));
    const b = await c.post(conv, 'é'.repeat(4096));
    assert.ok(a.seq >= 1 && b.seq > a.seq);
    // Unknown fields are ignored, so padding a ping makes a frame of exactly 256 KiB.
    const req = rid('q');
    const bare = J({ type: 'ping', req, pad: '' });
    const frame = J({ type: 'ping', req, pad: 'p'.repeat(MAX_FRAME - Buffer.byteLength(bare)) });
    assert.equal(Buffer.byteLength(frame), MAX_FRAME);
    const from = c.mark();
    c.sendRaw(frame);
    const f = await c.waitFor((x) => x.req === req || x.type === 'error', { from, what: 'pong for a 262144-byte ping' });
    assert.equal(f.type, 'pong', `a frame of exactly 262144 bytes is within the limit: ${short(f)}`);
    const msgs = await c.allMessages(conv);
    assert.equal(msgs.find((m) => m.id === a.id)?.body.text.length, 8192);
  });

  ctest('a frame over 256 KiB: error frame_too_large or close 1009; stored data unaffected', async (h) => {
    const c = await h.visitor();
    const conv = rid('c');
    const kept = await c.post(conv, 'stored before the big frame');
    const req = rid('q');
    const bare = J({ type: 'ping', req, pad: '' });
    const frame = J({ type: 'ping', req, pad: 'p'.repeat(MAX_FRAME + 1 - Buffer.byteLength(bare)) });
    assert.equal(Buffer.byteLength(frame), MAX_FRAME + 1);
    const from = c.mark();
    c.sendRaw(frame);
    let how;
    try {
      const f = await c.waitFor((x) => x.type === 'error' || x.type === 'pong', { from, what: 'frame_too_large' });
      assertError(f, 'frame_too_large', { recoverable: 'permanent' });
      how = 'an error frame frame_too_large';
      await c.ping(); // the connection stays usable
      how += ', connection still usable';
    } catch (e) {
      if (!c.closed) throw e;
      assert.ok([1009, 1003].includes(c.closed.code), `an oversized frame closes with 1009 (docs/server.md: or 1003), got ${short(c.closed)}`);
      how = `a close with code ${c.closed.code} reason ${J(c.closed.reason)}`;
    }
    h.log(`the server answers a 262145-byte frame with ${how}`);
    const d = await h.visitor({ token: c.welcome.token });
    const msgs = await d.allMessages(conv);
    assert.ok(msgs.some((m) => m.id === kept.id), 'the stored message is still there');
  });

  ctest('a binary WebSocket frame (frames are text): close 1003 or an error frame; stored data unaffected', async (h) => {
    const c = await h.visitor({ raw: true });
    const conv = rid('c');
    const kept = await c.post(conv, 'stored before the binary frame');
    const from = c.mark();
    c.ws.sendBinary(Buffer.from(J({ type: 'ping', req: 'r_bin' })));
    let how;
    try {
      const f = await c.waitFor((x) => x.type === 'error' || x.type === 'pong', { from, what: 'an answer to a binary frame' });
      assert.equal(f.type, 'error', `a binary frame is not a protocol frame; got ${short(f)}`);
      how = `an error frame ${f.code}`;
    } catch (e) {
      if (!c.closed) throw e;
      assert.ok([1003, 1007, 1008].includes(c.closed.code), `a binary frame closes with 1003 (docs/server.md), got ${short(c.closed)}`);
      how = `a close with code ${c.closed.code} reason ${J(c.closed.reason)}`;
    }
    h.log(`the server answers a binary frame with ${how}`);
    const d = await h.visitor({ token: c.welcome.token });
    assert.ok((await d.allMessages(conv)).some((m) => m.id === kept.id), 'the stored message is still there');
  });

  ctest('HTTP fallback: bad frames get error frames too', async (h) => {
    const w = (await postFrame({ type: 'hello', v: 1, token: '', cursor: 0, device: rid('d') })).frames.find((f) => f.type === 'welcome');
    assert.ok(w, 'HTTP hello');
    const cases = [
      ['not JSON', '{"type":', 'malformed_frame'],
      ['a JSON array', '[{"type":"ping","req":"r"}]', 'malformed_frame'],
      ['send without cid', '{"type":"send","req":"r1","conv":"c_1","body":{"text":"hi"}}', 'missing_field'],
      ['over 256 KiB', J({ type: 'ping', req: 'r1', pad: 'p'.repeat(MAX_FRAME) }), 'frame_too_large'],
    ];
    const failures = [];
    for (const [name, body, code] of cases) {
      const r = await postFrame(body, { token: w.token });
      h.note(r.problems);
      const f = r.frames.find((x) => x.type === 'error');
      try {
        assertError(f, code, { recoverable: 'permanent' });
        h.log(`HTTP ${name}: status ${r.status}, ${r.isArray ? 'array' : 'object'} body`);
      } catch (e) {
        failures.push(`${name}: HTTP ${r.status} ${short(r.text, 200)}: ${e.message.split('\n')[0]}`);
      }
    }
    assert.deepEqual(failures, []);
  });

  ctest('a burst of pings is answered one for one: pong, or rate_limited (recoverable) carrying the req', async (h) => {
    const c = await h.visitor();
    const reqs = new Set(Array.from({ length: 80 }, () => rid('q')));
    const from = c.mark();
    for (const req of reqs) c.send({ type: 'ping', req });
    const answers = () => c.frames.slice(from).filter((f) => (f.type === 'pong' && reqs.has(f.req)) || f.type === 'error');
    await c.waitFor(() => answers().length >= reqs.size, { from, what: 'an answer (pong or error) to each of 80 pings' });
    const errors = answers().filter((f) => f.type === 'error');
    for (const f of errors) assertError(f, 'rate_limited', { recoverable: 'recoverable' });
    h.log(`80 pings at once: ${reqs.size - errors.length} pong, ${errors.length} rate_limited`);
    const untied = errors.filter((f) => !reqs.has(f.req));
    assert.equal(untied.length, 0, `${untied.length} of ${errors.length} rate_limited errors do not carry the req of the refused ping, so a client cannot tell which request to retry (protocol.md: error.req is "the request that failed"): ${short(untied[0])}`);
    await sleep(2500); // let the bucket refill
    await c.ping();
  });
});
