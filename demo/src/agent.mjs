// The demo's agent console (build/demo/agent.html). One page, three columns: the
// conversations in the server's priority order, the selected thread with a composer, and
// the customer's details with the ticket actions. Everything comes from the reference
// server's agent API (docs/server.md) on the same origin; the agent WebSocket pushes
// changes, and the list is re-fetched on each `conversation` push (the server owns the
// order).
//
// Rendering is lit-html (agent-view.mjs); every text from the server is rendered as text.

import { render } from 'lit-html';
import { AgentApi, ApiError } from './agent-api.mjs';
import { AgentSocket } from './agent-socket.mjs';
import { view } from './agent-view.mjs';
import { OUTCOME_LABEL, STATUS_LABEL, CHANNEL_LABEL, ownerLabel } from './agent-format.mjs';

const params = new URLSearchParams(location.search);
const APP = params.get('app') || 'demo';
const STORE_KEY = 'parley-demo-agent-token';
const PAGE = 50;
const TYPING_IDLE_MS = 3000;
const CUSTOMER_TYPING_TTL_MS = 12000;
const TOAST_MS = 7000;

/** The demo's agents (demo/server.json); the tokens are the public development ones. */
export const DEMO_AGENTS = [
  { id: 'ag_grace', name: 'Grace', token: 'agent-dev-token' },
  { id: 'ag_alan', name: 'Alan', token: 'agent-alan-token' },
];

const CSAT = {
  text: 'How did we do? Please rate this conversation from 1 (poor) to 5 (great).',
  rich: 'csat',
  payload: { scale: 5, question: 'How would you rate the help you got today?' },
};

const QUICK_REPLIES = {
  text: 'Is there anything else I can help you with?',
  rich: 'quick_replies',
  payload: {
    options: [
      { id: 'track', label: 'Track my order' },
      { id: 'return', label: 'Start a return' },
      { id: 'done', label: "No, that's all", value: "No, that's all. Thanks!" },
    ],
  },
};

function storedToken() {
  try {
    return localStorage.getItem(STORE_KEY) || '';
  } catch {
    return '';
  }
}

function storeToken(token) {
  try {
    if (token) localStorage.setItem(STORE_KEY, token);
    else localStorage.removeItem(STORE_KEY);
  } catch {}
}

const newCid = () =>
  typeof crypto.randomUUID === 'function'
    ? `k_${crypto.randomUUID()}`
    : `k_${Date.now().toString(36)}${Math.random().toString(36).slice(2)}`;

// ------------------------------------------------------------------------------ state

const state = {
  app: APP,
  demoAgents: DEMO_AGENTS,
  signin: { token: storedToken() || DEMO_AGENTS[0].token, error: '', busy: false },
  me: null, // {id, name, token} once signed in
  conn: 'offline', // connecting | live | offline
  agents: null, // [{id, name, present}] or null when the server does not list agents
  convs: [],
  listLoaded: false,
  filter: 'all', // all | waiting | mine
  selected: null,
  current: null, // the selected conversation's summary
  thread: null, // {conv, messages, complete, next, loading, loadingOlder}
  outbox: [], // unsent agent messages: {cid, conv, body, state: 'sending'|'failed', error}
  drafts: new Map(),
  customerTyping: new Map(), // conv -> timer
  note: null, // {conv, text, kind: 'ok'|'error'}: outcome of the last status / handoff
  handoff: { to: 'queue', address: '' },
  busy: { status: '', handoff: false },
  toasts: [],
  now: Date.now(),
};

let api = null;
let socket = null;
let toastSeq = 0;

// ------------------------------------------------------------------------------ render

const root = document.getElementById('app');
let renderQueued = false;
const afterRender = [];

function update(fn) {
  if (fn) afterRender.push(fn);
  if (renderQueued) return;
  renderQueued = true;
  queueMicrotask(() => {
    renderQueued = false;
    state.now = Date.now();
    render(view(state, actions), root);
    const hooks = afterRender.splice(0);
    for (const h of hooks) h();
  });
}

const threadEl = () => document.getElementById('thread-scroll');

function nearBottom() {
  const el = threadEl();
  return !el || el.scrollHeight - el.scrollTop - el.clientHeight < 80;
}

function scrollToBottom() {
  const el = threadEl();
  if (el) el.scrollTop = el.scrollHeight;
}

