// The scenario runner shared by the browser tiers that drive Parley against the real
// server (tests/e2e/run.mjs, tests/e2e/attachments.mjs, tests/widget/run.mjs).
//
//   const { scenario, run } = scenarios('e2e', { config: {...}, csp: STRICT_CSP });
//   scenario('name', async (t) => { const server = await t.server(); ... });
//   await run();   // prints "ok"/"FAIL" lines and "<label>: N passed, M failed"; exits
//
// Each scenario gets t = { browser, web, cspWeb, server(), note }: t.server() starts
// build/native/parley_server (or --binary) on the shared database and stops it after the
// scenario; t.note is printed beside "ok". Command line: [--binary PATH] [--only NAME].

import { join, relative } from 'node:path';
import { cli, installCleanup, makeTempDir, sleep, startServer, writeConfig } from '../../load/lib.mjs';
import { launchChromium, ROOT, startStatic } from './browser.mjs';

export const WAIT_MS = 15_000;

/** Polls fn until it returns something truthy; the error names `what` and the last value. */
export async function waitFor(what, fn, timeout = WAIT_MS) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      last = await fn();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last instanceof Error ? last.message : JSON.stringify(last)})`);
}

/**
 * Opens `url` (or waits after a reload when there is none) until a test page that creates
 * Parley says window.ready, or throws with its window.loadError.
 */
export async function pageReady(page, url) {
  if (url) await page.goto(url);
  await page.waitForFunction(() => window.ready || window.loadError, null, { timeout: WAIT_MS });
  const err = await page.evaluate(() => window.loadError);
  if (err) throw new Error(`Parley failed to load: ${err}`);
}

/** An agent's message through the agent API (must answer 201). */
export async function agentPost(server, token, conv, text) {
  const r = await fetch(`${server.url}/v1/agent/conversations/${encodeURIComponent(conv)}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ text }),
  });
  if (r.status !== 201) throw new Error(`agent post: HTTP ${r.status} ${await r.text()}`);
}

/**
 * label: the summary line's name; config: the server configuration; csp: when given, a
 * second static server (t.cspWeb) sends this Content-Security-Policy with every page.
 */
export function scenarios(label, { config, csp, usage = '' }) {
  const opts = cli(
    {
      binary: { type: 'string', default: join(ROOT, 'build/native/parley_server') },
      only: { type: 'string', default: '' },
    },
    usage || `usage: node ${relative(ROOT, process.argv[1])} [--binary PATH] [--only NAME]`,
  );
  installCleanup(300_000, label);
  const dir = makeTempDir(`parley-${label}-`);
  const configPath = writeConfig(dir, config);
  const db = join(dir, `${label}.db`);
  const list = [];

  async function run() {
    // Browsers ask for /favicon.ico; answer it so a 404 is never mistaken for a Parley error.
    const routes = { '/favicon.ico': (req, res) => res.writeHead(204).end() };
    const web = await startStatic({ routes });
    const cspWeb = csp ? await startStatic({ csp, routes }) : null;
    const browser = await launchChromium();
    let passed = 0;
    let failed = 0;
    for (const s of list) {
      if (opts.only && !s.name.includes(opts.only)) continue;
      const t = { browser, web, cspWeb, servers: [], note: '' };
      t.server = async (extra = {}) => {
        const srv = await startServer({ binary: opts.binary, db, config: configPath, dir, label, ...extra });
        t.servers.push(srv);
        return srv;
      };
      const start = Date.now();
      try {
        await s.fn(t);
        passed++;
        console.log(`ok   ${s.name} (${Date.now() - start} ms)${t.note ? ` [${t.note}]` : ''}`);
      } catch (e) {
        failed++;
        const where = e && e.stack ? e.stack.split('\n').slice(0, 3).join('\n     ') : e;
        console.log(`FAIL ${s.name} (${Date.now() - start} ms)\n     ${where}`);
      } finally {
        for (const srv of t.servers) await srv.stop('SIGTERM').catch(() => srv.stop('SIGKILL'));
      }
    }
    await browser.close();
    await web.close();
    if (cspWeb) await cspWeb.close();
    console.log(`${label}: ${passed} passed, ${failed} failed`);
    process.exit(failed ? 1 : 0);
  }

  return { scenario: (name, fn) => list.push({ name, fn }), run, binary: opts.binary, db, dir, configPath };
}
