// The shell: sign-in (pasted token or #token= in the URL), the signed-in user and workspace,
// the user's time zone, navigation between pages (one ES module each, loaded on demand), and
// the live event stream that pages subscribe to.

import * as api from './js/api.js';
import { budgetBanner } from './js/banner.js';
import { h, put, toast, installTooltips } from './js/dom.js';
import { LiveStream } from './js/live.js';
import { browserZone, zoneSelect } from './js/zones.js';

const WS_KEY = 'hangar.workspace';

const PAGES = [
  { re: /^\/(?:runtimes\/?)?$/, nav: 'runtimes', load: () => import('./js/pages/runtimes.js') },
  { re: /^\/runtimes\/([^/]+)\/?$/, nav: 'runtimes', load: () => import('./js/pages/runtime.js') },
  { re: /^\/usage\/?$/, nav: 'usage', load: () => import('./js/pages/dashboard.js') },
  { re: /^\/prices\/?$/, nav: 'usage', load: () => import('./js/pages/prices.js') },
  { re: /^\/budgets\/?$/, nav: 'budgets', load: () => import('./js/pages/budgets.js') },
  { re: /^\/agents\/?$/, nav: 'agents', load: () => import('./js/pages/agents.js') },
  { re: /^\/tasks\/?$/, nav: 'tasks', load: () => import('./js/pages/tasks.js') },
  { re: /^\/autopilots\/?$/, nav: 'autopilots', load: () => import('./js/pages/autopilots.js') },
  { re: /^\/connect\/?$/, nav: 'connect', load: () => import('./js/pages/connect.js') },
];

const app = { me: null, ws: null, zone: 'UTC', live: null, liveState: 'connecting', page: null, seq: 0 };
const main = document.getElementById('main');
const header = document.querySelector('header.top');
const banner = budgetBanner(document.getElementById('banner'));

function takeTokenFromUrl() {
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!match) return;
  api.setToken(decodeURIComponent(match[1]));
  history.replaceState(history.state, '', location.pathname + location.search);
}

function signOut(message) {
  api.setToken(null);
  if (app.live) app.live.stop();
  app.live = null;
  app.me = null;
  disposePage();
  banner.clear();
  header.hidden = true;
  showSignIn(message);
}

async function showSignIn(message) {
  const { render } = await import('./js/pages/signin.js');
  render(main, { message, onToken: (t) => { api.setToken(t); start(); } });
}

async function start() {
  takeTokenFromUrl();
  if (!api.token()) return showSignIn();
  put(main, h('p', { class: 'loading' }, 'Loading hangar…'));
  try {
    app.me = await api.get('/api/me');
  } catch (e) {
    if (e.status === 401) return undefined; // the 401 hook already shows the sign-in page
    return put(main, errorPanel(e, start));
  }
  await adoptZone();
  if (!app.me.workspaces.length) {
    header.hidden = true;
    const { renderNoWorkspace } = await import('./js/pages/signin.js');
    return renderNoWorkspace(main, async (name) => {
      await api.post('/api/workspaces', { name });
      start();
    });
  }
  const saved = localStorage.getItem(WS_KEY);
  app.ws = app.me.workspaces.find((w) => w.id === saved) || app.me.workspaces[0];
  renderHeader();
  connectLive();
  route();
}

/** The user's zone: their profile's, else the browser's, saved to the profile once. */
async function adoptZone() {
  if (app.me.timezone) {
    app.zone = app.me.timezone;
    return;
  }
  app.zone = browserZone();
  try {
    app.me = await api.patch('/api/me', { timezone: app.zone });
  } catch {
    // The server may not know this browser's zone name: keep it locally, reports fall back.
  }
}

async function setZone(zone) {
  if (zone === app.zone) return;
  app.zone = zone;
  renderHeader();
  try {
    app.me = await api.patch('/api/me', { timezone: zone });
  } catch (e) {
    toast(`Could not save the zone: ${e.message}`, 'error');
  }
  route();
}

function renderHeader() {
  header.hidden = false;
  const wsSelect = document.getElementById('workspace');
  put(wsSelect, app.me.workspaces.map((w) => h('option', { value: w.id, selected: w.id === app.ws.id }, w.name)));
  wsSelect.onchange = () => switchWorkspace(wsSelect.value);
  put(document.getElementById('zone-holder'), zoneSelect(app.zone, setZone, { id: 'zone' }));
  const out = document.getElementById('signout');
  out.setAttribute('data-tip', `Signed in as ${app.me.name} <${app.me.email}>`);
  out.onclick = () => signOut('Signed out.');
}

