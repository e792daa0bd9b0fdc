// What the browser scripts (tests/real_clients/browser.mjs, tests/tls_browser/https_page.mjs)
// share: their command line, a watchdog, headless Chromium (Debian's /usr/bin/chromium)
// through playwright-core, the web_root assets every load is checked against, and the
// checks of what a user sees on the http-server example's page.
//
// Both scripts take `BASE_URL WEB_ROOT OUT_DIR LOADS NODE_DIR [more]` (tests/common/tools.rs,
// run_page_script), print a one-line JSON summary on stdout, and exit 1 when a check failed,
// 2 on a timeout or a bad command line.

import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const TOTAL_MS = 75000;
export const STEP_MS = 10000;

// The command line: `names` are the arguments after node and the script, all required.
export function args(script, names) {
  const values = process.argv.slice(2);
  if (values.length < names.length) {
    console.error(`usage: node ${script} ${names.join(' ')}`);
    process.exit(2);
  }
  return Object.fromEntries(names.map((n, i) => [n, values[i]]));
}

// Exit with 2 if the script is not done after TOTAL_MS; clear the returned timer when done.
export function watchdog(script) {
  return setTimeout(() => {
    console.error(`${script}: not done after ${TOTAL_MS} ms`);
    process.exit(2);
  }, TOTAL_MS);
}

// The failures found so far (at most 50 kept, all printed on stderr) and how to add one.
export function failures() {
  const errors = [];
  const fail = (msg) => {
    if (errors.length < 50) errors.push(msg);
    console.error('FAIL ' + msg);
  };
  return { errors, fail };
}

// The page's assets by path, with the bytes of the file in WEB_ROOT.
export function assets(webRoot) {
  const a = {
    '/': { file: 'index.html', types: ['text/html'] },
    '/style.css': { file: 'style.css', types: ['text/css'] },
    '/app.js': { file: 'app.js', types: ['text/javascript', 'application/javascript'] },
    '/logo.png': { file: 'logo.png', types: ['image/png'] },
  };
  for (const x of Object.values(a)) x.bytes = fs.readFileSync(path.join(webRoot, x.file));
  return a;
}

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

// Headless Chromium with a fresh profile, playwright-core from NODE_DIR. `close()` ends it
// and removes the profile.
export async function launch(nodeDir, extraArgs = []) {
  const { chromium } = createRequire(path.join(path.resolve(nodeDir), 'package.json'))('playwright-core');
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'meerkat-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [...CHROMIUM_ARGS, ...extraArgs],
    viewport: { width: 1100, height: 900 },
  });
  context.setDefaultTimeout(STEP_MS);
  const close = async () => {
    await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  };
  return { context, close };
}

// What a user sees of the loaded page: style.css applied (the body's background), the logo
// decoded (64 px wide), a secure context. Calls `fail` for each problem.
export async function checkRendered(page, load, fail) {
  const seen = await page.evaluate(() => {
    const img = document.querySelector('header img');
    return {
      bg: getComputedStyle(document.body).backgroundColor,
      img: img && img.complete ? img.naturalWidth : -1,
      rules: document.styleSheets[0] ? document.styleSheets[0].cssRules.length : 0,
      secure: window.isSecureContext,
    };
  });
  if (seen.bg !== 'rgb(244, 239, 230)') fail(`load ${load}: body background ${seen.bg}: style.css not applied`);
  if (seen.img !== 64) fail(`load ${load}: logo naturalWidth ${seen.img}: logo.png not decoded`);
  if (seen.rules < 5) fail(`load ${load}: ${seen.rules} CSS rules`);
  return seen;
}
