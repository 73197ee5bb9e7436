// The store page's side of the server: demo controls, the simulated channels and, for the
// tour's checks and "do it for me" buttons, the agent API. The demo signs these with the
// development agent token of demo/server.json (a public, demo-only secret).
import { AgentApi } from './agent-api.mjs';

export const AGENT_TOKEN = 'agent-dev-token';
export const api = new AgentApi(AGENT_TOKEN, 'demo');

/** A demo control (docs/server.md, "Demo controls"): answers the demo state. */
export function demo(method, op, body) {
  return api.request(method, `/v1/demo/${op}?app=demo`, body);
}

/** The business's messages to an address (what the phone received), oldest first. */
export async function outbox(channel, address) {
  const r = await api.request('GET', `/v1/channels/${channel}/${encodeURIComponent(address)}/outbox`);
  return r.messages;
}

/** The customer answers from the phone: lands in the conversation bound to the address. */
export function inbound(channel, address, text) {
  return api.request('POST', `/v1/channels/${channel}/inbound`, { address, text });
}

/** The page's widget and its instance, once the snippet has created it. */
export async function widget() {
  await customElements.whenDefined('parley-messenger');
  const el = document.querySelector('parley-messenger');
  for (let i = 0; !el.parley && i < 600; i++) await new Promise((r) => setTimeout(r, 50));
  if (!el.parley) throw new Error('the widget did not start');
  return { el, parley: el.parley };
}
