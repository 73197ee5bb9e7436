// Templates of the agent console (lit-html). Pure: view(state, actions) → template. Every
// string from the server goes through a text binding, so customer text renders inert.

import { html, nothing, svg } from 'lit-html';
import { live } from 'lit-html/directives/live.js';
import { repeat } from 'lit-html/directives/repeat.js';
import {
  CHANNEL_LABEL,
  LEVEL_LABEL,
  STATUS_LABEL,
  awayChannel,
  channelsOf,
  clock,
  customerName,
  dateTime,
  dayLabel,
  sinceLabel,
  fileSize,
  initials,
  latencyLabel,
  ownerLabel,
  richItems,
  richSummary,
  shortDuration,
} from './agent-format.mjs';

// ------------------------------------------------------------------------------ icons

const ICON_PATHS = {
  web: svg`<circle cx="12" cy="12" r="9"/><path d="M3 12h18M12 3c2.5 2.7 3.8 5.7 3.8 9s-1.3 6.3-3.8 9c-2.5-2.7-3.8-5.7-3.8-9S9.5 5.7 12 3z"/>`,
  sms: svg`<path d="M4 5h16v11H9l-5 4z"/><path d="M8 10h8M8 13h5"/>`,
  whatsapp: svg`<path d="M4 20l1.3-4A8 8 0 1 1 8.5 19z"/><path d="M9 9.5c.3 2.2 2.3 4.3 4.5 4.8l1.2-1.2 1.8.8"/>`,
  email: svg`<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>`,
  messenger: svg`<path d="M12 3a9 8 0 0 0-5 14.6V21l3.3-1.8A9 8 0 1 0 12 3z"/>`,
  device: svg`<rect x="7" y="3" width="10" height="18" rx="2"/><path d="M11 18h2"/>`,
  handoff: svg`<path d="M4 12h13M13 7l5 5-5 5"/>`,
  clock: svg`<circle cx="12" cy="12" r="9"/><path d="M12 7v5l3 2"/>`,
  info: svg`<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5v.5"/>`,
  bot: svg`<rect x="5" y="8" width="14" height="11" rx="3"/><path d="M12 4v4M9 13h.01M15 13h.01"/>`,
  close: svg`<path d="M6 6l12 12M18 6L6 18"/>`,
  attach: svg`<path d="M20 11l-8 8a5 5 0 0 1-7-7l8-8a3.5 3.5 0 0 1 5 5l-8 8a2 2 0 0 1-3-3l7-7"/>`,
};

function icon(name, cls = '') {
  return html`<svg class="icon ${cls}" viewBox="0 0 24 24" aria-hidden="true" focusable="false">${ICON_PATHS[name] || ICON_PATHS.info}</svg>`;
}

function channelIcon(channel, active = true) {
  const label = CHANNEL_LABEL[channel] || channel;
  return html`<span class="chan chan-${channel} ${active ? '' : 'is-inactive'}" title=${label}
    >${icon(channel)}<span class="sr-only">${label}</span></span
  >`;
}

// ------------------------------------------------------------------------------ page

export function view(s, a) {
  if (!s.me) return signInView(s, a);
  return html`
    <a class="skip" href="#main">Skip to the conversation</a>
    ${header(s, a)}
    <div class="workspace">
      ${inbox(s, a)} ${threadView(s, a)} ${details(s, a)}
    </div>
    ${toasts(s, a)}
  `;
}

/** "You are: Grace / Alan": the demo agents, by token. */
function agentPicker(s, testid, token, onPick) {
  return html`<select data-testid=${testid} .value=${live(token)} @change=${(e) => onPick(e.target.value)}>
    ${s.demoAgents.map((ag) => html`<option value=${ag.token} ?selected=${ag.token === token}>${ag.name}</option>`)}
  </select>`;
}

