// The runtimes page: every runtime of the workspace grouped by machine (daemon), with status,
// owner, visibility, agent count and the 7-day cost against the previous 7 days (from two
// calls of the workspace by-runtime report, never one call per runtime) and badges of the
// budgets on it. Filters and search live in the URL; the event stream keeps it current.

import * as api from '../api.js';
import { budgetBadges, scopeInfo } from '../budgets.js';
import { h, put, segmented } from '../dom.js';
import { ago, change, money, sumUsd, usd } from '../format.js';
import { coalescer } from '../live.js';
import { connectGuide } from './connect.js';

const REFRESH_MS = 60000;

export async function render(ctx, root) {
  ctx.setTitle('Runtimes');
  const ws = ctx.ws.id;
  const state = {
    runtimes: [], agents: [], members: new Map(), week: new Map(), fortnight: new Map(), budgets: null,
    status: ctx.query.get('status') || 'all',
    owner: ctx.query.get('owner') || 'all',
    q: ctx.query.get('q') || '',
  };

  const loadRuntimes = async () => { state.runtimes = await api.get(`/api/workspaces/${ws}/runtimes`); };
  const loadAgents = async () => { state.agents = await api.get(`/api/workspaces/${ws}/agents`); };
  const loadMembers = async () => {
    const members = await api.get(`/api/workspaces/${ws}/members`);
    state.members = new Map(members.map((m) => [m.user_id, m]));
  };
  const loadBudgets = async () => { state.budgets = await scopeInfo(ws); };
  // Costs are extra: if the report fails the list still shows, with the costs marked missing.
  const loadCosts = async () => {
    const report = (days) => api.get(`/api/workspaces/${ws}/usage/by-runtime${api.qs({ days, tz: ctx.zone })}`);
    try {
      const [week, fortnight] = await Promise.all([report(7), report(14)]);
      state.week = new Map(week.map((r) => [r.runtime_id, r]));
      state.fortnight = new Map(fortnight.map((r) => [r.runtime_id, r]));
      state.costError = null;
    } catch (e) {
      if (e.status === 401) throw e;
      state.costError = e;
    }
  };

  const filters = h('div', { class: 'toolbar' });
  const search = h('input', {
    type: 'search', id: 'runtime-search', placeholder: 'Search name, provider, machine, owner…',
    'aria-label': 'Search runtimes', value: state.q,
    oninput: () => { state.q = search.value; ctx.setQuery({ q: state.q }); draw(); },
  });
  const summary = h('p', { class: 'summary muted' });
  const list = h('div', { class: 'runtime-groups' });
  put(root, h('div', { class: 'page-head' }, h('h1', {}, 'Runtimes'), summary), filters, list);

  function drawFilters() {
    put(filters,
      segmented([['all', 'All'], ['online', 'Online'], ['offline', 'Offline']], state.status, (v) => {
        state.status = v; ctx.setQuery({ status: v === 'all' ? null : v }); drawFilters(); draw();
      }, 'Status'),
      segmented([['all', 'Everyone\'s'], ['mine', 'Mine']], state.owner, (v) => {
        state.owner = v; ctx.setQuery({ owner: v === 'all' ? null : v }); drawFilters(); draw();
      }, 'Owner'),
      search);
  }

  const ownerName = (id) => {
    if (!id) return '—';
    if (id === ctx.me.id) return 'you';
    const m = state.members.get(id);
    return m ? m.name || m.email : 'former member';
  };

  function matches(r) {
    if (state.status !== 'all' && r.status !== state.status) return false;
    if (state.owner === 'mine' && r.owner_id !== ctx.me.id) return false;
    const q = state.q.trim().toLowerCase();
    if (!q) return true;
    return [r.name, r.provider, r.launch_header, r.daemon_id, r.device_info, ownerName(r.owner_id)]
      .some((v) => v && String(v).toLowerCase().includes(q));
  }

  function costCell(r) {
    if (state.costError) return h('span', { class: 'muted', 'data-tip': `costs unavailable: ${state.costError.message}` }, '—');
    const week = state.week.get(r.id);
    const both = state.fortnight.get(r.id);
    const cur = week ? week.cost_usd : null;
    const prev = sumUsd([both ? both.cost_usd : null, cur === null ? null : -cur]) || 0;
    if (!week && !both) return h('span', { class: 'muted money', 'data-cost': '0' }, '$0.00');
    return h('span', { class: 'cost-cell' }, money(cur, week ? week.unpriced_tokens : 0),
      change(cur || 0, prev, { label: `previous 7 days: ${usd(prev)}` }));
  }

  function row(r, agentCounts) {
    const count = agentCounts.get(r.id) || 0;
    return h('tr', { class: 'runtime', 'data-runtime-id': r.id, 'data-status': r.status },
      h('td', { 'data-label': 'Runtime', class: 'name' },
        h('a', { href: `/runtimes/${r.id}`, class: 'strong' }, r.name),
        budgetBadges(state.budgets, { runtimeId: r.id }),
        h('span', { class: 'sub' }, r.launch_header || r.provider, r.runtime_mode === 'cloud' ? ' · cloud' : '')),
      h('td', { 'data-label': 'Status' }, h('span', {},
        h('span', { class: ['pill', r.status] }, r.status), ' ',
        h('span', { class: 'sub seen', 'data-tip': r.last_seen_at || 'never seen' }, `seen ${ago(r.last_seen_at)}`))),
      h('td', { 'data-label': 'Owner' }, ownerName(r.owner_id)),
      h('td', { 'data-label': 'Visibility' }, h('span', { class: ['badge', r.visibility] }, r.visibility)),
      h('td', { 'data-label': 'Agents', class: 'num agents' }, String(count)),
      h('td', { 'data-label': '7-day cost', class: 'num cost' }, costCell(r)));
  }

  function draw() {
    if (!state.runtimes.length) {
      summary.textContent = '';
      filters.hidden = true;
      put(list, connectGuide(ctx, { title: 'No runtimes yet — connect a machine' }));
      return;
    }
    filters.hidden = false;
    const agentCounts = new Map();
    for (const a of state.agents) agentCounts.set(a.runtime_id, (agentCounts.get(a.runtime_id) || 0) + 1);
    const online = state.runtimes.filter((r) => r.status === 'online').length;
    const machines = new Set(state.runtimes.map((r) => r.daemon_id || '')).size;
    const total = sumUsd(state.runtimes.map((r) => (state.week.get(r.id) || {}).cost_usd));
    summary.textContent = `${state.runtimes.length} runtimes on ${machines} machine${machines === 1 ? '' : 's'} · ${online} online`
      + (state.costError ? '' : ` · ${usd(total || 0)} in the last 7 days`);

    const groups = new Map();
    for (const r of state.runtimes.filter(matches)) {
      const key = r.daemon_id || '';
      if (!groups.has(key)) groups.set(key, []);
      groups.get(key).push(r);
    }
    if (!groups.size) {
      put(list, h('div', { class: 'empty' }, h('p', {}, 'No runtimes match these filters.'),
        h('button', {
          type: 'button',
          onclick: () => {
            Object.assign(state, { status: 'all', owner: 'all', q: '' });
            search.value = '';
            ctx.setQuery({ status: null, owner: null, q: null });
            drawFilters(); draw();
          },
        }, 'Clear filters')));
      return;
    }
    const keys = [...groups.keys()].sort((a, b) => (a === '') - (b === '') || a.localeCompare(b));
    put(list, h('table', { class: 'table runtimes cards' },
      h('thead', {}, h('tr', {}, ['Runtime', 'Status', 'Owner', 'Visibility', 'Agents', '7-day cost']
        .map((t, i) => h('th', { class: i >= 4 ? 'num' : null, scope: 'col' }, t)))),
      keys.map((key) => {
        const rows = groups.get(key).sort((a, b) => a.name.localeCompare(b.name));
        const up = rows.filter((r) => r.status === 'online').length;
        const device = rows.find((r) => r.device_info);
        return h('tbody', { class: 'machine', 'data-daemon-id': key },
          h('tr', { class: 'group' }, h('th', { colspan: 6, scope: 'rowgroup' },
            h('span', { class: 'machine-name' }, key || 'No daemon'),
            device ? h('span', { class: 'sub' }, device.device_info) : null,
            h('span', { class: 'sub' }, `${up}/${rows.length} online · zone ${rows[0].timezone}`))),
          rows.map((r) => row(r, agentCounts)));
      })));
  }

  drawFilters();
  await Promise.all([loadRuntimes(), loadAgents(), loadMembers(), loadCosts(), loadBudgets()]);
  draw();
  performance.mark('hangar:runtimes-rendered');
  root.dataset.ready = 'true';

  // Live updates: apply status changes at once, then re-read what an event may have changed.
  const { refresh, cancel } = coalescer({
    runtimes: loadRuntimes, agents: loadAgents, costs: loadCosts, members: loadMembers, budgets: loadBudgets,
  }, draw);
  const tick = setInterval(() => refresh(['runtimes'], 0), REFRESH_MS);
  return {
    onEvent(ev) {
      const p = ev.payload || {};
      if (ev.type === 'runtime:status') {
        const r = state.runtimes.find((x) => x.id === p.runtime_id);
        if (r) {
          r.status = p.status;
          if (p.status === 'online') r.last_seen_at = ev.created_at || new Date().toISOString();
          draw();
        }
        refresh(['runtimes'], 300);
      } else if (ev.type === 'daemon:register') {
        refresh(['runtimes', 'agents'], 150);
      } else if (ev.type.startsWith('agent:')) {
        refresh(['agents'], 300);
      } else if (ev.type === 'usage:reported') {
        refresh(['costs', 'budgets'], 2000);
      } else if (ev.type.startsWith('budget:') || ev.type.startsWith('price:')) {
        refresh(['budgets'], 300);
      }
    },
    dispose() { clearInterval(tick); cancel(); },
  };
}
