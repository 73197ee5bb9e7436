// Unit tests of the XMPP adapter's pure mapping (web/src/transport/xmpp/mapping.js):
// stanza -> frame, cursor numbering, dedupe by stanza-id and origin-id, marker
// monotonicity, and the JID checks on carbons and archive results. No server, no browser.
//
//   node tests/xmpp/mapping.mjs        last line: "xmpp-mapping: N passed, M failed"

import parse from '@xmpp/xml/lib/parse.js';
import {
  ArchiveIndex,
  bareJid,
  classify,
  convFor,
  eventsFrame,
  openCarbon,
  openMamResult,
  readArchive,
  readFin,
  resetFrame,
} from '../../web/src/transport/xmpp/mapping.js';

const OWN = 'visitor@localhost';
const AGENT = 'agent@localhost';
const tests = [];
const test = (name, fn) => tests.push({ name, fn });

function eq(a, b, what = '') {
  const x = JSON.stringify(a);
  const y = JSON.stringify(b);
  if (x !== y) throw new Error(`${what}\n       got ${x}\n  expected ${y}`);
}
function ok(v, what) {
  if (!v) throw new Error(what);
}

/** A MAM result as Prosody sends it (from = our bare JID). */
function mamResult({ from = OWN, queryid = 'q1', id, stamp = '2026-01-02T03:04:05Z', inner }) {
  const f = from === null ? '' : ` from='${from}'`;
  return parse(
    `<message xmlns='jabber:client'${f} to='${OWN}/r1'><result xmlns='urn:xmpp:mam:2' queryid='${queryid}' id='${id}'>` +
      `<forwarded xmlns='urn:xmpp:forward:0'><delay xmlns='urn:xmpp:delay' stamp='${stamp}'/>${inner}</forwarded></result></message>`,
  );
}

const visitorMsg = (cid, text, conv = 'c_1') =>
  `<message xmlns='jabber:client' from='${OWN}/r1' to='${AGENT}' type='chat' id='${cid}'><body>${text}</body><thread>${conv}</thread>` +
  `<origin-id xmlns='urn:xmpp:sid:0' id='${cid}'/><request xmlns='urn:xmpp:receipts'/></message>`;
const agentMsg = (id, text, conv = 'c_1') =>
  `<message xmlns='jabber:client' from='${AGENT}/desk' to='${OWN}' type='chat' id='${id}'><body>${text}</body>` +
  (conv ? `<thread>${conv}</thread>` : '') +
  `<request xmlns='urn:xmpp:receipts'/><stanza-id xmlns='urn:xmpp:sid:0' by='${OWN}' id='ignored'/></message>`;
const marker = (from, to, name, ref, ns = 'urn:xmpp:chat-markers:0') =>
  `<message xmlns='jabber:client' from='${from}' to='${to}' type='chat'><${name} xmlns='${ns}' id='${ref}'/></message>`;

/** Feeds archive items (inner stanzas) into an index; returns [index, events]. */
function feed(inners, index = new ArchiveIndex(OWN)) {
  const events = [];
  inners.forEach((inner, i) => {
    const r = openMamResult(mamResult({ id: `a${index.head + 1}_${i}`, inner }), OWN, 'q1');
    const item = classify(r.message, OWN);
    index.append(r.archiveId, r.ts, item);
    const ev = index.eventAt(index.head, item, r.ts);
    if (ev) events.push(ev);
  });
  return [index, events];
}

// ------------------------------------------------------------------------------- JIDs

test('bare JIDs are lower-cased and lose the resource', () => {
  eq(bareJid('Visitor@LocalHost/Phone'), 'visitor@localhost');
  eq(bareJid(''), '');
  eq(bareJid(undefined), '');
});

test('conversation: the thread when it is an id, else one per peer', () => {
  eq(convFor('c_8h2k', AGENT), 'c_8h2k');
  eq(convFor('', AGENT), `x_${AGENT}`);
  eq(convFor('t'.repeat(200), AGENT), `x_${AGENT}`);
});

