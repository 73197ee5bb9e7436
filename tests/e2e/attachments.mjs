// End-to-end tier, attachments: parley.sendFile() in Debian's Chromium with real IndexedDB,
// against the real reference server (build/native/parley_server). What reached the server
// is checked through its agent API (and GET /v1/files/{id} with the agent token), never
// through the page. Rebuild the bundle first: node web/build.mjs
//
//   node tests/e2e/attachments.mjs [--only NAME] [--binary build/native/parley_server]
//
// Last line: "e2e-attachments: N passed, M failed". Exit status non-zero on any failure.

import { agentAllMessages, ensureWebSocket, sleep } from '../load/lib.mjs';
import { ROOT } from '../web/lib/browser.mjs';
import { agentPost, pageReady, scenarios, waitFor } from '../web/lib/scenarios.mjs';

await ensureWebSocket();

const APP = 'e2e';
const AGENT = 'e2e-agent-token';

const { scenario, run, binary: BINARY } = scenarios('e2e-attachments', {
  config: {
    apps: [{ id: APP, bot: false, style: 'social_messaging' }],
    agents: [{ id: 'ag_e2e', name: 'Ada', token: AGENT }],
    limits: { frames_per_second: 1000, burst: 5000 },
  },
});

// ----------------------------------------------------------------------------- helpers

function appUrl(web, server) {
  return `${web.url}/tests/e2e/pages/app.html?${new URLSearchParams({ server, app: APP })}`;
}

async function ready(page, url) {
  await pageReady(page, url);
  // Collect upload progress (app.mjs records only the stock events).
  await page.evaluate(() => {
    window.progress = [];
    window.parley.on('upload_progress', (d) => window.progress.push(d));
  });
}

const timeline = (page, conv) => page.evaluate((c) => window.parley.messages(c), conv);

/** Visitor messages of `conv` on the server. */
async function visitorMessages(server, conv) {
  const msgs = await agentAllMessages(server.url, conv, AGENT);
  return msgs.filter((m) => m.author.role === 'visitor');
}

