// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core against the
// c-examples/http-server example: the page is loaded many times over keep-alive while its
// own JS fires /api/slow requests that a background thread answers through mg_wakeup, and
// every load is checked the way a user would notice a mix-up: each asset's bytes equal the
// file on disk, each Content-Type is right, the CSS applies, the logo decodes, the scripts
// run, and every /api/slow reply carries its own request's id.
//
// This is the seed scenario: a reply meant for one request (a slow JSON answer, late) sent
// on a connection that by then carries another request (style.css) would be cached by the
// browser as that stylesheet. Half the loads navigate away while the slow requests are in
// flight, so their connections die with replies pending and new connections follow.
//
//   node browser.mjs BASE_URL WEB_ROOT OUT_DIR LOADS NODE_DIR
//
// NODE_DIR holds node_modules/playwright-core. Prints a JSON summary on stdout; exits 1 when
// any check failed (the failures are listed in the summary and on stderr), 2 on a timeout.
// The pieces shared with tests/tls_browser/https_page.mjs are in tests/common/page.mjs.

import fs from 'node:fs';
import path from 'node:path';
import { args, assets, checkRendered, failures, launch, STEP_MS, watchdog } from '../common/page.mjs';

const { base, webRoot, outDir, loads, nodeDir } = args('browser.mjs', ['base', 'webRoot', 'outDir', 'loads', 'nodeDir']);
const LOADS = Number(loads);
const killer = watchdog('browser.mjs');
const ASSETS = assets(webRoot);
const { errors, fail } = failures();

const summary = {
  loads: 0,
  assetChecks: 0,
  apiChecks: 0,
  slowOwn: 0,
  slowAbandoned: 0,
  statuses: {},
  cachedResponses: 0,
  connections: 0,
  reusedResponses: 0,
  chromium: '',
  errors,
};

const { context, close } = await launch(nodeDir);
summary.chromium = context.browser()?.version() ?? '';
const page = context.pages()[0] ?? (await context.newPage());
const cdp = await context.newCDPSession(page);
await cdp.send('Network.enable');

// Connection ids as Chromium's network stack reports them.
const connIds = new Set();
cdp.on('Network.responseReceived', (e) => {
  const r = e.response;
  if (!r.url.startsWith(base)) return;
  if (r.fromDiskCache || r.fromPrefetchCache || r.fromServiceWorker) {
    summary.cachedResponses++;
    return;
  }
  if (r.connectionId && r.connectionId !== 0) connIds.add(r.connectionId);
  if (r.connectionReused) summary.reusedResponses++;
});

cdp.on('Network.requestServedFromCache', () => summary.cachedResponses++);

// Every response of the current load: checked once the load is over.
let pending = [];
page.on('response', (resp) => {
  pending.push(
    (async () => {
      const url = new URL(resp.url());
      if (url.origin !== new URL(base).origin) return null;
      let body = null;
      let bodyErr = null;
      try {
        body = await resp.body();
      } catch (e) {
        bodyErr = String(e);
      }
      return {
        path: url.pathname,
        query: url.searchParams,
        status: resp.status(),
        type: (resp.headers()['content-type'] || '').split(';')[0].trim().toLowerCase(),
        body,
        bodyErr,
      };
    })(),
  );
});
page.on('pageerror', (e) => fail(`page error: ${e}`));