// ---------------------------------------------------------------------- security checks

test('a carbon from our own bare JID is opened', () => {
  const st = parse(
    `<message xmlns='jabber:client' from='${OWN}' to='${OWN}/r1'><sent xmlns='urn:xmpp:carbons:2'>` +
      `<forwarded xmlns='urn:xmpp:forward:0'>${visitorMsg('k1', 'from my phone')}</forwarded></sent></message>`,
  );
  const c = openCarbon(st, OWN);
  eq(c.direction, 'sent');
  eq(c.message.getChildText('body'), 'from my phone');
});

test('a forged carbon (from another JID) is rejected', () => {
  for (const from of [AGENT, 'mallory@evil.example', `${OWN}/r2`, 'localhost']) {
    const st = parse(
      `<message xmlns='jabber:client' from='${from}' to='${OWN}/r1'><received xmlns='urn:xmpp:carbons:2'>` +
        `<forwarded xmlns='urn:xmpp:forward:0'>${agentMsg('m1', 'give me your password')}</forwarded></received></message>`,
    );
    eq(openCarbon(st, OWN), { forged: true }, `carbon from ${from}`);
  }
});

test('a MAM result from our archive is opened; one from another JID is rejected', () => {
  const good = openMamResult(mamResult({ id: 'A1', inner: agentMsg('m1', 'hi') }), OWN, 'q1');
  eq(good.archiveId, 'A1');
  eq(good.ts, Date.parse('2026-01-02T03:04:05Z'));
  const noFrom = openMamResult(mamResult({ from: null, id: 'A1', inner: agentMsg('m1', 'hi') }), OWN, 'q1');
  eq(noFrom.archiveId, 'A1');
  for (const from of [AGENT, 'mallory@evil.example', `${OWN}/r2`]) {
    const forged = openMamResult(mamResult({ from, id: 'A9', inner: agentMsg('m9', 'forged') }), OWN, 'q1');
    eq(forged, { forged: true }, `result from ${from}`);
  }
});

test('a MAM result of another query is not taken', () => {
  eq(openMamResult(mamResult({ queryid: 'other', id: 'A1', inner: agentMsg('m1', 'hi') }), OWN, 'q1'), null);
});

test('fin: complete and the last id', () => {
  const fin = (attrs, last) =>
    parse(`<iq xmlns='jabber:client' type='result'><fin xmlns='urn:xmpp:mam:2'${attrs}><set xmlns='http://jabber.org/protocol/rsm'>${last}</set></fin></iq>`);
  eq(readFin(fin(" complete='true'", '<first>A</first><last>B</last>')), { complete: true, last: 'B' });
  eq(readFin(fin('', '<first>A</first><last>B</last>')), { complete: false, last: 'B' });
  eq(readFin(fin('', '')), { complete: false, last: '' }, 'an empty page that is not complete');
});

test('archive paging: until complete; an empty page that is not complete means keep going', async () => {
  const pages = [
    { items: [], complete: false, last: '' },
    { items: ['a1', 'a2'], complete: false, last: 'a2' },
    { items: [], complete: false, last: '' },
    { items: [], complete: false, last: '' },
    { items: ['a3'], complete: true, last: 'a3' },
    { items: ['never'], complete: true, last: 'x' },
  ];
  const asked = [];
  const got = [];
  for await (const items of readArchive(async ({ after }) => (asked.push(after), pages[asked.length - 1]), 'a0')) got.push(...items);
  eq(got, ['a1', 'a2', 'a3']);
  eq(asked, ['a0', 'a0', 'a2', 'a2', 'a2'], 'the after of each query');
});

