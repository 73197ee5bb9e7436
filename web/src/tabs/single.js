// One page, one tab: the tabs module of the webview bundle (web/build.mjs aliases
// ./tabs/leader.js to this file for parley-webview.mjs). A native app's webview shows
// exactly one page, so there is nothing to elect and nobody to mirror: this page leads as
// soon as it starts, like leader.js's own "single" mode (no BroadcastChannel), without the
// Web Locks and lease code. Same interface as leader.js's createTabs.

function tabError(code, message) {
  return Object.assign(new Error(message), { code, recoverable: 'recoverable' });
}

/** @param {{onBecomeLeader?: () => void, onLoseLeadership?: () => void, onMessage?: Function, onRequest?: Function, user?: string}} o */
export function createTabs(o) {
  const id = 'single';
  let user = o.user || '';
  let leader = false;
  let closed = false;
  const safe = (fn) => {
    try {
      if (fn) fn();
    } catch (e) {
      setTimeout(() => {
        throw e;
      });
    }
  };
  setTimeout(() => {
    if (closed) return;
    leader = true;
    safe(o.onBecomeLeader);
  });
  return {
    id,
    mode: 'single',
    get isLeader() {
      return leader;
    },
    get leaderId() {
      return leader ? id : '';
    },
    get user() {
      return user;
    },
    setUser(u) {
      user = u || '';
    },
    /** No other tab to tell. */
    post() {
      if (closed) throw tabError('closed', 'tabs: closed');
    },
    /** Answered here, by this page's own handler. */
    request(cmd) {
      if (closed) return Promise.reject(tabError('closed', 'tabs: closed'));
      const handler = o.onRequest || o.onMessage;
      return Promise.resolve().then(() => (handler ? handler(cmd, { from: id, user, fromLeader: true, request: true }) : undefined));
    },
    close() {
      if (closed) return;
      closed = true;
      if (leader) {
        leader = false;
        safe(o.onLoseLeadership);
      }
    },
  };
}

export default createTabs;
