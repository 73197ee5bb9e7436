#!/usr/bin/env node
// The reference server's own network edge (what tests/conformance/ does not cover): the
// agent WebSocket, agent typing reaching the visitor, static files and path traversal,
// CORS, unknown endpoints and bearer checks, WebSocket protocol edges, graceful shutdown
// with a pending long-poll, /healthz.
//
//   node --experimental-websocket tests/server_net/run.mjs --binary build/native/parley_server
//        [--only PATTERN]
//
// Every test file spawns its own server(s) (tests/load/lib.mjs: free port in 38000..38999,
// temp db, /healthz wait, SIGKILL of every child on exit). Files run one after another.
// Ends with "server-net: N passed, M failed"; exit status 1 on any failure, 2 on bad usage.

import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli, ensureWebSocket } from '../load/lib.mjs';

await ensureWebSocket();

const { run } = await import('node:test');
const { spec } = await import('node:test/reporters');

const here = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(here, '../..');
const USAGE = `usage: node --experimental-websocket tests/server_net/run.mjs [--binary PATH] [--only PATTERN]

  --binary  the server (default build/native/parley_server)
  --only    run only test files whose name contains PATTERN (e.g. --only static)`;

const opts = cli(
  {
    binary: { type: 'string', default: 'build/native/parley_server' },
    only: { type: 'string' },
  },
  USAGE,
);
let binary = resolve(opts.binary);
if (!existsSync(binary) && existsSync(resolve(REPO, opts.binary))) binary = resolve(REPO, opts.binary);
if (!existsSync(binary)) {
  console.error(`no server binary at ${opts.binary} (build it: cmake --build build/native --target parley_server)`);
  process.exit(2);
}
process.env.PARLEY_NET_BINARY = binary;

const files = readdirSync(here)
  .filter((f) => f.endsWith('.test.mjs') && (!opts.only || f.includes(opts.only)))
  .sort()
  .map((f) => join(here, f));
if (!files.length) {
  console.error(`no test files match ${opts.only}`);
  process.exit(2);
}

// Count leaf tests (suites are containers); a file that fails to load or a failing hook
// counts as a failure.
const counts = { passed: 0, failed: 0 };
const stream = run({ files, concurrency: 1, timeout: 60000 });
stream.on('test:pass', (d) => {
  if (d.details?.type === 'suite') return;
  counts.passed++;
});
stream.on('test:fail', (d) => {
  if (d.details?.type === 'suite' && d.details?.error?.failureType !== 'hookFailed') return;
  counts.failed++;
});

const out = stream.compose(spec);
out.pipe(process.stdout, { end: false });
out.on('end', () => {
  console.log(`server-net: ${counts.passed} passed, ${counts.failed} failed`);
  process.exitCode = counts.failed ? 1 : 0;
});
