// Loads Parley from the built bundle exactly as an integrator would, and exposes the
// instance to the test driver. Query: ?server=URL&app=ID[&token=JWT][&consent] (consent:
// requireConsent, nothing is stored until parley.consent())
import Parley from '/build/dist/parley.mjs';

const q = new URLSearchParams(location.search);
window.events = [];
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
);
try {
  const parley = await Parley.create({
    appId: q.get('app'),
    server: q.get('server'),
    user: q.get('token') ? { token: q.get('token') } : undefined,
    requireConsent: q.has('consent'),
  });
  for (const name of ['conversations', 'messages', 'connection', 'unread', 'error', 'storage', 'wiped']) {
    parley.on(name, (d) => window.events.push([name, name === 'messages' ? d.conv : d]));
  }
  window.parley = parley;
  window.ready = true;
} catch (e) {
  window.loadError = String((e && e.stack) || e);
}
