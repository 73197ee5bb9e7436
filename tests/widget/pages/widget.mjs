// Loads the widget from the source modules. Query:
//   ?server=URL&app=ID[&locale=xx][&position=left]   <parley-messenger> creating its own instance
//   ?...&consent                                     with requireConsent
//   ?fake[&locale=xx]                                mount() over a stub instance whose
//                                                    timeline has every message state
//   ?fake&many=N                                     the same with a thread of N messages
import { defineParleyMessenger, mount } from '/web/src/widget/index.js';

const q = new URLSearchParams(location.search);
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
);
window.calls = [];

function fakeParley() {
  const now = Date.now();
  const day = 86400000;
  const msg = (seq, role, text, ts, extra = {}) => ({
    conv: 'c_1', seq, id: seq ? `m${seq}` : '', ticket: 1, ts,
    author: role === 'visitor' ? { role } : { role, id: 'ag_1', name: role === 'bot' ? 'Robo' : 'Ada' },
    body: { text }, ...extra,
  });
  const items = [
    { key: 'm5', state: 'read', message: msg(5, 'visitor', 'Hello, yesterday', now - day) },
    { key: 'm6', state: 'delivered', message: msg(6, 'agent', '<img src=x onerror=alert(1)>', now - day + 60000) },
    { key: 'm7', state: 'sent', message: msg(7, 'visitor', 'sent one', now - 5000) },
    { key: 'm8', state: 'delivered', message: msg(8, 'visitor', 'delivered one', now - 4000) },
    { key: 'k_s', state: 'sending', message: msg(0, 'visitor', 'sending one', now - 3000, { cid: 'k_s' }) },
    { key: 'k_q', state: 'queued', message: msg(0, 'visitor', 'queued one', now - 2000, { cid: 'k_q' }) },
    {
      key: 'k_f', state: 'failed', message: msg(0, 'visitor', 'failed one', now - 1000, { cid: 'k_f' }),
      error: { code: 'forbidden', recoverable: 'permanent', message: 'conversation closed' },
    },
  ];
  const many = +q.get('many');
  if (many) {
    items.length = 0;
    for (let i = 1; i <= many; i++) {
      items.push({ key: `m${i}`, state: 'read', message: msg(i, i % 3 ? 'visitor' : 'agent', `message number ${i}`, now - (many - i) * 60000) });
    }
  }
  const conv = { id: 'c_1', status: 'open', style: 'social_messaging', ticket: 1, subject: 'Order #1234',
    owner: { kind: 'agent', agent_name: 'Ada' }, channels: [], last_seq: 8, read_seq: 8, unread: 0, preview: '' };
  const listeners = {};
  const rec = (name) => (...args) => (window.calls.push([name, ...args]), Promise.resolve());
  return {
    connection: 'offline', unread: 3, user: 'u_1', isLeader: true,
    availability: { open: false, reply_ms: 7200000, next_change: now + 2 * day },
    storage: { persistent: false, reason: 'blocked' },
    on(n, f) { (listeners[n] ||= new Set()).add(f); return () => listeners[n].delete(f); },
    off(n, f) { listeners[n]?.delete(f); },
    emit(n, d) { for (const f of listeners[n] || []) f(d); },
    conversations: () => [{ conv, unread: 0, preview: 'failed one', typing: true }],
    messages: (c) => (c === 'c_1' ? items.slice() : []),
    send: rec('send'), retry: rec('retry'), cancel: rec('cancel'), editQueued: rec('editQueued'),
    markRead: rec('markRead'), typing: rec('typing'), openConversation: rec('openConversation'),
    loadOlder: rec('loadOlder'), resume: rec('resume'), requestHandoff: rec('requestHandoff'), startConversation: async () => 'c_2', destroy: async () => {},
  };
}

if (q.has('fake')) {
  window.parley = fakeParley();
  window.widget = mount(window.parley, document.body, { locale: q.get('locale') || 'en', position: q.get('position') || undefined });
  window.ready = true;
} else {
  defineParleyMessenger();
  const el = document.createElement('parley-messenger');
  el.setAttribute('app-id', q.get('app'));
  el.setAttribute('server', q.get('server'));
  if (q.get('locale')) el.setAttribute('locale', q.get('locale'));
  if (q.get('position')) el.setAttribute('position', q.get('position'));
  // The shell runs from /web/src here, so the wasm glue is not beside it.
  el.createOptions = { coreModuleUrl: '/build/wasm/parley_core.mjs', requireConsent: q.has('consent') };
  document.body.append(el);
  window.widget = el;
  const wait = setInterval(() => {
    if (el.parley) {
      clearInterval(wait);
      window.parley = el.parley;
      window.ready = true;
    }
  }, 20);
}