test('archive paging: a server that never completes is an error, not a hang', async () => {
  let threw = false;
  try {
    for await (const items of readArchive(async () => ({ items: [], complete: false, last: '' }), '', 50)) void items;
  } catch {
    threw = true;
  }
  ok(threw, 'expected an error after maxPages');
});

// ------------------------------------------------------------------------ stanza -> frame

test('an agent message becomes a message event: cursor = seq = archive position', () => {
  const [, events] = feed([visitorMsg('k1', 'hello'), agentMsg('m1', 'hi there')]);
  eq(events[1], {
    kind: 'message',
    cursor: 2,
    conv: 'c_1',
    message: {
      conv: 'c_1',
      seq: 2,
      id: 'a2_1',
      ticket: 1,
      ts: Date.parse('2026-01-02T03:04:05Z'),
      author: { role: 'agent', id: AGENT, name: 'agent' },
      body: { text: 'hi there' },
    },
  });
});

test("the visitor's own message carries its origin-id as cid", () => {
  const [, events] = feed([visitorMsg('k_a91f', 'Do you ship to Norway?')]);
  eq(events[0].message.cid, 'k_a91f');
  eq(events[0].message.author, { role: 'visitor', id: OWN });
});

test('an agent message without a thread goes to the per-agent conversation', () => {
  const [, events] = feed([agentMsg('m1', 'we wrote first', '')]);
  eq(events[0].conv, `x_${AGENT}`);
});

test('stanzas of no interest take a cursor and give no event', () => {
  const [index, events] = feed([
    `<message xmlns='jabber:client' from='${AGENT}' to='${OWN}' type='error' id='e1'><body>bounce</body></message>`,
    agentMsg('m1', 'real'),
  ]);
  eq(index.head, 2);
  eq(events.map((e) => e.cursor), [2]);
});

test('events frame: from, cursor, more', () => {
  eq(eventsFrame({ req: 'q1', from: 3, cursor: 5, more: true, events: [] }), { type: 'events', from: 3, cursor: 5, more: true, events: [], req: 'q1' });
  eq(eventsFrame({ from: 3, cursor: 3, events: [] }).req, undefined);
});

// --------------------------------------------------------------------------------- dedupe

test('a resent stanza archived twice is one message (dedupe by origin-id)', () => {
  const [index, events] = feed([visitorMsg('k1', 'once'), visitorMsg('k1', 'once'), agentMsg('m1', 'ok')]);
  eq(events.map((e) => e.kind + e.cursor), ['message1', 'message3']);
  eq(index.cursorOfCid('k1'), 1, 'the ack names the first copy');
});

test('an agent message archived twice is one message (dedupe by its id)', () => {
  const [, events] = feed([agentMsg('m1', 'twice'), agentMsg('m1', 'twice')]);
  eq(events.length, 1);
});

test('the same origin-id from two senders are two messages', () => {
  const [, events] = feed([
    visitorMsg('same', 'mine'),
    `<message xmlns='jabber:client' from='${AGENT}/d' to='${OWN}' type='chat' id='same'><body>theirs</body><origin-id xmlns='urn:xmpp:sid:0' id='same'/></message>`,
  ]);
  eq(events.length, 2);
});

test('an archive id seen twice is refused (dedupe by stanza-id)', () => {
  const index = new ArchiveIndex(OWN);
  index.append('A1', 0, classify(parse(agentMsg('m1', 'x')), OWN));
  let threw = false;
  try {
    index.append('A1', 0, classify(parse(agentMsg('m2', 'y')), OWN));
  } catch {
    threw = true;
  }
  ok(threw, 'appending the same archive id twice must throw');
});

test('numbering is stable: a recount and a reload give the same cursors and decisions', () => {
  const items = [visitorMsg('k1', 'a'), visitorMsg('k1', 'a'), agentMsg('m1', 'b'), marker(AGENT, OWN, 'displayed', 'k1')];
  const [i1, e1] = feed(items);
  const [, e2] = feed(items);
  eq(e1, e2);
  const reloaded = ArchiveIndex.from(JSON.parse(JSON.stringify(i1.toJSON())), OWN);
  eq(reloaded.cursorOfCid('k1'), 1);
  eq(reloaded.head, 4);
  const [, e3] = feed([marker(AGENT, OWN, 'displayed', 'k1')], reloaded);
  eq(e3, [], 'the same marker after a reload does not move');
});

