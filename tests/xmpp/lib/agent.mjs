// XMPP accounts driven from Node with @xmpp/client, for the xmpp tier: the "agent" who
// answers, the visitor's "other device", and "mallory" who forges stanzas.
//
//   const agent = await xmppAccount({ service, domain, username: 'agent', password });
//   agent.copies            every visitor message stanza that reached the agent, in order
//   agent.markers           chat markers (XEP-0333) received: { name, id, from }
//   agent.receipts          delivery receipts (XEP-0184) received: { id, from }
//   agent.distinct()        the same with copies of one origin-id counted once
//   await agent.say(to, text, thread)      a chat message (with id, receipt request, markable)
//   await agent.raw(xmlElement)            any stanza
//   await agent.archive()   the account's archive (MAM), messages in archive order
//   agent.autoReceipts = true              answer receipt requests (XEP-0184)
//   await agent.stop()
//
// Node 20 needs --experimental-websocket for the WebSocket @xmpp/websocket uses.

import { client, xml } from '@xmpp/client';
import { randomBytes } from 'node:crypto';
import { sleep } from '../../load/lib.mjs';

export { xml };

export async function xmppAccount({ service, domain, username, password, resource }) {
  const copies = [];
  const markers = [];
  const receipts = [];
  const res = resource || `node-${randomBytes(3).toString('hex')}`;
  let x = null;
  const a = {
    get x() {
      return x;
    },
    copies,
    markers,
    receipts,
    autoReceipts: true,
    jid: `${username}@${domain}`,
    distinct() {
      const seen = new Set();
      return copies.filter((m) => {
        const k = m.originId || m.id;
        if (seen.has(k)) return false;
        seen.add(k);
        return true;
      });
    },
    async say(to, text, thread, { id = `ag_${randomBytes(5).toString('hex')}` } = {}) {
      const kids = [xml('body', {}, text), xml('request', { xmlns: 'urn:xmpp:receipts' }), xml('markable', { xmlns: 'urn:xmpp:chat-markers:0' })];
      if (thread) kids.push(xml('thread', {}, thread));
      await x.send(xml('message', { to, type: 'chat', id }, ...kids));
      return id;
    },
    raw: (el) => x.send(el),
    /** This account's whole archive (XEP-0313, paged until complete): messages with a body,
     *  in archive order, as { text, originId, from }. The ground truth of "in order". */
    async archive() {
      const out = [];
      let after = '';
      for (let page = 0; page < 1000; page++) {
        const queryid = `t${page}_${randomBytes(3).toString('hex')}`;
        const got = [];
        const on = (st) => {
          const r = st.getChild('result', 'urn:xmpp:mam:2');
          if (!r || r.attrs.queryid !== queryid) return;
          const m = r.getChild('forwarded', 'urn:xmpp:forward:0').getChild('message');
          const body = m.getChildText('body');
          const o = m.getChild('origin-id', 'urn:xmpp:sid:0');
          if (body !== null) got.push({ text: body, originId: o ? o.attrs.id : '', from: m.attrs.from || '' });
        };
        x.on('stanza', on);
        const set = [xml('max', {}, '50')];
        if (after) set.push(xml('after', {}, after));
        let res;
        try {
          res = await x.iqCaller.request(xml('iq', { type: 'set' }, xml('query', { xmlns: 'urn:xmpp:mam:2', queryid }, xml('set', { xmlns: 'http://jabber.org/protocol/rsm' }, ...set))));
        } finally {
          x.removeListener('stanza', on);
        }
        out.push(...got);
        const fin = res.getChild('fin', 'urn:xmpp:mam:2');
        if (fin.attrs.complete === 'true') break;
        after = fin.getChild('set', 'http://jabber.org/protocol/rsm').getChildText('last') || after;
      }
      return out;
    },
    async stop() {
      await Promise.race([x.stop().catch(() => {}), sleep(3000)]);
    },
    /** Connects again with a new client (after the server restarted: a fresh session). */
    async restart() {
      await Promise.race([x.stop().catch(() => {}), sleep(1000)]);
      await start();
    },
  };
  const onStanza = async (st) => {
    if (!st.is('message')) return;
    const receipt = st.getChild('received', 'urn:xmpp:receipts');
    if (receipt) receipts.push({ id: receipt.attrs.id, from: st.attrs.from });
    for (const name of ['displayed', 'received', 'acknowledged']) {
      const m = st.getChild(name, 'urn:xmpp:chat-markers:0');
      if (m) markers.push({ name, id: m.attrs.id, from: st.attrs.from });
    }
    const body = st.getChildText('body');
    if (body === null || st.getChild('result', 'urn:xmpp:mam:2')) return;
    const origin = st.getChild('origin-id', 'urn:xmpp:sid:0');
    copies.push({ from: st.attrs.from, id: st.attrs.id, originId: origin ? origin.attrs.id : '', text: body, thread: st.getChildText('thread') || '' });
    if (a.autoReceipts && st.getChild('request', 'urn:xmpp:receipts') && st.attrs.id) {
      await x.send(xml('message', { to: st.attrs.from, type: 'chat' }, xml('received', { xmlns: 'urn:xmpp:receipts', id: st.attrs.id }))).catch(() => {});
    }
  };
  async function start() {
    x = client({ service, domain, username, password, resource: res });
    x.reconnect.stop();
    x.on('error', () => {});
    x.on('stanza', onStanza);
    await x.start();
    await x.send(xml('presence'));
  }
  await start();
  return a;
}
