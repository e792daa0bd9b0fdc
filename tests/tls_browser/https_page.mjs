// Headless Chromium (Debian's /usr/bin/chromium) driven by playwright-core against the
// c-examples/https-server example: the page is loaded LOADS times (one goto, then reloads,
// with the browser cache disabled so every asset comes from the server again) and each load
// is checked: the document is 200 over https, the bytes of index.html, style.css, app.js and
// logo.png as received equal the files on disk, their Content-Types are right, and the TLS
// security details report TLS 1.2 or 1.3.
//
// The server's certificate is self-signed. Chromium is not told to ignore certificate errors
// in general: it is started with --ignore-certificate-errors-spki-list=SPKI (the base64
// SHA-256 of the test certificate's SubjectPublicKeyInfo), so only that key is accepted.
// A second browser started without the pin must refuse the page (ERR_CERT_AUTHORITY_INVALID),
// which shows the pin is what lets the first one in.
//
//   node https_page.mjs BASE_URL WEB_ROOT OUT_DIR LOADS NODE_DIR SPKI
//
// NODE_DIR holds node_modules/playwright-core. Prints a JSON summary on stdout; exits 1 when
// any check failed (listed in the summary and on stderr), 2 on a timeout. The pieces shared
// with tests/real_clients/browser.mjs are in tests/common/page.mjs.

import fs from 'node:fs';
import path from 'node:path';
import { args, assets, checkRendered, failures, launch, STEP_MS, watchdog } from '../common/page.mjs';

const { base, webRoot, outDir, loads, nodeDir, spki } = args('https_page.mjs', [
  'base',
  'webRoot',
  'outDir',
  'loads',
  'nodeDir',
  'spki',
]);
const LOADS = Number(loads);
const killer = watchdog('https_page.mjs');
const ASSETS = assets(webRoot);
const { errors, fail } = failures();

const summary = {
  loads: 0,
  assetChecks: 0,
  tlsProtocols: {},
  documentSecurity: null,
  statuses: {},
  connections: 0,
  reusedResponses: 0,
  networkResponses: 0,
  lateDuplicates: 0,
  unpinnedError: '',
  chromium: '',
  errors,
};

const origin = new URL(base).origin;