function signInView(s, a) {
  return html`
    <main class="signin" aria-labelledby="signin-title">
      <form
        class="signin-card"
        @submit=${(e) => {
          e.preventDefault();
          a.signIn();
        }}
      >
        <div class="brand brand-lg"><span class="brand-mark" aria-hidden="true">P</span> Parley</div>
        <h1 id="signin-title">Agent console</h1>
        <p class="muted">Sign in as one of the demo agents to answer the store's customers.</p>
        <label class="field">
          <span>You are</span>
          ${agentPicker(s, 'signin-agent', s.signin.token, a.pickAgent)}
        </label>
        ${s.signin.error ? html`<p class="form-error" role="alert">${s.signin.error}</p>` : nothing}
        <button class="btn btn-primary" type="submit" data-testid="signin-go" ?disabled=${s.signin.busy}>
          ${s.signin.busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
    ${toasts(s, a)}
  `;
}

const CONN_LABEL = { live: 'Online', connecting: 'Connecting…', offline: 'Offline, reconnecting' };

function header(s, a) {
  const waiting = s.convs.filter((c) => isWaitingForAgent(c)).length;
  return html`
    <header class="top">
      <h1 class="brand"><span class="brand-mark" aria-hidden="true">P</span> Parley <span class="brand-sub">Agent console</span></h1>
      <div class="top-stats" aria-live="polite">
        <span class="stat"><strong>${waiting}</strong> waiting for a reply</span>
        <span class="stat"><strong>${s.convs.length}</strong> conversations</span>
      </div>
      <div class="top-me">
        <span class="conn conn-${s.conn}" data-testid="agent-presence" data-state=${s.conn}>
          <span class="dot" aria-hidden="true"></span>${CONN_LABEL[s.conn]}
        </span>
        <label class="me-select">
          <span>You are</span>
          ${agentPicker(s, 'agent-select', s.me.token, a.switchAgent)}
        </label>
        <span class="avatar avatar-me" aria-hidden="true">${initials(s.me.name)}</span>
        <button class="btn btn-ghost btn-sm" type="button" data-testid="sign-out" @click=${a.signOut}>Sign out</button>
      </div>
    </header>
  `;
}

// ------------------------------------------------------------------------------ inbox

function isWaitingForAgent(c) {
  return c.waiting_on === 'agent' && c.status !== 'solved' && c.status !== 'closed';
}

const FILTERS = [
  ['all', 'All'],
  ['waiting', 'Waiting'],
  ['mine', 'Mine'],
];

function filtered(s) {
  if (s.filter === 'waiting') return s.convs.filter(isWaitingForAgent);
  if (s.filter === 'mine') return s.convs.filter((c) => c.owner && c.owner.kind === 'agent' && c.owner.agent_id === s.me.id);
  return s.convs;
}

function inbox(s, a) {
  const list = filtered(s);
  const focusable = list.some((c) => c.conv === s.selected) ? s.selected : list[0] && list[0].conv;
  return html`
    <nav class="inbox" aria-label="Conversations">
      <div class="inbox-head">
        <h2 id="inbox-title">Inbox</h2>
        <div class="filters" role="group" aria-label="Show">
          ${FILTERS.map(
            ([id, label]) => html`<button
              type="button"
              class="filter ${s.filter === id ? 'is-on' : ''}"
              aria-pressed=${s.filter === id ? 'true' : 'false'}
              data-testid="filter-${id}"
              @click=${() => a.setFilter(id)}
            >
              ${label}
            </button>`,
          )}
        </div>
        <p class="inbox-order muted">Ordered by who to answer first</p>
      </div>
      ${!s.listLoaded
        ? html`<p class="empty">Loading…</p>`
        : list.length === 0
          ? html`<p class="empty">${s.filter === 'all' ? 'No conversations yet. Write from the store page to start one.' : 'Nothing here right now.'}</p>`
          : html`<ul class="conv-list" aria-labelledby="inbox-title" @keydown=${a.listKey}>
              ${repeat(
                list,
                (c) => c.conv,
                (c) => convRow(s, a, c, c.conv === focusable),
              )}
            </ul>`}
    </nav>
  `;
}

