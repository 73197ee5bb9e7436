// Type test for web/types/index.d.ts: compiles with `tsc --noEmit -p tests/web/types`.
// Lines marked @ts-expect-error must stay errors (the types reject misuse).
import Parley, { create, type Parley as Instance, type TimelineItem } from '../../../web/types/index';

async function main(): Promise<void> {
  const p: Instance = await Parley.create({ appId: 'acme', server: 'https://chat.acme.test' });
  const conv: string = await p.startConversation('Order #1234');
  const cid: string = await p.send(conv, 'hello');
  await p.send(conv, { text: 'pick one', rich: 'quick_replies', payload: { options: [] } });
  await p.retry(cid);
  await p.markRead(conv, 3);
  await p.requestHandoff(conv, 'sms', '+15551234567');
  const off = p.on('messages', ({ conv: c, messages }) => {
    const first: TimelineItem | undefined = messages[0];
    if (first && first.state === 'failed') console.log(c, first.error?.code);
  });
  off();
  p.on('connection', (state) => {
    const s: 'offline' | 'connecting' | 'handshaking' | 'ready' | 'backoff' = state;
    console.log(s);
  });
  p.on('out_of_sync', (retrying) => {
    const b: boolean = retrying && p.outOfSync;
    console.log(b);
  });
  p.on('storage', ({ persistent }) => console.log(persistent));
  const png = new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' });
  const fileCid: string = await p.sendFile(conv, png, { text: 'the receipt' });
  await p.sendFile(conv, png);
  p.on('upload_progress', ({ cid: c, attachment, loaded, total }) => {
    const pct: number = total ? loaded / total : 0;
    console.log(c === fileCid, attachment, pct);
  });
  try {
    await p.sendFile(conv, png);
  } catch (e) {
    if (e instanceof Parley.ParleyError && e.code === 'invalid_field') console.log(e.message);
  }
  await create({ appId: 'x', adapter: (hooks) => ({ capabilities: {}, connect() { hooks.onConnected(); }, disconnect() {}, send() {} }) });

  // @ts-expect-error appId is required
  await Parley.create({ server: 'x' });
  // @ts-expect-error unknown channel
  await p.requestHandoff(conv, 'pigeon');
  // @ts-expect-error unknown event
  p.on('nope', () => {});
  // @ts-expect-error send needs a conversation
  await p.send('hello');
  // @ts-expect-error sendFile takes a Blob, not a string
  await p.sendFile(conv, 'hello.txt');
  // @ts-expect-error the caption is a string
  await p.sendFile(conv, png, { text: 42 });
}
void main;
