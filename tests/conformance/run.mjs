#!/usr/bin/env node
// Parley protocol v1 conformance suite: runs every tests/conformance/*.test.mjs with
// node:test against a running backend.
//
//   node --experimental-websocket tests/conformance/run.mjs --server http://127.0.0.1:8080
//        [--app demo] [--apps live,returning,social] [--agent-token T]
//        [--jwt-secret S --jwt-audience A] [--timeout MS] [--only PATTERN]
//
// Options travel to the test files as PARLEY_* environment variables (lib/config.mjs).
// Ends with "conformance: N passed, M failed, K skipped"; exit status 1 on any failure.

import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

// Node 20 needs the flag for the global WebSocket; re-run ourselves with it if missing.
if (typeof WebSocket !== 'function') {
  const r = spawnSync(process.execPath, ['--experimental-websocket', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const { run } = await import('node:test');
const { spec } = await import('node:test/reporters');

const USAGE = `usage: node --experimental-websocket tests/conformance/run.mjs --server URL
         [--app ID] [--apps ID,ID,...] [--agent-token T] [--jwt-secret S --jwt-audience A]
         [--timeout MS] [--only PATTERN]

  --server        backend base URL, e.g. http://127.0.0.1:8080 (required)
  --app           app id for the tests (default demo)
  --apps          app ids the lifecycle tests run against, one pass each (default --app)
  --agent-token   agent API token: unlocks read-marker, lifecycle, handoff-channel tests
  --jwt-secret    HS256 secret of the app's JWTs (with --jwt-audience): unlocks JWT
                  sign-in tests and the identify/merge gap test
  --jwt-audience  the app's JWT audience
  --timeout       per-wait timeout in ms (default 5000)
  --only          run only test files whose name contains PATTERN (e.g. --only errors)`;

let opts;
try {
  ({ values: opts } = parseArgs({
    options: {
      server: { type: 'string' },
      app: { type: 'string', default: 'demo' },
      apps: { type: 'string' },
      'agent-token': { type: 'string' },
      'jwt-secret': { type: 'string' },
      'jwt-audience': { type: 'string' },
      timeout: { type: 'string', default: '5000' },
      only: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (e) {
  console.error(`${e.message}\n${USAGE}`);
  process.exit(2);
}
if (opts.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!opts.server) {
  console.error(`--server is required\n${USAGE}`);
  process.exit(2);
}
if (Boolean(opts['jwt-secret']) !== Boolean(opts['jwt-audience'])) {
  console.error('--jwt-secret and --jwt-audience go together');
  process.exit(2);
}

// Fail fast when nothing answers, with a clear message instead of 100 timeouts.
try {
  const r = await fetch(new URL('/healthz', opts.server), { signal: AbortSignal.timeout(5000) });
  if (!r.ok) console.error(`warning: GET /healthz answered ${r.status}; running anyway`);
} catch (e) {
  console.error(`cannot reach ${opts.server}: ${e.cause?.message || e.message}`);
  console.log('conformance: 0 passed, 1 failed, 0 skipped');
  process.exit(1);
}

Object.assign(process.env, {
  PARLEY_SERVER: opts.server,
  PARLEY_APP: opts.app,
  PARLEY_APPS: opts.apps || opts.app,
  PARLEY_AGENT_TOKEN: opts['agent-token'] || '',
  PARLEY_JWT_SECRET: opts['jwt-secret'] || '',
  PARLEY_JWT_AUDIENCE: opts['jwt-audience'] || '',
  PARLEY_TIMEOUT_MS: opts.timeout,
});

const here = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs') && (!opts.only || f.includes(opts.only)))
  .sort()
  .map((f) => join(here, f));
if (!files.length) {
  console.error(`no test files match ${opts.only}`);
  process.exit(2);
}

// Count leaf tests (suites are containers); a file that fails to load counts as a failure.
const counts = { passed: 0, failed: 0, skipped: 0 };
const stream = run({ files, concurrency: 1 });
stream.on('test:pass', (d) => {
  if (d.details?.type === 'suite') return;
  if (d.skip !== undefined || d.todo !== undefined) counts.skipped++;
  else counts.passed++;
});
stream.on('test:fail', (d) => {
  if (d.details?.type === 'suite' && d.details?.error?.failureType !== 'hookFailed') return;
  counts.failed++;
});

const out = stream.compose(spec);
out.pipe(process.stdout, { end: false });
out.on('end', () => {
  console.log(`conformance: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`);
  process.exitCode = counts.failed ? 1 : 0;
});