// ------------------------------------------------------------------------------ errors

function toast(text, kind = 'error') {
  const id = ++toastSeq;
  state.toasts = [...state.toasts, { id, text, kind }].slice(-4);
  setTimeout(() => dismissToast(id), TOAST_MS);
  update();
}

function dismissToast(id) {
  const before = state.toasts.length;
  state.toasts = state.toasts.filter((t) => t.id !== id);
  if (state.toasts.length !== before) update();
}

/** Every failed API call ends here: 401 signs out, the rest is a toast. */
function failed(e, what) {
  if (e instanceof ApiError && e.status === 401) {
    signOut('The server refused this agent token (401). Pick an agent to sign in again.');
    return;
  }
  const detail = e instanceof ApiError ? e.message : String((e && e.message) || e);
  toast(`${what}: ${detail}`);
}

// ------------------------------------------------------------------------------ sign-in

async function signIn(token) {
  state.signin = { token, error: '', busy: true };
  update();
  const candidate = new AgentApi(token, APP);
  let list;
  try {
    list = await candidate.listConversations();
  } catch (e) {
    state.signin = {
      token,
      busy: false,
      error:
        e instanceof ApiError && e.status === 401
          ? 'This agent is not configured on the server (401). Is the server running with demo/server.json?'
          : `Cannot reach the server: ${e.message}`,
    };
    update();
    return;
  }
  api = candidate;
  storeToken(token);
  const known = DEMO_AGENTS.find((a) => a.token === token);
  state.me = { id: known ? known.id : '', name: known ? known.name : 'Agent', token };
  state.signin = { token, error: '', busy: false };
  applyList(list.conversations || []);
  socket = new AgentSocket(api.socketUrl(), token, {
    onState: (s) => {
      state.conn = s;
      update();
    },
    onReady: (f) => onReady(f),
    onPush: (f) => onPush(f),
    onUnauthorized: () => signOut('The server refused this agent token. Pick an agent to sign in again.'),
  });
  socket.start();
  loadAgents();
  update();
}

function signOut(error = '') {
  if (socket) socket.stop();
  socket = null;
  stopTyping();
  api = null;
  if (error) storeToken('');
  state.me = null;
  state.conn = 'offline';
  state.convs = [];
  state.listLoaded = false;
  state.selected = null;
  state.current = null;
  state.thread = null;
  state.outbox = [];
  state.note = null;
  state.agents = null;
  state.signin = { token: state.signin.token, error, busy: false };
  update();
}

async function loadAgents() {
  if (!api) return;
  const mine = api;
  try {
    const r = await mine.agents();
    if (mine !== api) return;
    state.agents = r && Array.isArray(r.agents) ? r.agents : null;
    if (state.agents && state.me) {
      const me = state.agents.find((a) => a.id === state.me.id);
      if (me && me.name) state.me.name = me.name;
    }
    update();
  } catch (e) {
    failed(e, 'Loading the team');
  }
}

// ------------------------------------------------------------------------------ live

function onReady(f) {
  if (state.me && f.agent) {
    state.me.id = f.agent;
    const known = (state.agents || DEMO_AGENTS).find((a) => a.id === f.agent);
    if (known) state.me.name = known.name;
  }
  // Pushes missed while disconnected are not replayed: fetch what is shown again.
  refreshList();
  if (state.thread && !state.thread.loading) catchUpThread();
  loadAgents();
}

function onPush(f) {
  if (f.type === 'conversation' && f.conversation) {
    if (state.selected === f.conversation.conv) {
      state.current = f.conversation;
      maybeMarkRead();
    }
    refreshList();
    update();
  } else if (f.type === 'message' && f.message) {
    const m = f.message;
    if (m.author && m.author.role === 'visitor') setCustomerTyping(f.conv, false);
    if (state.thread && state.thread.conv === f.conv && !state.thread.loading) {
      const stick = nearBottom();
      mergeMessages([m]);
      update(() => stick && scrollToBottom());
      maybeMarkRead();
    }
  } else if (f.type === 'signal') {
    if (f.kind === 'typing' && f.who && f.who.role === 'visitor') setCustomerTyping(f.conv, !!f.on);
  }
}

