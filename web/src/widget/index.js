// <parley-messenger>: the widget. A view of the core's state (through the public API in
// ../parley.js) with no conversation rules of its own: it renders parley.conversations(),
// parley.messages(conv), parley.connection/unread/availability/storage and turns the
// visitor's actions into API commands.
//
//   import { defineParleyMessenger, mount } from '.../widget/index.js';
//   defineParleyMessenger();   // then <parley-messenger app-id="acme" server="https://…">
//   mount(await Parley.create({...}), document.body, { locale: 'fr', position: 'left' });
//
// Attributes: app-id, server, locale, position (right|left). `el.parley = instance` before
// the element is connected uses that instance instead of creating one; `el.createOptions`
// adds Parley.create options (coreModuleUrl, requireConsent, user, …).

import { create } from '../parley.js';
import { renderBody, setBodyRenderer } from './body.js';
import { renderBody as renderRich } from './rich.js';
import { h, reconcile } from './dom.js';
import { pickLocale } from './i18n/index.js';
import { styleSheet } from './styles.js';

export { renderBody, setBodyRenderer };

// Messages render through the rich renderer (markdown for agents and bots, safe links,
// quick replies, buttons, carousel, form, CSAT), all built as inert DOM.
setBodyRenderer(renderRich);

const TAG = 'parley-messenger';
const TYPING_IDLE_MS = 3000;
const RECONNECTING = new Set(['connecting', 'handshaking', 'backoff']);
const SVG = 'http://www.w3.org/2000/svg';
const ICON = 'M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z';

/** A short notification beep (WebAudio, no asset). */
function beep() {
  try {
    const a = new AudioContext();
    const o = a.createOscillator();
    const g = a.createGain();
    g.gain.value = 0.05;
    o.frequency.value = 880;
    o.connect(g).connect(a.destination);
    o.start();
    o.stop(a.currentTime + 0.15);
    o.onended = () => a.close();
  } catch {}
}

const dayKey = (ts) => {
  const d = new Date(ts);
  return `${d.getFullYear()}-${d.getMonth()}-${d.getDate()}`;
};

export class ParleyMessenger extends HTMLElement {
  static get observedAttributes() {
    return ['locale', 'position'];
  }

  constructor() {
    super();
    // `el.parley = instance` set before the element was upgraded is an own property that
    // would hide the accessor: take it over.
    const given = Object.prototype.hasOwnProperty.call(this, 'parley') ? this.parley : null;
    delete this.parley;
    this.parley = given;
    this.createOptions = this.createOptions || {};
    this.view = 'thread'; // 'thread' | 'list'
    this.conv = null; // the conversation shown in the thread (null: a new one on send)
    this.editing = null; // cid of the queued message being edited
    this.nodes = new Map(); // message key -> { sig, el }
    this.marked = new Map(); // conv -> last seq we marked read
    this.error = null;
    this.off = [];
  }

  connectedCallback() {
    if (!this.shadowRoot) this.build();
    if (this.started) return;
    this.started = true;
    if (this.parley) this.bind(this.parley);
    else this.createInstance();
  }

  disconnectedCallback() {
    // Moving the element keeps it; removal for good is destroy().
  }

  attributeChangedCallback() {
    if (this.shadowRoot) this.applyLocale();
  }

  async createInstance() {
    const appId = this.getAttribute('app-id');
    const server = this.getAttribute('server');
    try {
      const p = await create({ appId, server, locale: this.l10n.locale, ...this.createOptions });
      this.bind(p);
    } catch (e) {
      this.showError(e);
    }
  }

  /** Stops listening; destroys the instance only if the element created it. */
  async destroy() {
    for (const f of this.off) f();
    this.off = [];
    clearTimeout(this.typingTimer);
    if (this.parley && this.ownsParley) await this.parley.destroy();
  }

