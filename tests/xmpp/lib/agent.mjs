// XMPP accounts driven from Node with @xmpp/client, for the xmpp tier: the "agent" who
// answers, the visitor's "other device", and "mallory" who forges stanzas.
//
//   const agent = await xmppAccount({ service, domain, username: 'agent', password });
//   agent.copies            every visitor message stanza that reached the agent, in order
//   agent.distinct()        the same with copies of one origin-id counted once
//   await agent.say(to, text, thread)      a chat message (with id, receipt request, markable)
//   await agent.raw(xmlElement)            any stanza
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
  const res = resource || `node-${randomBytes(3).toString('hex')}`;
  let x = null;
  const a = {
    get x() {
      return x;
    },
    copies,
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
