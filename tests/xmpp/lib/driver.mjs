// A small stand-in for the core, for driving the XMPP adapter from Node (tests/xmpp/adapter.mjs):
// it says hello on connect, follows the `from` chain of `events` frames (applies a frame
// whose `from` is its cursor, asks `sync` when a frame is ahead, ignores one behind),
// and keeps what it was given. It does not dedupe: a message given twice is recorded twice,
// so the tests can tell.

import { sleep } from '../../load/lib.mjs';

export function makeDriver() {
  const d = {
    adapter: null,
    cursor: 0,
    frames: [],
    messages: [], // message events applied, in order
    reads: [], // read events applied
    acks: new Map(), // req -> ack
    errors: [],
    signals: [],
    pages: new Map(), // req -> page
    resets: [],
    disconnects: [],
    connected: 0,
    welcomed: 0,
    req: 0,
    syncing: false,
  };
  const send = (f) => d.adapter.send(JSON.stringify(f));
  d.sync = () => {
    if (d.syncing) return;
    d.syncing = true;
    send({ type: 'sync', req: `s${++d.req}`, after: d.cursor, limit: 500 });
  };
  d.hooks = {
    onConnected() {
      d.connected++;
      send({ type: 'hello', v: 1, token: '', cursor: d.cursor, device: 'd_node' });
    },
    onDisconnected(reason) {
      d.disconnects.push(reason);
      d.syncing = false;
    },
    onRequestFailed(req, error) {
      d.errors.push({ req, ...error });
      if (req.startsWith('s')) d.syncing = false;
    },
    onFrame(text) {
      const f = JSON.parse(text);
      d.frames.push(f);
      if (f.type === 'welcome') {
        d.welcomed++;
        if (f.cursor !== d.cursor) d.sync();
      } else if (f.type === 'events') {
        if (f.req) d.syncing = false;
        if (f.from > d.cursor) return d.sync();
        if (f.cursor <= d.cursor && f.events.length) return undefined;
        for (const ev of f.events) {
          if (ev.cursor <= d.cursor) continue;
          if (ev.kind === 'message') d.messages.push(ev.message);
          if (ev.kind === 'read') d.reads.push(ev);
        }
        d.cursor = Math.max(d.cursor, f.cursor);
        if (f.more) d.sync();
      } else if (f.type === 'signal') {
        d.signals.push(f);
      } else if (f.type === 'page') {
        d.pages.set(f.req, f);
      } else if (f.type === 'reset') {
        d.syncing = false;
        d.resets.push(f);
        d.cursor = f.cursor;
      } else if (f.type === 'ack') {
        d.acks.set(f.req, f);
      } else if (f.type === 'error') {
        d.errors.push(f);
      }
      return undefined;
    },
  };
  d.send = send;
  /** A send frame; resolves to its ack (or throws after `ms`). */
  d.sendText = async (conv, cid, text, ms = 10_000) => {
    const req = `q${++d.req}`;
    send({ type: 'send', req, conv, cid, body: { text } });
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (d.acks.has(req)) return d.acks.get(req);
      const err = d.errors.find((e) => e.req === req);
      if (err) throw new Error(`send ${cid}: ${JSON.stringify(err)}`);
      await sleep(20);
    }
    throw new Error(`no ack for ${cid}`);
  };
  /** A history request; resolves to its page. */
  d.history = async (conv, { before, after, limit }, ms = 10_000) => {
    const req = `h${++d.req}`;
    const f = { type: 'history', req, conv, limit };
    if (before !== undefined) f.before = before;
    if (after !== undefined) f.after = after;
    send(f);
    const end = Date.now() + ms;
    while (Date.now() < end) {
      if (d.pages.has(req)) return d.pages.get(req);
      await sleep(20);
    }
    throw new Error(`no page for ${JSON.stringify(f)}`);
  };
  d.texts = () => d.messages.map((m) => m.body.text);
  return d;
}
