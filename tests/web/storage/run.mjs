#!/usr/bin/env node
// Browser storage tests: web/src/storage/{idb,memory}.js in Debian's Chromium.
//
//   node tests/web/storage/run.mjs        (exit status non-zero on failure; last line
//                                          "web-storage: N passed, M failed")
//
// (a) every case of tests/contract/storage_contract.json against IndexedDB and memory.js
// (b) IndexedDB migrations from fixtures (tests/web/storage/fixtures/v*.json)
// (c) namespaces: separate databases per user, destroy(), the directory, moveNamespace
// (d) blocked storage: indexedDB.open throwing SecurityError (init script), a real
//     sandboxed iframe, no IndexedDB, an open that never succeeds
// (e) persistence across a page reload and across a browser restart on an on-disk profile
// (f) aborts and a real QuotaExceededError (CDP Storage.overrideQuotaForOrigin on a fresh
//     context, set before the origin first touches storage), all-or-nothing
//
// The in-page side is tests/web/storage/harness.js (+ contract.js, the step interpreter).

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { launchChromium, launchPersistentChromium, ROOT, startStatic, watchPage } from '../lib/browser.mjs';

const HERE = join(ROOT, 'tests/web/storage');
const HARNESS = '/tests/web/storage/harness.js';
const BLANK = '/tests/web/pages/blank.html';

/** @type {{name: string, ok: boolean, detail?: string}[]} */
const results = [];
function report(list) {
  for (const r of list) {
    results.push(r);
    console.log(`${r.ok ? 'ok  ' : 'FAIL'} ${r.name}${r.ok ? '' : `\n       ${r.detail}`}`);
  }
}

/** Runs an exported section of harness.js in a page or frame. */
function section(target, base, fn, arg) {
  return target.evaluate(
    async ([url, fn, arg]) => (await import(url))[fn](arg),
    [`${base}${HARNESS}`, fn, arg ?? null],
  );
}

/** Page errors, console errors and failed HTTP responses of a page. */
function watched(page) {
  const problems = watchPage(page);
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`HTTP ${r.status()} ${r.url()}`);
  });
  return problems;
}

/** @param {string} what @param {string[]} problems */
function reportClean(what, problems) {
  report([{ name: `no page errors or console errors (${what})`, ok: problems.length === 0, detail: problems.join(' | ') }]);
}

/** Runs `body`; an exception becomes one failed result named `name`. */
async function guarded(name, body) {
  try {
    await body();
  } catch (e) {
    report([{ name, ok: false, detail: String((e && e.stack) || e).split('\n').slice(0, 4).join(' | ') }]);
  }
}

const watchdog = setTimeout(() => {
  console.log('web-storage: timed out after 150 s');
  console.log(`web-storage: ${results.filter((r) => r.ok).length} passed, ${results.filter((r) => !r.ok).length + 1} failed`);
  process.exit(1);
}, 150_000);
watchdog.unref();

const t0 = Date.now();
const suite = JSON.parse(readFileSync(join(ROOT, 'tests/contract/storage_contract.json'), 'utf8'));
const fixtures = readdirSync(join(HERE, 'fixtures'))
  .filter((f) => /^v\d+\.json$/.test(f))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(HERE, 'fixtures', f), 'utf8')));