async function fetchFile(server, url) {
  const r = await fetch(new URL(`${url}${url.includes('?') ? '&' : '?'}app=${APP}`, server.url), {
    headers: { authorization: `Bearer ${AGENT}` },
  });
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status} ${await r.text()}`);
  return { mime: r.headers.get('content-type'), bytes: Buffer.from(await r.arrayBuffer()) };
}

/** Makes a PNG in the page (a canvas drawing), keeps it in window.files[name], returns its bytes. */
async function makePng(page, name, seed) {
  const b64 = await page.evaluate(
    async ([n, s]) => {
      const c = new OffscreenCanvas(16, 16);
      const g = c.getContext('2d');
      g.fillStyle = `rgb(${s % 256}, ${(s * 7) % 256}, ${(s * 13) % 256})`;
      g.fillRect(0, 0, 16, 16);
      g.fillStyle = '#fff';
      g.fillRect(s % 16, 3, 4, 4);
      const blob = await c.convertToBlob({ type: 'image/png' });
      window.files = window.files || {};
      window.files[n] = new File([blob], `${n}.png`, { type: 'image/png' });
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let bin = '';
      for (const b of bytes) bin += String.fromCharCode(b);
      return btoa(bin);
    },
    [name, seed],
  );
  return Buffer.from(b64, 'base64');
}

/** Record counts of the Parley databases' outbox and blobs stores (all namespaces of the app). */
async function storeCounts(page) {
  return page.evaluate(async (app) => {
    const out = { outbox: 0, blobs: 0 };
    const names = (await indexedDB.databases()).map((d) => d.name).filter((n) => n.startsWith(`parley:${app}:`));
    for (const name of names) {
      const dbh = await new Promise((ok, ko) => {
        const r = indexedDB.open(name);
        r.onsuccess = () => ok(r.result);
        r.onerror = () => ko(r.error);
      });
      try {
        for (const store of ['outbox', 'blobs']) {
          if (!dbh.objectStoreNames.contains(store)) continue;
          const tx = dbh.transaction(store, 'readonly');
          const req = tx.objectStore(store).count();
          out[store] += await new Promise((ok, ko) => {
            req.onsuccess = () => ok(req.result);
            req.onerror = () => ko(req.error);
          });
        }
      } finally {
        dbh.close();
      }
    }
    return out;
  }, APP);
}

/** The server has exactly one visitor message in `conv`, with one attachment holding `bytes`. */
async function checkDelivered(server, conv, bytes, caption) {
  const msgs = await waitFor('the message with its attachment on the server', async () => {
    const v = await visitorMessages(server, conv).catch(() => []);
    return v.length && v.every((m) => (m.body.attachments || []).every((a) => a.url)) ? v : null;
  }, 30_000);
  await sleep(700); // a duplicate would show up now
  const final = await visitorMessages(server, conv);
  if (final.length !== 1) throw new Error(`server has ${final.length} visitor messages: ${JSON.stringify(final)}`);
  const m = final[0];
  if (caption !== undefined && m.body.text !== caption) throw new Error(`caption: ${JSON.stringify(m.body.text)}`);
  const atts = m.body.attachments || [];
  if (atts.length !== 1) throw new Error(`attachments: ${JSON.stringify(atts)}`);
  const a = atts[0];
  if (a.mime !== 'image/png' || a.size !== bytes.length || !a.url) throw new Error(`attachment: ${JSON.stringify(a)}`);
  const got = await fetchFile(server, a.url);
  if (!got.bytes.equals(bytes)) throw new Error(`GET ${a.url}: ${got.bytes.length} bytes differ from the ${bytes.length} sent`);
  if (!String(got.mime).startsWith('image/png')) throw new Error(`GET ${a.url}: content-type ${got.mime}`);
  void msgs;
  return a;
}

// ----------------------------------------------------------------------------- scenarios

scenario('online: a PNG goes up; the agent reads the same bytes; the blob is deleted', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await waitFor('connected', () => page.evaluate(() => window.parley.connection === 'ready'));
  const conv = await page.evaluate(() => window.parley.startConversation('Receipt'));
  const bytes = await makePng(page, 'receipt', 1);
  const cid = await page.evaluate((c) => window.parley.sendFile(c, window.files.receipt, { text: 'my receipt' }), conv);
  if (!/^k_/.test(cid)) throw new Error(`sendFile resolved ${JSON.stringify(cid)}`);
  await checkDelivered(server, conv, bytes, 'my receipt');
  await waitFor('sent in the page, with the url', async () => {
    const tl = await timeline(page, conv);
    const m = tl.find((x) => x.message.cid === cid || x.key === cid);
    return m && m.state !== 'queued' && m.state !== 'sending' && m.message.body.attachments?.[0]?.url;
  });
  const progress = await page.evaluate(() => window.progress);
  const mine = progress.filter((p) => p.cid === cid);
  if (!mine.some((p) => p.loaded === 0) || !mine.some((p) => p.loaded === p.total && p.total === bytes.length)) {
    throw new Error(`upload_progress: ${JSON.stringify(progress)}`);
  }
  const counts = await waitFor('outbox and blobs empty', async () => {
    const c = await storeCounts(page);
    return c.outbox === 0 && c.blobs === 0 ? c : null;
  });
  void counts;
  await ctx.close();
});

scenario('offline: a file picked offline survives two reloads; back online it arrives once', async (t) => {
  const server = await t.server();
  const port = server.port;
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await waitFor('connected', () => page.evaluate(() => window.parley.connection === 'ready'));
  await server.stop('SIGTERM'); // the network is gone for Parley; the page stays
  await ctx.setOffline(true);
  const conv = await page.evaluate(() => window.parley.startConversation('Offline file'));
  const bytes = await makePng(page, 'offline', 2);
  const cid = await page.evaluate((c) => window.parley.sendFile(c, window.files.offline, { text: 'picked offline' }), conv);
  await waitFor('queued, with its blob stored', async () => {
    const c = await storeCounts(page);
    return c.blobs === 1 && c.outbox === 2 ? c : null; // the upload record and the message
  });
  for (let i = 0; i < 2; i++) {
    await ctx.setOffline(false); // only to load the page itself; the server is still down
    await page.reload();
    await ready(page);
    await ctx.setOffline(true);
    await page.evaluate((c) => window.parley.openConversation(c), conv);
    await waitFor(`the queued file after reload ${i + 1}`, async () => {
      const tl = await timeline(page, conv);
      return tl.length === 1 && tl[0].message.body.attachments?.length === 1 &&
        (tl[0].state === 'queued' || tl[0].state === 'sending');
    });
    const c = await storeCounts(page);
    if (c.blobs !== 1) throw new Error(`after reload ${i + 1}: ${JSON.stringify(c)}`);
  }
  await t.server({ port });
  await ctx.setOffline(false); // back online: the core reconnects at once
  await checkDelivered(server, conv, bytes, 'picked offline');
  await waitFor('sent in the page', async () =>
    (await timeline(page, conv)).every((m) => m.state !== 'queued' && m.state !== 'sending'),
  );
  await waitFor('outbox and blobs empty', async () => {
    const c = await storeCounts(page);
    return c.outbox === 0 && c.blobs === 0;
  });
  void cid;
  await ctx.close();
});

scenario('too large (11 MiB) and text/html are refused with typed errors; nothing is queued', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await waitFor('connected', () => page.evaluate(() => window.parley.connection === 'ready'));
  const conv = await page.evaluate(() => window.parley.startConversation('Refused'));
  const results = await page.evaluate(async (c) => {
    const attempt = async (file) => {
      try {
        return { ok: await window.parley.sendFile(c, file) };
      } catch (e) {
        return { name: e.name, code: e.code, recoverable: e.recoverable, message: e.message };
      }
    };
    const big = new File([new Uint8Array(11 * 1024 * 1024)], 'big.png', { type: 'image/png' });
    const html = new File(['<h1>hi</h1>'], 'page.html', { type: 'text/html' });
    return [await attempt(big), await attempt(html)];
  }, conv);
  const [big, html] = results;
  if (big.name !== 'ParleyError' || big.code !== 'invalid_field' || !/10 MiB/.test(big.message)) {
    throw new Error(`11 MiB: ${JSON.stringify(big)}`);
  }
  if (html.name !== 'ParleyError' || html.code !== 'invalid_field' || !/text\/html/.test(html.message) || !/image\/png/.test(html.message)) {
    throw new Error(`text/html: ${JSON.stringify(html)}`);
  }
  await sleep(500);
  const tl = await timeline(page, conv);
  if (tl.length) throw new Error(`queued anyway: ${JSON.stringify(tl)}`);
  const c = await storeCounts(page);
  if (c.outbox || c.blobs) throw new Error(`stored anyway: ${JSON.stringify(c)}`);
  // The conversation id is the client's: a server that never heard of it answers 404.
  const onServer = await visitorMessages(server, conv).catch((e) => {
    if (/HTTP 404/.test(e.message)) return [];
    throw e;
  });
  if (onServer.length) throw new Error(`on the server: ${JSON.stringify(onServer)}`);
  await ctx.close();
});

scenario('two tabs: a follower sendFile goes through the leader', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  const a = await ctx.newPage();
  await ready(a, appUrl(t.web, server.url));
  const b = await ctx.newPage();
  await ready(b, appUrl(t.web, server.url));
  await waitFor('connected', () => a.evaluate(() => window.parley.connection === 'ready'));
  const leaders = await Promise.all([a, b].map((p) => p.evaluate(() => window.parley.isLeader)));
  if (leaders.filter(Boolean).length !== 1) throw new Error(`leaders: ${leaders}`);
  const follower = leaders[0] ? b : a;
  const conv = await follower.evaluate(() => window.parley.startConversation('From the follower'));
  const bytes = await makePng(follower, 'follow', 3);
  const cid = await follower.evaluate((c) => window.parley.sendFile(c, window.files.follow), conv);
  if (!/^k_/.test(cid)) throw new Error(`sendFile resolved ${JSON.stringify(cid)}`);
  await checkDelivered(server, conv, bytes);
  await waitFor('the follower saw progress', async () => {
    const p = await follower.evaluate(() => window.progress);
    return p.some((x) => x.cid === cid && x.loaded === x.total);
  });
  await ctx.close();
});

scenario('a failing PUT: 503 twice is retried with backoff (arrives once); a 415 fails the message', async (t) => {
  const server = await t.server();
  const ctx = await t.browser.newContext();
  let puts = 0;
  let mode = 'flaky';
  await ctx.route('**/v1/files/**', async (route) => {
    if (route.request().method() !== 'PUT') return route.continue();
    puts++;
    if (mode === 'flaky' && puts <= 2) {
      return route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ type: 'error', code: 'server_error', recoverable: 'recoverable', message: 'try later' }) });
    }
    if (mode === 'refuse') {
      return route.fulfill({ status: 415, contentType: 'application/json', body: JSON.stringify({ type: 'error', code: 'invalid_field', recoverable: 'permanent', message: 'file type not allowed' }) });
    }
    return route.continue();
  });
  const page = await ctx.newPage();
  await ready(page, appUrl(t.web, server.url));
  await waitFor('connected', () => page.evaluate(() => window.parley.connection === 'ready'));
  const conv = await page.evaluate(() => window.parley.startConversation('Flaky upload'));
  const bytes = await makePng(page, 'flaky', 4);
  await page.evaluate((c) => window.parley.sendFile(c, window.files.flaky), conv);
  await checkDelivered(server, conv, bytes);
  if (puts < 3) throw new Error(`${puts} PUTs`);
  mode = 'refuse';
  const conv2 = await page.evaluate(() => window.parley.startConversation('Refused upload'));
  await makePng(page, 'refused', 5);
  const cid = await page.evaluate((c) => window.parley.sendFile(c, window.files.refused), conv2);
  await waitFor('the message failed', async () => {
    const tl = await timeline(page, conv2);
    const m = tl.find((x) => x.message.cid === cid || x.key === cid);
    return m && m.state === 'failed';
  });
  const onServer = await visitorMessages(server, conv2).catch((e) => (/HTTP 404/.test(e.message) ? [] : Promise.reject(e)));
  if (onServer.length) throw new Error(`on the server: ${JSON.stringify(onServer)}`);
  // A cancel drops the wedged message, its upload record and the blob.
  await page.evaluate((c) => window.parley.cancel(c), cid);
  await waitFor('outbox and blobs empty after the cancel', async () => {
    const c = await storeCounts(page);
    return c.outbox === 0 && c.blobs === 0;
  }).catch(async (e) => {
    throw new Error(`${e.message}; counts ${JSON.stringify(await storeCounts(page))}`);
  });
  await ctx.close();
});

// ----------------------------------------------------------------------------- runner

await run();
