// demo/run.sh's contract: it builds, serves the demo on the port given by --port, prints
// the URLs of the customer page and the agent console, serves them (and the widget), and
// stops cleanly on Ctrl-C (SIGINT): exit 0, the server gone, the port free again.
//
//   node tests/demo/run_sh.mjs
//
// Runs demo/run.sh with PARLEY_NO_INSTALL=1 (tests/run.sh has installed what it needs).

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { freePort, sleep, withTimeout } from '../load/lib.mjs';
import { ROOT } from '../web/lib/browser.mjs';

const check = (cond, what) => {
  if (!cond) throw new Error(what);
};

const port = await freePort();
const proc = spawn('bash', [join(ROOT, 'demo/run.sh'), '--port', String(port), '--fresh'], {
  cwd: ROOT,
  env: { ...process.env, PARLEY_NO_INSTALL: '1' },
  stdio: ['ignore', 'pipe', 'pipe'],
  detached: true, // its own process group, as a terminal's Ctrl-C would address it
});
let out = '';
proc.stdout.on('data', (d) => (out += d));
proc.stderr.on('data', (d) => (out += d));
const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));

let failed = false;
try {
  await withTimeout(
    (async () => {
      while (!out.includes('Agent console')) {
        if (proc.exitCode !== null) throw new Error(`demo/run.sh exited early:\n${out}`);
        await sleep(100);
      }
    })(),
    600000,
    'demo/run.sh to print its URLs',
  );
  const base = `http://127.0.0.1:${port}`;
  check(out.includes(`${base}/`) && out.includes(`${base}/agent.html`), `URLs not printed:\n${out}`);
  for (const [path, want] of [
    ['/', /<parley-messenger app-id="demo"/],
    ['/agent.html', /Agent console/],
    ['/dist/parley-widget.js', /parley-messenger/],
    ['/site.js', /./],
  ]) {
    const r = await fetch(base + path);
    check(r.ok, `GET ${path}: HTTP ${r.status}`);
    check(want.test(await r.text()), `GET ${path}: unexpected body`);
  }
  // Ctrl-C: SIGINT to the whole foreground group (run.sh and the server).
  process.kill(-proc.pid, 'SIGINT');
  const end = await withTimeout(exited, 15000, 'demo/run.sh to stop after SIGINT');
  check(end.code === 0, `exit ${JSON.stringify(end)}:\n${out}`);
  check(out.includes('stopping the server'), 'no clean stop message');
  // The port is free again: nothing was left running.
  await new Promise((resolve, reject) => {
    const s = createServer().once('error', reject);
    s.listen(port, '127.0.0.1', () => s.close(resolve));
  });
  console.log(`demo/run.sh: served ${base} (store, console, widget), stopped cleanly on SIGINT`);
} catch (e) {
  failed = true;
  console.log(`demo/run.sh: FAILED: ${e.message}`);
  try {
    process.kill(-proc.pid, 'SIGKILL');
  } catch {}
}
process.exit(failed ? 1 : 0);