function setCustomerTyping(conv, on) {
  const t = state.customerTyping.get(conv);
  if (t) clearTimeout(t);
  if (on) {
    state.customerTyping.set(
      conv,
      setTimeout(() => setCustomerTyping(conv, false), CUSTOMER_TYPING_TTL_MS),
    );
  } else {
    state.customerTyping.delete(conv);
  }
  const stick = on && state.selected === conv && nearBottom();
  update(() => stick && scrollToBottom());
}

// ------------------------------------------------------------------------------ list

let listInFlight = null;
let listAgain = false;

function refreshList() {
  if (!api) return;
  if (listInFlight) {
    listAgain = true;
    return;
  }
  const mine = api;
  listInFlight = (async () => {
    do {
      listAgain = false;
      const r = await mine.listConversations();
      if (mine !== api) return;
      applyList(r.conversations || []);
      update();
    } while (listAgain && mine === api);
  })()
    .catch((e) => failed(e, 'Loading conversations'))
    .finally(() => {
      listInFlight = null;
    });
}

function applyList(convs) {
  state.convs = convs;
  state.listLoaded = true;
  if (state.selected) {
    const c = convs.find((x) => x.conv === state.selected);
    if (c) state.current = c;
  }
}

// ------------------------------------------------------------------------------ thread

function mergeMessages(list) {
  const t = state.thread;
  const bySeq = new Map(t.messages.map((m) => [m.seq, m]));
  for (const m of list) if (m && Number.isInteger(m.seq)) bySeq.set(m.seq, m);
  t.messages = [...bySeq.values()].sort((a, b) => a.seq - b.seq);
}

async function selectConversation(conv) {
  if (!api || !conv) return;
  if (state.selected === conv && state.thread) return;
  stopTyping();
  state.selected = conv;
  state.current = state.convs.find((c) => c.conv === conv) || null;
  state.thread = { conv, messages: [], complete: false, next: 0, loading: true, loadingOlder: false };
  state.note = null;
  state.handoff = { to: 'queue', address: '' };
  update(() => document.querySelector('.details')?.scrollTo(0, 0));
  const mine = api;
  try {
    const [page, summary] = await Promise.all([
      mine.messages(conv, { limit: PAGE }),
      state.current ? Promise.resolve(null) : mine.getConversation(conv),
    ]);
    if (mine !== api || state.selected !== conv) return;
    if (summary) state.current = summary;
    state.thread.loading = false;
    mergeMessages(page.messages || []);
    state.thread.complete = !!page.complete;
    state.thread.next = page.next || 0;
    update(() => {
      scrollToBottom();
      const box = document.querySelector('[data-testid="agent-composer"]');
      if (box && !box.disabled) box.focus({ preventScroll: true });
    });
    maybeMarkRead();
  } catch (e) {
    if (state.selected === conv && state.thread) state.thread.loading = false;
    update();
    failed(e, 'Opening the conversation');
  }
}

async function loadOlder() {
  const t = state.thread;
  if (!api || !t || t.loading || t.loadingOlder || t.complete) return;
  const before = t.next || (t.messages[0] ? t.messages[0].seq : 0);
  if (!before) return;
  t.loadingOlder = true;
  update();
  const conv = t.conv;
  try {
    const page = await api.messages(conv, { before, limit: PAGE });
    if (state.thread !== t) return;
    const el = threadEl();
    const fromBottom = el ? el.scrollHeight - el.scrollTop : 0;
    mergeMessages(page.messages || []);
    t.complete = !!page.complete;
    t.next = page.next || 0;
    t.loadingOlder = false;
    update(() => {
      const e2 = threadEl();
      if (e2) e2.scrollTop = e2.scrollHeight - fromBottom;
    });
  } catch (e) {
    t.loadingOlder = false;
    update();
    failed(e, 'Loading earlier messages');
  }
}

/** After a reconnect: everything after the newest message shown. */
async function catchUpThread() {
  const t = state.thread;
  if (!api || !t) return;
  try {
    let after = t.messages.length ? t.messages[t.messages.length - 1].seq : 0;
    for (let i = 0; i < 50; i++) {
      const page = await api.messages(t.conv, { after, limit: 200 });
      if (state.thread !== t) return;
      mergeMessages(page.messages || []);
      if (page.complete) break;
      const next = page.next || (page.messages.length ? page.messages[page.messages.length - 1].seq : 0);
      if (!(next > after)) break;
      after = next;
    }
    const stick = nearBottom();
    update(() => stick && scrollToBottom());
    maybeMarkRead();
  } catch (e) {
    failed(e, 'Catching up');
  }
}