function switchWorkspace(id) {
  app.ws = app.me.workspaces.find((w) => w.id === id) || app.ws;
  localStorage.setItem(WS_KEY, app.ws.id);
  connectLive();
  if (/^\/runtimes\/./.test(location.pathname)) navigate('/runtimes');
  else route();
}

function connectLive() {
  if (app.live) app.live.stop();
  setLiveState('connecting');
  app.live = new LiveStream(app.ws.id, {
    onEvent: (ev) => {
      banner.onEvent(ev);
      if (app.page && app.page.onEvent) app.page.onEvent(ev);
    },
    onState: setLiveState,
    onReset: () => { toast('Missed too many changes; reloaded.'); route(); },
    onUnauthorized: () => signOut('Your token was rejected.'),
  });
}

function setLiveState(state) {
  app.liveState = state;
  const el = header.querySelector('.live');
  el.dataset.state = state;
  el.textContent = state === 'live' ? 'live' : state;
  document.body.dataset.live = state;
}

function disposePage() {
  if (app.page && app.page.dispose) app.page.dispose();
  app.page = null;
}

function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

async function route() {
  if (!app.me || !app.ws) return;
  const seq = ++app.seq;
  const path = location.pathname;
  const page = PAGES.find((p) => p.re.test(path));
  disposePage();
  banner.refresh(app.ws.id);
  for (const a of header.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', Boolean(page) && a.dataset.nav === page.nav);
  }
  if (!page) {
    put(main, h('section', { class: 'panel' }, h('h1', {}, 'Not found'),
      h('p', {}, 'There is no page at this address. '), h('a', { href: '/runtimes' }, 'Go to runtimes')));
    return;
  }
  const params = path.match(page.re).slice(1);
  const root = h('div', { class: 'page' });
  put(main, root);
  try {
    const mod = await page.load();
    if (seq !== app.seq) return;
    const handle = await mod.render(context(params), root);
    if (seq !== app.seq) {
      if (handle && handle.dispose) handle.dispose();
      return;
    }
    app.page = handle || {};
  } catch (e) {
    if (seq !== app.seq) return;
    if (e.status === 401) return;
    put(root, errorPanel(e, route));
  }
}

function context(params) {
  return {
    me: app.me,
    ws: app.ws,
    zone: app.zone,
    isAdmin: app.ws.role === 'owner' || app.ws.role === 'admin',
    params,
    query: new URLSearchParams(location.search),
    navigate,
    setZone,
    /** Updates the query string without a new history entry or re-render. */
    setQuery(values) {
      const q = new URLSearchParams(location.search);
      for (const [k, v] of Object.entries(values)) {
        if (v === null || v === undefined || v === '') q.delete(k);
        else q.set(k, v);
      }
      const text = q.toString();
      history.replaceState(null, '', location.pathname + (text ? `?${text}` : ''));
    },
    setTitle(title) { document.title = title ? `${title} · hangar` : 'hangar'; },
    errorPanel,
  };
}

/** A readable error with a retry button. */
function errorPanel(e, retry) {
  const network = e.code === 'network';
  return h('section', { class: 'panel error', role: 'alert' },
    h('h2', {}, network ? 'hangar is not reachable' : 'Something went wrong'),
    h('p', {}, network
      ? `The browser could not reach ${location.origin}. Is hangar running?`
      : `${e.message}${e.code ? ` (${e.code})` : ''}`),
    retry ? h('button', { type: 'button', onclick: () => retry() }, 'Try again') : null);
}

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target instanceof Element ? e.target.closest('a[href]') : null;
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || url.pathname.startsWith('/api/')) return;
  e.preventDefault();
  if (url.pathname + url.search !== location.pathname + location.search) navigate(url.pathname + url.search);
});
window.addEventListener('popstate', route);
window.addEventListener('hashchange', () => { if (/token=/.test(location.hash)) start(); });
api.onUnauthorized(() => signOut('Your token was rejected. Sign in again.'));
installTooltips();
start();
