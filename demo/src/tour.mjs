// The two-minute guided tour: eight steps, each with what to do, a "do it for me" action
// (the visitor's side goes through the widget's public API, the agent's through the agent
// API, as the console would), and a live check of the outcome that turns green only when it
// is true: the message is queued, survived the reload, is on the server exactly once, ...
// The tour's place survives reloads (sessionStorage), since step 2 is a reload.
import { html, render } from 'lit-html';
import { api, outbox, widget } from './demo-api.mjs';

const KEY = 'parley-demo-tour';
export const SCRIPT = {
  first: 'Hi! Is the Nordkapp tent still on sale?',
  human: 'Talk to a human',
  address: '+4791234567',
  agentReply: 'Yes, it is €439 until Sunday, and it sleeps two with room for packs in the porch.',
  phoneReply: 'Perfect, I will order it tonight. Can it reach Tromsø by Friday?',
  again: 'One more thing: do you sell a footprint for it?',
};
const DONE = new Set(['sent', 'delivered', 'read']);

const text = (item) => item.message?.body?.text || '';

async function instance() {
  return (await widget()).parley;
}

async function entry(conv) {
  const parley = await instance();
  return parley.conversations().find((e) => e.conv.id === conv);
}

async function items(conv) {
  return conv ? (await instance()).messages(conv) : [];
}

async function serverMessages(conv) {
  const all = [];
  let before = 0;
  for (let i = 0; i < 20; i++) {
    const page = await api.messages(conv, { before, limit: 100 });
    all.unshift(...page.messages);
    if (page.complete || !page.messages.length) break;
    before = page.messages[0].seq;
  }
  return all;
}

export class Tour {
  constructor(root, hooks) {
    this.root = root;
    this.hooks = hooks;
    this.s = JSON.parse(sessionStorage.getItem(KEY) || 'null') || { active: false, step: 0 };
    this.result = null; // {ok, text} of the current step's check
    this.busy = false;
    // Page loads while the tour runs: step 2 passes once the page was loaded again after
    // the step began (by its button, the bar's Reload or the browser's).
    if (this.s.active) {
      this.s.loads = (this.s.loads || 0) + 1;
      this.save();
    }
    this.steps = this.define();
    this.draw();
    setInterval(() => this.check(), 800);
  }

  save() {
    sessionStorage.setItem(KEY, JSON.stringify(this.s));
  }

  start() {
    this.s = { active: true, step: 0, loads: 1, stepLoads: 1 };
    this.save();
    this.result = null;
    this.draw();
  }

  stop() {
    this.s = { active: false, step: 0 };
    sessionStorage.removeItem(KEY);
    this.draw();
  }

  go(step) {
    this.s.step = Math.max(0, Math.min(this.steps.length - 1, step));
    this.s.stepLoads = this.s.loads;
    this.save();
    this.result = null;
    this.draw();
    this.check();
  }

  async run(fn) {
    this.busy = true;
    this.draw();
    try {
      await fn();
    } catch (e) {
      this.result = { ok: false, text: `That did not work: ${e.message}` };
    } finally {
      this.busy = false;
      this.draw();
      this.check();
    }
  }

  async check() {
    if (!this.s.active) return;
    const step = this.steps[this.s.step];
    try {
      this.result = await step.check();
    } catch (e) {
      this.result = { ok: false, text: e.message };
    }
    this.draw();
  }