async function pinned() {
  const { context, close } = await launch(nodeDir, [`--ignore-certificate-errors-spki-list=${spki}`]);
  try {
    summary.chromium = context.browser()?.version() ?? '';
    const page = context.pages()[0] ?? (await context.newPage());
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

    const connIds = new Set();
    cdp.on('Network.responseReceived', (e) => {
      const r = e.response;
      if (!r.url.startsWith(origin)) return;
      summary.networkResponses++;
      if (r.connectionId && r.connectionId !== 0) connIds.add(r.connectionId);
      if (r.connectionReused) summary.reusedResponses++;
    });

    let pending = [];
    page.on('response', (resp) => {
      pending.push(
        (async () => {
          const url = new URL(resp.url());
          if (url.origin !== origin) return null;
          let body = null;
          let bodyErr = null;
          try {
            body = await resp.body();
          } catch (e) {
            bodyErr = String(e);
          }
          let sec = null;
          try {
            sec = await resp.securityDetails();
          } catch (e) {
            sec = null;
          }
          return {
            path: url.pathname,
            status: resp.status(),
            type: (resp.headers()['content-type'] || '').split(';')[0].trim().toLowerCase(),
            body,
            bodyErr,
            protocol: sec ? sec.protocol : null,
          };
        })(),
      );
    });
    page.on('pageerror', (e) => fail(`page error: ${e}`));

    for (let i = 0; i < LOADS; i++) {
      pending = [];
      const resp = i === 0 ? await page.goto(base + '/', { waitUntil: 'load' }) : await page.reload({ waitUntil: 'load' });
      summary.loads++;
      if (!resp) {
        fail(`load ${i}: no document response`);
        continue;
      }
      const docUrl = new URL(resp.url());
      if (resp.status() !== 200) fail(`load ${i}: document status ${resp.status()}`);
      if (docUrl.protocol !== 'https:') fail(`load ${i}: document protocol ${docUrl.protocol}`);
      const sec = await resp.securityDetails();
      if (!sec) fail(`load ${i}: no security details for the document`);
      else {
        if (!['TLS 1.2', 'TLS 1.3'].includes(sec.protocol)) fail(`load ${i}: document over ${sec.protocol}`);
        if (i === 0) summary.documentSecurity = sec;
      }
      // The icon request for logo.png can come after 'load': let the network settle so that
      // every body is read before the next reload (/api/stats is polled once a second).
      await page.waitForLoadState('networkidle', { timeout: STEP_MS }).catch(() => {});
      // What the user sees: the CSS applied, the logo decoded, a secure context.
      const seen = await checkRendered(page, i, fail);
      if (!seen.secure) fail(`load ${i}: not a secure context`);

      const done = await Promise.all(pending);
      const checked = new Set();
      for (const r of done) {
        if (!r) continue;
        summary.statuses[r.status] = (summary.statuses[r.status] || 0) + 1;
        const where = `load ${i} ${r.path} (status ${r.status})`;
        if (r.protocol !== null) {
          summary.tlsProtocols[r.protocol] = (summary.tlsProtocols[r.protocol] || 0) + 1;
          if (!['TLS 1.2', 'TLS 1.3'].includes(r.protocol)) fail(`${where}: over ${r.protocol}`);
        }
        const asset = ASSETS[r.path];
        if (!asset) {
          // The page polls /api/stats, which https-server does not have (a 404, shown as
          // "offline"); the browser may ask for /favicon.ico. Anything else is unexpected.
          if (!(r.path.startsWith('/api/') || r.path === '/favicon.ico')) fail(`${where}: unexpected request`);
          continue;
        }
        if (r.status !== 200) {
          fail(`${where}: status`);
          continue;
        }
        if (!asset.types.includes(r.type)) fail(`${where}: Content-Type ${r.type}, expected ${asset.types}`);
        if (r.body === null) {
          // A second logo.png (the icon) still in flight when the reload starts has no body
          // to read any more; tolerated only when another logo.png was checked already.
          if (checked.has(asset.file) && /navigated away/.test(r.bodyErr || '')) {
            summary.lateDuplicates++;
            continue;
          }
          fail(`${where}: no body (${r.bodyErr})`);
          continue;
        }
        if (!r.body.equals(asset.bytes)) {
          fail(`${where}: ${r.body.length} bytes differ from ${asset.file} (${asset.bytes.length})`);
          continue;
        }
        summary.assetChecks++;
        checked.add(asset.file);
      }
      for (const a of Object.values(ASSETS)) {
        if (!checked.has(a.file)) fail(`load ${i}: no checked response for ${a.file}`);
      }
    }
    summary.connections = connIds.size;
    fs.mkdirSync(outDir, { recursive: true });
    await page.screenshot({ path: path.join(outDir, 'page.png'), fullPage: true });
  } finally {
    await close();
  }
}

// Without the pin the self-signed certificate must be refused.
async function unpinned() {
  const { context, close } = await launch(nodeDir);
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    try {
      await page.goto(base + '/', { waitUntil: 'load' });
      fail('unpinned browser: the self-signed certificate was accepted');
    } catch (e) {
      const msg = String(e && e.message ? e.message : e);
      summary.unpinnedError = (msg.match(/net::ERR_[A-Z_]+/) || [msg.split('\n')[0]])[0];
      if (!msg.includes('ERR_CERT_AUTHORITY_INVALID')) fail(`unpinned browser: unexpected error ${msg}`);
    }
  } finally {
    await close();
  }
}

try {
  await pinned();
  await unpinned();
} catch (e) {
  fail(`driver: ${e && e.stack ? e.stack : e}`);
} finally {
  clearTimeout(killer);
}
console.log(JSON.stringify(summary));
process.exit(errors.length ? 1 : 0);
