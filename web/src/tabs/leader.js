// Multi-tab coordination (DESIGN.md "Multiple tabs", guarantee 7): one leader tab per app
// owns the core and the network connection; the other tabs mirror its state and route their
// commands to it.
//
// Election
//   Web Locks: every tab asks for the exclusive lock `parley:<app>:leader` and holds it for
//   its lifetime once granted; the browser queues the others and hands the lock to the next
//   one when the holder closes, navigates away or crashes.
//   Fallback (no navigator.locks): a lease on the BroadcastChannel. The leader repeats
//   `lease` every heartbeatMs; when none has been heard for expireMs (or the leader says
//   `resign` as it goes), a follower claims the next term, waits claimMs for a better claim
//   or a live leader, then leads. (term, tab id) orders leaders: a leader that hears a
//   greater one steps down, so two leaders never last longer than one message.
//   No BroadcastChannel: every tab leads its own connection ("single").
//
// Messages (BroadcastChannel `parley:<app>`), each an envelope {p, k, from, user, ...}:
//   post(msg)      -> every other tab's onMessage(msg, meta)
//   request(cmd)   -> the leader's onRequest(cmd, meta) (or onMessage when no onRequest);
//                     its return value (or promise) answers; rejected on timeout, or with
//                     code `leader_lost` when the leader went away before answering (the
//                     command may or may not have run: requests are never re-sent).

const PROTOCOL = 'parley-tabs/1';
const LEASE_DEFAULTS = { heartbeatMs: 200, expireMs: 800, claimMs: 120, startupMs: 250 };

