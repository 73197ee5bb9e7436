// Parley from the built bundles, synced through XMPP: parley.mjs plus the XMPP adapter
// (parley-xmpp.mjs) plugged in with Parley.create({ adapter }), as an integrator would.
// Query: ?service=ws://…/xmpp-websocket&domain=D&username=U&password=P&agent=JID[&dist=/build/dist]
const q = new URLSearchParams(location.search);
const dist = q.get('dist') || '/build/dist';
window.events = [];
window.adapters = [];
try {
  const { default: Parley } = await import(`${dist}/parley.mjs`);
  const { createXmppAdapter } = await import(`${dist}/parley-xmpp.mjs`);
  const options = {
    service: q.get('service'),
    domain: q.get('domain'),
    username: q.get('username'),
    password: q.get('password'),
    agent: q.get('agent'),
  };
  const parley = await Parley.create({
    appId: 'xmpp',
    adapter: (hooks) => {
      const a = createXmppAdapter(options, hooks);
      window.adapters.push(a);
      return a;
    },
  });
  for (const name of ['conversations', 'messages', 'connection', 'unread', 'error']) {
    parley.on(name, (d) => window.events.push([name, name === 'messages' ? d.conv : d]));
  }
  window.parley = parley;
  window.ready = true;
} catch (e) {
  window.loadError = String((e && e.stack) || e);
}
