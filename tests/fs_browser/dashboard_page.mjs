// Headless Chromium (Debian's /usr/bin/chromium, through playwright-core) uses the
// c-examples/device-dashboard page at BASE_URL as a person would: the login form shows, a
// wrong password is refused on the page, the right one shows the dashboard (the user's
// name, a temperature, the packed script and style in effect); switching the LED on and
// saving shows "Saved" and the status "on"; a firmware file chosen in the form is uploaded
// in pieces and its name and size appear; reloading keeps the session (the HttpOnly cookie),
// logging out brings the form back.
//
//   node dashboard_page.mjs BASE_URL NODE_DIR FIRMWARE_SIZE
//
// Prints a one-line JSON summary; exits 1 when a check failed, 2 on a timeout.

import { args, failures, launch, STEP_MS, watchdog } from '../common/page.mjs';

const { base, nodeDir, fwSize } = args('dashboard_page.mjs', ['base', 'nodeDir', 'fwSize']);
const killer = watchdog('dashboard_page.mjs');
const { errors, fail } = failures();
const summary = { who: '', temperature: '', led: '', fw: '', headerColor: '', errors };

const { context, close } = await launch(nodeDir);
try {
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => fail(`page error: ${e}`));
  await page.goto(base + '/');
  await page.waitForFunction(() => !document.getElementById('login-box').hidden, null, { timeout: STEP_MS });
  // style.css from the packed root is applied.
  summary.headerColor = await page.$eval('header', (h) => getComputedStyle(h).backgroundColor);
  if (summary.headerColor !== 'rgb(32, 82, 92)') fail(`style.css not applied: ${summary.headerColor}`);

  await page.fill('#login [name=user]', 'admin');
  await page.fill('#login [name=pass]', 'wrong');
  await page.click('#login button');
  await page.waitForFunction(() => document.getElementById('login-error').textContent !== '', null, {
    timeout: STEP_MS,
  });
  if (!(await page.isHidden('#dash'))) fail('dashboard shown after a wrong password');

  await page.fill('#login [name=pass]', 'secret');
  await page.click('#login button');
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: STEP_MS });
  summary.who = await page.textContent('#who');
  summary.temperature = await page.textContent('#temperature');
  if (summary.who !== 'admin') fail(`user shown: ${summary.who}`);
  if (!/^\d+\.\d °C$/.test(summary.temperature)) fail(`temperature shown: ${summary.temperature}`);

  await page.check('#settings [name=led]');
  await page.click('#settings button');
  await page.waitForFunction(() => document.getElementById('settings-result').textContent === 'Saved', null, {
    timeout: STEP_MS,
  });
  await page.waitForFunction(() => document.getElementById('led').textContent === 'on', null, { timeout: STEP_MS });
  summary.led = await page.textContent('#led');

  const size = Number(fwSize);
  const buffer = Buffer.alloc(size, 0);
  for (let i = 0; i < size; i++) buffer[i] = (i * 7 + 3) & 0xff;
  await page.setInputFiles('#firmware [name=file]', { name: 'fw-browser.bin', mimeType: 'application/octet-stream', buffer });
  await page.click('#firmware button');
  const want = `fw-browser.bin (${size} bytes)`;
  await page.waitForFunction((w) => document.getElementById('fw').textContent === w, want, { timeout: STEP_MS });
  summary.fw = await page.textContent('#fw');

  // The session survives a reload (cookie); logging out ends it.
  await page.reload();
  await page.waitForFunction(() => document.body.dataset.ready === '1', null, { timeout: STEP_MS });
  await page.click('#logout');
  await page.waitForFunction(() => !document.getElementById('login-box').hidden, null, { timeout: STEP_MS });
  await page.reload();
  await page.waitForFunction(() => !document.getElementById('login-box').hidden, null, { timeout: STEP_MS });
  if (!(await page.isHidden('#dash'))) fail('dashboard shown after logout');
} catch (e) {
  fail(`${e}`);
} finally {
  await close();
  clearTimeout(killer);
}
console.log(JSON.stringify(summary));
process.exit(errors.length ? 1 : 0);