function randomId() {
  const c = globalThis.crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  return `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
}

function tabError(code, message) {
  return Object.assign(new Error(message), { code, recoverable: 'recoverable' });
}

/** (term, id) order of leaders: true when a outranks b. */
function outranks(aTerm, aId, bTerm, bId) {
  return aTerm > bTerm || (aTerm === bTerm && aId < bId);
}

/**
 * @param {object} o
 * @param {string} o.app
 * @param {string} [o.user]  carried in every envelope (meta.user); names do not depend on it
 * @param {() => void} [o.onBecomeLeader]
 * @param {() => void} [o.onLoseLeadership]
 * @param {(msg: any, meta: {from: string, user: string, fromLeader: boolean, request: boolean}) => any} [o.onMessage]
 * @param {(cmd: any, meta: object) => any} [o.onRequest]  answers requests (leader only)
 * @param {number} [o.requestTimeoutMs]  default 5000
 * @param {{heartbeatMs?: number, expireMs?: number, claimMs?: number, startupMs?: number}} [o.lease]
 * @param {any} [o.locks]  a LockManager (default navigator.locks; null: use the lease)
 * @param {any} [o.BroadcastChannel]  the constructor (default the global; null: none)
 */
export function createTabs(o) {
  const app = o.app;
  if (!app || typeof app !== 'string') throw new TypeError('createTabs: app is required');
  const id = randomId();
  const lease = { ...LEASE_DEFAULTS, ...(o.lease || {}) };
  const requestTimeoutMs = o.requestTimeoutMs ?? 5000;
  const BC = 'BroadcastChannel' in o ? o.BroadcastChannel : globalThis.BroadcastChannel;
  const nav = globalThis.navigator;
  const locks = 'locks' in o ? o.locks : nav && nav.locks;
  const hasLocks = !!(locks && typeof locks.request === 'function');
  const mode = typeof BC !== 'function' ? 'single' : hasLocks ? 'locks' : 'lease';
  const channel = mode === 'single' ? null : new BC(`parley:${app}`);

  let user = o.user || '';
  let leader = false;
  let leaderId = '';
  let closed = false;
  let rseq = 0;
  const pending = new Map(); // rid -> {resolve, reject, to, timer}
  const leaderWaiters = new Set(); // () => void, called when a leader becomes known

  // lease-mode state
  let term = 0; // the term of the leader we follow (or lead)
  let leaseUntil = 0;
  let candidate = 0; // the term we claim, 0 when not claiming
  let leaseTimer = 0;
  let beatTimer = 0;
  let claimTimer = 0;

  // locks-mode state
  let releaseLock = null;
  const lockAbort = typeof AbortController === 'function' ? new AbortController() : null;

  function safe(fn, ...args) {
    if (typeof fn !== 'function') return undefined;
    try {
      return fn(...args);
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
      return undefined;
    }
  }

  function send(k, fields = {}) {
    if (!channel || closed) return;
    channel.postMessage({ p: PROTOCOL, k, from: id, user, ...fields });
  }

  function setLeaderId(next) {
    if (next === leaderId) return;
    const old = leaderId;
    leaderId = next;
    if (old) {
      for (const [rid, p] of pending) {
        if (p.to === old) {
          pending.delete(rid);
          clearTimeout(p.timer);
          p.reject(tabError('leader_lost', 'the leader tab went away before answering'));
        }
      }
    }
    if (next) for (const w of [...leaderWaiters]) w();
  }

  function becomeLeader() {
    if (leader || closed) return;
    leader = true;
    setLeaderId(id);
    announce();
    safe(o.onBecomeLeader);
  }

  function loseLeadership() {
    if (!leader) return;
    leader = false;
    if (leaderId === id) setLeaderId('');
    clearTimeout(beatTimer);
    safe(o.onLoseLeadership);
  }

  function announce() {
    if (mode === 'locks') send('leader');
    else if (mode === 'lease') send('lease', { term });
  }

  // ------------------------------------------------------------------ Web Locks
  function startLocks() {
    const opts = lockAbort ? { signal: lockAbort.signal } : {};
    Promise.resolve()
      .then(() =>
        locks.request(`parley:${app}:leader`, opts, () => {
          if (closed) return undefined;
          becomeLeader();
          return new Promise((ok) => (releaseLock = ok)); // held for the tab's lifetime
        }),
      )
      .catch(() => {
        // aborted by close(), or stolen by another context
      })
      .finally(() => {
        releaseLock = null;
        loseLeadership();
      });
    send('whois');
  }

  // ------------------------------------------------------------------ lease
  function armExpiry() {
    clearTimeout(leaseTimer);
    if (closed || leader || candidate) return;
    const wait = Math.max(0, leaseUntil - Date.now());
    leaseTimer = setTimeout(() => {
      if (closed || leader || candidate) return;
      if (Date.now() < leaseUntil) return armExpiry();
      setLeaderId('');
      claim();
    }, wait + 1);
  }

  function claim() {
    if (closed || leader || candidate) return;
    candidate = term + 1;
    send('claim', { term: candidate });
    clearTimeout(claimTimer);
    claimTimer = setTimeout(() => {
      if (closed || !candidate) return;
      term = candidate;
      candidate = 0;
      becomeLeader();
      heartbeat();
    }, lease.claimMs + Math.floor(Math.random() * (lease.claimMs / 2)));
  }

  function abandonClaim() {
    if (!candidate) return;
    candidate = 0;
    clearTimeout(claimTimer);
  }

  function heartbeat() {
    clearTimeout(beatTimer);
    if (!leader || closed) return;
    send('lease', { term });
    beatTimer = setTimeout(heartbeat, lease.heartbeatMs);
  }

  /** A live leader (term, from) was heard. */
  function follow(t, from) {
    if (leader) {
      if (!outranks(t, from, term, id)) {
        send('lease', { term }); // we outrank it: tell it at once
        return;
      }
      loseLeadership();
    }
    if (candidate && t < candidate - 1) return; // an older leader than the one we replace
    if (t < term) return; // a stale leader: it steps down when it hears ours
    abandonClaim();
    term = t;
    leaseUntil = Date.now() + lease.expireMs;
    setLeaderId(from);
    armExpiry();
  }

  function onLeaseMessage(m) {
    if (m.k === 'lease' && Number.isFinite(m.term)) {
      follow(m.term, m.from);
    } else if (m.k === 'claim' && Number.isFinite(m.term)) {
      if (leader) send('lease', { term }); // still here: claimants back off
      else if (candidate && (m.term > candidate || (m.term === candidate && m.from < id))) {
        abandonClaim();
        leaseUntil = Date.now() + lease.expireMs; // let the better claimant lead
        armExpiry();
      }
    } else if (m.k === 'resign' && m.from === leaderId && !leader) {
      setLeaderId('');
      leaseUntil = 0;
      // A little jitter spreads the claims of several followers.
      clearTimeout(leaseTimer);
      leaseTimer = setTimeout(claim, Math.floor(Math.random() * 30));
    }
  }

  function startLease() {
    send('whois');
    leaseUntil = Date.now() + lease.startupMs;
    armExpiry();
  }

  function resignLease() {
    if (!leader) return;
    send('resign', { term });
    loseLeadership();
  }

  // ------------------------------------------------------------------ messages
  function onChannelMessage(ev) {
    const m = ev.data;
    if (closed || !m || m.p !== PROTOCOL || m.from === id) return;
    if (mode === 'lease') onLeaseMessage(m);
    switch (m.k) {
      case 'leader':
        if (mode === 'locks' && !leader) setLeaderId(m.from);
        break;
      case 'resign':
        if (mode === 'locks' && m.from === leaderId) setLeaderId('');
        break;
      case 'whois':
        if (leader) announce();
        break;
      case 'msg':
        safe(o.onMessage, m.body, { from: m.from, user: m.user, fromLeader: m.from === leaderId, request: false });
        break;
      case 'req':
        if (m.to === id) answer(m);
        break;
      case 'res':
        if (m.to === id) settle(m);
        break;
      default:
        break;
    }
  }

  async function answer(m) {
    if (!leader) {
      send('res', { to: m.from, rid: m.rid, ok: false, error: { code: 'not_leader', message: 'this tab does not lead' } });
      return;
    }
    const handler = o.onRequest || o.onMessage;
    const meta = { from: m.from, user: m.user, fromLeader: false, request: true };
    try {
      const value = await (handler ? handler(m.body, meta) : undefined);
      send('res', { to: m.from, rid: m.rid, ok: true, value });
    } catch (e) {
      const error = {
        code: (e && e.code) || 'invalid_command',
        recoverable: (e && e.recoverable) || 'permanent',
        message: e && e.message ? e.message : String(e),
      };
      send('res', { to: m.from, rid: m.rid, ok: false, error });
    }
  }

  function settle(m) {
    const p = pending.get(m.rid);
    if (!p) return;
    pending.delete(m.rid);
    clearTimeout(p.timer);
    if (m.ok) p.resolve(m.value);
    else p.reject(Object.assign(new Error(m.error && m.error.message), m.error || {}));
  }

  function post(msg) {
    if (closed) throw tabError('closed', 'tabs: closed');
    send('msg', { body: msg });
  }

  function request(cmd, { timeoutMs = requestTimeoutMs } = {}) {
    if (closed) return Promise.reject(tabError('closed', 'tabs: closed'));
    const local = () => {
      const handler = o.onRequest || o.onMessage;
      return Promise.resolve().then(() =>
        handler ? handler(cmd, { from: id, user, fromLeader: true, request: true }) : undefined,
      );
    };
    if (leader || mode === 'single') return local();
    return new Promise((resolve, reject) => {
      const rid = `${id}:${++rseq}`;
      let waiter = null;
      const timer = setTimeout(() => {
        if (waiter) leaderWaiters.delete(waiter);
        pending.delete(rid);
        reject(tabError('timeout', `no answer from the leader tab within ${timeoutMs} ms`));
      }, timeoutMs);
      const go = () => {
        if (waiter) leaderWaiters.delete(waiter);
        if (leader) {
          clearTimeout(timer);
          local().then(resolve, reject);
          return;
        }
        pending.set(rid, { resolve, reject, to: leaderId, timer });
        send('req', { to: leaderId, rid, body: cmd });
      };
      if (leaderId) go();
      else {
        waiter = go;
        leaderWaiters.add(waiter);
        send('whois');
      }
    });
  }

  function onPageHide(ev) {
    // Going away: hand over at once (followers need not wait for the lease to run out or
    // for the next leader's announcement). Into the back/forward cache: resign, rejoin on
    // pageshow. (A page holding a Web Lock is not put in that cache.)
    if (!(ev && ev.persisted)) close();
    else if (mode === 'lease') resignLease();
  }

  function onPageShow(ev) {
    if (mode === 'lease' && ev && ev.persisted && !closed) startLease();
  }

  function close() {
    if (closed) return;
    if (mode === 'lease') resignLease();
    if (mode === 'locks' && leader) send('resign');
    closed = true;
    clearTimeout(leaseTimer);
    clearTimeout(beatTimer);
    clearTimeout(claimTimer);
    if (releaseLock) releaseLock();
    if (lockAbort) lockAbort.abort();
    loseLeadership();
    for (const [, p] of pending) {
      clearTimeout(p.timer);
      p.reject(tabError('closed', 'tabs: closed'));
    }
    pending.clear();
    leaderWaiters.clear();
    if (channel) {
      channel.removeEventListener('message', onChannelMessage);
      channel.close();
    }
    if (globalThis.removeEventListener) {
      globalThis.removeEventListener('pagehide', onPageHide);
      globalThis.removeEventListener('pageshow', onPageShow);
    }
  }

  if (channel) channel.addEventListener('message', onChannelMessage);
  if (globalThis.addEventListener) {
    globalThis.addEventListener('pagehide', onPageHide);
    globalThis.addEventListener('pageshow', onPageShow);
  }
  if (mode === 'locks') startLocks();
  else if (mode === 'lease') startLease();
  else setTimeout(becomeLeader, 0);

  return {
    id,
    mode,
    get isLeader() {
      return leader;
    },
    get leaderId() {
      return leaderId;
    },
    get user() {
      return user;
    },
    setUser(u) {
      user = u || '';
    },
    post,
    request,
    close,
  };
}

export default createTabs;
