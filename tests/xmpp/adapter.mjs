// The XMPP adapter (web/src/transport/xmpp/index.js) driven from Node against a real
// Prosody on loopback, with a stand-in for the core (lib/driver.mjs) that checks the
// protocol-v1 frames it gets: handshake, acks, the `from` chain, resume, a failed resume
// with MAM catch-up, duplicates, forged carbons and archive results.
//
//   node tests/xmpp/adapter.mjs [--only NAME]    last line: "xmpp-adapter: N passed, M failed"

import { ensureWebSocket, installCleanup, makeTempDir, rid, sleep } from '../load/lib.mjs';
import { parseArgs } from 'node:util';

await ensureWebSocket();
installCleanup(300_000, 'xmpp-adapter');

const { createXmppAdapter, forgetXmppAccount } = await import('../../web/src/transport/xmpp/index.js');
const { startProsody } = await import('./lib/prosody.mjs');
const { xmppAccount, xml } = await import('./lib/agent.mjs');
const { makeDriver } = await import('./lib/driver.mjs');
const { waitFor } = await import('../web/lib/scenarios.mjs');

const { values: opts } = parseArgs({ options: { only: { type: 'string', default: '' } } });
const PW = 'xmpp-test-password';
const prosody = await startProsody({ dir: makeTempDir('parley-xmpp-adapter-'), accounts: { agent: PW, mallory: PW } });

class MemStorage {
  constructor() {
    this.m = new Map();
  }
  getItem(k) {
    return this.m.has(k) ? this.m.get(k) : null;
  }
  setItem(k, v) {
    this.m.set(k, String(v));
  }
  removeItem(k) {
    this.m.delete(k);
  }
}

/** A fresh visitor account: each test has its own archive. */
async function accounts() {
  const visitor = rid('v').toLowerCase();
  prosody.register(visitor, PW);
  return { visitor, jid: `${visitor}@localhost` };
}

function makeVisitor(username, storage = { local: new MemStorage(), session: new MemStorage() }) {
  const d = makeDriver();
  d.adapter = createXmppAdapter(
    {
      service: prosody.wsUrl,
      domain: 'localhost',
      username,
      password: PW,
      agent: 'agent@localhost',
      storage: storage.local,
      sessionStorage: storage.session,
      openTimeoutMs: 8000,
    },
    d.hooks,
  );
  d.storage = storage;
  d.stats = d.adapter.xmpp.stats;
  return d;
}

async function online(d) {
  const n = d.welcomed;
  d.adapter.connect();
  await waitFor('welcome', () => d.welcomed > n);
  await waitFor('synced', () => !d.syncing);
}

/** Kills the visitor's WebSocket from the server side of loopback (an abrupt drop). */
function killSocket(d) {
  // The adapter's diagnostics hold the live client; closing its raw WebSocket without an
  // XMPP close is what a dropped network looks like to both sides.
  const ws = d.adapter.xmpp.socket();
  ws.close();
}

const tests = [];
const test = (name, fn) => tests.push({ name, fn });

let agent;
let mallory;

test('hello -> welcome; send -> ack with the archive position; the agent gets it once', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  if (d.cursor !== 0) throw new Error(`fresh account, cursor ${d.cursor}`);
  const ack = await d.sendText('c_one', 'k_one_1', 'hello agent');
  if (ack.seq !== 1 || ack.conv !== 'c_one' || ack.cid !== 'k_one_1') throw new Error(`ack ${JSON.stringify(ack)}`);
  await waitFor('the echo', () => d.messages.some((m) => m.cid === 'k_one_1'));
  await waitFor('agent got it', () => agent.copies.some((m) => m.originId === 'k_one_1'));
  const copies = agent.copies.filter((m) => m.originId === 'k_one_1');
  if (copies.length !== 1 || copies[0].thread !== 'c_one') throw new Error(`agent copies ${JSON.stringify(copies)}`);
  // The same cid again (a retry after a lost ack): the same ack, nothing sent.
  const again = await d.sendText('c_one', 'k_one_1', 'hello agent');
  if (again.id !== ack.id || again.seq !== ack.seq) throw new Error(`second ack ${JSON.stringify(again)}`);
  const replyId = await agent.say(jid, 'hello visitor', 'c_one');
  await waitFor('the reply pushed', () => d.texts().includes('hello visitor'));
  await waitFor('a delivery receipt for the reply', () => agent.receipts.some((r) => r.id === replyId && r.from.startsWith(`${jid}/`)));
  await waitFor('delivered marker', () => d.reads.some((r) => r.reader === 'agent' && r.delivered && r.seq === 1));
  await sleep(300);
  if (agent.copies.filter((m) => m.originId === 'k_one_1').length !== 1) throw new Error('resent');
  if (d.texts().filter((t) => t === 'hello agent').length !== 1) throw new Error(`visitor timeline ${d.texts()}`);
  d.adapter.disconnect();
});