  define() {
    const s = () => this.s;
    const wait = (t) => ({ ok: false, text: t });
    const ok = (t) => ({ ok: true, text: t });
    return [
      {
        title: 'Type while offline',
        body: 'The shopper’s train enters a tunnel. Go offline, then write in the chat. The message is saved on this device and queued: nothing is lost if the tab closes now.',
        action: [
          'Go offline and write for me',
          async () => {
            await this.hooks.setOnline(false);
            const { el, parley } = await widget();
            el.open?.();
            const first = parley.conversations().find((e) => e.conv.status !== 'closed');
            const conv = first ? first.conv.id : await parley.startConversation();
            s().conv = conv;
            this.save();
            await parley.send(conv, SCRIPT.first);
          },
        ],
        check: async () => {
          const parley = await instance();
          for (const e of parley.conversations()) {
            const it = parley.messages(e.conv.id).find((i) => text(i) === SCRIPT.first);
            if (!it) continue;
            if (s().conv !== e.conv.id) {
              s().conv = e.conv.id;
              this.save();
            }
            if (it.state === 'queued' || it.state === 'sending') return ok(`Queued on this device (“${it.state}”), waiting for the network.`);
            return wait(`The message is already “${it.state}”: go offline first, then write.`);
          }
          return wait(`Waiting for “${SCRIPT.first}” in the chat.`);
        },
      },
      {
        title: 'Reload the page',
        body: 'Still offline, reload. In session-based chat this is where the message dies. Here it is read back from IndexedDB, still queued.',
        action: [
          'Reload',
          async () => location.reload(),
        ],
        check: async () => {
          if (!(s().loads > s().stepLoads)) return wait('Waiting for a reload.');
          const it = (await items(s().conv)).find((i) => text(i) === SCRIPT.first);
          if (!it) return wait('The message is not in the chat.');
          return it.state === 'queued' || it.state === 'sending'
            ? ok('Survived the reload, still queued.')
            : ok(`Survived the reload (now “${it.state}”).`);
        },
      },
      {
        title: 'Back online',
        body: 'The train leaves the tunnel. The queue flushes by itself, and the server acknowledges each message once: retries can never make a duplicate.',
        action: ['Go online', () => this.hooks.setOnline(true)],
        check: async () => {
          const it = (await items(s().conv)).find((i) => text(i) === SCRIPT.first);
          if (!it || !DONE.has(it.state)) return wait(`Waiting for delivery (${it ? it.state : 'no message'}).`);
          const copies = (await serverMessages(s().conv)).filter((m) => m.body?.text === SCRIPT.first).length;
          return copies === 1 ? ok('Delivered exactly once: 1 copy on the server.') : wait(`${copies} copies on the server.`);
        },
      },
      {
        title: 'The bot, then a person',
        body: 'The bot greets the shopper with quick replies. “Talk to a human” hands the conversation to the agent queue, with its place in line.',
        action: ['Tap “Talk to a human”', async () => (await instance()).send(s().conv, SCRIPT.human)],
        check: async () => {
          const e = await entry(s().conv);
          const kind = e?.conv.owner?.kind;
          if (kind === 'queue') return ok(`Handed to the agents: queue position ${e.conv.owner.queue_position ?? 1}.`);
          if (kind === 'agent') return ok(`Handed to ${e.conv.owner.agent_name || 'an agent'}.`);
          return wait('The bot is answering. Waiting for “Talk to a human”.');
        },
      },
      {
        title: 'Leave, continue by SMS',
        body: `The shopper has to go. “Continue elsewhere” → SMS, number ${SCRIPT.address}. The conversation moves with its history; the phone on the left is their handset.`,
        action: [
          'Continue by SMS for me',
          async () => {
            await (await instance()).requestHandoff(s().conv, 'sms', SCRIPT.address);
            this.hooks.showPhone(SCRIPT.address, 'sms');
          },
        ],
        check: async () => {
          const e = await entry(s().conv);
          const sms = e?.conv.channels?.find((c) => c.channel === 'sms' && c.active);
          if (!sms) return wait('Waiting for the SMS handoff.');
          return ok(`Bound to SMS ${sms.address}.`);
        },
      },
      {
        title: 'The agent answers',
        body: 'Open the agent console (top bar), pick the conversation at the top of the queue, and reply. The reply goes out by SMS and lands on the phone.',
        action: [
          'Answer as Grace for me',
          async () => {
            await api.postMessage(s().conv, { text: SCRIPT.agentReply }, `tour-${s().conv}-reply`);
            this.hooks.showPhone(SCRIPT.address, 'sms');
          },
        ],
        check: async () => {
          const got = (await outbox('sms', SCRIPT.address)).filter((m) => m.conv === s().conv && m.author?.role === 'agent');
          return got.length ? ok(`On the phone: “${got[got.length - 1].text.slice(0, 48)}…”`) : wait('Waiting for an agent reply on the phone.');
        },
      },
      {
        title: 'Back on the website',
        body: 'The shopper answers from the phone, then opens the site again later. The whole conversation is there: web, bot, agent and SMS, in order.',
        action: [
          'Answer from the phone, then open the chat',
          async () => {
            const form = document.querySelector('.phone-compose');
            if (form) {
              form.elements.text.value = SCRIPT.phoneReply;
              await this.hooks.phone.reply(form);
            }
            (await widget()).el.open?.();
          },
        ],
        check: async () => {
          const all = (await items(s().conv)).map(text);
          const have = [SCRIPT.first, SCRIPT.human].every((t) => all.includes(t));
          const agent = (await items(s().conv)).some((i) => i.message?.author?.role === 'agent');
          const fromPhone = all.some((t) => t && t !== SCRIPT.first && t !== SCRIPT.human && this.phoneSent().includes(t));
          if (have && agent && fromPhone) return ok(`The whole history is here: ${all.filter(Boolean).length} messages across web and SMS.`);
          return wait('Waiting for the phone’s answer to show in the chat.');
        },
      },
      {
        title: 'Solve, rate, and the style',
        body: 'The agent marks it solved and asks for a rating. What happens next is the conversational style: in live chat the conversation ends and a new one starts; with a returning customer, writing again soon reopens it; in social messaging the shopper simply writes again, in the same conversation, days later.',
        action: [
          'Solve and send the survey as Grace',
          async () => {
            await api.setStatus(s().conv, 'solved');
            await api.postMessage(
              s().conv,
              { text: 'How did we do?', rich: 'csat', payload: { scale: 5, question: 'How did we do?' } },
              `tour-${s().conv}-csat`,
            );
          },
        ],
        check: async () => {
          const e = await entry(s().conv);
          if (!e) return wait('No conversation.');
          const csat = (await items(s().conv)).some((i) => i.message?.body?.rich === 'csat');
          const status = e.conv.status;
          if (!csat) return wait(`Status “${status}”. Waiting for the survey.`);
          const style = e.conv.style;
          if (style === 'live_chat') {
            return status === 'closed' ? ok('Live chat: solved means ended. The chat now offers “Start a new conversation”.') : wait(`Status “${status}”.`);
          }
          if (status === 'solved' || status === 'closed') {
            return ok(
              style === 'live_chat_returning'
                ? 'Returning customer: solved. Writing again within 2 hours reopens the same ticket.'
                : 'Social messaging: solved, and it stays one conversation. Write again any day: same thread.',
            );
          }
          return ok(`Social messaging: the shopper wrote again and the same conversation reopened (“${status}”).`);
        },
      },
    ];
  }

