// The widget's entry point for the <script> snippet and the ES module: defines
// <parley-messenger> on load, and exposes Parley.create and mount beside it.
//
//   <script src="https://cdn.example/parley/parley-widget.js" defer></script>
//   <parley-messenger app-id="acme" server="https://chat.acme.example"></parley-messenger>
import { create, ParleyError, version } from '../index.js';
import { defineParleyMessenger, mount } from './index.js';

defineParleyMessenger();

export { create, defineParleyMessenger, mount, ParleyError, version };
const Parley = { create, mount, defineParleyMessenger, ParleyError, version };
export default Parley;