function checkResponse(load, r, seen) {
  const where = `load ${load} ${r.path}${r.query.size ? '?' + r.query : ''} (status ${r.status})`;
  const asset = ASSETS[r.path === '/index.html' ? '/' : r.path];
  if (asset) {
    if (r.status !== 200) return fail(`${where}: status`);
    if (!asset.types.includes(r.type)) fail(`${where}: Content-Type ${r.type}, expected ${asset.types}`);
    if (r.body === null) {
      // A navigation away can cut the body short: only tolerated on abandoned loads.
      return fail(`${where}: no body (${r.bodyErr})`);
    }
    if (!r.body.equals(asset.bytes)) {
      fail(`${where}: ${r.body.length} bytes differ from ${asset.file} (${asset.bytes.length}): ` +
        JSON.stringify(r.body.subarray(0, 120).toString('latin1')));
    }
    summary.assetChecks++;
    seen.add(asset.file);
    return;
  }
  if (r.path.startsWith('/api/')) {
    if (r.body === null) return; // aborted by a navigation (slow requests on abandoned loads)
    if (r.type !== 'application/json') fail(`${where}: Content-Type ${r.type}, expected application/json`);
    let obj;
    try {
      obj = JSON.parse(r.body.toString('utf8'));
    } catch (e) {
      return fail(`${where}: not JSON: ${JSON.stringify(r.body.subarray(0, 120).toString('latin1'))}`);
    }
    if (r.path === '/api/slow') {
      const want = r.query.get('id');
      if (r.status !== 200 || obj.id !== want) fail(`${where}: reply ${JSON.stringify(obj)} for id ${want}`);
    } else if (r.path === '/api/stats') {
      if (r.status !== 200 || !('uptime_ms' in obj && 'requests' in obj)) fail(`${where}: ${JSON.stringify(obj)}`);
    }
    summary.apiChecks++;
    return;
  }
  if (r.path === '/favicon.ico') return; // not in web_root: 404 is right
  fail(`${where}: unexpected request`);
}

async function fireSlow() {
  await page.click('#slow-form button');
}

async function waitSlow(load) {
  await page.waitForFunction(
    () => {
      const li = [...document.querySelectorAll('#slow-out li')];
      return li.length === 10 && li.every((x) => x.className === 'ok' || x.className === 'bad');
    },
    null,
    { timeout: STEP_MS },
  );
  const items = await page.$$eval('#slow-out li', (li) => li.map((x) => [x.className, x.textContent]));
  for (const [cls, text] of items) {
    if (cls === 'ok' && text.includes('own reply')) summary.slowOwn++;
    else fail(`load ${load}: slow reply: ${text}`);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

try {
  for (let i = 0; i < LOADS; i++) {
    // Every third load bypasses the cache, so the assets come from the server again;
    // the others use (and so verify) what the browser cached.
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: i % 3 === 0 });
    pending = [];
    if (i === 0 || i % 4 === 1) await page.goto(base + '/', { waitUntil: 'load' });
    else if (i % 4 === 2) await page.goto(`${base}/index.html?load=${i}`, { waitUntil: 'load' });
    else await page.reload({ waitUntil: 'load' });
    summary.loads++;
    await page.waitForFunction(() => document.getElementById('stats-state').textContent === 'live', null, {
      timeout: STEP_MS,
    });
    await checkRendered(page, i, fail);
    await fireSlow();
    const abandon = i % 2 === 1 && i !== LOADS - 1;
    if (abandon) {
      // Leave while the replies are with the background thread (they are 50..200 ms out).
      await sleep(5 + ((i * 37) % 60));
      summary.slowAbandoned += 10;
    } else {
      await waitSlow(i);
    }
    const done = await Promise.all(pending);
    const seen = new Set();
    for (const r of done) {
      if (!r) continue;
      summary.statuses[r.status] = (summary.statuses[r.status] || 0) + 1;
      checkResponse(i, r, seen);
    }
    for (const a of Object.values(ASSETS)) {
      if (!seen.has(a.file)) fail(`load ${i}: no checked response for ${a.file}`);
    }
  }

  // The last page: fill in the forms too, then the screenshot.
  await page.fill('#echo-text', 'Hello, "meerkat" & friends!');
  await page.click('#echo-form button');
  await page.waitForFunction(() => document.getElementById('echo-out').textContent.includes('meerkat'));
  await page.fill('#sum-a', '40');
  await page.fill('#sum-b', '2');
  await page.click('#sum-form button');
  await page.waitForFunction(() => document.getElementById('sum-out').textContent.includes('= 42'));
  await page.waitForFunction(() => document.getElementById('requests').textContent !== '-');
  fs.mkdirSync(outDir, { recursive: true });
  await page.screenshot({ path: path.join(outDir, 'page.png'), fullPage: true });
} catch (e) {
  fail(`driver: ${e && e.stack ? e.stack : e}`);
} finally {
  summary.connections = connIds.size;
  await close();
  clearTimeout(killer);
}
console.log(JSON.stringify(summary));
process.exit(errors.length ? 1 : 0);