test('abrupt socket drop: the next connect resumes the XEP-0198 session; nothing lost or doubled', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  await d.sendText('c_k', 'k_k_1', 'before the drop');
  killSocket(d);
  await waitFor('disconnect reported', () => d.disconnects.length === 1);
  await agent.say(jid, 'while you were away', 'c_k');
  await sleep(200);
  await online(d);
  if (d.stats.resumed !== 1) throw new Error(`resumed ${d.stats.resumed}, failed ${d.stats.resumeFailed}`);
  await d.sendText('c_k', 'k_k_2', 'after the drop');
  await waitFor('all three', () => d.texts().length === 3);
  await sleep(300);
  const texts = d.texts();
  if (JSON.stringify(texts) !== JSON.stringify(['before the drop', 'while you were away', 'after the drop'])) throw new Error(`timeline ${texts}`);
  d.adapter.disconnect();
});

test('a reload resumes from sessionStorage (a new adapter on the same storage)', async () => {
  const { visitor } = await accounts();
  const storage = { local: new MemStorage(), session: new MemStorage() };
  const d1 = makeVisitor(visitor, storage);
  await online(d1);
  await d1.sendText('c_r', 'k_r_1', 'one');
  await sleep(300); // the resumption state is saved after the stanzas of the moment
  killSocket(d1);
  const d2 = makeVisitor(visitor, storage);
  d2.cursor = d1.cursor;
  await online(d2);
  if (d2.stats.resumed !== 1) throw new Error(`resumed ${d2.stats.resumed}, failed ${d2.stats.resumeFailed}`);
  if (d2.adapter.xmpp.stats.recounts !== 0) throw new Error('the index should have been reloaded, not recounted');
  d2.adapter.disconnect();
});

test('a failed resume (server restarted) falls back to a new session and a MAM catch-up', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  await d.sendText('c_f', 'k_f_1', 'first');
  killSocket(d);
  await waitFor('disconnect reported', () => d.disconnects.length === 1);
  const texts = Array.from({ length: 60 }, (_, i) => `missed ${i + 1}`);
  for (const t of texts) await agent.say(jid, t, 'c_f');
  // Written to the agent's socket is not handled by the server: wait until the server has
  // archived them all, or the restart below may lose the last ones (the agent's fault).
  await waitFor('the agent\'s 60 archived', async () => (await agent.archive()).filter((m) => m.text.startsWith('missed')).length === 60);
  await prosody.restart(); // the hibernated session is gone; the archive stays
  await agent.restart();
  await mallory.restart();
  await online(d);
  if (d.stats.resumeFailed !== 1) throw new Error(`resumeFailed ${d.stats.resumeFailed}, resumed ${d.stats.resumed}`);
  await waitFor('61 messages', () => d.messages.length >= 61).catch((e) => {
    const frames = d.frames.map((f) => `${f.type} ${f.req || ''} ${f.from ?? ''}..${f.cursor ?? ''} ${f.more ?? ''} n=${f.events ? f.events.length : ''}`);
    throw new Error(`${e.message}; have ${d.messages.length}, cursor ${d.cursor}; frames: ${frames.join(' | ')}; log: ${d.adapter.xmpp.log.join(' | ')}`);
  });
  await sleep(300);
  const got = d.texts();
  if (JSON.stringify(got) !== JSON.stringify(['first', ...texts])) throw new Error(`timeline (${got.length}) ${got.slice(0, 5)}...`);
  d.adapter.disconnect();
});

test('a stanza resent by another device is archived twice and given once', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  const phone = await xmppAccount({ service: prosody.wsUrl, domain: 'localhost', username: visitor, password: PW, resource: 'phone' });
  const stanza = () =>
    xml('message', { to: 'agent@localhost', type: 'chat', id: 'k_dup' }, xml('body', {}, 'sent twice by the phone'), xml('thread', {}, 'c_d'), xml('origin-id', { xmlns: 'urn:xmpp:sid:0', id: 'k_dup' }));
  await phone.raw(stanza());
  await phone.raw(stanza());
  await phone.say('agent@localhost', 'after it', 'c_d');
  await waitFor('the phone messages', () => d.texts().includes('after it'));
  await sleep(300);
  const n = d.texts().filter((t) => t === 'sent twice by the phone').length;
  if (n !== 1) throw new Error(`given ${n} times`);
  if (agent.copies.filter((m) => m.originId === 'k_dup').length !== 2) throw new Error('the server was meant to pass both copies on');
  await phone.stop();
  void jid;
  d.adapter.disconnect();
});

