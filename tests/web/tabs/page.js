// In-page half of tests/web/tabs/run.mjs: one createTabs() per page
// (/web/src/tabs/leader.js), every callback recorded for the Node side.
//   ?app=A                 the app (channel parley:A, lock parley:A:leader)
//   &heartbeatMs=&expireMs=&claimMs=&startupMs=   lease parameters (fallback mode)
import { createTabs } from '/web/src/tabs/leader.js';

const q = new URLSearchParams(location.search);
const lease = {};
for (const k of ['heartbeatMs', 'expireMs', 'claimMs', 'startupMs']) if (q.has(k)) lease[k] = Number(q.get(k));
const events = [];
const rec = (kind, extra = {}) => events.push({ t: Date.now(), kind, ...extra });

function onRequest(cmd, meta) {
  rec('request', { cmd, from: meta.from });
  if (cmd.type === 'echo') return { echoed: cmd.value, by: tabs.id };
  if (cmd.type === 'slow') return new Promise((ok) => setTimeout(() => ok({ by: tabs.id }), cmd.ms));
  if (cmd.type === 'fail') throw Object.assign(new Error('refused'), { code: 'invalid_command' });
  return null;
}

// &handler=message: no onRequest; onMessage's return value answers requests (as
// web/src/parley.js uses it).
const viaMessage = q.get('handler') === 'message';
const tabs = createTabs({
  app: q.get('app') || 'test',
  user: q.get('user') || '',
  lease,
  onBecomeLeader: () => rec('leader'),
  onLoseLeadership: () => rec('lost'),
  onMessage: (msg, meta) => {
    if (viaMessage && meta.request) return onRequest(msg, meta);
    rec('message', { msg, from: meta.from, fromLeader: meta.fromLeader, user: meta.user });
    return undefined;
  },
  onRequest: viaMessage ? undefined : onRequest,
});

window.TT = {
  id: tabs.id,
  mode: tabs.mode,
  hasLocks: !!(navigator.locks && navigator.locks.request),
  events,
  state: () => ({ id: tabs.id, leader: tabs.isLeader, leaderId: tabs.leaderId }),
  request: (cmd, o) =>
    tabs.request(cmd, o).then(
      (value) => ({ ok: true, value }),
      (e) => ({ ok: false, code: e.code, message: e.message }),
    ),
  post: (m) => tabs.post(m),
  close: () => tabs.close(),
};