function convRow(s, a, c, focusable) {
  const name = customerName(c);
  const level = (c.engagement && c.engagement.level) || 'away';
  const present = !!(c.engagement && c.engagement.present);
  const unread = (c.last_seq || 0) > (c.agent_read_seq || 0);
  const typing = s.customerTyping.has(c.conv);
  const done = c.status === 'solved' || c.status === 'closed';
  const since = c.waiting_since && !done ? s.now - c.waiting_since : s.now - (c.updated_ts || s.now);
  const channels = [...new Set((c.channels || []).filter((b) => b.active).map((b) => b.channel))];
  if (channels.length === 0) channels.push('web');
  const selected = c.conv === s.selected;
  return html`<li>
    <button
      type="button"
      class="row ${selected ? 'is-selected' : ''} ${unread ? 'is-unread' : ''} ${done ? 'is-done' : ''}"
      data-testid="conv-row"
      data-conv=${c.conv}
      data-status=${c.status}
      data-unread=${unread ? 'true' : 'false'}
      aria-current=${selected ? 'true' : 'false'}
      tabindex=${focusable ? '0' : '-1'}
      @click=${() => a.select(c.conv)}
    >
      <span class="avatar lvl-${level}" aria-hidden="true"
        >${initials(name)}<span class="presence ${present ? 'is-on' : ''}"></span
      ></span>
      <span class="row-main">
        <span class="row-top">
          <span class="row-name">${name}</span>
          ${unread ? html`<span class="unread-dot" title="Unread"><span class="sr-only">Unread.</span></span>` : nothing}
          <span class="row-chans">${channels.map((ch) => channelIcon(ch))}</span>
          <span class="level level-${level}" title="Engagement: ${LEVEL_LABEL[level] || level}${present ? ', here now' : ''}"
            ><span class="level-bars" aria-hidden="true"><i></i><i></i><i></i></span><span class="sr-only"
              >Engagement ${LEVEL_LABEL[level] || level}${present ? ', here now' : ''}</span
            ></span
          >
          <span class="row-since" title=${c.waiting_since ? `Since ${dateTime(c.waiting_since)}` : ''}>${shortDuration(since)}</span>
        </span>
        <span class="row-preview ${typing ? 'is-typing' : ''}">${typing ? 'typing…' : c.preview || c.subject || 'No messages yet'}</span>
        <span class="row-tags">
          ${done
            ? nothing
            : c.waiting_on === 'agent'
              ? html`<span class="tag tag-you">Waiting for you</span>`
              : html`<span class="tag tag-customer">Waiting for customer</span>`}
          <span class="badge status-${c.status}">${STATUS_LABEL[c.status] || c.status}</span>
          <span class="owner owner-${c.owner ? c.owner.kind : 'none'}">${ownerLabel(c.owner, s.me.id)}</span>
        </span>
      </span>
    </button>
  </li>`;
}

// ------------------------------------------------------------------------------ thread

function authorLabel(m, s) {
  const au = m.author || {};
  if (au.role === 'visitor') return au.name || customerName(s.current);
  if (au.role === 'bot') return au.name || 'Bot';
  if (au.role === 'agent') return au.id && au.id === s.me.id ? `${au.name || 'You'} (you)` : au.name || au.id || 'Agent';
  return 'System';
}