  phoneSent() {
    return (JSON.parse(localStorage.getItem('parley-demo-phone') || '{}').sent || []).map((m) => m.text);
  }

  draw() {
    if (!this.s.active) {
      render(html``, this.root);
      return;
    }
    const i = this.s.step;
    const step = this.steps[i];
    const r = this.result;
    const last = i === this.steps.length - 1;
    render(
      html`<section class="tour" aria-label="Guided tour" data-testid="tour" data-step=${i + 1}>
        <header>
          <span class="tour-count">Step ${i + 1} of ${this.steps.length}</span>
          <button type="button" class="tour-close" aria-label="End the tour" @click=${() => this.stop()}>×</button>
        </header>
        <h2>${step.title}</h2>
        <p>${step.body}</p>
        <p class=${r?.ok ? 'tour-check ok' : 'tour-check'} data-testid="tour-check" data-ok=${r?.ok ? 'true' : 'false'} role="status">
          <span aria-hidden="true">${r?.ok ? '✓' : '…'}</span> ${r ? r.text : 'Checking…'}
        </p>
        <div class="tour-actions">
          <button type="button" ?disabled=${this.busy} data-testid="tour-action" @click=${() => this.run(step.action[1])}>
            ${step.action[0]}
          </button>
          <span class="spacer"></span>
          <button type="button" ?disabled=${i === 0} data-testid="tour-back" @click=${() => this.go(i - 1)}>Back</button>
          ${last
            ? html`<button type="button" class="primary" data-testid="tour-finish" @click=${() => this.stop()}>Finish</button>`
            : html`<button type="button" class="primary" data-testid="tour-next" @click=${() => this.go(i + 1)}>Next</button>`}
        </div>
      </section>`,
      this.root,
    );
  }
}
