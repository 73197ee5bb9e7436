// web/src/core/raw.js against the real web flavour (build/wasm/parley_core.mjs +
// parley_core.wasm, target parley_core_web), in Node with a scripted fetch(): the glue is
// the browser build, so this also checks that it starts without any Node code path.
//
//   node --no-experimental-fetch --test tests/wasm/
import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { pathToFileURL } from 'node:url';

import { WEB_GLUE, WEB_WASM } from './lib/host.mjs';
import { CoreLoadError, loadCore } from '../../web/src/core/raw.js';

const GLUE_URL = pathToFileURL(WEB_GLUE).href;
const WASM_BYTES = fs.readFileSync(WEB_WASM);

// A scripted fetch(): `route(url)` returns {status, type, body} or throws.
function response({ status = 200, type = 'application/octet-stream', body = new Uint8Array() }) {
  const bytes = body instanceof Uint8Array ? body : new TextEncoder().encode(String(body));
  return {
    ok: status >= 200 && status < 300,
    status,
    headers: { get: (name) => (name.toLowerCase() === 'content-type' ? type : null) },
    arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  };
}

async function withGlobals(overrides, fn) {
  const saved = {};
  for (const [k, v] of Object.entries(overrides)) {
    saved[k] = Object.getOwnPropertyDescriptor(globalThis, k);
    Object.defineProperty(globalThis, k, { value: v, configurable: true, writable: true });
  }
  try {
    return await fn();
  } finally {
    for (const [k, d] of Object.entries(saved)) {
      if (d) Object.defineProperty(globalThis, k, d);
      else delete globalThis[k];
    }
  }
}

const requested = [];
function serveWasm(url) {
  requested.push(String(url));
  return response({ body: WASM_BYTES });
}

async function expectLoadError(options, code, pattern) {
  await assert.rejects(loadCore(options), (e) => {
    assert.ok(e instanceof CoreLoadError, `a CoreLoadError, got ${e && e.stack}`);
    assert.ok(e instanceof Error);
    assert.equal(e.name, 'CoreLoadError');
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('loads the web flavour; the .wasm is found beside the glue through locateFile', async () => {
  requested.length = 0;
  await withGlobals({ fetch: async (url) => serveWasm(url) }, async () => {
    const { RawClient, module } = await loadCore({ moduleUrl: GLUE_URL });
    assert.equal(typeof RawClient, 'function');
    assert.equal(module.RawClient, RawClient);
    const raw = new RawClient(JSON.stringify({ app_id: 'demo', seed: 1 }));
    raw.start(1_700_000_000_000);
    assert.deepEqual(JSON.parse(raw.drain()).reads, [{ kind: 'restore' }]);
    raw.delete();
  });
  assert.deepEqual(requested, [new URL('parley_core.wasm', GLUE_URL).href]);
});

test('wasmUrl overrides where the .wasm comes from; application/wasm is streamed', async () => {
  requested.length = 0;
  let streamed = 0;
  const realStreaming = WebAssembly.instantiateStreaming;
  WebAssembly.instantiateStreaming = async (resp, imports) => {
    streamed++;
    return WebAssembly.instantiate(await resp.arrayBuffer(), imports);
  };
  try {
    await withGlobals(
      { fetch: async (url) => { requested.push(String(url)); return response({ type: 'application/wasm', body: WASM_BYTES }); } },
      async () => {
        const { RawClient } = await loadCore({ moduleUrl: GLUE_URL, wasmUrl: 'https://cdn.example/p/core.wasm?v=3' });
        new RawClient('{"app_id":"a","seed":2}').delete();
      },
    );
  } finally {
    WebAssembly.instantiateStreaming = realStreaming;
  }
  assert.deepEqual(requested, ['https://cdn.example/p/core.wasm?v=3']);
  assert.equal(streamed, 1);
});

test('a 404 for the .wasm is fetch_failed, naming the URL and the fix', async () => {
  await withGlobals({ fetch: async () => response({ status: 404, type: 'text/html', body: '<h1>Not found</h1>' }) }, () =>
    expectLoadError(
      { moduleUrl: GLUE_URL, wasmUrl: 'https://cdn.example/missing.wasm' },
      'fetch_failed',
      /https:\/\/cdn\.example\/missing\.wasm.*HTTP 404.*wasmUrl/s,
    ),
  );
});

test('a network failure is fetch_failed', async () => {
  await withGlobals({ fetch: async () => { throw new TypeError('Failed to fetch'); } }, () =>
    expectLoadError({ moduleUrl: GLUE_URL }, 'fetch_failed', /parley_core\.wasm: Failed to fetch/),
  );
});

test('bytes that are not the core are instantiate_failed', async () => {
  await withGlobals({ fetch: async () => response({ body: '<!doctype html><p>login</p>' }) }, () =>
    expectLoadError({ moduleUrl: GLUE_URL }, 'instantiate_failed', /not a usable Parley core/),
  );
});

test('a CSP without wasm-unsafe-eval is csp_blocked, with the fix', async () => {
  const chromium =
    "WebAssembly.instantiate(): Refused to compile or instantiate WebAssembly module because 'unsafe-eval' " +
    "is not an allowed source of script in the following Content Security Policy directive: \"script-src 'self'\".";
  const real = WebAssembly.instantiate;
  WebAssembly.instantiate = async () => {
    throw new WebAssembly.CompileError(chromium);
  };
  try {
    await withGlobals({ fetch: async (url) => serveWasm(url) }, () =>
      expectLoadError({ moduleUrl: GLUE_URL }, 'csp_blocked', /add 'wasm-unsafe-eval' to script-src/i),
    );
  } finally {
    WebAssembly.instantiate = real;
  }
});

test('no WebAssembly at all is wasm_unavailable', async () => {
  await withGlobals({ WebAssembly: undefined, fetch: async (url) => serveWasm(url) }, () =>
    expectLoadError({ moduleUrl: GLUE_URL }, 'wasm_unavailable', /no WebAssembly/),
  );
});

test('a missing glue module is fetch_failed, naming it', async () => {
  const missing = new URL('does-not-exist/parley_core.mjs', GLUE_URL).href;
  await withGlobals({ fetch: async (url) => serveWasm(url) }, () =>
    expectLoadError({ moduleUrl: missing }, 'fetch_failed', /does-not-exist\/parley_core\.mjs/),
  );
});

test('the loader itself has no eval and no new Function', () => {
  const src = fs.readFileSync(new URL('../../web/src/core/raw.js', import.meta.url), 'utf8');
  assert.doesNotMatch(src, /\beval\s*\(|new\s+Function\b/);
});

test('by default the glue is looked for beside the loader (where web/build.mjs puts it)', async () => {
  await withGlobals({ fetch: async (url) => serveWasm(url) }, () =>
    expectLoadError({}, 'fetch_failed', /web\/src\/core\/parley_core\.mjs/),
  );
});