const marked = new Map(); // conv -> highest seq we asked to mark read

function maybeMarkRead() {
  const t = state.thread;
  const c = state.current;
  if (!api || !t || t.loading || !c || c.conv !== t.conv) return;
  if (document.visibilityState !== 'visible') return;
  const last = t.messages.length ? t.messages[t.messages.length - 1].seq : 0;
  const seq = Math.max(last, c.last_seq || 0);
  if (!seq || seq <= (c.agent_read_seq || 0) || seq <= (marked.get(t.conv) || 0)) return;
  marked.set(t.conv, seq);
  api.markRead(t.conv, seq).catch((e) => {
    marked.delete(t.conv);
    failed(e, 'Marking as read');
  });
}

document.addEventListener('visibilitychange', () => maybeMarkRead());

// ------------------------------------------------------------------------------ composer

let typingConv = null;
let typingTimer = null;

function startTyping(conv) {
  clearTimeout(typingTimer);
  typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  if (typingConv === conv || !api) return;
  stopTyping();
  typingConv = conv;
  api.typing(conv, true).catch(() => {}); // ephemeral: a lost typing signal is harmless
  typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
}

function stopTyping() {
  clearTimeout(typingTimer);
  typingTimer = null;
  if (!typingConv) return;
  const conv = typingConv;
  typingConv = null;
  if (api) api.typing(conv, false).catch(() => {});
}

/** Posts an agent message; retried with the same cid, so the server stores it once. */
async function post(conv, body) {
  if (!api) return;
  const t = state.thread;
  const after = t && t.conv === conv && t.messages.length ? t.messages[t.messages.length - 1].seq : 0;
  // `after`: the newest seq shown when it was written, so the view can hide the entry as
  // soon as the pushed copy arrives (the push may beat the POST's answer).
  const entry = { cid: newCid(), conv, body, after, state: 'sending', error: '' };
  state.outbox = [...state.outbox, entry];
  update(scrollToBottom);
  await deliver(entry);
}

async function deliver(entry) {
  const mine = api;
  entry.state = 'sending';
  entry.error = '';
  update();
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await mine.postMessage(entry.conv, entry.body, entry.cid);
      state.outbox = state.outbox.filter((x) => x !== entry);
      if (state.thread && state.thread.conv === entry.conv && r && r.message) mergeMessages([r.message]);
      update(scrollToBottom);
      maybeMarkRead();
      return;
    } catch (e) {
      if (mine !== api) return;
      if (e instanceof ApiError && e.retryable && attempt < 4) {
        await new Promise((ok) => setTimeout(ok, 500 * 2 ** attempt));
        continue;
      }
      entry.state = 'failed';
      entry.error =
        e instanceof ApiError && e.status === 409
          ? 'Not sent: the conversation is closed. The customer starts a new ticket by writing again.'
          : `Not sent: ${e.message}`;
      update();
      if (!(e instanceof ApiError && e.status === 409)) failed(e, 'Sending');
      return;
    }
  }
}

// ------------------------------------------------------------------------------ actions

function noteFor(conv, text, kind) {
  state.note = { conv, text, kind };
  update();
}