// CORS so that the opaque-origin (sandboxed) iframe may load the modules.
// The favicon answer keeps Chromium's automatic /favicon.ico request from logging a 404.
const web = await startStatic({
  headers: { 'access-control-allow-origin': '*' },
  routes: { '/favicon.ico': (_req, res) => res.writeHead(204).end() },
});
const browser = await launchChromium();
try {
  // ------------------------------------------------------------- main context
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const problems = watched(page);
  await page.goto(`${web.url}${BLANK}`);

  await guarded('contract (IndexedDB)', async () => report(await section(page, web.url, 'contract', { backend: 'idb', suite })));
  await guarded('contract (memory)', async () => report(await section(page, web.url, 'contract', { backend: 'memory', suite })));
  await guarded('migrations', async () => report(await section(page, web.url, 'migrations', { fixtures })));
  await guarded('namespaces', async () => report(await section(page, web.url, 'namespaces')));
  await guarded('unavailable', async () => report(await section(page, web.url, 'unavailable')));
  await guarded('aborts', async () => report(await section(page, web.url, 'aborts')));
  await guarded('persistence (page reload)', async () => {
    const answers = await section(page, web.url, 'persistWrite', { app: 'reload' });
    if (answers.join() !== 'ok,ok') throw new Error(`commits before the reload answered ${answers}`);
    await page.reload();
    report(await section(page, web.url, 'persistRead', { app: 'reload', label: 'page reload' }));
  });
  await guarded('databases left behind', async () => {
    const names = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
    const userDbs = names.filter((n) => /^parley:[^:]+:/.test(n));
    report([{ name: 'cleanup: every test namespace was destroyed', ok: userDbs.length === 0, detail: `left: ${userDbs}` }]);
  });

  // (d) a real sandboxed iframe: Chromium itself refuses IndexedDB to an opaque origin.
  await guarded('blocked (sandboxed iframe)', async () => {
    await page.goto(`${web.url}/tests/web/pages/storage-sandbox.html`);
    const el = await page.waitForSelector('#sandboxed');
    const frame = await el.contentFrame();
    await frame.waitForLoadState('load');
    const origin = await frame.evaluate(() => self.origin);
    if (origin !== 'null') throw new Error(`iframe origin ${origin}, expected an opaque origin`);
    report(await section(frame, web.url, 'blocked', { label: 'sandboxed iframe, opaque origin', expectReason: 'security' }));
  });
  reportClean('main context', problems);
  await ctx.close();

  // --------------------------------------------- (d) indexedDB.open throws SecurityError
  await guarded('blocked (init script)', async () => {
    const c = await browser.newContext();
    await c.addInitScript(() => {
      IDBFactory.prototype.open = function open() {
        throw new DOMException('The operation is insecure.', 'SecurityError');
      };
    });
    const p = await c.newPage();
    const problems = watched(p);
    await p.goto(`${web.url}${BLANK}`);
    report(await section(p, web.url, 'blocked', { label: 'indexedDB.open throws SecurityError', expectReason: 'security' }));
    reportClean('blocked context', problems);
    await c.close();
  });

  // ------------------------------------------------------------- (f) real quota
  await guarded('quota (real)', async () => {
    const c = await browser.newContext();
    const p = await c.newPage();
    const problems = watched(p);
    const cdp = await c.newCDPSession(p);
    // Before the origin first touches storage: IndexedDB caches the space it may use for
    // 30 s, so a later override would not be seen in time.
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: web.url, quotaSize: 2 * 1024 * 1024 });
    await p.goto(`${web.url}${BLANK}`);
    report(await section(p, web.url, 'quotaOver'));
    const q = await cdp.send('Storage.getUsageAndQuota', { origin: web.url });
    report([{ name: 'quota (real): the override was in force', ok: q.overrideActive === true && q.quota === 2 * 1024 * 1024, detail: JSON.stringify(q) }]);
    await cdp.send('Storage.overrideQuotaForOrigin', { origin: web.url }); // back to the default quota
    report(await section(p, web.url, 'quotaAfter'));
    reportClean('quota context', problems);
    await c.close();
  });
} finally {
  await browser.close();
}

// ------------------------------------------ (e) browser restart on an on-disk profile
await guarded('persistence (browser restart)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-storage-profile-'));
  try {
    const launch = () => launchPersistentChromium(dir);
    let c = await launch();
    let p = c.pages()[0] || (await c.newPage());
    await p.goto(`${web.url}${BLANK}`);
    const answers = await section(p, web.url, 'persistWrite', { app: 'restart' });
    if (answers.join() !== 'ok,ok') throw new Error(`commits before the restart answered ${answers}`);
    await c.close(); // the browser process exits
    c = await launch();
    p = c.pages()[0] || (await c.newPage());
    await p.goto(`${web.url}${BLANK}`);
    report(await section(p, web.url, 'persistRead', { app: 'restart', label: 'browser restart, on-disk profile' }));
    await c.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

await web.close();
const passed = results.filter((r) => r.ok).length;
const failed = results.length - passed;
console.log(`(${((Date.now() - t0) / 1000).toFixed(1)} s)`);
console.log(`web-storage: ${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
