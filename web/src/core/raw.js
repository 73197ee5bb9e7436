// Loads the wasm core (build/wasm/parley_core.mjs + parley_core.wasm, target parley_core_web)
// and returns its `_raw` surface (web/README.md): `{ RawClient, module }`.
//
// Failures are a CoreLoadError with a `code` the host can act on:
//   wasm_unavailable    no WebAssembly in this browser (or it is switched off)
//   fetch_failed        the glue module or the .wasm could not be fetched (404, offline, CORS)
//   csp_blocked         the page's Content Security Policy forbids compiling wasm
//   instantiate_failed  the bytes are not a (matching) Parley core, or start-up aborted
// No dynamic code (eval, the Function constructor), no inline script: the page needs only
// `script-src 'self' 'wasm-unsafe-eval'` (or the glue's own origin instead of 'self').

const GLUE_FILE = 'parley_core.mjs';
const WASM_FILE = 'parley_core.wasm';

// Where this code was loaded from: the glue is looked for beside it. In the classic-script
// bundle (esbuild iife) import.meta is empty, so the <script> element's URL is taken
// while the bundle is first evaluated.
const SELF_URL =
  import.meta.url ||
  (typeof document !== 'undefined' && document.currentScript && document.currentScript.src) ||
  '';

export class CoreLoadError extends Error {
  /**
   * @param {'wasm_unavailable'|'fetch_failed'|'instantiate_failed'|'csp_blocked'} code
   * @param {string} message
   * @param {{url?: string, cause?: unknown}} [details]
   */
  constructor(code, message, { url, cause } = {}) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'CoreLoadError';
    this.code = code;
    this.url = url;
  }
}

// Resolves `url` against the page (or the worker's location).
function absolute(url, base) {
  try {
    return new URL(String(url), base).href;
  } catch {
    return String(url);
  }
}

function pageBase() {
  if (typeof document !== 'undefined' && document.baseURI) return document.baseURI;
  if (typeof location !== 'undefined' && location.href) return location.href;
  return SELF_URL || undefined;
}

function describe(error) {
  if (error && typeof error === 'object' && 'message' in error) return String(error.message);
  return String(error);
}

// Browsers word a CSP refusal differently; all of them name the directive or the source.
//   Chromium: "WebAssembly.instantiate(): Refused to compile or instantiate WebAssembly module
//             because 'unsafe-eval' is not an allowed source of script in the following
//             Content Security Policy directive: ..." (newer: "...neither 'wasm-eval' nor
//             'unsafe-eval' is an allowed source...")
//   Firefox:  "call to WebAssembly.instantiate() blocked by CSP"
//   Safari:   "Refused to create a WebAssembly object because 'unsafe-eval' or
//             'wasm-unsafe-eval' is not an allowed source of script ..."
function isCspRefusal(error) {
  return /content security policy|\bcsp\b|unsafe-eval|wasm-eval/i.test(describe(error));
}

function cspError(url, cause) {
  return new CoreLoadError(
    'csp_blocked',
    `The page's Content Security Policy does not allow WebAssembly, so the Parley core ` +
      `(${url}) cannot start. Add 'wasm-unsafe-eval' to script-src, e.g. ` +
      `"script-src 'self' 'wasm-unsafe-eval'" (no 'unsafe-eval' is needed). ` +
      `Browser said: ${describe(cause)}`,
    { url, cause },
  );
}

// A fetch or import refused by CSP fails like a network error ("Failed to fetch"); the
// page's securitypolicyviolation events tell the two apart. They are dispatched as a task,
// so the check waits one turn.
function watchCsp() {
  const seen = [];
  const on = (event) => seen.push(event);
  const doc = typeof document !== 'undefined' ? document : null;
  if (doc && typeof doc.addEventListener === 'function') {
    doc.addEventListener('securitypolicyviolation', on);
  }
  return {
    stop() {
      if (doc && typeof doc.removeEventListener === 'function') {
        doc.removeEventListener('securitypolicyviolation', on);
      }
    },
    async refused(url) {
      if (!doc) return null;
      await new Promise((resolve) => setTimeout(resolve, 0));
      return (
        seen.find((e) => {
          const blocked = String(e.blockedURI || '');
          return /^https?:|^file:/.test(blocked) && (url === blocked || url.startsWith(blocked));
        }) || null
      );
    },
  };
}

// Fetches and instantiates the .wasm with the glue's imports. Streaming when the server
// sends application/wasm; otherwise (file servers that send octet-stream) from bytes.
async function instantiate(wasmHref, imports, csp) {
  let response;
  try {
    response = await fetch(wasmHref, { credentials: 'same-origin' });
  } catch (cause) {
    const violation = await csp.refused(wasmHref);
    if (violation || isCspRefusal(cause)) {
      // connect-src refused the fetch itself.
      throw new CoreLoadError(
        'csp_blocked',
        `The page's Content Security Policy refused to fetch the Parley core ${wasmHref}` +
          (violation ? ` (directive ${violation.effectiveDirective || violation.violatedDirective})` : '') +
          `. Allow its origin in connect-src (or default-src), and 'wasm-unsafe-eval' in ` +
          `script-src. Browser said: ${describe(cause)}`,
        { url: wasmHref, cause },
      );
    }
    throw new CoreLoadError(
      'fetch_failed',
      `Could not fetch the Parley core ${wasmHref}: ${describe(cause)}. Check that the URL ` +
        `is reachable from this page (network, CORS headers for another origin).`,
      { url: wasmHref, cause },
    );
  }
  if (!response.ok) {
    throw new CoreLoadError(
      'fetch_failed',
      `Could not fetch the Parley core ${wasmHref}: HTTP ${response.status}. Serve ` +
        `${WASM_FILE} next to ${GLUE_FILE}, or pass loadCore({ wasmUrl }) with its URL.`,
      { url: wasmHref },
    );
  }
  const type = (response.headers && response.headers.get('content-type')) || '';
  try {
    if (typeof WebAssembly.instantiateStreaming === 'function' && /^application\/wasm\b/i.test(type)) {
      return await WebAssembly.instantiateStreaming(response, imports);
    }
    const bytes = await response.arrayBuffer();
    return await WebAssembly.instantiate(bytes, imports);
  } catch (cause) {
    if (isCspRefusal(cause)) throw cspError(wasmHref, cause);
    throw new CoreLoadError(
      'instantiate_failed',
      `${wasmHref} is not a usable Parley core: ${describe(cause)}. Serve the ${WASM_FILE} ` +
        `built together with ${GLUE_FILE} (same build), not an HTML error page or an older build.`,
      { url: wasmHref, cause },
    );
  }
}

