// Static files: --demo (served at /) and --static (served at /dist/), and that no request
// path gets out of those roots or at dot files. Paths go out byte for byte (rawHttp): fetch
// would normalise `..` and `%2e%2e` before the server ever saw them.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir } from '../load/lib.mjs';
import { rawHttp, spawnServer } from './lib.mjs';

const MARK = `PARLEY-NET-SECRET-${process.pid}`; // in files the server must never send
let srv;

function fill(dir, tag) {
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'index.html'), `<!doctype html><title>${tag}</title><p>${tag} index</p>\n`);
  writeFileSync(join(dir, 'app.js'), `export const where = '${tag}';\n`);
  writeFileSync(join(dir, '.hidden'), `${MARK} hidden in ${tag}\n`);
  writeFileSync(join(dir, 'sub', 'index.html'), `<p>${tag} sub index</p>\n`);
  writeFileSync(join(dir, 'sub', '.hidden'), `${MARK} hidden in ${tag}/sub\n`);
}

before(async () => {
  const base = makeTempDir('parley-net-www-');
  const demo = join(base, 'demo');
  const dist = join(base, 'dist');
  fill(demo, 'demo');
  fill(dist, 'dist');
  writeFileSync(join(base, 'secret.txt'), `${MARK} outside both roots\n`);
  srv = await spawnServer('static', { extraArgs: ['--demo', demo, '--static', dist] });
});

after(async () => {
  if (srv) await srv.stop('SIGTERM', 5000).catch(() => srv.stop('SIGKILL'));
});

const get = (path) => rawHttp(srv.port, 'GET', path);

function assertNotFound(r, path) {
  assert.ok(!r.body.includes(MARK), `${path} leaked a file outside the web roots or a dot file: ${r.body.slice(0, 120)}`);
  assert.ok(!/root:.*:0:0:/.test(r.body), `${path} leaked /etc/passwd: ${r.body.slice(0, 120)}`);
  assert.equal(r.status, 404, `${path}: HTTP ${r.status}`);
}

describe('static files', () => {
  test('GET / serves the demo index.html as text/html', async () => {
    const r = await get('/');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] || '', /^text\/html/);
    assert.match(r.body, /demo index/);
  });

  test('GET /dist/app.js serves the --static file with a JavaScript content type', async () => {
    const r = await get('/dist/app.js');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] || '', /^(text|application)\/javascript/);
    assert.equal(r.body, "export const where = 'dist';\n");
  });

  test('a directory serves its index.html', async () => {
    const r = await get('/sub/');
    assert.equal(r.status, 200);
    assert.match(r.headers['content-type'] || '', /^text\/html/);
    assert.match(r.body, /demo sub index/);
  });

  test('a missing file is a 404 JSON error', async () => {
    for (const path of ['/missing.js', '/dist/missing.js', '/sub/missing.html']) {
      const r = await get(path);
      assert.equal(r.status, 404, path);
      assert.match(r.headers['content-type'] || '', /^application\/json/, path);
      const j = JSON.parse(r.body);
      assert.equal(j.type, 'error', path);
      assert.equal(j.code, 'not_found', path);
    }
  });

  // The attempts the brief lists; each must be 404 and never file content.
  for (const path of ['/../etc/passwd', '/%2e%2e/etc/passwd', '/dist/..%2f..%2fetc/passwd', '/.hidden', '/dist/.hidden', '/sub/.hidden', '/../secret.txt', '/dist/../secret.txt', '/%2e%2e/secret.txt']) {
    test(`traversal ${path} → 404`, async () => assertNotFound(await get(path), path));
  }

  // An encoded slash inside one path segment: the server decodes each segment and appends it
  // to the root with std::filesystem's operator/, which (a) restarts at "/" for an absolute
  // segment and (b) lets "sub/../.." climb, since only a segment that *starts* with '.' is
  // refused.
  for (const path of ['/%2fetc%2fpasswd', '/dist/%2fetc%2fpasswd', '/sub%2f..%2f..%2fsecret.txt', '/dist/sub%2f..%2f..%2fsecret.txt', '/sub%2f.hidden']) {
    test(`traversal with an encoded slash ${path} → 404`, async () => assertNotFound(await get(path), path));
  }
});