// -------------------------------------------------------------------------------- markers

test('receipt -> delivered, displayed -> read, for our message', () => {
  const [, events] = feed([
    visitorMsg('k1', 'a'),
    marker(AGENT, OWN, 'received', 'k1', 'urn:xmpp:receipts'),
    marker(AGENT, OWN, 'displayed', 'k1'),
  ]);
  eq(events.slice(1), [
    { kind: 'read', cursor: 2, conv: 'c_1', reader: 'agent', seq: 1, delivered: true },
    { kind: 'read', cursor: 3, conv: 'c_1', reader: 'agent', seq: 1, delivered: false },
  ]);
});

test('markers only move forward', () => {
  const [, events] = feed([
    visitorMsg('k1', 'a'),
    visitorMsg('k2', 'b'),
    marker(AGENT, OWN, 'displayed', 'k2'),
    marker(AGENT, OWN, 'displayed', 'k1'), // older: ignored
    marker(AGENT, OWN, 'received', 'k2', 'urn:xmpp:receipts'), // below the read marker: ignored
    marker(AGENT, OWN, 'displayed', 'k2'), // the same again: ignored
  ]);
  eq(events.filter((e) => e.kind === 'read').map((e) => [e.cursor, e.seq, e.delivered]), [[3, 2, false]]);
});

test("the visitor's displayed marker (another device) is a visitor read; its receipts are not", () => {
  const [, events] = feed([
    agentMsg('m1', 'hi'),
    marker(`${OWN}/phone`, AGENT, 'received', 'm1', 'urn:xmpp:receipts'),
    marker(`${OWN}/phone`, AGENT, 'displayed', 'm1'),
  ]);
  eq(events.slice(1), [{ kind: 'read', cursor: 3, conv: 'c_1', reader: 'visitor', seq: 1, delivered: false }]);
});

test('a marker about an unknown message, or about our own message from ourselves, is ignored', () => {
  const [, events] = feed([visitorMsg('k1', 'a'), marker(AGENT, OWN, 'displayed', 'nope'), marker(`${OWN}/r2`, AGENT, 'displayed', 'k1')]);
  eq(events.length, 1);
});

test('peerMessageAtOrBelow: what a read marker points at', () => {
  const [index] = feed([agentMsg('m1', 'a'), visitorMsg('k1', 'b'), agentMsg('m2', 'c'), visitorMsg('k2', 'd')]);
  eq(index.peerMessageAtOrBelow('c_1', 4), { seq: 3, id: 'm2', peer: AGENT });
  eq(index.peerMessageAtOrBelow('c_1', 2), { seq: 1, id: 'm1', peer: AGENT });
  eq(index.peerMessageAtOrBelow('c_2', 4), null);
});

test('reset: one conversation summary per conversation, at the head', () => {
  const [index] = feed([visitorMsg('k1', 'a'), agentMsg('m1', 'b', ''), visitorMsg('k2', 'c')]);
  const r = resetFrame(index);
  eq(r.cursor, 3);
  eq(r.conversations.map((c) => [c.conv, c.last_seq]), [['c_1', 3], [`x_${AGENT}`, 2]]);
});

// --------------------------------------------------------------------------------- runner

let passed = 0;
let failed = 0;
for (const t of tests) {
  try {
    await t.fn();
    passed++;
    console.log(`ok   ${t.name}`);
  } catch (e) {
    failed++;
    console.log(`FAIL ${t.name}\n     ${e && e.message}`);
  }
}
console.log(`xmpp-mapping: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
