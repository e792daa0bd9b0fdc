// Headless Chromium (Debian's /usr/bin/chromium, through playwright-core) on a directory
// listing of the c-examples/file-server example at URL: the rows as a user sees them, then
// after a click on "Size" (smallest first), a second click (largest first), and a click on
// "Name" (by name); the ".." row stays on top and directories stay before files throughout.
//
//   node listing_page.mjs URL NODE_DIR
//
// Prints a one-line JSON summary (the row names after each step); exits 1 when a check
// failed, 2 on a timeout.

import { args, failures, launch, watchdog } from '../common/page.mjs';

const { url, nodeDir } = args('listing_page.mjs', ['url', 'nodeDir']);
const killer = watchdog('listing_page.mjs');
const { errors, fail } = failures();
const summary = { loaded: [], size: [], sizeDesc: [], name: [], errors };

const { context, close } = await launch(nodeDir);
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => fail(`page error: ${e}`));
  await page.goto(url);
  const names = () => page.$$eval('#tb tr', (rows) => rows.map((r) => r.cells[0].textContent));
  summary.loaded = await names();
  await page.click('text=Size');
  summary.size = await names();
  await page.click('text=Size');
  summary.sizeDesc = await names();
  await page.click('text=Name');
  summary.name = await names();
  if (new URL(page.url()).pathname !== new URL(url).pathname) fail(`navigated to ${page.url()}`);
} catch (e) {
  fail(`${e}`);
} finally {
  await close();
  clearTimeout(killer);
}
console.log(JSON.stringify(summary));
process.exit(errors.length ? 1 : 0);
