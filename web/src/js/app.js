// Entry point: hash router, login gate, page lifecycle (timers and fetches stop when the page is left).
import { api, clearToken, getToken, onUnauthorized } from './api.js';
import { clear, h } from './dom.js';

// Test and debugging hook: charts register their uPlot instances here (data is checked by the UI tests).
window.__stoke = window.__stoke || { charts: {}, parcoords: {} };

const routes = [
  { pattern: /^\/login$/, page: 'login', load: () => import('./pages/login.js') },
  { pattern: /^\/jobs$/, page: 'jobs', load: () => import('./pages/jobs.js') },
  { pattern: /^\/jobs\/(\d+)$/, page: 'jobs', load: () => import('./pages/job.js') },
  { pattern: /^\/new$/, page: 'new', load: () => import('./pages/builder.js') },
  { pattern: /^\/experiments$/, page: 'experiments', load: () => import('./pages/experiments.js') },
  { pattern: /^\/experiments\/(\d+)$/, page: 'experiments', load: () => import('./pages/experiment.js') },
  { pattern: /^\/cluster$/, page: 'cluster', load: () => import('./pages/cluster.js') },
];

// What a page gets besides its root: a signal and timers that end when the user navigates away.
export class PageContext {
  constructor() {
    this.controller = new AbortController();
    this.cleanups = [];
  }
  get signal() { return this.controller.signal; }
  get alive() { return !this.controller.signal.aborted; }
  onLeave(fn) { this.cleanups.push(fn); }
  // Calls fn now (its error propagates) and then every ms after it settles (never overlapping, later
  // errors are logged) until the page is left.
  async every(ms, fn, { immediate = true } = {}) {
    let timer = 0;
    this.onLeave(() => clearTimeout(timer));
    const schedule = () => { if (this.alive) timer = setTimeout(tick, ms); };
    const tick = async () => {
      if (!this.alive) return;
      try { await fn(); } catch (e) { if (this.alive && e.name !== 'AbortError') console.warn(e); }
      schedule();
    };
    if (!immediate) { schedule(); return; }
    try { await fn(); } finally { schedule(); }
  }
  dispose() {
    this.controller.abort();
    for (const fn of this.cleanups.splice(0)) {
      try { fn(); } catch (e) { console.warn(e); }
    }
  }
}

let current = null;
let me = null;

export function whoami() { return me; }

function parseHash() {
  const raw = location.hash.replace(/^#/, '') || '/jobs';
  const [path, qs] = raw.split('?');
  return { path, query: new URLSearchParams(qs || '') };
}

async function loadWhoami() {
  me = await api('/whoami');
  document.getElementById('whoami').textContent = `${me.user}${me.admin ? ' (admin)' : ''}`;
}

async function route() {
  const { path, query } = parseHash();
  const main = document.getElementById('main');
  if (!getToken() && path !== '/login') {
    location.hash = '#/login';
    return;
  }
  const match = routes.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (current) current.dispose();
  current = new PageContext();
  const ctx = current;
  window.__stoke.charts = {};
  window.__stoke.parcoords = {};
  const topbar = document.getElementById('topbar');
  topbar.hidden = path === '/login';
  for (const a of document.querySelectorAll('[data-nav]')) {
    if (match && a.dataset.nav === match.r.page) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  clear(main);
  for (const k of Object.keys(main.dataset)) delete main.dataset[k];
  if (!match) {
    main.append(h('h1', {}, 'Not found'), h('p', {}, h('a', { href: '#/jobs' }, 'Back to jobs')));
    return;
  }
  try {
    if (path !== '/login' && !me) await loadWhoami();
    const mod = await match.r.load();
    if (!ctx.alive) return;
    main.dataset.page = match.r.page;
    await mod.render(main, { args: match.m.slice(1), query }, ctx);
  } catch (e) {
    if (!ctx.alive || e.name === 'AbortError') return;
    if (e.status === 401) return;
    main.append(h('div', { class: 'alert alert-error', role: 'alert' }, `Error: ${e.message}`));
  }
}

export function logout() {
  clearToken();
  me = null;
  document.getElementById('whoami').textContent = '';
  location.hash = '#/login';
}

onUnauthorized(() => {
  if (parseHash().path !== '/login') logout();
});

document.getElementById('logout').addEventListener('click', logout);
window.addEventListener('hashchange', route);
route();
