// <parley-messenger>: the widget. A view of the core's state (through the public API in
// ../parley.js) with no conversation rules of its own: it renders parley.conversations(),
// parley.messages(conv), parley.connection/unread/availability/storage and turns the
// visitor's actions into API commands.
//
//   import { defineParleyMessenger, mount } from '.../widget/index.js';
//   defineParleyMessenger();   // then <parley-messenger app-id="acme" server="https://…">
//   mount(await Parley.create({...}), document.body, { locale: 'fr', position: 'left' });
//
// Attributes: app-id, server, locale, position (right|left), theme (auto|light|dark; auto
// follows prefers-color-scheme, styles.js). `el.parley = instance` before
// the element is connected uses that instance instead of creating one; `el.createOptions`
// adds Parley.create options (coreModuleUrl, requireConsent, user, …).

//
// Rendering: view() is a pure function of the API's state plus the widget's own UI state
// (open, view, conv, sheet); lit-html renders it into the shadow root on every change
// (update() batches API events into one render per microtask). Interpolated values are text
// and attribute values, never HTML. The composer's text is the textarea's own state, read on
// input and written by setText().

import { html, keyed, nothing, render } from './lit.js';
import { create, FILE_TYPES, MAX_FILE_BYTES } from '../parley.js';
import { renderBody, setBodyRenderer } from './body.js';
import { fileSize } from './rich.js';
import { loadLocale, pickLocale } from './i18n/index.js';
import { styleSheet } from './styles.js';

export { renderBody, setBodyRenderer };

const TAG = 'parley-messenger';
const TYPING_IDLE_MS = 3000;
const WINDOW = 50; // messages in the DOM at first, and added per step up
const RECONNECTING = new Set(['connecting', 'handshaking', 'backoff']);
const CHANNELS = ['sms', 'whatsapp', 'email', 'device'];

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

