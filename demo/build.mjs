// Builds the demo into build/demo/ (served at / by `parley_server --demo build/demo`, with
// the widget's own build, build/dist/, under /dist/):
//   demo/public/*       copied as is (the store page index.html, the agent console
//                       agent.html, their stylesheets and images)
//   demo/src/site.mjs   -> site.js   demo controls, the phone panel and the guided tour on
//                                    the store page (the widget itself comes from the
//                                    snippet, /dist/parley-widget.js, as a customer embeds it)
//   demo/src/agent.mjs  -> agent.js  the agent console
// Usage: node demo/build.mjs [--out build/demo]
import { cpSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const i = args.indexOf('--out');
const out = resolve(root, i >= 0 ? args[i + 1] : 'build/demo');
mkdirSync(out, { recursive: true });
cpSync(join(root, 'demo/public'), out, { recursive: true });
await esbuild.build({
  entryPoints: { site: join(root, 'demo/src/site.mjs'), agent: join(root, 'demo/src/agent.mjs') },
  bundle: true,
  minify: true,
  sourcemap: true,
  format: 'esm',
  charset: 'utf8',
  target: ['es2020'],
  legalComments: 'none',
  outdir: out,
  logLevel: 'warning',
});
