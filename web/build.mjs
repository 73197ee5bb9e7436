// Builds the browser distributable into build/dist/ with esbuild (npm):
//   parley.mjs        ES module (import Parley from '.../parley.mjs')
//   parley.js         classic script for the <script> snippet (global `Parley`)
//   parley-widget.mjs / parley-widget.js   the same plus the <parley-messenger> widget,
//                     defined on load (web/src/widget/auto.js)
//   parley-webview.mjs / parley-webview.js the widget in mobile webview mode, for a page in
//                     a native app's webview (web/src/widget/webview-auto.js): the native
//                     bridge and layout, and one tab only (src/tabs/single.js instead of
//                     src/tabs/leader.js: no election in a webview's single page)
//   parley_core.mjs   the wasm glue (Emscripten, ES module) and parley_core.wasm, copied
//                     from build/wasm (tests/run.sh builds them first)
// Usage: node web/build.mjs [--wasm-dir build/wasm] [--out build/dist]
import { copyFileSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : dflt;
};
const wasmDir = resolve(root, opt('--wasm-dir', 'build/wasm'));
const out = resolve(root, opt('--out', 'build/dist'));
mkdirSync(out, { recursive: true });

for (const f of ['parley_core.mjs', 'parley_core.wasm']) {
  const src = join(wasmDir, f);
  if (!existsSync(src)) {
    console.error(`web/build.mjs: ${src} is missing: build the wasm target parley_core_web first`);
    process.exit(1);
  }
  copyFileSync(src, join(out, f));
}

const common = {
  entryPoints: [join(root, 'web/src/index.js')],
  bundle: true,
  minify: true,
  sourcemap: true,
  target: ['es2020'],
  legalComments: 'none',
  // The wasm glue is loaded at run time next to the bundle, never inlined.
  external: ['./parley_core.mjs'],
  logLevel: 'warning',
};
// ES modules are always decoded as UTF-8, so they may carry non-ASCII text as is (the
// Arabic and French strings) instead of \u escapes; the classic scripts stay ASCII, since
// a page in another charset could mis-decode them.
await esbuild.build({ ...common, format: 'esm', charset: 'utf8', outfile: join(out, 'parley.mjs') });
await esbuild.build({
  ...common,
  format: 'iife',
  globalName: 'Parley',
  // raw.js falls back to document.currentScript when import.meta is empty (classic script).
  logOverride: { 'empty-import-meta': 'silent' },
  footer: { js: 'Parley=Parley.default||Parley;' },
  outfile: join(out, 'parley.js'),
});
// The widget: <parley-messenger> defined on load, plus Parley.create and mount.
// The ES module leaves the widget's locale tables out (web/src/widget/i18n: dynamic
// imports): each is its own module, parley-locale-<lang>.mjs, loaded beside
// parley-widget.mjs, one per visitor. The classic script cannot import a module relative to
// itself: it carries every table.
const widget = { ...common, entryPoints: [join(root, 'web/src/widget/auto.js')] };
const LOCALES = ['en', 'fr', 'ar'];
const splitLocales = {
  name: 'split-locales',
  setup(b) {
    b.onResolve({ filter: /^\.\/(\w+)\.js$/ }, (a) => {
      const lang = a.path.slice(2, -3);
      if (a.kind !== 'dynamic-import' || !a.importer.endsWith(join('widget', 'i18n', 'index.js')) || !LOCALES.includes(lang)) return null;
      return { path: `./parley-locale-${lang}.mjs`, external: true };
    });
  },
};
await esbuild.build({ ...widget, format: 'esm', charset: 'utf8', plugins: [splitLocales], outfile: join(out, 'parley-widget.mjs') });
for (const lang of LOCALES) {
  await esbuild.build({
    ...common,
    entryPoints: [join(root, `web/src/widget/i18n/${lang}.js`)],
    format: 'esm',
    charset: 'utf8',
    outfile: join(out, `parley-locale-${lang}.mjs`),
  });
}
await esbuild.build({
  ...widget,
  format: 'iife',
  globalName: 'Parley',
  logOverride: { 'empty-import-meta': 'silent' },
  footer: { js: 'Parley=Parley.default||Parley;' },
  outfile: join(out, 'parley-widget.js'),
});
// The webview bundle: the same widget with bridge.js and webview.js wired in, and the tabs
// module swapped at build time for the single-tab one (same interface).
const singleTab = {
  name: 'single-tab',
  setup(b) {
    b.onResolve({ filter: /^\.\/tabs\/leader\.js$/ }, () => ({ path: join(root, 'web/src/tabs/single.js') }));
  },
};
const webview = { ...common, entryPoints: [join(root, 'web/src/widget/webview-auto.js')] };
await esbuild.build({ ...webview, format: 'esm', charset: 'utf8', plugins: [singleTab, splitLocales], outfile: join(out, 'parley-webview.mjs') });
await esbuild.build({
  ...webview,
  format: 'iife',
  globalName: 'Parley',
  plugins: [singleTab],
  logOverride: { 'empty-import-meta': 'silent' },
  footer: { js: 'Parley=Parley.default||Parley;' },
  outfile: join(out, 'parley-webview.js'),
});
const locales = LOCALES.map((l) => `parley-locale-${l}.mjs`);
for (const f of ['parley.mjs', 'parley.js', 'parley-widget.mjs', ...locales, 'parley-widget.js', 'parley-webview.mjs', 'parley-webview.js', 'parley_core.mjs', 'parley_core.wasm']) {
  console.log(`build/dist/${f} ${statSync(join(out, f)).size} bytes`);
}

// The XMPP adapter (web/src/transport/xmpp, docs/adapters.md) for integrators who sync
// Parley through an XMPP server: its own ES module, with @xmpp/client bundled in, so
// nothing of it weighs on parley.mjs or the widget. `Parley.create({ adapter:
// xmppAdapter({...}) })` plugs it in. @xmpp/resolve (DNS/host-meta discovery, unused: the
// adapter is given the WebSocket URL) imports node:dns, which a browser does not have.
const noNodeDns = {
  name: 'no-node-dns',
  setup(b) {
    b.onResolve({ filter: /^node:dns$/ }, () => ({ path: 'node:dns', namespace: 'empty' }));
    b.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export default {};' }));
  },
};
await esbuild.build({
  ...common,
  entryPoints: [join(root, 'web/src/transport/xmpp/index.js')],
  format: 'esm',
  charset: 'utf8',
  plugins: [noNodeDns],
  outfile: join(out, 'parley-xmpp.mjs'),
});
console.log(`build/dist/parley-xmpp.mjs ${statSync(join(out, 'parley-xmpp.mjs')).size} bytes`);
