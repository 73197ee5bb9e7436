// Measured in the page: from navigation start to Parley ready with the open conversation's
// last page in the view (performance.now() is relative to navigation start).
// ?seed=N fills IndexedDB instead (N messages), then reports done.
import { openStore, setCurrentUser } from '/web/src/storage/idb.js';

const q = new URLSearchParams(location.search);
const APP = 'bench';
const USER = 'u_bench';

async function seed(n) {
  const store = await openStore({ app: APP, user: USER });
  const perConv = 1000;
  const convs = Math.max(1, Math.ceil(n / perConv));
  const now = Date.now();
  const ops = [];
  const flush = async () => {
    if (!ops.length) return;
    const r = await store.commit({ id: 1, ops: ops.splice(0) });
    if (r !== 'ok') throw new Error(`seed commit: ${r}`);
  };
  for (let c = 0; c < convs; c++) {
    const conv = `c_bench_${c}`;
    const count = Math.min(perConv, n - c * perConv);
    ops.push({ op: 'put', store: 'conversations', key: conv, value: {
      v: 2, id: conv, status: 'open', style: 'social_messaging', ticket: 1, subject: `Order ${c}`,
      owner: { kind: 'agent', agent_id: 'ag_1', agent_name: 'Ada' }, channels: [],
      created_ts: now, updated_ts: now + c, last_seq: count, first_stored_seq: 1, stored_count: count,
      history_complete: true, read_seq: count, agent_read_seq: 0, agent_delivered_seq: 0, gaps: [],
      last_activity_ts: now + c, unread: 0, preview: 'last message' } });
    for (let s = 1; s <= count; s++) {
      const visitor = s % 2 === 1;
      ops.push({ op: 'put', store: 'messages', key: conv, seq: s, value: {
        v: 2, conv, seq: s, id: `m_${c}_${s}`, ticket: 1, ts: now + s,
        author: visitor ? { role: 'visitor', id: USER } : { role: 'agent', id: 'ag_1', name: 'Ada' },
        body: { text: `Message ${s} of conversation ${c}: where is my order, and when will it ship?` } } });
      if (ops.length >= 2000) await flush();
    }
  }
  ops.push({ op: 'put', store: 'meta', key: 'meta', value: {
    v: 2, user: USER, device: 'd_bench', token: '', cursor: n, open_conv: `c_bench_${convs - 1}`,
    outbox_counter: 0, identity_pending: false, merge_token: '' } });
  await flush();
  store.close();
  await setCurrentUser(APP, USER);
  return { convs, open: `c_bench_${convs - 1}` };
}

async function measure() {
  const { default: Parley } = await import('/build/dist/parley.mjs');
  const parley = await Parley.create({ appId: APP, server: 'http://127.0.0.1:9' });
  const open = q.get('open');
  const end = performance.now() + 10_000;
  while (parley.messages(open).length === 0) {
    if (performance.now() > end) throw new Error(`no messages of ${open} in the view`);
    await new Promise((r) => setTimeout(r, 1));
  }
  return { ms: performance.now(), shown: parley.messages(open).length };
}

try {
  window.result = q.has('seed') ? await seed(Number(q.get('seed'))) : await measure();
} catch (e) {
  window.result = { error: String((e && e.stack) || e) };
}