/** An author's avatar beside the name (aria-hidden: the name is read): the bot's icon, else initials. */
const avatar = (role, name) =>
  html`<span class="av" aria-hidden="true">${
    role === 'bot'
      ? html`<svg viewBox="0 0 24 24"><path d="M11 2h2v3h4a3 3 0 0 1 3 3v9a3 3 0 0 1-3 3H7a3 3 0 0 1-3-3V8a3 3 0 0 1 3-3h4zM8.5 10a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zm7 0a1.5 1.5 0 1 0 0 3 1.5 1.5 0 0 0 0-3zM8 16h8v-1.5H8z"/></svg>`
      : name
          .trim()
          .split(/\s+/, 2)
          .map((w) => [...w][0])
          .join('')
          .toUpperCase()
  }</span>`;

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
    this.isOpen = false;
    this.view = 'thread'; // 'thread' | 'list'
    this.conv = null; // the conversation shown in the thread (null: a new one on send)
    this.text = ''; // the composer's text (mirrors the textarea)
    this.editing = null; // cid of the queued message being edited
    this.sheet = null; // the handoff sheet: { ch, err, busy, done: null | 'device' | text }
    this.cache = new Map(); // message key -> [signature, template]
    this.thumbs = new Map(); // cid -> object URL of an image picked in this session
    this.progress = new Map(); // cid -> its last upload_progress {loaded, total}
    this.fileErr = '';
    this.marked = new Map(); // conv -> last seq we marked read
    this.error = null;
    this.off = [];
  }

  connectedCallback() {
    if (!this.shadowRoot) {
      this.attachShadow({ mode: 'open' }).adoptedStyleSheets = [styleSheet()];
      this.applyLocale();
    }
    if (this.started) return;
    this.started = true;
    if (this.parley) this.bind(this.parley);
    else this.createInstance();
  }

  attributeChangedCallback() {
    if (this.shadowRoot) this.applyLocale();
  }

  async createInstance() {
    try {
      this.bind(await create({ appId: this.getAttribute('app-id'), server: this.getAttribute('server'), locale: this.l10n.locale, ...this.createOptions }));
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

  t(key, vars) {
    return this.l10n.t(key, vars);
  }

  $(sel) {
    return this.shadowRoot.querySelector(sel);
  }

  applyLocale() {
    const l10n = pickLocale(this.getAttribute('locale') || this.createOptions.locale);
    if (l10n.pending) {
      // Keep showing the current strings (if any) until the new table is here.
      const want = (this.want = l10n.pending);
      this.localeReady = loadLocale(want).then(() => this.want === want && this.applyLocale());
      if (this.l10n) return;
    }
    this.l10n = l10n;
    const { locale } = l10n;
    this.fmtDay = new Intl.DateTimeFormat(locale, { weekday: 'long', month: 'long', day: 'numeric' });
    this.fmtTime = new Intl.DateTimeFormat(locale, { hour: 'numeric', minute: '2-digit' });
    this.fmtWhen = new Intl.DateTimeFormat(locale, { weekday: 'long', hour: 'numeric', minute: '2-digit' });
    this.cache.clear();
    this.render();
  }

  // ------------------------------------------------------------------ state
  bind(parley) {
    this.parley = parley;
    this.ownsParley = !this._given;
    const on = (name, fn) => this.off.push(parley.on(name, fn));
    for (const name of ['conversations', 'messages', 'connection', 'out_of_sync', 'storage', 'availability']) on(name, () => this.update());
    on('unread', (n) => {
      this.update();
      // Every tab shows the count in the title; only the leader tab beeps (page hidden).
      const base = document.title.replace(/^\(\d+\) /, '');
      document.title = n ? `(${n}) ${base}` : base;
      if (n > (this.lastUnread || 0) && parley.isLeader && document.hidden) beep();
      this.lastUnread = n;
    });
    on('upload_progress', (d) => {
      this.progress.set(d.cid, d);
      this.update();
    });
    on('error', (e) => this.showError(e));
    on('wiped', () => {
      this.conv = null;
      this.cache.clear();
      this.update();
    });
    const onVisible = () => this.markRead();
    document.addEventListener('visibilitychange', onVisible);
    this.off.push(() => document.removeEventListener('visibilitychange', onVisible));
    // A link from "continue on another device": <page>#parley-resume=<token>.
    const m = /[#&]parley-resume=([^&]+)/.exec(location.hash);
    if (m) {
      history.replaceState(null, '', location.href.split('#')[0]);
      this.act(() => parley.resume(decodeURIComponent(m[1])));
    }
    this.lastUnread = parley.unread;
    this.render();
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

  /** Renders on the next microtask (several API events → one render). */
  update() {
    if (this.pending) return;
    this.pending = true;
    queueMicrotask(() => this.render());
  }

  render() {
    this.pending = false;
    if (!this.shadowRoot) return;
    render(this.view_(), this.shadowRoot);
    if (this.stick) {
      this.$('.log').scrollTop = 0; // the newest message (column-reverse: 0 is the bottom)
      this.stick = false;
    }
    this.markRead();
  }

  showError(e) {
    this.error = (e && (e.message || e.code)) || String(e);
    this.update();
  }

  async act(fn) {
    try {
      await fn();
    } catch (e) {
      this.showError(e);
    }
  }

  // ------------------------------------------------------------------ view
  view_() {
    // Until the locale table is here only the launcher renders (its label is built in).
    return html`${this.l10n.pending ? nothing : this.panel()}${this.launcher()}`;
  }

  launcher() {
    const t = (k, v) => this.t(k, v);
    const n = this.parley ? this.parley.unread : 0;
    return html`<button class="launcher" type="button" aria-haspopup="dialog" aria-expanded=${this.isOpen} aria-label=${n ? t('openUnread', { n }) : t('open')} @click=${() => (this.isOpen ? this.close() : this.open())}><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg><span class="badge" aria-hidden="true" ?hidden=${!n}>${n > 99 ? '99+' : n}</span></button>`;
  }

  panel() {
    const t = (k, v) => this.t(k, v);
    const { locale, dir } = this.l10n;
    const entries = this.entries();
    const thread = this.view === 'thread';
    const entry = thread && this.conv && entries.find((e) => e.conv.id === this.conv);
    const conv = entry && entry.conv;
    // Live chat: a closed conversation is over; offer a new one instead of the composer.
    const over = !!conv && conv.status === 'closed' && conv.style === 'live_chat';
    const editing = !!this.editing;
    return html`<div class="panel" role="dialog" aria-labelledby="pt" ?hidden=${!this.isOpen} dir=${dir} lang=${locale} @keydown=${(e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          this.close(true);
        }
      }}><header><button type="button" class="back" aria-label=${t('back')} ?hidden=${!thread || !entries.length} @click=${() => this.showList()}>‹</button><div class="t"><h2 id="pt">${conv ? conv.subject || t('untitled') : t('title')}</h2>${this.subtitle(conv)}</div><button type="button" class="more" aria-label=${t('handoff')} aria-expanded=${!!this.sheet} ?hidden=${!conv} @click=${() => this.toggleSheet()}>⇄</button><button type="button" class="x" aria-label=${t('close')} @click=${() => this.close(true)}>×</button></header>
<div class="banners">${this.banners()}</div>
<div class="listview" ?hidden=${thread}><ul class="list" aria-label=${t('conversations')}>${
        entries.length
          ? entries.map(
              (e) => html`<li><button type="button" class="conv" data-conv=${e.conv.id} @click=${() => this.openThread(e.conv.id, true)}><span class="s"><span>${e.conv.subject || t('untitled')}</span>${
                e.unread ? html`<span class="n" aria-label=${t('unread', { n: e.unread })}>${e.unread}</span>` : nothing
              }</span><span class="p">${e.preview || e.conv.preview || ''}</span></button></li>`,
            )
          : html`<li class="empty">${t('noConversations')}</li>`
      }</ul><button type="button" class="primary" @click=${() => this.openThread(null, true)}>${t('newConversation')}</button></div>
<div class="threadview" ?hidden=${!thread} @dragover=${(e) => e.preventDefault()} @drop=${(e) => this.attach(e.dataTransfer.files, e)}><div class="log" role="log" aria-live="polite" tabindex="0" aria-label=${t('log')} @scroll=${{ handleEvent: () => this.onScroll(), passive: true }}><div class="inner">${this.thread()}</div></div><div class="typing" role="status">${this.typing(entry)}</div><div class="sheet" ?hidden=${!this.sheet || over}>${this.sheetView()}</div><div class="ended" ?hidden=${!over}><p>${t('ended')}</p><button type="button" class="primary" @click=${() => this.restart()}>${t('startNew')}</button></div><form ?hidden=${over} @submit=${(e) => {
        e.preventDefault();
        this.submit();
      }}><div class="editing" ?hidden=${!editing}><span>${t('editing')}</span><button type="button" @click=${() => this.stopEdit()}>${t('cancelEdit')}</button></div><p class="err" role="alert">${this.fileErr}</p><div class="row"><button type="button" class="attach" aria-label=${t('attach')} @click=${() => this.pickFile()}><svg viewBox="0 0 24 24" aria-hidden="true"><path d="M16.5 6.5l-7.8 7.8a2 2 0 0 0 2.8 2.8l7.8-7.8a4 4 0 0 0-5.7-5.7l-7.8 7.8a6 6 0 0 0 8.5 8.5l6.4-6.4"/></svg></button><input id="file" type="file" hidden multiple accept=${FILE_TYPES.join()} @change=${(e) => {
        this.attach(e.target.files);
        e.target.value = '';
      }}><textarea rows="1" enterkeyhint="send" aria-label=${t('composer')} placeholder=${t('placeholder')} @paste=${(e) => this.attach(e.clipboardData.files, e)} @input=${(e) => this.onInput(e.target.value)} @keydown=${(e) => {
        if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
          e.preventDefault();
          this.submit();
        }
      }}></textarea><button type="submit" class="send">${t(editing ? 'save' : 'send')}</button></div></form></div></div>`;
  }

  /** Who answers and the business hours, under the title. */
  subtitle(conv) {
    const owner = conv && conv.owner;
    const parts = [];
    if (owner && owner.kind === 'agent' && owner.agent_name) parts.push(owner.agent_name);
    else if (owner && owner.kind === 'queue' && owner.queue_position) parts.push(this.t('queue', { n: owner.queue_position }));
    else if (owner && owner.kind === 'bot') parts.push(this.t('botAnswering'));
    const a = this.parley && this.parley.availability;
    if (a) {
      parts.push(
        a.open
          ? this.t('replyIn', { d: this.duration(a.reply_ms) })
          : a.next_change
            ? this.t('awayUntil', { when: this.fmtWhen.format(a.next_change) })
            : this.t('away'),
      );
    }
    return parts.length ? html`<p>${parts.join(' · ')}</p>` : nothing;
  }

  banners() {
    const p = this.parley;
    const out = [];
    const banner = (cls, text, label, fn) =>
      out.push(html`<div class="banner ${cls}" role="status"><span>${text}</span>${label ? html`<button type="button" @click=${fn}>${label}</button>` : nothing}</div>`);
    if (p) {
      if (p.connection === 'offline') banner('off', this.t('offline'));
      else if (RECONNECTING.has(p.connection)) banner('', this.t('reconnecting'));
      else if (p.outOfSync) banner('', this.t('outOfSync'));
      if (!p.storage.persistent) {
        const consent = /consent/.test(p.storage.reason);
        banner('info', this.t(consent ? 'consentNote' : 'notSaved'), consent && this.t('saveHistory'), () => this.act(() => p.consent()));
      }
    }
    if (this.error) {
      banner('off', this.t('error', { reason: this.error }), this.t('dismiss'), () => {
        this.error = null;
        this.render();
      });
    }
    return out;
  }

  duration(ms) {
    const min = Math.max(1, Math.round((ms || 0) / 60000));
    const [v, unit] = min < 60 ? [min, 'minute'] : min < 48 * 60 ? [Math.round(min / 60), 'hour'] : [Math.round(min / 1440), 'day'];
    return new Intl.NumberFormat(this.l10n.locale, { style: 'unit', unit, unitDisplay: 'short' }).format(v);
  }

  authorName(author) {
    if (author.role === 'visitor') return this.t('you');
    if (author.role === 'system') return this.t('system');
    return author.name || this.t(author.role === 'bot' ? 'bot' : 'agent');
  }

  typing(entry) {
    if (!entry || !entry.typing) return '';
    const o = entry.conv.owner || {};
    return this.t('typing', { name: o.agent_name || this.t(o.kind === 'bot' ? 'bot' : 'someone') });
  }

  /**
   * The thread: day separators and messages. Rows are keyed: a row whose position now holds
   * another key is rendered afresh, so a message's nodes (and a rich message's state, such as
   * a used quick reply) never move to another message. Templates are cached per message and
   * signature, so an unchanged message costs a comparison.
   */
  thread() {
    const all = this.conv && this.parley ? this.parley.messages(this.conv) : [];
    // Only a window of the newest messages is in the DOM: from the message `from` (kept by
    // key, so rows keep their positions as messages arrive) to the newest. Scrolling up
    // moves `from` back (onScroll); back at the newest, the window shrinks again.
    let start = this.from ? all.findIndex((it) => it.key === this.from) : -1;
    if (start < 0) start = Math.max(0, all.length - WINDOW);
    this.start = start;
    this.from = all[start] && all[start].key;
    const items = all.slice(start);
    const rows = [];
    let day = '';
    let prevAuthor = '';
    for (const it of items) {
      const m = it.message;
      const dk = dayKey(m.ts);
      if (dk !== day) {
        day = dk;
        prevAuthor = '';
        rows.push(keyed(dk, html`<div class="day" role="separator">${this.fmtDay.format(m.ts)}</div>`));
      }
      const who = `${m.author.role}:${m.author.id || ''}:${m.author.name || ''}`;
      const showName = who !== prevAuthor;
      prevAuthor = who;
      const cid = m.cid || it.key;
      const sig = JSON.stringify([it.state, m.body, m.deleted, m.edited_ts, it.error && it.error.message, showName, m.author.name, this.editing === it.key, this.progress.get(cid), this.thumbs.has(cid)]);
      let c = this.cache.get(it.key);
      if (!c || c[0] !== sig) this.cache.set(it.key, (c = [sig, this.message(it, showName)]));
      rows.push(keyed(it.key, c[1]));
    }
    if (this.cache.size > rows.length * 2 + 100) this.cache.clear();
    return html`${this.loadingOlder ? html`<div class="older" role="status">${this.t('loadingOlder')}</div>` : nothing}${rows}`;
  }

  message(it, showName) {
    const m = it.message;
    const t = (k, v) => this.t(k, v);
    const role = m.author.role;
    const me = role === 'visitor';
    const cid = m.cid || it.key;
    const btn = (label, fn) => html`<button type="button" data-action=${label} @click=${() => this.act(fn)}>${t(label)}</button>`;
    const ev = m.body.event;
    const body = m.deleted
      ? html`<div class="del">${t('deleted')}</div>`
      : me && ev && ev.type === 'csat'
        ? html`<div class="pl-text">★ ${t('rated', { n: ev.score, scale: ev.scale })}</div>`
        : renderBody(m.body, {
          t,
          locale: this.l10n.locale,
          author: m.author,
          labels: { submit: t('send'), rate: (n, scale) => `${n} / ${scale}` },
          fileBase: this.getAttribute('server') || undefined,
          preview: () => this.thumbs.get(cid),
          onAction: (a) => this.onRichAction(m.conv, a),
        });
    // An attachment on its way: queued (offline), then uploading with its progress.
    const up = me && /queued|sending/.test(it.state) && (m.body.attachments || []).find((a) => !a.url);
    const pr = up && this.progress.get(cid);
    return html`<div class="msg ${me ? 'me' : role === 'system' ? 'system' : 'them'} ${it.state}" data-key=${it.key}>${
      showName && role !== 'system' ? html`<div class="who">${me ? nothing : avatar(role, this.authorName(m.author))}${this.authorName(m.author)}</div>` : nothing
    }<div class="bubble"><div class="pl-body">${body}</div>${
      up ? html`<progress max=${pr ? pr.total : 1} value=${pr ? pr.loaded : nothing} aria-label=${t('uploading', { name: up.name })}></progress>` : nothing
    }</div><div class="meta"><time datetime=${new Date(m.ts).toISOString()}>${this.fmtTime.format(m.ts)}</time>${
      m.edited_ts ? html`<span>${t('edited')}</span>` : nothing
    }${
      me
        ? html`<span class="state" data-state=${it.state}>${t(`state_${it.state}`, { reason: it.error ? it.error.message || it.error.code : '' })}</span>${
            it.state === 'failed'
              ? [btn('retry', () => this.parley.retry(cid)), btn('delete', () => this.parley.cancel(cid))]
              : it.state === 'queued'
                ? [btn('edit', () => this.startEdit(cid, m.body.text || '')), btn('cancel', () => this.parley.cancel(cid))]
                : nothing
          }`
        : nothing
    }</div></div>`;
  }

  /** A rich message's action (quick reply, button, form, CSAT): sent as the visitor's reply. */
  onRichAction(conv, action) {
    if (!action) return;
    let text = '';
    if (typeof action === 'string') text = action;
    else if (action.type === 'reply') text = String(action.value ?? action.label ?? '');
    else if (action.type === 'form') {
      text = Object.entries(action.values || {})
        .map(([k, v]) => `${k}: ${v ?? ''}`)
        .join('\n');
    } else if (action.type === 'csat') {
      // A survey answer (docs/protocol.md "Satisfaction surveys"): the event keeps a solved
      // ticket solved; the text is the score for readers that show text only.
      const { score, scale } = action;
      return this.sendRich(conv, { text: `${score}`, event: { type: 'csat', score, scale } });
    } else text = action.text || action.title || '';
    this.sendRich(conv, action.body || { text });
  }

  /** Sends a rich action's reply. */
  sendRich(conv, body) {
    this.act(() => this.parley.send(conv, body));
    // The used control is disabled now, which drops the keyboard focus: continue in the composer.
    this.$('textarea').focus();
  }

  // ------------------------------------------------------------------ panel
  /** Opens the panel (a user action): the thread of the current conversation, composer focused. */
  open() {
    if (this.l10n.pending) return void this.localeReady.then(() => this.open());
    const entries = this.entries();
    if (!this.conv && entries.length) this.conv = entries[0].conv.id;
    this.isOpen = true;
    this.openThread(this.conv, true);
  }

  close(returnFocus) {
    if (!this.isOpen) return;
    this.setTyping(false);
    this.isOpen = false;
    this.render();
    if (returnFocus) this.$('.launcher').focus();
  }

  showList() {
    this.saveDraft();
    this.setTyping(false);
    this.view = 'list';
    this.render();
    this.$('.list button,.listview .primary').focus();
  }

  openThread(conv, focus) {
    const changed = (conv || null) !== this.conv;
    if (changed) {
      this.saveDraft();
      this.setTyping(false);
      this.editing = null;
      this.sheet = null;
    }
    this.conv = conv || null;
    this.view = 'thread';
    this.stick = true;
    this.from = null;
    if (conv && this.parley) this.act(() => this.parley.openConversation(conv));
    this.render();
    if (changed || !this.text) this.setText(this.loadDraft());
    if (focus) this.$('textarea').focus();
  }

  markRead() {
    const p = this.parley;
    if (!p || !this.conv || !this.isOpen || this.view !== 'thread' || document.visibilityState !== 'visible') return;
    let seq = 0;
    for (const it of p.messages(this.conv)) if (it.message.seq > seq) seq = it.message.seq;
    const e = this.entry(this.conv);
    if (!seq || (e && e.conv.read_seq >= seq && !e.unread) || this.marked.get(this.conv) >= seq) return;
    this.marked.set(this.conv, seq);
    this.act(() => p.markRead(this.conv, seq));
  }

  onScroll() {
    const p = this.parley;
    const log = this.$('.log');
    if (!p || !this.conv || this.loadingOlder) return;
    const items = p.messages(this.conv);
    // column-reverse: scrollTop is 0 at the newest message and negative above it.
    if (log.scrollTop > -8 && items.length - this.start > 2 * WINDOW) {
      this.from = null;
      return this.render();
    }
    if (log.scrollHeight - log.clientHeight + log.scrollTop > 32) return;
    if (this.start > 0) {
      // Rows added above the visitor's position: keep what they read in view (at the very
      // top of a column-reverse log, Chromium would otherwise stay at the new top).
      const y = log.scrollTop;
      this.from = items[Math.max(0, this.start - WINDOW)].key;
      this.render();
      log.scrollTop = y;
      return;
    }
    if (!items.length || items[0].message.seq <= 1) return; // the whole history is here
    this.loadingOlder = true;
    this.render();
    const done = () => {
      this.loadingOlder = false;
      this.render();
    };
    p.loadOlder(this.conv).then(() => setTimeout(done, 300), (e) => (done(), this.showError(e)));
  }

  async restart() {
    try {
      this.openThread(await this.parley.startConversation(''), true);
    } catch (e) {
      this.showError(e);
    }
  }

  // ------------------------------------------------------------------ handoff
  /** The "continue elsewhere" sheet: SMS, WhatsApp, email (an address) or another device (a link). */
  toggleSheet() {
    const show = !this.sheet;
    this.sheet = show ? { ch: 'sms', err: '' } : null;
    this.render();
    this.$(show ? '#hc' : '.more').focus();
  }

  sheetView() {
    const s = this.sheet;
    if (!s) return nothing;
    const t = (k, v) => this.t(k, v);
    if (s.done) {
      let body;
      if (s.done !== 'device') body = html`<p role="status">${s.done}</p>`;
      else {
        const token = this.resumeToken();
        const url = token && `${location.href.split('#')[0]}#parley-resume=${encodeURIComponent(token)}`;
        body = url
          ? html`<p>${t('linkReady')}</p><label for="hl" class="sr">${t('link')}</label><input id="hl" readonly .value=${url} @focus=${(e) => e.target.select()}><button type="button" class="primary" @click=${() =>
              navigator.clipboard.writeText(url).then(() => ((s.copied = true), this.render()), () => this.$('#hl').select())}>${t(s.copied ? 'copied' : 'copy')}</button>`
          : html`<p role="status" class="pending">${t('linkPending')}</p>`;
      }
      return html`<div class="result"><h3>${t('handoffTitle')}</h3>${body}<div class="row"><button type="button" class="done" @click=${() => this.toggleSheet()}>${t('done')}</button></div></div>`;
    }
    const c = s.ch;
    const mail = c === 'email';
    const dev = c === 'device';
    return html`<form aria-labelledby="hh" @submit=${(e) => this.handoff(e)}><h3 id="hh">${t('handoffTitle')}</h3><label for="hc">${t('continueBy')}</label><select id="hc" @change=${(e) => {
      s.ch = e.target.value;
      s.err = '';
      this.render();
    }}>${CHANNELS.map((x) => html`<option value=${x} ?selected=${x === c}>${t(`ch_${x}`)}</option>`)}</select><label for="ha" ?hidden=${dev}>${t(mail ? 'emailAddress' : 'phone')}</label><input id="ha" ?hidden=${dev} ?required=${!dev} type=${mail ? 'email' : 'tel'} autocomplete=${mail ? 'email' : 'tel'}><p class="err" role="alert">${s.err}</p><div class="row"><button type="submit" class="primary" ?disabled=${!!s.busy}>${t(dev ? 'getLink' : 'continue')}</button><button type="button" @click=${() => this.toggleSheet()}>${t('cancel')}</button></div></form>`;
  }

  async handoff(e) {
    e.preventDefault();
    const s = this.sheet;
    const c = s.ch;
    const address = c === 'device' ? '' : this.$('#ha').value.trim();
    s.err = '';
    s.busy = true;
    this.render();
    try {
      await this.parley.requestHandoff(this.conv, c, address);
      s.done = c === 'device' ? c : this.t('handedOff', { ch: this.t(`ch_${c}`), address });
      this.render();
      this.$('.sheet .done').focus();
    } catch (x) {
      s.err = x && x.code === 'invalid_field' && c !== 'device' ? this.t(c === 'email' ? 'badEmail' : 'badPhone') : this.t('error', { reason: (x && x.message) || x });
      s.busy = false;
      this.render();
      this.$(c === 'device' ? '#hc' : '#ha').focus();
    }
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

  // ------------------------------------------------------------------ composer
  /** The attach button: the file input's picker (the webview bundle asks the native app). */
  pickFile() {
    this.$('#file').click();
  }

  /** Files from the picker, a paste or a drop: checked here for a localized error, then sent. */
  async attach(files, e) {
    const p = this.parley;
    if (!p || !files || !files.length) return;
    if (e) e.preventDefault();
    this.fileErr = '';
    for (const f of files) {
      const type = f.type.split(';')[0].toLowerCase();
      if (!FILE_TYPES.includes(type)) this.fileErr = this.t('fileType', { name: f.name });
      else if (f.size > MAX_FILE_BYTES) this.fileErr = this.t('fileSize', { name: f.name, max: fileSize(MAX_FILE_BYTES, this.l10n.locale) });
      else {
        try {
          if (!this.conv) this.conv = await p.startConversation('');
          this.stick = true;
          const cid = await p.sendFile(this.conv, f);
          if (type.startsWith('image/')) this.thumbs.set(cid, URL.createObjectURL(f));
        } catch (x) {
          this.fileErr = this.t('error', { reason: x.message });
        }
      }
    }
    this.render();
  }

  setText(v) {
    this.$('textarea').value = this.text = v;
  }

  startEdit(cid, text) {
    this.editing = cid;
    this.setText(text);
    this.render();
    this.$('textarea').focus();
  }

  stopEdit() {
    this.editing = null;
    this.setText(this.loadDraft());
    this.render();
    this.$('textarea').focus();
  }

  async submit() {
    const p = this.parley;
    const text = this.text.trim();
    if (!p || !text) return;
    if (this.editing) {
      const cid = this.editing;
      await this.act(() => p.editQueued(cid, text));
      this.stopEdit();
      return;
    }
    this.setText('');
    this.setTyping(false);
    try {
      let conv = this.conv;
      if (!conv) {
        conv = await p.startConversation('');
        this.clearDraft(null);
        this.conv = conv;
      }
      this.stick = true;
      this.clearDraft(conv);
      await p.send(conv, text);
      this.render();
    } catch (e) {
      if (!this.text) this.setText(text); // nothing lost
      this.showError(e);
    }
  }

  onInput(value) {
    this.text = value;
    if (this.editing) return;
    this.saveDraft();
    if (!this.conv) return;
    this.setTyping(!!value);
    clearTimeout(this.typingTimer);
    if (value) this.typingTimer = setTimeout(() => this.setTyping(false), TYPING_IDLE_MS);
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
      if (this.text) localStorage.setItem(this.draftKey(this.conv), this.text);
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
