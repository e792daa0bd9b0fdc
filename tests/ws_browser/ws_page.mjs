// Headless Chromium (Debian's /usr/bin/chromium, through playwright-core) opens the
// c-examples/websocket-server page at BASE_URL (http:// for ws://, https:// for wss://) and
// checks what a user sees: the status turns "open", a typed message comes back in the echo
// list, and the server time pushed by the example's worker thread appears and then changes
// (a second push). For https, Chromium trusts only the test certificate, pinned by its SPKI
// hash (--ignore-certificate-errors-spki-list), and the page must be a secure context.
//
//   node ws_page.mjs BASE_URL NODE_DIR SPKI
//
// Prints a one-line JSON summary; exits 1 when a check failed, 2 on a timeout.

import { args, failures, launch, STEP_MS, watchdog } from '../common/page.mjs';

const { base, nodeDir, spki } = args('ws_page.mjs', ['base', 'nodeDir', 'spki']);
const killer = watchdog('ws_page.mjs');
const { errors, fail } = failures();
const summary = { status: '', echoes: [], times: [], secure: null, wsUrl: '', errors };

const { context, close } = await launch(nodeDir, [`--ignore-certificate-errors-spki-list=${spki}`]);
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('websocket', (ws) => {
    summary.wsUrl = ws.url();
  });
  await page.goto(base + '/');
  await page.waitForFunction(() => document.getElementById('status').textContent === 'open', null, {
    timeout: STEP_MS,
  });
  summary.status = 'open';
  const word = 'hello from chromium ' + Date.now();
  await page.fill('#text', word);
  await page.click('button');
  await page.waitForFunction((w) => [...document.querySelectorAll('#log .echo')].some((e) => e.textContent === w), word, {
    timeout: STEP_MS,
  });
  summary.echoes = await page.$$eval('#log .echo', (els) => els.map((e) => e.textContent));
  if (!summary.echoes.includes(word)) fail(`echo of ${word} not shown: ${summary.echoes}`);
  // Two different pushed times: the worker pushes once a second.
  const first = await page.waitForFunction(() => {
    const t = document.getElementById('time').textContent;
    return t !== '-' && t;
  }, null, { timeout: STEP_MS });
  summary.times.push(await first.jsonValue());
  const second = await page.waitForFunction(
    (t0) => {
      const t = document.getElementById('time').textContent;
      return t !== t0 && t;
    },
    summary.times[0],
    { timeout: STEP_MS },
  );
  summary.times.push(await second.jsonValue());
  for (const t of summary.times) if (Number.isNaN(Date.parse(t))) fail(`pushed time ${t} is not a date`);
  summary.secure = await page.evaluate(() => window.isSecureContext);
  const want = base.startsWith('https:') ? 'wss://' : 'ws://';
  if (!summary.wsUrl.startsWith(want)) fail(`the page opened ${summary.wsUrl}, expected ${want}`);
  if (base.startsWith('https:') && !summary.secure) fail('https page is not a secure context');
} catch (e) {
  fail(`${e}`);
} finally {
  await close();
  clearTimeout(killer);
}
console.log(JSON.stringify(summary));
process.exit(errors.length ? 1 : 0);
