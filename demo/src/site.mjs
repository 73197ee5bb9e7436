// The store page's demo layer: the demo controls (network, reload, style, hours, reset), the
// "phone" that shows the simulated SMS and WhatsApp threads, and the guided tour. None of this
// is part of an embed: the widget on the page comes from the snippet, as a customer embeds it,
// and this file only talks to it through its public API (`el.parley`, docs in README.md) and
// to the server's demo, channel and agent endpoints (docs/server.md).

import { html, render } from 'lit-html';
import { demo, widget } from './demo-api.mjs';
import { Account } from './account.mjs';
import { Phone } from './phone.mjs';
import { Tour } from './tour.mjs';

const STYLES = [
  ['social_messaging', 'Social messaging'],
  ['live_chat_returning', 'Returning customer'],
  ['live_chat', 'Live chat'],
];
const HOURS = [
  ['none', 'Always on'],
  ['open', 'Open now'],
  ['closed', 'Closed now'],
];

class Controls {
  constructor(root) {
    this.root = root;
    this.state = null;
    this.busy = '';
    this.note = '';
    this.account = new Account(document.querySelector('.account'));
    this.phone = new Phone(document.body.appendChild(document.createElement('div')));
    this.tour = new Tour(document.body.appendChild(document.createElement('div')), {
      setOnline: (on) => this.setOnline(on),
      showPhone: (address, channel) => this.phone.show(address, channel),
      phone: this.phone,
    });
    this.refresh();
    this.timer = setInterval(() => this.refresh(), 4000);
  }

  async refresh() {
    try {
      const first = !this.state;
      this.state = await demo('GET', 'state');
      // Loaded while the demo network is off: the widget hears it once it is listening.
      if (first && !this.state.online) widget().then(() => window.dispatchEvent(new Event('offline')));
    } catch (e) {
      this.note = `Server: ${e.message}`;
    }
    this.draw();
  }

  async act(what, fn) {
    this.busy = what;
    this.draw();
    try {
      await fn();
      this.note = '';
    } catch (e) {
      this.note = `${what}: ${e.message}`;
    } finally {
      this.busy = '';
      this.draw();
    }
  }

  // The network really drops: the server cuts the widget's connections and refuses new
  // ones. A real phone's browser would also fire `offline` / `online` at the page, which is
  // what lets a widget reconnect at once instead of waiting out its backoff; so does this.
  setOnline(online) {
    return this.act(online ? 'Going online' : 'Going offline', async () => {
      this.state = await demo('POST', 'network', { online });
      window.dispatchEvent(new Event(online ? 'online' : 'offline'));
    });
  }

  settings(change) {
    return this.act('Saving', async () => {
      this.state = await demo('POST', 'settings', change);
      // Business hours reach a widget in the server's welcome: reconnect by reloading, as a
      // visitor arriving now would.
      if (change.hours) location.reload();
    });
  }

  reset() {
    if (!confirm('Delete every conversation on the server and on this device, and start over?')) return;
    return this.act('Resetting', async () => {
      await demo('POST', 'reset');
      const { parley } = await widget();
      await parley.logout(); // wipes this browser's copy, in every tab
      this.phone.forget();
      this.account.forget();
      this.tour.stop();
      location.reload();
    });
  }

  draw() {
    const s = this.state;
    const online = !s || s.online;
    render(
      html`<div class="demo-inner">
        <strong class="demo-title">Parley demo</strong>
        <button
          type="button"
          class=${online ? 'net on' : 'net off'}
          data-testid="demo-network"
          aria-pressed=${online ? 'false' : 'true'}
          ?disabled=${!!this.busy}
          @click=${() => this.setOnline(!online)}
        >
          <span class="dot" aria-hidden="true"></span>${online ? 'Online' : 'Offline'}
        </button>
        <button type="button" data-testid="demo-reload" @click=${() => location.reload()}>Reload</button>
        <label
          >Style
          <select
            data-testid="demo-style"
            title="For conversations started from now on"
            @change=${(e) => this.settings({ style: e.target.value })}
          >
            ${STYLES.map(([v, label]) => html`<option value=${v} ?selected=${s && s.style === v}>${label}</option>`)}
          </select></label
        >
        <label
          >Hours
          <select data-testid="demo-hours" @change=${(e) => this.settings({ hours: e.target.value })}>
            ${HOURS.map(([v, label]) => html`<option value=${v} ?selected=${s && s.hours === v}>${label}</option>`)}
          </select></label
        >
        <button type="button" data-testid="demo-phone" @click=${() => this.phone.toggle()}>Phone</button>
        <a href="agent.html" target="parley-agent" data-testid="demo-agent">Agent console ↗</a>
        <button type="button" class="tour-btn" data-testid="demo-tour" @click=${() => this.tour.start()}>
          Guided tour
        </button>
        <button type="button" class="reset" data-testid="demo-reset" @click=${() => this.reset()}>Reset demo</button>
        <span class="demo-note" role="status">${this.busy ? `${this.busy}…` : this.note}</span>
      </div>`,
      this.root,
    );
  }
}

new Controls(document.getElementById('demo-bar'));