/**
 * Loads the Parley core.
 *
 * @param {{wasmUrl?: string|URL, moduleUrl?: string|URL}} [options]
 *   moduleUrl: the ES module glue (default: parley_core.mjs beside this file, or beside the
 *              bundle it is part of: web/build.mjs puts it there);
 *   wasmUrl:   the .wasm (default: parley_core.wasm beside the glue, through locateFile).
 * @returns {Promise<{RawClient: Function, module: object}>}
 * @throws {CoreLoadError}
 */
export async function loadCore({ wasmUrl, moduleUrl } = {}) {
  if (
    typeof WebAssembly !== 'object' ||
    WebAssembly === null ||
    typeof WebAssembly.instantiate !== 'function'
  ) {
    throw new CoreLoadError(
      'wasm_unavailable',
      'This browser has no WebAssembly (or it is disabled), so Parley cannot run here. ' +
        'Use a current browser, or check that WebAssembly is not turned off by policy ' +
        '(e.g. a "JIT-less" or lockdown mode).',
    );
  }
  if (typeof fetch !== 'function') {
    throw new CoreLoadError(
      'wasm_unavailable',
      'This environment has no fetch(), which the Parley core needs to load its .wasm.',
    );
  }

  const csp = watchCsp();
  try {
    return await load(wasmUrl, moduleUrl, csp);
  } finally {
    csp.stop();
  }
}

async function load(wasmUrl, moduleUrl, csp) {
  const glueHref = absolute(moduleUrl ?? absolute(GLUE_FILE, SELF_URL || pageBase()), pageBase());
  let factory;
  try {
    const glue = await import(/* webpackIgnore: true */ /* @vite-ignore */ glueHref);
    factory = glue.default;
  } catch (cause) {
    const violation = await csp.refused(glueHref);
    if (violation || isCspRefusal(cause)) {
      throw new CoreLoadError(
        'csp_blocked',
        `The page's Content Security Policy refused the Parley core module ${glueHref}. ` +
          `Allow its origin in script-src (with 'wasm-unsafe-eval'). Browser said: ${describe(cause)}`,
        { url: glueHref, cause },
      );
    }
    throw new CoreLoadError(
      'fetch_failed',
      `Could not load the Parley core module ${glueHref}: ${describe(cause)}. Check the URL ` +
        `(moduleUrl), that the server sends it with a JavaScript MIME type, and CORS for ` +
        `another origin.`,
      { url: glueHref, cause },
    );
  }
  if (typeof factory !== 'function') {
    throw new CoreLoadError(
      'instantiate_failed',
      `${glueHref} is not the Parley core module (no default export createParleyCore).`,
      { url: glueHref },
    );
  }

  const wasmHref = wasmUrl != null ? absolute(wasmUrl, pageBase()) : absolute(WASM_FILE, glueHref);

  // The glue waits for instantiateWasm's callback; a failure there would leave its promise
  // pending, so failures race it.
  let fail;
  const failed = new Promise((_, reject) => {
    fail = reject;
  });
  failed.catch(() => {}); // a late abort (after start-up) must not be an unhandled rejection
  let module;
  try {
    module = await Promise.race([
      factory({
        locateFile: (path, prefix) => (path.endsWith('.wasm') ? wasmHref : prefix + path),
        instantiateWasm(imports, receive) {
          instantiate(wasmHref, imports, csp).then(
            (result) => {
              try {
                receive(result.instance, result.module);
              } catch (cause) {
                fail(cause);
              }
            },
            (error) => fail(error),
          );
          return {}; // asynchronous: exports arrive through receive()
        },
        onAbort: (what) =>
          fail(
            new CoreLoadError('instantiate_failed', `The Parley core aborted while starting: ${what}`, {
              url: wasmHref,
            }),
          ),
      }),
      failed,
    ]);
  } catch (cause) {
    if (cause instanceof CoreLoadError) throw cause;
    if (isCspRefusal(cause)) throw cspError(wasmHref, cause);
    throw new CoreLoadError(
      'instantiate_failed',
      `The Parley core (${glueHref}, ${wasmHref}) failed to start: ${describe(cause)}`,
      { url: wasmHref, cause },
    );
  }
  if (!module || typeof module.RawClient !== 'function') {
    throw new CoreLoadError(
      'instantiate_failed',
      `${glueHref} started but has no RawClient: glue and .wasm are from different builds?`,
      { url: glueHref },
    );
  }
  return { RawClient: module.RawClient, module };
}
