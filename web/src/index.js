// Parley's public entry point (ES module and, bundled, the classic <script> global).
//
//   import Parley from '@parley/web';            // or window.Parley from the snippet
//   const parley = await Parley.create({ appId: 'acme', server: 'https://chat.acme.test' });
//   const conv = await parley.startConversation('Order #1234');
//   await parley.send(conv, 'Hello!');
//   parley.on('messages', ({ conv, messages }) => render(conv, messages));

import { create, ParleyError } from './parley.js';

export const version = '0.1.0';
export { create, ParleyError };

const Parley = { create, version, ParleyError };
export default Parley;
