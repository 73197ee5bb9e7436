// The "phone": what the customer's handset shows for an SMS or WhatsApp address. Incoming
// messages are the business's outbox for that address (what a carrier would deliver); the
// customer's answers go to the server's inbound endpoint and land in the same conversation.
import { html, render } from 'lit-html';
import { repeat } from 'lit-html/directives/repeat.js';
import { inbound, outbox } from './demo-api.mjs';

const KEY = 'parley-demo-phone';
const CHANNELS = [
  ['sms', 'SMS'],
  ['whatsapp', 'WhatsApp'],
];
const time = (ts) => new Date(ts).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });

export class Phone {
  constructor(root) {
    this.root = root;
    const saved = JSON.parse(localStorage.getItem(KEY) || '{}');
    this.isOpen = !!saved.open;
    this.channel = saved.channel || 'sms';
    this.address = saved.address || '+4791234567';
    this.sent = saved.sent || []; // what this phone sent: {channel, address, text, ts}
    this.received = [];
    this.error = '';
    this.draw();
    this.poll();
    setInterval(() => this.poll(), 1500);
  }

  save() {
    const { isOpen: open, channel, address, sent } = this;
    localStorage.setItem(KEY, JSON.stringify({ open, channel, address, sent }));
  }

  forget() {
    localStorage.removeItem(KEY);
  }

  show(address, channel) {
    if (address) this.address = address;
    if (channel) this.channel = channel;
    this.isOpen = true;
    this.save();
    this.poll();
  }

  toggle() {
    this.isOpen = !this.isOpen;
    this.save();
    this.poll();
  }

  async poll() {
    if (this.isOpen && this.address) {
      try {
        this.received = await outbox(this.channel, this.address);
        this.error = '';
      } catch (e) {
        this.error = e.message;
      }
    }
    this.draw();
  }

  async reply(form) {
    const text = form.elements.text.value.trim();
    if (!text) return;
    try {
      await inbound(this.channel, this.address, text);
      this.sent.push({ channel: this.channel, address: this.address, text, ts: Date.now() });
      this.save();
      form.reset();
      this.error = '';
    } catch (e) {
      this.error = e.code === 'not_found' ? 'This number is not linked to a conversation yet.' : e.message;
    }
    this.poll();
  }

  thread() {
    const mine = this.sent
      .filter((m) => m.channel === this.channel && m.address === this.address)
      .map((m) => ({ key: `s${m.ts}`, mine: true, text: m.text, ts: m.ts }));
    const theirs = this.received.map((m) => ({ key: m.id, mine: false, text: m.text, ts: m.ts, who: m.author?.name }));
    return [...theirs, ...mine].sort((a, b) => a.ts - b.ts);
  }

  draw() {
    if (!this.isOpen) {
      render(html``, this.root);
      return;
    }
    const items = this.thread();
    render(
      html`<aside class="phone" aria-label="The customer's phone" data-testid="phone">
        <div class="phone-head">
          <select
            aria-label="Channel"
            data-testid="phone-channel"
            @change=${(e) => {
              this.channel = e.target.value;
              this.save();
              this.poll();
            }}
          >
            ${CHANNELS.map(([v, l]) => html`<option value=${v} ?selected=${v === this.channel}>${l}</option>`)}
          </select>
          <input
            aria-label="Phone number"
            data-testid="phone-address"
            .value=${this.address}
            @change=${(e) => {
              this.address = e.target.value.trim();
              this.save();
              this.poll();
            }}
          />
          <button type="button" class="phone-close" aria-label="Hide the phone" @click=${() => this.toggle()}>×</button>
        </div>
        <p class="phone-from">Fjord &amp; Pine · ${this.channel === 'sms' ? 'SMS' : 'WhatsApp'}</p>
        <ol class="phone-thread" aria-live="polite">
          ${items.length
            ? repeat(
                items,
                (m) => m.key,
                (m) =>
                  html`<li class=${m.mine ? 'mine' : 'theirs'} data-testid="phone-msg" data-mine=${m.mine ? 'true' : 'false'}><span class="text">${m.text}</span><small>${m.who ? `${m.who} · ` : ''}${time(m.ts)}</small></li>`,
              )
            : html`<li class="empty">No messages to this number yet.</li>`}
        </ol>
        ${this.error ? html`<p class="phone-error" role="alert">${this.error}</p>` : ''}
        <form
          class="phone-compose"
          @submit=${(e) => {
            e.preventDefault();
            this.reply(e.target);
          }}
        >
          <input name="text" aria-label="Text message" placeholder="Text message" data-testid="phone-input" autocomplete="off" />
          <button type="submit" data-testid="phone-send">Send</button>
        </form>
      </aside>`,
      this.root,
    );
  }
}
