// Browser test harness: a static file server for the repository and Debian's Chromium
// driven by playwright-core (npm). Used by every browser tier (web, e2e, browser benches).
//
//   const web = await startStatic({ csp })      // serves /work/main as http://127.0.0.1:P/
//   const browser = await launchChromium()
//   const page = await browser.newPage(); await page.goto(`${web.url}/tests/web/pages/x.html`)
//
// Pages load the shell's ES modules straight from /web/src/... (no bundling needed for
// tests) or the bundles from /build/dist/. The reference server, when a test needs it,
// comes from tests/load/lib.mjs (startServer), which also kills children on exit.

import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const CHROMIUM = process.env.PARLEY_CHROMIUM || '/usr/bin/chromium';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

/**
 * Serves the repository read-only on 127.0.0.1 (a free port). Options:
 *   csp: a Content-Security-Policy header sent with every HTML page (strict-CSP tests)
 *   headers: extra headers for every response
 *   routes: { '/path': (req, res) => void } handlers tried before files
 */
export async function startStatic({ csp, headers = {}, routes = {} } = {}) {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const route = routes[url.pathname];
    if (route) return route(req, res);
    let rel;
    try {
      rel = decodeURIComponent(url.pathname);
    } catch {
      res.writeHead(400).end();
      return;
    }
    const file = normalize(join(ROOT, rel));
    if (!file.startsWith(ROOT + sep) || file.includes(`${sep}.git`)) {
      res.writeHead(404).end();
      return;
    }
    let target = file;
    if (existsSync(target) && statSync(target).isDirectory()) target = join(target, 'index.html');
    if (!existsSync(target) || !statSync(target).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    const type = TYPES[extname(target)] || 'application/octet-stream';
    const h = { 'content-type': type, 'cache-control': 'no-store', ...headers };
    if (csp && type.startsWith('text/html')) h['content-security-policy'] = csp;
    res.writeHead(200, h);
    createReadStream(target).pipe(res);
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(0, '127.0.0.1', ok);
  });
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise((ok) => server.close(() => ok())),
  };
}

export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-dev-shm-usage',
];

/** Debian's Chromium, headless, through playwright-core. */
export async function launchChromium(options = {}) {
  const { chromium } = await import('playwright-core');
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} not found: apt-get install chromium (tests/run.sh does)`);
  }
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS, ...options });
}

/** The same Chromium on an on-disk profile in `dir` (survives a browser restart). */
export async function launchPersistentChromium(dir, options = {}) {
  const { chromium } = await import('playwright-core');
  return chromium.launchPersistentContext(dir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
}

/** Collects console errors and page errors, so a test can assert there were none. */
export function watchPage(page) {
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') problems.push(`console.error: ${m.text()}`);
  });
  return problems;
}
