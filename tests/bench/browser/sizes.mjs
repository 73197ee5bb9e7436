// The size budget (DESIGN.md: what a visitor loads, wasm + JS + CSS, <= 120 KiB gzip -9),
// from build/dist (node web/build.mjs). startup.mjs prints it with the start-up figures;
// `node tests/bench/browser/sizes.mjs` prints the sizes alone.
//
// The widget's ES modules load their locale tables lazily (web/build.mjs): a visitor loads
// one parley-locale-<lang>.mjs beside them. Each bundle's worst case is the core (wasm +
// glue) + the bundle + the largest table. Bundles: parley-widget.mjs (websites) and
// parley-webview.mjs (a native app's webview: the widget + the native bridge and layout,
// single-tab). The budget holds when every bundle's worst case is within it.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ROOT } from '../../web/lib/browser.mjs';

export const BUDGET = 120 * 1024;
// Sizes as DESIGN.md states them: the gzip -9 command (as tests/run.sh's size table).
export const gz = (f) => execFileSync('gzip', ['-9', '-c', join(ROOT, f)], { maxBuffer: 1 << 26 }).length;

export function sizes() {
  const core = gz('build/dist/parley_core.wasm') + gz('build/dist/parley_core.mjs');
  const bundle = gz('build/dist/parley.mjs');
  const locales = readdirSync(join(ROOT, 'build/dist')).filter((f) => /^parley-locale-\w+\.mjs$/.test(f));
  const locale = Math.max(0, ...locales.map((f) => gz(`build/dist/${f}`)));
  const widget = core + gz('build/dist/parley-widget.mjs') + locale;
  const webview = existsSync(join(ROOT, 'build/dist/parley-webview.mjs')) ? core + gz('build/dist/parley-webview.mjs') + locale : NaN;
  return { core, bundle, locale, widget, webview };
}

const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const verdict = (n) => `(budget <= 120 KB: ${n <= BUDGET ? 'met' : 'MISSED'}, ${BUDGET - n} bytes to spare)`;

/** The lines startup.mjs prints about sizes. */
export function sizeLines(s = sizes()) {
  return [
    `  headless core gzip -9 (wasm + glue)    ${kb(s.core)}   (budget <= 80 KB: ${s.core <= 80 * 1024 ? 'met' : 'MISSED'})`,
    `  shell bundle gzip -9 (parley.mjs)      ${kb(s.bundle)}`,
    `  full widget gzip -9 (core + widget.mjs + largest locale) ${kb(s.widget)}   ${verdict(s.widget)}`,
    ...(Number.isNaN(s.webview) ? [] : [`  webview widget gzip -9 (core + webview.mjs + largest locale) ${kb(s.webview)}   ${verdict(s.webview)}`]),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const s = sizes();
  for (const l of sizeLines(s)) console.log(l);
  console.log(`sizes: core_gzip=${s.core} bundle_gzip=${s.bundle} widget_gzip=${s.widget} webview_gzip=${s.webview} budget=${BUDGET}`);
  if (s.widget > BUDGET || s.webview > BUDGET) process.exitCode = 1;
}