const actions = {
  pickAgent(token) {
    state.signin = { ...state.signin, token };
    update();
  },
  signIn() {
    signIn(state.signin.token);
  },
  switchAgent(token) {
    if (state.me && token === state.me.token) return;
    signOut();
    signIn(token);
  },
  signOut() {
    storeToken('');
    signOut();
  },
  setFilter(f) {
    state.filter = f;
    update();
  },
  select(conv) {
    selectConversation(conv);
  },
  listKey(e) {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const rows = [...document.querySelectorAll('[data-testid="conv-row"]')];
    if (!rows.length) return;
    e.preventDefault();
    let i = rows.indexOf(document.activeElement);
    if (e.key === 'ArrowDown') i = Math.min(rows.length - 1, i + 1);
    else if (e.key === 'ArrowUp') i = Math.max(0, i - 1);
    else if (e.key === 'Home') i = 0;
    else i = rows.length - 1;
    rows[i].focus();
  },
  threadScroll(e) {
    if (e.target.scrollTop < 60) loadOlder();
  },
  loadOlder() {
    loadOlder();
  },
  draftInput(e) {
    const conv = state.selected;
    if (!conv) return;
    state.drafts.set(conv, e.target.value);
    if (e.target.value.trim()) startTyping(conv);
    else stopTyping();
  },
  composerKey(e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      actions.send();
    }
  },
  send(e) {
    if (e) e.preventDefault();
    const conv = state.selected;
    if (!conv) return;
    const box = document.querySelector('[data-testid="agent-composer"]');
    const text = (box ? box.value : state.drafts.get(conv) || '').trim();
    if (!text) return;
    state.drafts.set(conv, '');
    if (box) box.value = '';
    stopTyping();
    post(conv, { text });
  },
  retry(cid) {
    const entry = state.outbox.find((x) => x.cid === cid);
    if (entry) deliver(entry);
  },
  discard(cid) {
    state.outbox = state.outbox.filter((x) => x.cid !== cid);
    update();
  },
  sendCsat() {
    if (state.selected) post(state.selected, CSAT);
  },
  sendQuickReplies() {
    if (state.selected) post(state.selected, QUICK_REPLIES);
  },
  async setStatus(status) {
    const conv = state.selected;
    if (!api || !conv || state.busy.status) return;
    state.busy.status = status;
    update();
    try {
      const r = await api.setStatus(conv, status);
      const outcome = OUTCOME_LABEL[r.outcome] || r.outcome;
      noteFor(conv, `${STATUS_LABEL[r.status] || r.status} · ticket #${r.ticket} · ${outcome}`, 'ok');
      if (state.current && state.current.conv === conv) {
        state.current = { ...state.current, status: r.status, ticket: r.ticket };
      }
      refreshList();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) {
        noteFor(conv, `Not allowed: ${e.message}. A closed conversation stays closed; the customer starts a new ticket by writing again.`, 'error');
      } else {
        noteFor(conv, `Status not changed: ${e.message}`, 'error');
        failed(e, 'Changing the status');
      }
    } finally {
      state.busy.status = '';
      update();
    }
  },
  handoffTo(e) {
    state.handoff = { ...state.handoff, to: e.target.value };
    update();
  },
  handoffAddress(e) {
    state.handoff = { ...state.handoff, address: e.target.value };
  },
  async handoff(e) {
    if (e) e.preventDefault();
    const conv = state.selected;
    if (!api || !conv || state.busy.handoff) return;
    const { to, address } = state.handoff;
    let target;
    let label;
    if (to === 'bot' || to === 'queue') {
      target = { to };
      label = to === 'bot' ? 'the bot' : 'the queue';
    } else if (to.startsWith('agent:')) {
      const id = to.slice(6);
      target = { to: 'agent', agent_id: id };
      const a = (state.agents || DEMO_AGENTS).find((x) => x.id === id);
      label = a ? a.name : id;
    } else if (to.startsWith('channel:')) {
      const channel = to.slice(8);
      const addr = address.trim();
      if (!addr) {
        noteFor(conv, `Enter the customer's ${channel === 'email' ? 'e-mail address' : 'phone number'} first.`, 'error');
        document.querySelector('[data-testid="handoff-address"]')?.focus();
        return;
      }
      target = { to: 'channel', channel, address: addr };
      label = `${CHANNEL_LABEL[channel] || channel} (${addr})`;
    } else {
      return;
    }
    state.busy.handoff = true;
    update();
    try {
      const summary = await api.handoff(conv, target);
      if (summary && summary.conv === conv && state.selected === conv) state.current = summary;
      noteFor(conv, `Handed off to ${label}. Now with: ${ownerLabel(summary && summary.owner, state.me && state.me.id)}.`, 'ok');
      refreshList();
    } catch (err) {
      noteFor(conv, `Handoff refused: ${err.message}`, 'error');
      if (!(err instanceof ApiError && (err.status === 400 || err.status === 409))) failed(err, 'Handing off');
    } finally {
      state.busy.handoff = false;
      update();
    }
  },
  dismissToast(id) {
    dismissToast(id);
  },
};

// ------------------------------------------------------------------------------ start

setInterval(() => {
  state.now = Date.now();
  update();
}, 15000);

addEventListener('pagehide', () => stopTyping());

if (storedToken()) signIn(storedToken());
else update();