  // ------------------------------------------------------------------ structure
  build() {
    const root = this.attachShadow({ mode: 'open' });
    root.adoptedStyleSheets = [styleSheet()];
    const t = (k) => this.t(k);
    this.badge = h('span', { class: 'badge', 'aria-hidden': 'true', hidden: true });
    this.launcher = h('button', {
      class: 'launcher',
      type: 'button',
      'aria-haspopup': 'dialog',
      'aria-expanded': 'false',
      onclick: () => (this.panel.hidden ? this.open() : this.close()),
    });
    const svg = document.createElementNS(SVG, 'svg');
    const path = document.createElementNS(SVG, 'path');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    path.setAttribute('d', ICON);
    svg.append(path);
    this.launcher.append(svg, this.badge);

    this.titleEl = h('h2', { id: 'pt' });
    this.subEl = h('p');
    this.backBtn = h('button', { type: 'button', class: 'back', onclick: () => this.showList() }, '‹');
    this.closeBtn = h('button', { type: 'button', class: 'x', onclick: () => this.close(true) }, '×');
    this.moreBtn = h('button', { type: 'button', class: 'more', 'aria-expanded': 'false', onclick: () => this.toggleSheet() }, '⇄');
    this.sheet = h('div', { class: 'sheet', hidden: true });
    this.ended = h('div', { class: 'ended', hidden: true });
    this.banners = h('div', { class: 'banners' });
    this.listEl = h('ul', { class: 'list' });
    this.newBtn = h('button', { type: 'button', class: 'primary', onclick: () => this.newConversation() });
    this.listView = h('div', { class: 'listview' }, this.listEl, this.newBtn);
    // column-reverse: the scroll position is anchored at the bottom, so new messages stay in
    // view and older pages prepended at the top (or messages settling their real height,
    // content-visibility) do not move what the visitor is reading.
    this.inner = h('div', { class: 'inner' });
    this.log = h('div', { class: 'log', role: 'log', 'aria-live': 'polite', tabindex: '0' }, this.inner);
    this.log.addEventListener('scroll', () => this.onScroll(), { passive: true });
    this.typingEl = h('div', { class: 'typing', role: 'status' });
    this.ta = h('textarea', {
      rows: '1',
      enterkeyhint: 'send',
      oninput: () => this.onInput(),
      onkeydown: (e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.submit();
        }
      },
    });
    this.sendBtn = h('button', { type: 'submit', class: 'send' });
    this.editBar = h('div', { class: 'editing', hidden: true });
    this.form = h(
      'form',
      {
        onsubmit: (e) => {
          e.preventDefault();
          this.submit();
        },
      },
      this.editBar,
      h('div', { class: 'row' }, this.ta, this.sendBtn),
    );
    this.threadView = h('div', { class: 'threadview' }, this.log, this.typingEl, this.sheet, this.ended, this.form);
    this.panel = h(
      'div',
      {
        class: 'panel',
        role: 'dialog',
        'aria-labelledby': 'pt',
        hidden: true,
        onkeydown: (e) => {
          if (e.key === 'Escape') {
            e.stopPropagation();
            this.close(true);
          }
        },
      },
      h('header', null, this.backBtn, h('div', { class: 't' }, this.titleEl, this.subEl), this.moreBtn, this.closeBtn),
      this.banners,
      this.listView,
      this.threadView,
    );
    root.append(this.panel, this.launcher);
    this.applyLocale();
  }

  t(key, vars) {
    return this.l10n.t(key, vars);
  }

  applyLocale() {
    this.l10n = pickLocale(this.getAttribute('locale') || this.createOptions.locale);
    const { locale, dir } = this.l10n;
    this.fmtDay = new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric' });
    this.fmtTime = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
    this.fmtWhen = new Intl.DateTimeFormat(locale, { weekday: 'long', hour: 'numeric', minute: '2-digit' });
    this.panel.setAttribute('dir', dir);
    this.panel.setAttribute('lang', locale);
    const t = (k) => this.t(k);
    this.closeBtn.setAttribute('aria-label', t('close'));
    this.backBtn.setAttribute('aria-label', t('back'));
    this.moreBtn.setAttribute('aria-label', t('handoff'));
    this.newBtn.textContent = t('newConversation');
    this.listEl.setAttribute('aria-label', t('conversations'));
    this.log.setAttribute('aria-label', t('log'));
    this.ta.setAttribute('aria-label', t('composer'));
    this.ta.setAttribute('placeholder', t('placeholder'));
    this.nodes.clear();
    this.renderAll();
  }

  // ------------------------------------------------------------------ state
  bind(parley) {
    this.parley = parley;
    this.ownsParley = !this._given;
    const on = (name, fn) => this.off.push(parley.on(name, fn));
    on('conversations', () => {
      this.renderList();
      this.renderHeader();
      this.renderTyping();
    });
    on('messages', ({ conv }) => {
      if (conv === this.conv) this.renderThread();
      if (conv === this.conv && this.linkWait) this.renderLink();
    });
    on('connection', () => this.renderBanners());
    on('storage', () => this.renderBanners());
    on('availability', () => this.renderHeader());
    on('unread', (n) => {
      this.renderLauncher();
      // Every tab shows the count in the title; only the leader tab beeps (page hidden).
      const base = document.title.replace(/^\(\d+\) /, '');
      document.title = n ? `(${n}) ${base}` : base;
      if (n > (this.lastUnread || 0) && parley.isLeader && document.hidden) beep();
      this.lastUnread = n;
    });
    on('error', (e) => this.showError(e));
    on('wiped', () => {
      this.conv = null;
      this.nodes.clear();
      this.renderAll();
    });
    this.onVisible = () => this.markRead();
    document.addEventListener('visibilitychange', this.onVisible);
    this.off.push(() => document.removeEventListener('visibilitychange', this.onVisible));
    // A link from "continue on another device": <page>#parley-resume=<token>.
    const m = /[#&]parley-resume=([^&]+)/.exec(location.hash);
    if (m) {
      history.replaceState(null, '', location.href.split('#')[0]);
      this.act(() => parley.resume(decodeURIComponent(m[1])));
    }
    this.lastUnread = parley.unread;
    this.renderAll();
  }

  set parley(p) {
    this._parley = p;
    if (p && !this.started) this._given = true;
  }

  get parley() {
    return this._parley;
  }

  entries() {
    return this.parley ? this.parley.conversations() : [];
  }

  entry(conv) {
    return this.entries().find((e) => e.conv.id === conv);
  }

  renderAll() {
    this.renderLauncher();
    this.renderBanners();
    this.renderHeader();
    this.renderList();
    this.renderThread();
    this.renderTyping();
    this.renderComposer();
  }

  renderLauncher() {
    const n = this.parley ? this.parley.unread : 0;
    this.badge.hidden = !n;
    this.badge.textContent = n > 99 ? '99+' : String(n);
    this.launcher.setAttribute('aria-label', n ? this.t('openUnread', { n }) : this.t('open'));
  }

  renderBanners() {
    const p = this.parley;
    const items = [];
    const banner = (cls, text, button) => h('div', { class: `banner ${cls}`, role: 'status' }, h('span', null, text), button);
    if (p) {
      if (p.connection === 'offline') items.push(banner('off', this.t('offline')));
      else if (RECONNECTING.has(p.connection)) items.push(banner('', this.t('reconnecting')));
      if (!p.storage.persistent) {
        const consent = /consent/.test(p.storage.reason);
        const btn = consent && h('button', { type: 'button', onclick: () => this.act(() => p.consent()) }, this.t('saveHistory'));
        items.push(banner('info', this.t(consent ? 'consentNote' : 'notSaved'), btn));
      }
    }
    if (this.error) {
      const dismiss = h('button', { type: 'button', onclick: () => ((this.error = null), this.renderBanners()) }, this.t('dismiss'));
      items.push(banner('off', this.t('error', { reason: this.error }), dismiss));
    }
    this.banners.replaceChildren(...items);
  }

  showError(e) {
    this.error = (e && (e.message || e.code)) || String(e);
    this.renderBanners();
  }

  renderHeader() {
    const thread = this.view === 'thread';
    this.backBtn.hidden = !thread || !this.entries().length;
    this.listView.hidden = thread;
    this.threadView.hidden = !thread;
    const entry = thread && this.conv && this.entry(this.conv);
    const owner = entry && entry.conv.owner;
    let title = this.t('title');
    if (thread && entry) title = entry.conv.subject || this.t('untitled');
    this.titleEl.textContent = title;
    let sub = '';
    if (owner && owner.kind === 'agent' && owner.agent_name) sub = owner.agent_name;
    else if (owner && owner.kind === 'queue' && owner.queue_position) sub = this.t('queue', { n: owner.queue_position });
    else if (owner && owner.kind === 'bot') sub = this.t('botAnswering');
    this.moreBtn.hidden = !entry;
    // Live chat: a closed conversation is over; offer a new one instead of the composer.
    const over = !!entry && entry.conv.status === 'closed' && entry.conv.style === 'live_chat';
    if (over && this.ended.hidden) {
      this.ended.replaceChildren(h('p', null, this.t('ended')), h('button', { type: 'button', class: 'primary', onclick: () => this.restart() }, this.t('startNew')));
    }
    this.ended.hidden = !over;
    this.form.hidden = over;
    if (over) this.sheet.hidden = true;
    const a = this.parley && this.parley.availability;
    if (a) {
      const avail = a.open
        ? this.t('replyIn', { d: this.duration(a.reply_ms) })
        : a.next_change
          ? this.t('awayUntil', { when: this.fmtWhen.format(a.next_change) })
          : this.t('away');
      sub = sub ? `${sub} · ${avail}` : avail;
    }
    this.subEl.textContent = sub;
    this.subEl.hidden = !sub;
  }

  duration(ms) {
    const min = Math.max(1, Math.round((ms || 0) / 60000));
    const [v, unit] = min < 60 ? [min, 'minute'] : min < 48 * 60 ? [Math.round(min / 60), 'hour'] : [Math.round(min / 1440), 'day'];
    return new Intl.NumberFormat(this.l10n.locale, { style: 'unit', unit, unitDisplay: 'short' }).format(v);
  }

  size(bytes) {
    const [v, unit] = bytes < 1024 ? [bytes, 'byte'] : bytes < 1048576 ? [bytes / 1024, 'kilobyte'] : [bytes / 1048576, 'megabyte'];
    return new Intl.NumberFormat(this.l10n.locale, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(v);
  }

  renderList() {
    const entries = this.entries();
    const items = entries.map((e) => {
      const c = e.conv;
      return h(
        'li',
        null,
        h(
          'button',
          { type: 'button', class: 'conv', 'data-conv': c.id, onclick: () => this.openThread(c.id, true) },
          h('span', { class: 's' }, h('span', null, c.subject || this.t('untitled')), e.unread ? h('span', { class: 'n', 'aria-label': this.t('unread', { n: e.unread }) }, String(e.unread)) : null),
          h('span', { class: 'p' }, e.preview || c.preview || ''),
        ),
      );
    });
    if (!items.length) items.push(h('li', { class: 'empty' }, this.t('noConversations')));
    this.listEl.replaceChildren(...items);
  }

  authorName(author) {
    if (!author) return '';
    if (author.role === 'visitor') return this.t('you');
    if (author.role === 'system') return this.t('system');
    return author.name || this.t(author.role === 'bot' ? 'bot' : 'agent');
  }

  renderThread() {
    if (!this.log) return;
    const items = this.conv && this.parley ? this.parley.messages(this.conv) : [];
    const out = [];
    const seen = new Set();
    let day = '';
    let prevAuthor = '';
    if (this.loadingOlder) out.push(this.olderEl || (this.olderEl = h('div', { class: 'older', role: 'status' }, this.t('loadingOlder'))));
    for (const it of items) {
      const m = it.message;
      const dk = dayKey(m.ts);
      if (dk !== day) {
        day = dk;
        prevAuthor = '';
        const k = `d:${dk}`;
        out.push(this.keyed(k, k, () => h('div', { class: 'day', role: 'separator' }, this.fmtDay.format(m.ts))));
        seen.add(k);
      }
      const who = `${m.author.role}:${m.author.id || ''}:${m.author.name || ''}`;
      const showName = who !== prevAuthor;
      prevAuthor = who;
      const sig = JSON.stringify([it.state, m.body, m.deleted, m.edited_ts, it.error && it.error.message, showName, m.author.name, this.editing === it.key]);
      out.push(this.keyed(it.key, sig, () => this.messageNode(it, showName)));
      seen.add(it.key);
    }
    for (const k of this.nodes.keys()) if (!seen.has(k)) this.nodes.delete(k);
    reconcile(this.inner, out);
    if (this.stick) {
      this.log.scrollTop = 0; // the newest message (column-reverse: 0 is the bottom)
      this.stick = false;
    }
    this.markRead();
  }

  keyed(key, sig, make) {
    const cur = this.nodes.get(key);
    if (cur && cur.sig === sig) return cur.el;
    const el = make();
    this.nodes.set(key, { sig, el });
    return el;
  }

  messageNode(it, showName) {
    const m = it.message;
    const me = m.author.role === 'visitor';
    const cls = `msg ${me ? 'me' : m.author.role === 'system' ? 'system' : 'them'} ${it.state}`;
    const ctx = {
      t: (k, v) => this.t(k, v),
      locale: this.l10n.locale,
      size: (b) => this.size(b),
      author: m.author,
      labels: { submit: this.t('send'), rate: (n, scale) => `${n} / ${scale}` },
      fileBase: this.getAttribute('server') || undefined,
      onAction: (a) => this.onRichAction(m.conv, a),
    };
    const body = m.deleted ? h('div', { class: 'del' }, this.t('deleted')) : renderBody(m.body, ctx);
    const meta = [h('time', { datetime: new Date(m.ts).toISOString() }, this.fmtTime.format(m.ts))];
    if (m.edited_ts) meta.push(h('span', null, this.t('edited')));
    if (me) {
      const reason = it.error ? it.error.message || it.error.code : '';
      meta.push(h('span', { class: 'state', 'data-state': it.state }, this.t(`state_${it.state}`, { reason })));
      const btn = (label, fn) => h('button', { type: 'button', 'data-action': label, onclick: () => this.act(fn) }, this.t(label));
      const cid = m.cid || it.key;
      if (it.state === 'failed') {
        meta.push(btn('retry', () => this.parley.retry(cid)), btn('delete', () => this.parley.cancel(cid)));
      } else if (it.state === 'queued') {
        meta.push(btn('edit', () => this.startEdit(cid, m.body.text || '')), btn('cancel', () => this.parley.cancel(cid)));
      }
    }
    return h(
      'div',
      { class: cls, 'data-key': it.key },
      showName && m.author.role !== 'system' ? h('div', { class: 'who' }, this.authorName(m.author)) : null,
      h('div', { class: 'bubble' }, body),
      h('div', { class: 'meta' }, meta),
    );
  }

  /** A rich message's action (quick reply, button): sent as the visitor's reply. */
  onRichAction(conv, action) {
    if (!action) return;
    // The rich renderer's actions become the visitor's reply, as text the agent can read.
    let text = '';
    if (typeof action === 'string') text = action;
    else if (action.type === 'reply') text = String(action.value ?? action.label ?? '');
    else if (action.type === 'form') {
      text = Object.entries(action.values || {})
        .map(([k, v]) => `${k}: ${v ?? ''}`)
        .join('\n');
    } else if (action.type === 'csat') text = `${action.score}`;
    else text = action.text || action.title || '';
    const body = action && action.body ? action.body : { text };
    this.act(() => this.parley.send(conv, body));
  }

  async act(fn) {
    try {
      await fn();
    } catch (e) {
      this.showError(e);
    }
  }

  renderTyping() {
    const e = this.conv && this.entry(this.conv);
    let text = '';
    if (e && e.typing) {
      const o = e.conv.owner || {};
      text = this.t('typing', { name: o.agent_name || (o.kind === 'bot' ? this.t('bot') : this.t('someone')) });
    }
    if (this.typingEl.textContent !== text) this.typingEl.textContent = text;
  }

  // ------------------------------------------------------------------ panel
  /** Opens the panel (a user action): the thread of the current conversation, composer focused. */
  open() {
    const entries = this.entries();
    if (!this.conv && entries.length) this.conv = entries[0].conv.id;
    this.panel.hidden = false;
    this.launcher.setAttribute('aria-expanded', 'true');
    this.openThread(this.conv, true);
  }

  close(returnFocus) {
    if (this.panel.hidden) return;
    this.setTyping(false);
    this.panel.hidden = true;
    this.launcher.setAttribute('aria-expanded', 'false');
    if (returnFocus) this.launcher.focus();
  }

  showList() {
    this.saveDraft();
    this.setTyping(false);
    this.view = 'list';
    this.renderHeader();
    this.renderList();
    const first = this.listEl.querySelector('button') || this.newBtn;
    first.focus();
  }

  openThread(conv, focus) {
    const changed = (conv || null) !== this.conv;
    if (changed) {
      this.saveDraft();
      this.setTyping(false);
      this.editing = null;
      this.sheet.hidden = true;
      this.linkWait = null;
    }
    this.conv = conv || null;
    this.view = 'thread';
    this.nodes.clear();
    this.stick = true;
    if (conv && this.parley) this.act(() => this.parley.openConversation(conv));
    this.renderHeader();
    this.renderThread();
    this.renderTyping();
    this.renderComposer();
    if (changed || !this.ta.value) this.ta.value = this.loadDraft();
    if (focus) this.ta.focus();
  }

  newConversation() {
    this.openThread(null, true);
  }

  markRead() {
    const p = this.parley;
    if (!p || !this.conv || this.panel.hidden || this.view !== 'thread' || document.visibilityState !== 'visible') return;
    const items = p.messages(this.conv);
    let seq = 0;
    for (const it of items) if (it.message.seq > seq) seq = it.message.seq;
    const e = this.entry(this.conv);
    if (!seq || (e && e.conv.read_seq >= seq && !e.unread) || this.marked.get(this.conv) >= seq) return;
    this.marked.set(this.conv, seq);
    this.act(() => p.markRead(this.conv, seq));
  }

  onScroll() {
    const p = this.parley;
    const log = this.log;
    if (!p || !this.conv || this.loadingOlder || log.scrollHeight - log.clientHeight + log.scrollTop > 32) return;
    const items = p.messages(this.conv);
    if (!items.length || items[0].message.seq <= 1) return; // the whole history is here
    this.loadingOlder = true;
    const done = () => {
      this.loadingOlder = false;
      this.renderThread();
    };
    p.loadOlder(this.conv).then(() => setTimeout(done, 300), (e) => (done(), this.showError(e)));
  }

  async restart() {
    try {
      const conv = await this.parley.startConversation('');
      this.openThread(conv, true);
    } catch (e) {
      this.showError(e);
    }
  }

  // ------------------------------------------------------------------ handoff
  /** The "continue elsewhere" sheet: SMS, WhatsApp, email (an address) or another device (a link). */
  toggleSheet() {
    const show = this.sheet.hidden;
    this.moreBtn.setAttribute('aria-expanded', String(show));
    this.linkWait = null;
    if (!show) {
      this.sheet.hidden = true;
      this.moreBtn.focus();
      return;
    }
    const t = (k, v) => this.t(k, v);
    const sel = h('select', { id: 'hc', onchange: () => kind() }, ['sms', 'whatsapp', 'email', 'device'].map((c) => h('option', { value: c }, t(`ch_${c}`))));
    const addr = h('input', { id: 'ha', required: true });
    const addrLabel = h('label', { for: 'ha' });
    const err = h('p', { class: 'err', role: 'alert' });
    const go = h('button', { type: 'submit', class: 'primary' });
    const kind = () => {
      const c = sel.value;
      const mail = c === 'email';
      addr.type = mail ? 'email' : 'tel';
      addr.autocomplete = mail ? 'email' : 'tel';
      addrLabel.textContent = t(mail ? 'emailAddress' : 'phone');
      addr.hidden = addrLabel.hidden = c === 'device';
      addr.required = c !== 'device';
      go.textContent = t(c === 'device' ? 'getLink' : 'continue');
      err.textContent = '';
    };
    kind();
    const form = h(
      'form',
      {
        'aria-labelledby': 'hh',
        onsubmit: async (e) => {
          e.preventDefault();
          const c = sel.value;
          err.textContent = '';
          go.disabled = true;
          try {
            await this.parley.requestHandoff(this.conv, c, c === 'device' ? '' : addr.value.trim());
            this.handoffDone(c, addr.value.trim());
          } catch (x) {
            err.textContent = x && x.code === 'invalid_field' && c !== 'device' ? t(c === 'email' ? 'badEmail' : 'badPhone') : t('error', { reason: (x && x.message) || x });
            go.disabled = false;
            (c === 'device' ? sel : addr).focus();
          }
        },
      },
      h('h3', { id: 'hh' }, t('handoffTitle')),
      h('label', { for: 'hc' }, t('continueBy')),
      sel,
      addrLabel,
      addr,
      err,
      h('div', { class: 'row' }, go, h('button', { type: 'button', onclick: () => this.toggleSheet() }, t('cancel'))),
    );
    this.sheet.replaceChildren(form);
    this.sheet.hidden = false;
    sel.focus();
  }

  handoffDone(channel, address) {
    if (channel === 'device') {
      this.linkWait = Date.now();
      return this.renderLink();
    }
    this.sheetResult(h('p', { role: 'status' }, this.t('handedOff', { ch: this.t(`ch_${channel}`), address })));
  }

  /** The resume token, if the API surfaces it (the device handoff's timeline line or summary). */
  resumeToken() {
    const e = this.entry(this.conv);
    if (e && (e.resume_token || e.conv.resume_token)) return e.resume_token || e.conv.resume_token;
    const items = this.parley.messages(this.conv);
    for (let i = items.length - 1; i >= 0; i--) {
      const ev = items[i].message.body.event;
      if (ev && ev.type === 'handoff' && ev.resume_token) return ev.resume_token;
    }
    return '';
  }

  renderLink() {
    const token = this.resumeToken();
    if (!token) return this.sheetResult(h('p', { role: 'status', class: 'pending' }, this.t('linkPending')));
    this.linkWait = null;
    const url = `${location.href.split('#')[0]}#parley-resume=${encodeURIComponent(token)}`;
    const field = h('input', { id: 'hl', readonly: true, value: url, onfocus: (e) => e.target.select() });
    const copy = h('button', { type: 'button', class: 'primary', onclick: () => navigator.clipboard.writeText(url).then(() => (copy.textContent = this.t('copied')), () => field.select()) }, this.t('copy'));
    this.sheetResult(h('p', null, this.t('linkReady')), h('label', { for: 'hl', class: 'sr' }, this.t('link')), field, copy);
  }

  sheetResult(...nodes) {
    const close = h('button', { type: 'button', onclick: () => this.toggleSheet() }, this.t('done'));
    const focus = this.sheet.contains(this.shadowRoot.activeElement) || !this.sheet.querySelector('.result');
    this.sheet.replaceChildren(h('div', { class: 'result' }, h('h3', null, this.t('handoffTitle')), nodes, h('div', { class: 'row' }, close)));
    if (focus) close.focus();
  }

  // ------------------------------------------------------------------ composer
  renderComposer() {
    const editing = !!this.editing;
    this.editBar.hidden = !editing;
    if (editing) {
      this.editBar.replaceChildren(
        h('span', null, this.t('editing')),
        h('button', { type: 'button', onclick: () => this.stopEdit() }, this.t('cancelEdit')),
      );
    }
    this.sendBtn.textContent = this.t(editing ? 'save' : 'send');
  }

  startEdit(cid, text) {
    this.editing = cid;
    this.ta.value = text;
    this.renderComposer();
    this.renderThread();
    this.ta.focus();
  }

  stopEdit() {
    this.editing = null;
    this.ta.value = this.loadDraft();
    this.renderComposer();
    this.renderThread();
    this.ta.focus();
  }

  async submit() {
    const p = this.parley;
    const text = this.ta.value.trim();
    if (!p || !text) return;
    if (this.editing) {
      const cid = this.editing;
      await this.act(() => p.editQueued(cid, text));
      this.stopEdit();
      return;
    }
    this.ta.value = '';
    this.setTyping(false);
    try {
      let conv = this.conv;
      if (!conv) {
        conv = await p.startConversation('');
        this.clearDraft(null);
        this.conv = conv;
        this.nodes.clear();
        this.renderHeader();
      }
      this.stick = true;
      this.clearDraft(conv);
      await p.send(conv, text);
      this.renderThread();
    } catch (e) {
      if (!this.ta.value) this.ta.value = text; // nothing lost
      this.showError(e);
    }
  }

  onInput() {
    if (this.editing) return;
    this.saveDraft();
    if (!this.conv) return;
    this.setTyping(!!this.ta.value);
    clearTimeout(this.typingTimer);
    if (this.ta.value) this.typingTimer = setTimeout(() => this.setTyping(false), TYPING_IDLE_MS);
  }

  setTyping(on) {
    if (on === !!this.typingOn || !this.parley) return;
    const conv = this.typingConv || this.conv;
    if (!conv) return;
    this.typingOn = on;
    this.typingConv = on ? this.conv : null;
    if (!on) clearTimeout(this.typingTimer);
    this.parley.typing(conv, on).catch(() => {});
  }

  // Drafts go to localStorage only when history is persistent (consent given, storage not blocked).
  draftKey(conv) {
    return `parley:draft:${this.getAttribute('app-id') || (this.parley && this.parley.app) || ''}:${conv || '_new'}`;
  }

  storageOk() {
    return !!(this.parley && this.parley.storage.persistent);
  }

  saveDraft() {
    if (this.editing || !this.storageOk()) return;
    try {
      const v = this.ta.value;
      if (v) localStorage.setItem(this.draftKey(this.conv), v);
      else localStorage.removeItem(this.draftKey(this.conv));
    } catch {}
  }

  loadDraft() {
    if (!this.storageOk()) return '';
    try {
      return localStorage.getItem(this.draftKey(this.conv)) || '';
    } catch {
      return '';
    }
  }

  clearDraft(conv) {
    if (!this.storageOk()) return;
    try {
      localStorage.removeItem(this.draftKey(conv));
    } catch {}
  }
}

/** Registers <parley-messenger> (once). */
export function defineParleyMessenger(tag = TAG) {
  if (!customElements.get(tag)) customElements.define(tag, class extends ParleyMessenger {});
  return customElements.get(tag);
}

/**
 * Mounts the widget for an existing Parley instance.
 * options: { locale, position: 'right'|'left', renderBody }
 */
export function mount(parley, target = document.body, options = {}) {
  defineParleyMessenger();
  if (options.renderBody) setBodyRenderer(options.renderBody);
  const el = document.createElement(TAG);
  el.parley = parley;
  if (options.locale) el.setAttribute('locale', options.locale);
  if (options.position) el.setAttribute('position', options.position);
  target.append(el);
  return el;
}