test('forged carbons and archive results from another JID are rejected', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  const inner = xml('message', { from: 'agent@localhost/desk', to: jid, type: 'chat', id: 'forged1' }, xml('body', {}, 'FORGED: send me your card number'), xml('thread', {}, 'c_x'));
  await mallory.raw(xml('message', { to: jid, type: 'chat' }, xml('received', { xmlns: 'urn:xmpp:carbons:2' }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, inner))));
  for (let q = 1; q <= 40; q++) {
    await mallory.raw(
      xml('message', { to: jid, type: 'chat' }, xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: `pq${q}`, id: `fake${q}` }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-01-01T00:00:00Z' }), inner))),
    );
  }
  // Results claiming to answer the very query in flight, injected as it is sent: from
  // another account, and from another resource of our own account. Only the server's
  // answer from our bare JID counts.
  const x = d.adapter.xmpp.client();
  const request = x.iqCaller.request.bind(x.iqCaller);
  let injected = 0;
  x.iqCaller.request = (iq, ...rest) => {
    const q = iq.getChild('query', 'urn:xmpp:mam:2');
    if (q) {
      for (const from of ['mallory@localhost', `${jid}/r2`]) {
        const res = xml('result', { xmlns: 'urn:xmpp:mam:2', queryid: q.attrs.queryid, id: `fake${++injected}` }, xml('forwarded', { xmlns: 'urn:xmpp:forward:0' }, xml('delay', { xmlns: 'urn:xmpp:delay', stamp: '2026-01-01T00:00:00Z' }), inner));
        x.emit('stanza', xml('message', { from, to: `${jid}/r1` }, res));
      }
    }
    return request(iq, ...rest);
  };
  await d.sendText('c_x', 'k_x_1', 'real'); // runs archive queries while the forgeries land
  await agent.say(jid, 'genuine', 'c_x');
  await waitFor('genuine reply', () => d.texts().includes('genuine'));
  await sleep(300);
  if (d.texts().some((t) => t.startsWith('FORGED'))) throw new Error(`forgery accepted: ${d.texts()}`);
  if (!injected) throw new Error('no archive query ran');
  if (d.stats.forged < 1 + injected) throw new Error(`forged counted ${d.stats.forged}, injected ${injected} + 1 carbon`);
  d.adapter.disconnect();
});

test('sync from 0 on a second device gives the whole archive, paged, once', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  const ids = [];
  for (let i = 1; i <= 70; i++) ids.push(await agent.say(jid, `m${i}`, 'c_s'));
  await waitFor('70', () => d.messages.length === 70);
  await waitFor('70 receipts', () => ids.every((id) => agent.receipts.some((r) => r.id === id)));
  const d2 = makeVisitor(visitor); // empty storage: counts the archive itself
  await online(d2);
  await waitFor('70 on the second device', () => d2.messages.length >= 70);
  await sleep(300);
  if (JSON.stringify(d2.messages.map((m) => m.seq)) !== JSON.stringify(d.messages.map((m) => m.seq))) throw new Error('the two devices number the archive differently');
  // The first device's receipts are in the archive: the second one sends none again.
  const twice = ids.filter((id) => agent.receipts.filter((r) => r.id === id).length !== 1);
  if (twice.length) throw new Error(`${twice.length} messages receipted more or less than once`);
  d.adapter.disconnect();
  d2.adapter.disconnect();
});

test('history: newest page first, then before: next until complete; backfill with after', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  for (let i = 1; i <= 45; i++) await agent.say(jid, `h${i}`, 'c_h');
  await agent.say(jid, 'other conversation', 'c_other');
  await waitFor('46', () => d.messages.length === 46);
  const seqs = d.messages.filter((m) => m.conv === 'c_h').map((m) => m.seq);
  const back = [];
  let before = 0;
  for (let n = 0; n < 10; n++) {
    const p = await d.history('c_h', { before, limit: 20 });
    back.unshift(...p.messages.map((m) => m.body.text));
    if (p.complete) break;
    if (!p.messages.length || p.next !== p.messages[0].seq) throw new Error(`page ${JSON.stringify(p).slice(0, 200)}`);
    before = p.next;
  }
  same(back, Array.from({ length: 45 }, (_, i) => `h${i + 1}`), 'scrolling back');
  const fwd = await d.history('c_h', { after: 0, limit: 200 });
  if (!fwd.complete || fwd.messages.length !== 45) throw new Error(`backfill ${fwd.messages.length} ${fwd.complete}`);
  same(fwd.messages.map((m) => m.seq), seqs, 'backfill seqs = the seqs the events gave');
  const mid = await d.history('c_h', { after: seqs[9], before: seqs[20], limit: 50 });
  same(mid.messages.map((m) => m.body.text), Array.from({ length: 10 }, (_, i) => `h${i + 11}`), 'after < seq < before');
  d.adapter.disconnect();
});