function threadView(s, a) {
  const c = s.current;
  const t = s.thread;
  if (!t) {
    return html`<main class="thread" id="main" aria-label="Conversation">
      <div class="thread-empty">
        <div class="thread-empty-icon" aria-hidden="true">${icon('sms')}</div>
        <h2>Pick a conversation</h2>
        <p class="muted">The inbox lists the customers to answer first at the top: the ones waiting for you, most engaged and quickest to reply first.</p>
      </div>
    </main>`;
  }
  const name = c ? customerName(c) : '';
  const typing = s.customerTyping.has(t.conv);
  const closed = c && c.status === 'closed';
  const away = c ? awayChannel(c.channels) : null;
  const pending = s.outbox.filter((o) => o.conv === t.conv && !(o.state === 'sending' && echoed(s, t, o)));
  return html`<main class="thread" id="main" aria-labelledby="thread-title">
    <div class="thread-head">
      <div>
        <h2 id="thread-title">${name}</h2>
        <div class="thread-sub muted">
          ${c
            ? html`Ticket #${c.ticket} · <span class="badge status-${c.status}">${STATUS_LABEL[c.status] || c.status}</span> ·
                ${ownerLabel(c.owner, s.me.id)}${away ? html` · continuing on ${CHANNEL_LABEL[away.channel] || away.channel}` : nothing}`
            : nothing}
        </div>
      </div>
    </div>
    <div class="thread-scroll" id="thread-scroll" @scroll=${a.threadScroll} tabindex="0" aria-label="Messages" role="log">
      ${t.loading
        ? html`<p class="empty">Loading messages…</p>`
        : html`
            <div class="thread-top">
              ${t.complete
                ? html`<span class="muted">Start of the conversation</span>`
                : html`<button type="button" class="btn btn-ghost btn-sm" data-testid="load-older" ?disabled=${t.loadingOlder} @click=${a.loadOlder}>
                    ${t.loadingOlder ? 'Loading…' : 'Load earlier messages'}
                  </button>`}
            </div>
            ${messages(s, t, c)}
            ${repeat(
              pending,
              (o) => o.cid,
              (o) => pendingMessage(o, a),
            )}
          `}
      <div class="typing-row" aria-live="polite">
        ${typing
          ? html`<div class="typing" data-testid="customer-typing">
              <span class="typing-dots" aria-hidden="true"><i></i><i></i><i></i></span> ${name} is typing…
            </div>`
          : nothing}
      </div>
    </div>
    <form class="composer" @submit=${a.send}>
      <label class="sr-only" for="composer">Reply to ${name}</label>
      <textarea
        id="composer"
        data-testid="agent-composer"
        rows="3"
        placeholder=${closed ? 'This conversation is closed: the customer starts a new ticket by writing again.' : `Reply to ${name}…`}
        ?disabled=${closed}
        .value=${live(s.drafts.get(t.conv) || '')}
        @input=${a.draftInput}
        @keydown=${a.composerKey}
      ></textarea>
      <div class="composer-bar">
        <span class="muted composer-hint"
          >${away
            ? html`${icon(away.channel)} Also delivered by ${CHANNEL_LABEL[away.channel] || away.channel} to ${away.address}`
            : html`<kbd>Enter</kbd> to send · <kbd>Shift</kbd>+<kbd>Enter</kbd> for a new line`}</span
        >
        <span class="composer-actions">
          <button class="btn btn-ghost btn-sm" type="button" data-testid="send-quick-replies" ?disabled=${closed} @click=${a.sendQuickReplies}
            title="Ask whether anything else is needed, with quick-reply buttons">Quick replies</button>
          <button class="btn btn-ghost btn-sm" type="button" data-testid="send-csat" ?disabled=${closed} @click=${a.sendCsat}
            title="Ask the customer to rate this conversation from 1 to 5">Send CSAT survey</button>
          <button class="btn btn-primary" type="submit" data-testid="agent-send" ?disabled=${closed}>Send</button>
        </span>
      </div>
    </form>
  </main>`;
}

/** The pushed copy of a message still being posted is already in the thread. */
function echoed(s, t, o) {
  return t.messages.some(
    (m) => m.seq > o.after && m.author && m.author.role === 'agent' && m.author.id === s.me.id && m.body && m.body.text === o.body.text,
  );
}

function messages(s, t, c) {
  const via = channelsOf(t.messages, c ? c.channels : []);
  const visitorRead = c ? c.visitor_read_seq || 0 : 0;
  // The read receipt goes under the last agent or bot message.
  let lastOurs = 0;
  for (const m of t.messages) if (m.author && (m.author.role === 'agent' || m.author.role === 'bot') && !m.body.event) lastOurs = m.seq;
  const out = [];
  let day = '';
  for (const m of t.messages) {
    const d = dayLabel(m.ts);
    if (d !== day) {
      day = d;
      out.push(html`<div class="day" role="separator"><span>${d}</span></div>`);
    }
    out.push(message(s, m, via.get(m.seq), m.seq === lastOurs ? (visitorRead >= m.seq ? 'seen' : 'sent') : ''));
  }
  return out;
}

