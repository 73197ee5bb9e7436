// lit-html (npm, BSD-3-Clause), the widget's renderer, from one place. The path is relative
// so the source modules also run unbundled in the browser (the tests load web/src directly;
// a bare specifier would need an import map, i.e. an inline script, which strict CSP
// forbids); esbuild bundles the same files into build/dist.
export { html, nothing, render } from '../../../node_modules/lit-html/lit-html.js';
export { keyed } from '../../../node_modules/lit-html/directives/keyed.js';
