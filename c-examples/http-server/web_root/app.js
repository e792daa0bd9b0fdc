// Front end of the meerkat http-server example: talks to the JSON API under /api/.
'use strict';

const $ = (id) => document.getElementById(id);

function formatUptime(ms) {
  let s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  s %= 60;
  return h > 0 ? `${h}h ${m}m` : m > 0 ? `${m}m ${s}s` : `${s}s`;
}

async function getJSON(url, options) {
  const r = await fetch(url, options);
  const body = await r.json();
  if (!r.ok) throw new Error(`${r.status}: ${body.error || r.statusText}`);
  return body;
}

async function refreshStats() {
  const state = $('stats-state');
  try {
    const s = await getJSON('/api/stats');
    $('uptime').textContent = formatUptime(s.uptime_ms);
    $('requests').textContent = s.requests;
    $('conns').textContent = s.live_conns;
    state.textContent = 'live';
    state.className = 'pill ok';
  } catch (e) {
    state.textContent = 'offline';
    state.className = 'pill bad';
  }
}

$('echo-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const text = $('echo-text').value;
  try {
    const r = await getJSON('/api/echo?text=' + encodeURIComponent(text));
    $('echo-out').textContent = JSON.stringify(r);
  } catch (e) {
    $('echo-out').textContent = String(e);
  }
});

$('sum-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const a = Number($('sum-a').value);
  const b = Number($('sum-b').value);
  try {
    const r = await getJSON('/api/sum', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ a, b }),
    });
    $('sum-out').textContent = `${a} + ${b} = ${r.sum}`;
  } catch (e) {
    $('sum-out').textContent = String(e);
  }
});

$('slow-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const list = $('slow-out');
  list.textContent = '';
  for (let i = 0; i < 10; i++) {
    const id = `req-${i}-${Math.random().toString(36).slice(2, 8)}`;
    const li = document.createElement('li');
    li.textContent = `${id}: waiting...`;
    list.appendChild(li);
    const t0 = performance.now();
    getJSON('/api/slow?id=' + encodeURIComponent(id))
      .then((r) => {
        const mine = r.id === id;
        li.className = mine ? 'ok' : 'bad';
        li.textContent = `${id}: ${mine ? 'own reply' : 'WRONG reply ' + r.id}, ` +
          `server delay ${r.delay_ms} ms, round trip ${Math.round(performance.now() - t0)} ms`;
      })
      .catch((e) => {
        li.className = 'bad';
        li.textContent = `${id}: ${e}`;
      });
  }
});

refreshStats();
setInterval(refreshStats, 1000);