function systemIcon(ev) {
  if (!ev) return 'info';
  if (ev.type === 'handoff') return awayChannel(ev.channels) ? awayChannel(ev.channels).channel : 'handoff';
  if (ev.type === 'away') return 'clock';
  if (ev.type === 'channel') return ev.channel || 'handoff';
  return 'info';
}

function message(s, m, via, receipt) {
  const role = (m.author && m.author.role) || 'system';
  const body = m.body || {};
  if (role === 'system' || body.event) {
    const ev = body.event && typeof body.event === 'object' ? body.event : null;
    return html`<div class="sys" data-testid="agent-msg" data-author-role="system" data-seq=${m.seq} data-event=${ev && typeof ev.type === 'string' ? ev.type : ''}>
      ${icon(systemIcon(ev))}
      <span class="sys-text">${body.text || (ev && typeof ev.type === 'string' ? ev.type : 'Event')}</span>
      <time datetime=${new Date(m.ts).toISOString()} title=${dateTime(m.ts)}>${clock(m.ts)}</time>
    </div>`;
  }
  const side = role === 'visitor' ? 'theirs' : 'ours';
  return html`<div class="msg msg-${side} role-${role}" data-testid="agent-msg" data-author-role=${role} data-seq=${m.seq}>
    <div class="msg-meta">
      ${role === 'bot' ? icon('bot', 'icon-sm') : nothing}
      <span class="msg-author">${authorLabel(m, s)}</span>
      <time datetime=${new Date(m.ts).toISOString()} title=${dateTime(m.ts)}>${clock(m.ts)}</time>
      ${via && via.via ? html`<span class="via" data-testid="msg-via" data-channel=${via.via}>${icon(via.via, 'icon-sm')} via ${CHANNEL_LABEL[via.via] || via.via}</span>` : nothing}
      ${via && via.alsoTo ? html`<span class="via" data-channel=${via.alsoTo}>${icon(via.alsoTo, 'icon-sm')} also by ${CHANNEL_LABEL[via.alsoTo] || via.alsoTo}</span>` : nothing}
    </div>
    <div class="bubble ${m.deleted ? 'is-deleted' : ''}">
      ${m.deleted ? html`<span class="muted">Message deleted</span>` : html`${body.text ? html`<p class="text">${body.text}</p>` : nothing}${rich(body)}${attachments(body)}`}
    </div>
    ${m.edited_ts && !m.deleted ? html`<div class="msg-foot muted">edited</div>` : nothing}
    ${receipt ? html`<div class="msg-foot receipt receipt-${receipt}" data-testid="read-state" data-state=${receipt}>${receipt === 'seen' ? 'Seen by the customer' : 'Delivered'}</div>` : nothing}
  </div>`;
}

function rich(body) {
  const kind = body.rich;
  if (!kind || kind === 'none' || !body.payload || typeof body.payload !== 'object') return nothing;
  const items = richItems(kind, body.payload);
  const q = kind === 'csat' && typeof body.payload.question === 'string' ? body.payload.question : '';
  return html`<div class="rich rich-${kind}" data-rich=${kind}>
    <div class="rich-kind">${richSummary(kind, body.payload)}</div>
    ${q ? html`<div class="rich-q">${q}</div>` : nothing}
    <ul class="rich-items">
      ${items.map((label) => html`<li>${label}</li>`)}
    </ul>
  </div>`;
}

function attachments(body) {
  const list = Array.isArray(body.attachments) ? body.attachments : [];
  if (!list.length) return nothing;
  return html`<ul class="files">
    ${list.map((f) => html`<li>${icon('attach', 'icon-sm')} <span>${f.name}</span> <span class="muted">${fileSize(f.size)}</span></li>`)}
  </ul>`;
}

