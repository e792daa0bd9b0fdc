// The dashboard: log in (Basic credentials to /api/login; the server answers with an
// HttpOnly cookie that later API calls carry), then poll /api/stats, edit /api/settings
// and upload firmware in pieces to /api/firmware (mg_http_upload's protocol).
'use strict';

const $ = (id) => document.getElementById(id);
const PIECE = 256 * 1024;

async function api(path, opts) {
  const r = await fetch(path, Object.assign({credentials: 'same-origin'}, opts));
  if (r.status === 401) { showLogin(); throw new Error('login required'); }
  const text = await r.text();
  let body;
  try { body = JSON.parse(text); } catch (e) { body = {text}; }
  if (!r.ok) throw new Error(body.error || text || r.statusText);
  return body;
}

function showLogin() {
  $('dash').hidden = true;
  $('logout').hidden = true;
  $('who').textContent = '';
  $('login-box').hidden = false;
}

async function showDash() {
  $('login-box').hidden = true;
  $('dash').hidden = false;
  $('logout').hidden = false;
  await refresh();
  const s = await api('/api/settings');
  const f = $('settings');
  f.device_name.value = s.device_name;
  f.led.checked = s.led;
  f.log_level.value = s.log_level;
  await firmware();
}

async function refresh() {
  const s = await api('/api/stats');
  $('who').textContent = s.user;
  $('uptime').textContent = (s.uptime_ms / 1000).toFixed(0) + ' s';
  $('temperature').textContent = s.temperature.toFixed(1) + ' °C';
  $('led').textContent = s.led ? 'on' : 'off';
  $('requests').textContent = s.requests;
  document.body.dataset.ready = '1';
}

async function firmware() {
  const f = await api('/api/firmware');
  $('fw').textContent = f.name ? f.name + ' (' + f.size + ' bytes)' : 'none';
}

$('login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const r = await fetch('/api/login', {
    method: 'POST',
    headers: {Authorization: 'Basic ' + btoa(f.user.value + ':' + f.pass.value)},
  });
  if (!r.ok) { $('login-error').textContent = 'Wrong user or password'; return; }
  $('login-error').textContent = '';
  await showDash();
});

$('logout').addEventListener('click', async () => {
  await fetch('/api/logout', {method: 'POST'});
  showLogin();
});

$('settings').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = e.target;
  const body = {device_name: f.device_name.value, led: f.led.checked, log_level: Number(f.log_level.value)};
  try {
    await api('/api/settings', {method: 'POST', body: JSON.stringify(body)});
    $('settings-result').textContent = 'Saved';
    await refresh();
  } catch (err) {
    $('settings-result').textContent = err.message;
  }
});

$('firmware').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = e.target.file.files[0];
  if (!file) return;
  try {
    for (let off = 0; off < file.size || off === 0; off += PIECE) {
      const piece = file.slice(off, off + PIECE);
      const name = encodeURIComponent(file.name);
      await api('/api/firmware?file=' + name + '&offset=' + off, {method: 'POST', body: piece});
      $('fw-result').textContent = Math.min(off + PIECE, file.size) + ' of ' + file.size + ' bytes';
      if (file.size === 0) break;
    }
    await firmware();
  } catch (err) {
    $('fw-result').textContent = err.message;
  }
});

// Logged in already (the cookie is still valid)? Else the login form.
api('/api/stats').then(showDash, () => {});
setInterval(() => { if (!$('dash').hidden) refresh().catch(() => {}); }, 2000);