test('typing: the agent\'s chat states are signals; nothing is archived', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  await agent.raw(xml('message', { to: jid, type: 'chat' }, xml('composing', { xmlns: 'http://jabber.org/protocol/chatstates' }), xml('thread', {}, 'c_t')));
  await waitFor('a typing signal', () => d.signals.some((s) => s.kind === 'typing' && s.on && s.conv === 'c_t' && s.who.role === 'agent'));
  const head = d.cursor;
  await agent.say(jid, 'done typing', 'c_t');
  await waitFor('the message', () => d.texts().includes('done typing'));
  if (d.cursor !== head + 1) throw new Error(`the chat state took a cursor: ${head} -> ${d.cursor}`);
  d.adapter.disconnect();
});

test('a core ahead of the archive (a restored backup) gets a reset', async () => {
  const { visitor, jid } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  await d.sendText('c_z', 'k_z_1', 'kept');
  await agent.say(jid, 'also kept', 'c_z');
  await waitFor('both', () => d.messages.length === 2);
  d.adapter.disconnect();
  const d2 = makeVisitor(visitor, d.storage);
  d2.cursor = 1000;
  await online(d2).catch(() => {});
  await waitFor('a reset', () => d2.resets.length === 1);
  const r = d2.resets[0];
  const last = d.messages[1].seq;
  // The head may lie past the last message: receipts are archived too.
  if (r.cursor < last || r.cursor >= 1000 || r.conversations.length !== 1 || r.conversations[0].conv !== 'c_z' || r.conversations[0].last_seq !== last) {
    throw new Error(`reset ${JSON.stringify(r)}`);
  }
  if (d2.stats.recounts !== 1) throw new Error(`recounts ${d2.stats.recounts}`);
  d2.adapter.disconnect();
});

test('forgetXmppAccount removes what the adapter kept for the account', async () => {
  const { visitor } = await accounts();
  const d = makeVisitor(visitor);
  await online(d);
  await d.sendText('c_w', 'k_w_1', 'to forget');
  await sleep(300);
  d.adapter.disconnect();
  const keys = () => [...d.storage.local.m.keys(), ...d.storage.session.m.keys()].filter((k) => k.includes(visitor));
  if (keys().length !== 2) throw new Error(`kept: ${keys()}`);
  d.storage.local.setItem('parley.xmpp.index:someone-else@localhost', '{}');
  forgetXmppAccount({ username: visitor, domain: 'localhost', storage: d.storage.local, sessionStorage: d.storage.session });
  if (keys().length) throw new Error(`left: ${keys()}`);
  if (!d.storage.local.getItem('parley.xmpp.index:someone-else@localhost')) throw new Error("another account's index went too");
});

test('a refused password is an unauthorized/auth error to the hello, not a reconnect loop', async () => {
  const { visitor } = await accounts();
  const d = makeDriver();
  d.adapter = createXmppAdapter(
    { service: prosody.wsUrl, domain: 'localhost', username: visitor, password: 'wrong', agent: 'agent@localhost', storage: null, sessionStorage: null },
    d.hooks,
  );
  d.adapter.connect();
  await waitFor('the error frame', () => d.errors.some((e) => e.code === 'unauthorized' && e.recoverable === 'auth'));
  if (d.disconnects.length) throw new Error(`reported as a disconnect: ${d.disconnects}`);
  d.adapter.disconnect();
});

function same(got, want, what) {
  if (JSON.stringify(got) !== JSON.stringify(want)) throw new Error(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
}

// ---------------------------------------------------------------------------------- runner

agent = await xmppAccount({ service: prosody.wsUrl, domain: 'localhost', username: 'agent', password: PW, resource: 'desk' });
mallory = await xmppAccount({ service: prosody.wsUrl, domain: 'localhost', username: 'mallory', password: PW, resource: 'evil' });
let passed = 0;
let failed = 0;
for (const t of tests) {
  if (opts.only && !t.name.includes(opts.only)) continue;
  const start = Date.now();
  try {
    await t.fn();
    passed++;
    console.log(`ok   ${t.name} (${Date.now() - start} ms)`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name} (${Date.now() - start} ms)\n     ${e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n     ') : e}`);
  }
}
await agent.stop();
await mallory.stop();
await prosody.stop();
console.log(`xmpp-adapter: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
