// Browser start-up benchmark (tests/run.sh bench): cold start to ready in Debian's
// Chromium with 1k, 10k and 100k messages stored in IndexedDB, page load to the widget's
// launcher on screen with 10k stored, and the gzip -9 sizes (sizes.mjs). Budgets (DESIGN.md): headless
// core <= 80 KB and full widget <= 120 KB gzip; start-up with 100k stored <= 1.3x start-up
// with 1k; launcher visible <= 60 ms with 10k stored.
//
// "Ready" = Parley.create() resolved (state restored) and the open conversation's last
// page is in the view, measured from navigation start (performance.now() in the page).
// Each size is measured RUNS times on a fresh page load (the browser and its disk cache are
// warm after the first, as for a returning visitor); the median is reported.
import { launchChromium, startStatic } from '../../web/lib/browser.mjs';
import { sizeLines, sizes } from './sizes.mjs';

const SIZES = [1000, 10000, 100000];
const RUNS = 7;

const web = await startStatic({ routes: { '/favicon.ico': (q, r) => r.writeHead(204).end() } });
const browser = await launchChromium();
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const results = {};
let launcher = NaN;
let baseline = NaN;
try {
  for (const n of SIZES) {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    const url = (query) => `${web.url}/tests/bench/browser/startup.html?${query}`;
    await page.goto(url(`seed=${n}`));
    const seeded = await page.waitForFunction(() => window.result, null, { timeout: 300_000 }).then((h) => h.jsonValue());
    if (seeded.error) throw new Error(seeded.error);
    const times = [];
    for (let i = 0; i < RUNS; i++) {
      await page.goto(url(`open=${seeded.open}`));
      const r = await page.waitForFunction(() => window.result, null, { timeout: 60_000 }).then((h) => h.jsonValue());
      if (r.error) throw new Error(r.error);
      times.push(r.ms);
    }
    results[n] = median(times);
    if (n === 10000) {
      // The widget: page load -> launcher visible, with 10k stored (the same database).
      const lt = [];
      for (let i = 0; i < RUNS; i++) {
        await page.goto(`${web.url}/tests/bench/browser/launcher.html`);
        const r = await page.waitForFunction(() => window.result, null, { timeout: 60_000 }).then((h) => h.jsonValue());
        if (r.error) throw new Error(r.error);
        lt.push(r.ms);
      }
      launcher = median(lt);
      const bt = [];
      for (let i = 0; i < RUNS; i++) {
        await page.goto(`${web.url}/tests/bench/browser/baseline.html`);
        const r = await page.waitForFunction(() => window.result, null, { timeout: 60_000 }).then((h) => h.jsonValue());
        bt.push(r.ms);
      }
      baseline = median(bt);
    }
    await ctx.close();
  }
} finally {
  await browser.close();
  await web.close();
}
// Sizes (sizes.mjs): each widget bundle's worst case, core + bundle + the largest locale table.
const sz = sizes();
const ratio = results[100000] / results[1000];
console.log('-- browser start-up (headless Chromium, IndexedDB, median of 7 loads)');
for (const n of SIZES) console.log(`  cold start to ready, ${String(n).padStart(6)} stored   ${results[n].toFixed(1)} ms`);
console.log(`  100k / 1k                              ${ratio.toFixed(2)}x   (budget <= 1.3x: ${ratio <= 1.3 ? 'met' : 'MISSED'})`);
console.log(`  page load -> launcher visible, 10k     ${launcher.toFixed(1)} ms   (budget <= 60 ms: ${launcher <= 60 ? 'met' : 'MISSED'})`);
console.log(`    of which an empty page (first frame)  ${baseline.toFixed(1)} ms   (Parley's share ${(launcher - baseline).toFixed(1)} ms)`);
for (const l of sizeLines(sz)) console.log(l);
console.log(`browser-startup: launcher_10k_ms=${launcher.toFixed(1)} empty_page_ms=${baseline.toFixed(1)} ms_1k=${results[1000].toFixed(1)} ms_10k=${results[10000].toFixed(1)} ms_100k=${results[100000].toFixed(1)} ratio=${ratio.toFixed(2)} core_gzip=${sz.core} bundle_gzip=${sz.bundle} widget_gzip=${sz.widget} webview_gzip=${sz.webview}`);
