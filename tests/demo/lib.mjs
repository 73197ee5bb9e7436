// What the demo tier's browser tests share: their command line, the server started as
// demo/run.sh starts it (demo/server.json, --demo build/demo, --static build/dist), and the
// way to reach the page's widget instance (the snippet's <parley-messenger>).

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { installCleanup, keepTempDirs, makeTempDir, startServer } from '../load/lib.mjs';
import { ROOT } from '../web/lib/browser.mjs';
import { waitFor } from '../web/lib/scenarios.mjs';

/** The development agent token of demo/server.json (Grace). */
export const GRACE = 'agent-dev-token';

export const check = (cond, what) => {
  if (!cond) throw new Error(what);
};

/** Parses [--binary PATH] [--keep], checks the builds are there, arms the watchdog. */
export function demoOptions(name, watchdogMs) {
  const { values } = parseArgs({
    options: { binary: { type: 'string', default: join(ROOT, 'build/native/parley_server') }, keep: { type: 'boolean' } },
  });
  for (const need of ['build/demo/index.html', 'build/demo/site.js', 'build/dist/parley-widget.js']) {
    if (!existsSync(join(ROOT, need))) {
      console.error(`${name}: ${need} is missing (tests/run.sh demo builds it)`);
      process.exit(2);
    }
  }
  installCleanup(watchdogMs, name);
  if (values.keep) keepTempDirs();
  return values;
}

/** The reference server serving the demo, on a fresh database. */
export function startDemoServer(binary, label) {
  const dir = makeTempDir(`parley-${label}-`);
  return startServer({
    binary,
    db: join(dir, 'demo.db'),
    config: join(ROOT, 'demo/server.json'),
    dir,
    label: 'demo',
    extraArgs: ['--demo', join(ROOT, 'build/demo'), '--static', join(ROOT, 'build/dist')],
  });
}

/** Calls fn(parley, arg) in the page on the widget's instance; fn must be self-contained. */
export const widgetApi = (page, fn, arg) =>
  page.evaluate(
    ([src, a]) => new Function('p', 'a', `return (${src})(p, a)`)(document.querySelector('parley-messenger').parley, a),
    [fn.toString(), arg],
  );

/** Waits until the snippet has created the widget's instance (after a load or reload). */
export const widgetReady = (page) =>
  waitFor('the widget instance', () => page.evaluate(() => !!document.querySelector('parley-messenger')?.parley));