function pendingMessage(o, a) {
  return html`<div class="msg msg-ours role-agent is-${o.state}" data-testid="agent-msg-pending" data-state=${o.state}>
    <div class="msg-meta"><span class="msg-author">You</span><span class="muted">${o.state === 'sending' ? 'Sending…' : 'Not sent'}</span></div>
    <div class="bubble">
      ${o.body.text ? html`<p class="text">${o.body.text}</p>` : nothing}${rich(o.body)}
    </div>
    ${o.state === 'failed'
      ? html`<div class="msg-foot msg-error" role="alert">
          ${o.error}
          <button type="button" class="btn btn-ghost btn-sm" @click=${() => a.retry(o.cid)}>Retry</button>
          <button type="button" class="btn btn-ghost btn-sm" @click=${() => a.discard(o.cid)}>Discard</button>
        </div>`
      : nothing}
  </div>`;
}

// ------------------------------------------------------------------------------ details

const STATUS_ACTIONS = [
  ['pending', 'Pending'],
  ['on_hold', 'On hold'],
  ['solved', 'Solved'],
];

function details(s, a) {
  const c = s.current;
  if (!c || !s.thread) {
    return html`<aside class="details" aria-label="Customer details"><p class="empty">No conversation selected.</p></aside>`;
  }
  const eng = c.engagement || {};
  const level = eng.level || 'away';
  const name = customerName(c);
  const closed = c.status === 'closed';
  const others = (s.agents || s.demoAgents).filter((ag) => ag.id && ag.id !== s.me.id);
  const h = s.handoff;
  const channelTarget = h.to.startsWith('channel:') ? h.to.slice(8) : '';
  const note = s.note && s.note.conv === c.conv ? s.note : null;
  return html`<aside class="details" aria-label="Customer details">
    <section class="card customer">
      <div class="customer-head">
        <span class="avatar avatar-lg lvl-${level}" aria-hidden="true">${initials(name)}<span class="presence ${eng.present ? 'is-on' : ''}"></span></span>
        <div>
          <h2 class="customer-name">${name}</h2>
          <div class="muted mono" title="Customer id">${c.user}</div>
        </div>
      </div>
      <dl class="facts">
        <dt>Ticket</dt>
        <dd data-testid="ticket">#${c.ticket} <span class="badge status-${c.status}" data-testid="ticket-status">${STATUS_LABEL[c.status] || c.status}</span></dd>
        <dt>With</dt>
        <dd data-testid="owner">${ownerLabel(c.owner, s.me.id)}</dd>
        <dt>Style</dt>
        <dd>${styleLabel(c.style)}</dd>
        ${c.subject ? html`<dt>Subject</dt><dd class="clip">${c.subject}</dd>` : nothing}
      </dl>
    </section>

    <section class="card" data-testid="engagement" data-level=${level} data-present=${eng.present ? 'true' : 'false'} aria-labelledby="eng-title">
      <h3 id="eng-title">Engagement</h3>
      <div class="eng-level level-${level}">
        <span class="level-bars" aria-hidden="true"><i></i><i></i><i></i></span>
        <strong>${LEVEL_LABEL[level] || level}</strong>
        <span class="presence-label ${eng.present ? 'is-on' : ''}"><span class="dot" aria-hidden="true"></span>${eng.present ? 'Here now' : 'Not on the page'}</span>
      </div>
      <dl class="facts">
        <dt>Replies in</dt>
        <dd>${latencyLabel(eng.reply_latency_ms)}</dd>
        <dt>Waiting</dt>
        <dd>${c.waiting_on === 'agent' ? 'for you' : 'for the customer'}${c.waiting_since ? html` · ${shortDuration(s.now - c.waiting_since)}` : nothing}</dd>
      </dl>
    </section>

    <section class="card" aria-labelledby="chan-title">
      <h3 id="chan-title">Channels</h3>
      <ul class="channels" data-testid="channels">
        ${(c.channels || []).length === 0
          ? html`<li class="muted">Web chat only</li>`
          : c.channels.map(
              (b) => html`<li class="channel ${b.active ? 'is-active' : ''}" data-channel=${b.channel} data-active=${b.active ? 'true' : 'false'}>
                ${channelIcon(b.channel, b.active)}
                <span class="channel-main">
                  <span class="channel-name">${CHANNEL_LABEL[b.channel] || b.channel}${b.address ? html` <span class="mono">${b.address}</span>` : nothing}</span>
                  <span class="muted" title=${dateTime(b.since)}>since ${sinceLabel(b.since)}</span>
                </span>
                <span class="badge ${b.active ? 'badge-on' : 'badge-off'}">${b.active ? 'Active' : 'Inactive'}</span>
              </li>`,
            )}
      </ul>
    </section>

    <section class="card" aria-labelledby="status-title">
      <h3 id="status-title">Status</h3>
      <div class="status-buttons" role="group" aria-labelledby="status-title">
        ${STATUS_ACTIONS.map(
          ([id, label]) => html`<button
            type="button"
            class="btn btn-status ${c.status === id ? 'is-current' : ''}"
            data-testid="status-${id}"
            aria-pressed=${c.status === id ? 'true' : 'false'}
            ?disabled=${closed || !!s.busy.status}
            @click=${() => a.setStatus(id)}
          >
            ${s.busy.status === id ? '…' : label}
          </button>`,
        )}
      </div>
      ${note ? html`<p class="note note-${note.kind}" data-testid="action-note" data-kind=${note.kind} role=${note.kind === 'error' ? 'alert' : 'status'}>${note.text}</p>` : nothing}
    </section>

    <section class="card" aria-labelledby="handoff-title">
      <h3 id="handoff-title">Hand off</h3>
      <form class="handoff" @submit=${a.handoff}>
        <label class="field">
          <span>To</span>
          <select data-testid="handoff-to" .value=${live(h.to)} @change=${a.handoffTo}>
            <option value="bot" ?selected=${h.to === 'bot'}>Bot</option>
            <option value="queue" ?selected=${h.to === 'queue'}>Queue</option>
            ${others.length
              ? html`<optgroup label="Agent">
                  ${others.map(
                    (ag) =>
                      html`<option value="agent:${ag.id}" ?selected=${h.to === `agent:${ag.id}`}>${ag.name}${ag.present === true ? ' (online)' : ag.present === false ? ' (away)' : ''}</option>`,
                  )}
                </optgroup>`
              : nothing}
            <optgroup label="Channel">
              ${['sms', 'whatsapp', 'email'].map(
                (ch) => html`<option value="channel:${ch}" ?selected=${h.to === `channel:${ch}`}>${CHANNEL_LABEL[ch]}</option>`,
              )}
            </optgroup>
          </select>
        </label>
        <div class="handoff-row">
        <label class="field ${channelTarget ? '' : 'is-disabled'}">
          <span>${channelTarget === 'email' ? 'E-mail address' : 'Phone number'}</span>
          <input
            data-testid="handoff-address"
            type=${channelTarget === 'email' ? 'email' : 'tel'}
            autocomplete="off"
            placeholder=${channelTarget === 'email' ? 'name@example.com' : '+15551234567'}
            ?disabled=${!channelTarget}
            .value=${live(h.address)}
            @input=${a.handoffAddress}
          />
        </label>
        <button class="btn" type="submit" data-testid="handoff-go" ?disabled=${s.busy.handoff || closed}>${s.busy.handoff ? '…' : 'Hand off'}</button>
        </div>
      </form>
    </section>

  </aside>`;
}

function styleLabel(style) {
  return { live_chat: 'Live chat', live_chat_returning: 'Returning customer', social_messaging: 'Social messaging' }[style] || style || '';
}

// ------------------------------------------------------------------------------ toasts

function toasts(s, a) {
  return html`<div class="toasts" role="status" aria-live="polite" data-testid="toasts">
    ${repeat(
      s.toasts,
      (t) => t.id,
      (t) => html`<div class="toast toast-${t.kind}" data-testid="toast">
        <span>${t.text}</span>
        <button type="button" class="toast-close" aria-label="Dismiss" @click=${() => a.dismissToast(t.id)}>${icon('close')}</button>
      </div>`,
    )}
  </div>`;
}
