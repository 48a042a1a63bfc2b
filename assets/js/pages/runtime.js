// The runtime detail page: who and where it is, and where its money went over the last
// 7/30/90/180 local days (today included) in the viewer's zone, each KPI against the equal
// window before it. One daily report (days = max(2N, 181), so the previous window and the
// 26-week heatmap come from the same call) plus by-agent / by-hour / activity with
// days = N − 1, which the runtime rule turns into exactly the same N local days.

import * as api from '../api.js';
import { budgetBadges, scopeInfo } from '../budgets.js';
import { h, put, segmented, toast } from '../dom.js';
import { ago, change, compact, dateTime, int, money, pct, usd } from '../format.js';
import { coalescer } from '../live.js';
import * as U from '../usage.js';
import { addDays, lastDays, localDate, offsetLabel, zoneSelect } from '../zones.js';
import { openDeleteDialog } from './retire.js';
import * as V from './runtime-views.js';

const RANGES = [7, 30, 90, 180];

export async function render(ctx, root) {
  const id = ctx.params[0];
  const rangeParam = Number(ctx.query.get('range'));
  const state = {
    range: RANGES.includes(rangeParam) ? rangeParam : 30,
    metric: ctx.query.get('metric') === 'tokens' ? 'tokens' : 'cost',
    runtime: null, members: new Map(), agents: new Map(), usage: null, deleted: false, budgets: null,
  };
  const base = `/api/runtimes/${id}`;

  const loadRuntime = async () => { state.runtime = await api.get(base); };
  const loadBudgets = async () => { state.budgets = await scopeInfo(ctx.ws.id); };
  const loadPeople = async () => {
    const [members, agents] = await Promise.all([
      api.get(`/api/workspaces/${ctx.ws.id}/members`),
      api.get(`/api/workspaces/${ctx.ws.id}/agents?include_archived=true`),
    ]);
    state.members = new Map(members.map((m) => [m.user_id, m]));
    state.agents = new Map(agents.map((a) => [a.id, a]));
  };
  const loadUsage = async () => {
    const n = state.range;
    const tz = ctx.zone;
    const dailyRes = await api.request('GET', `${base}/usage${api.qs({ days: Math.max(2 * n, 181), tz })}`, undefined, { raw: true });
    const zone = dailyRes.headers.get('X-Hangar-Timezone') || tz;
    const [daily, byAgent, byHour, activity] = await Promise.all([
      dailyRes.json(),
      api.get(`${base}/usage/by-agent${api.qs({ days: n - 1, tz })}`),
      api.get(`${base}/usage/by-hour${api.qs({ days: n - 1, tz })}`),
      api.get(`${base}/activity${api.qs({ days: n - 1, tz })}`),
    ]);
    const today = localDate(zone);
    const dates = lastDays(today, n);
    const previous = lastDays(addDays(today, -n), n);
    state.usage = {
      zone, today, dates, previous, daily, byAgent, byHour, activity,
      current: daily.filter((r) => r.date >= dates[0] && r.date <= today),
      before: daily.filter((r) => r.date >= previous[0] && r.date <= previous[n - 1]),
    };
  };

  await Promise.all([loadRuntime(), loadPeople(), loadUsage(), loadBudgets()]);
  ctx.setTitle(state.runtime.name);

  const head = h('div', {});
  const tools = h('div', { class: 'toolbar' });
  const body = h('div', { class: 'stack' });
  put(root, head, tools, body);
  let disposers = [];

  const canEdit = () => ctx.isAdmin || state.runtime.owner_id === ctx.me.id;
  const person = (uid) => {
    if (!uid) return '—';
    if (uid === ctx.me.id) return 'you';
    const m = state.members.get(uid);
    return m ? m.name || m.email : 'former member';
  };
  const agentName = (aid) => {
    const a = state.agents.get(aid);
    if (!a) return h('span', {}, 'deleted agent ', h('span', { class: 'badge deleted' }, 'deleted'));
    return a.archived_at ? h('span', {}, a.name, ' ', h('span', { class: 'badge' }, 'archived')) : a.name;
  };

  function drawHead() {
    const r = state.runtime;
    const visibility = canEdit()
      ? segmented([['private', 'Private'], ['public', 'Public']], r.visibility, async (v) => {
        if (v === r.visibility) return;
        try {
          state.runtime = await api.patch(base, { visibility: v });
          drawHead();
        } catch (e) { toast(e.message, 'error'); }
      }, 'Visibility')
      : h('span', { class: ['badge', r.visibility], 'data-tip': 'Only the owner or an admin can change this' }, r.visibility);
    put(head, h('p', { class: 'crumbs' }, h('a', { href: '/runtimes' }, 'Runtimes'), ' › ', r.daemon_id || 'no daemon'),
      state.deleted ? h('p', { class: 'notice danger', role: 'alert' }, 'This runtime has been deleted. Its usage stays in the workspace reports.') : null,
      h('div', { class: 'detail-head' },
        h('div', {},
          h('h1', {}, r.name, ' ', h('span', { class: ['pill', r.status], 'data-status': r.status }, r.status),
            ' ', budgetBadges(state.budgets, { runtimeId: r.id })),
          h('ul', { class: 'facts' },
            h('li', {}, h('b', {}, r.launch_header || r.provider), ` (${r.provider}, ${r.runtime_mode})`),
            h('li', {}, 'owner ', h('b', {}, person(r.owner_id))),
            h('li', {}, 'device ', h('b', {}, r.device_info || '—')),
            h('li', {}, 'daemon ', h('b', { class: 'machine-name' }, r.daemon_id || '—')),
            h('li', { 'data-tip': r.last_seen_at || '' }, 'seen ', h('b', {}, ago(r.last_seen_at))),
            h('li', {}, 'runtime zone ', h('b', {}, r.timezone)))),
        h('div', { class: 'toolbar' }, h('span', { class: 'muted' }, 'Visibility'), visibility,
          canEdit() && !state.deleted ? h('button', {
            type: 'button', class: 'danger', id: 'delete-runtime',
            onclick: () => openDeleteDialog(ctx, state.runtime, {
              onDeleted: (result) => {
                toast(result.agents_archived !== undefined
                  ? `Deleted ${r.name}: archived ${result.agents_archived} agents, cancelled ${result.tasks_cancelled} tasks.`
                  : `Deleted ${r.name}.`);
                ctx.navigate('/runtimes');
              },
            }),
          }, 'Delete…') : null)));
  }

  function drawTools() {
    put(tools,
      segmented(RANGES.map((n) => [String(n), `${n} days`]), String(state.range), async (v) => {
        state.range = Number(v);
        ctx.setQuery({ range: v });
        drawTools();
        await reload();
      }, 'Range'),
      segmented([['cost', 'Cost'], ['tokens', 'Tokens']], state.metric, (v) => {
        state.metric = v;
        ctx.setQuery({ metric: v === 'cost' ? null : v });
        drawTools();
        drawBody();
      }, 'Chart metric'),
      h('span', { class: 'zone-pick' },
        h('label', { class: 'muted', for: 'detail-zone' }, 'Zone'),
        zoneSelect(ctx.zone, (z) => ctx.setZone(z), { id: 'detail-zone' }),
        h('span', { class: 'muted', 'data-tip': 'UTC offset now' }, offsetLabel(state.usage.zone))));
  }

  function kpi(name, label, valueText, raw, prevRaw, changeEl, prevText) {
    return h('div', { class: 'kpi', 'data-kpi': name, 'data-value': raw ?? '', 'data-prev': prevRaw ?? '' },
      h('div', { class: 'label' }, label), h('div', { class: 'value' }, valueText), changeEl,
      h('span', { class: 'prev' }, `previous ${state.range} days: ${prevText}`));
  }

  function drawKpis() {
    const { current, before } = state.usage;
    const cur = U.total(current);
    const prev = U.total(before);
    const rate = U.hitRate(cur);
    const prevRate = U.hitRate(prev);
    const ppChange = rate === null || prevRate === null ? h('span', { class: 'change flat' }, '—')
      : h('span', { class: ['change', rate > prevRate ? 'up' : rate < prevRate ? 'down' : 'flat'] },
        `${rate >= prevRate ? '+' : '−'}${Math.abs((rate - prevRate) * 100).toFixed(1)} pp`);
    return h('div', { class: 'kpis' },
      kpi('cost', 'Cost', money(U.cost(cur), cur.unpriced), U.cost(cur), U.cost(prev),
        change(cur.costMicros, prev.costMicros), usd(U.cost(prev) ?? 0)),
      kpi('input', 'Tokens in', h('span', { 'data-tip': int(cur.input) }, compact(cur.input)), cur.input, prev.input,
        change(cur.input, prev.input), int(prev.input)),
      kpi('output', 'Tokens out', h('span', { 'data-tip': int(cur.output) }, compact(cur.output)), cur.output, prev.output,
        change(cur.output, prev.output), int(prev.output)),
      kpi('savings', 'Cache savings', usd(U.savings(cur)), U.savings(cur), U.savings(prev),
        change(cur.savingsMicros, prev.savingsMicros), usd(U.savings(prev))),
      kpi('hit-rate', 'Cache hit rate', h('span', { 'data-tip': 'cache reads ÷ (input + cache reads + cache writes)' }, pct(rate)),
        rate, prevRate, ppChange, pct(prevRate)));
  }

  function drawBody() {
    disposers.forEach((d) => d());
    disposers = [];
    const u = state.usage;
    // One colour per model on the whole page, in the order of the window's cost.
    const palette = new Map();
    const span = `${u.dates[0]} – ${u.today} in ${u.zone}`;
    const csv = (label, path, file) => h('button', {
      type: 'button', class: 'small', 'data-csv': file,
      onclick: () => api.downloadCsv(path, file).catch((e) => toast(e.message, 'error')),
    }, label);
    const days = state.range - 1;
    const tzq = { days, tz: ctx.zone, format: 'csv' };
    const slug = `${state.runtime.name.replace(/[^\w.-]+/g, '-')}-${state.range}d`;
    put(body,
      h('p', { class: 'muted', 'data-window': span }, `Last ${state.range} days (${span}), compared with the ${state.range} days before.`),
      drawKpis(),
      V.panel(`Daily ${state.metric} by model`, V.dailyChart(u.dates, u.current, state.metric, disposers, palette)),
      h('div', { class: 'grid-3' },
        V.panel('Daily cost, last 26 weeks', V.heatmapView(u.today, u.daily, disposers)),
        V.panel(`${state.metric === 'cost' ? 'Cost' : 'Tokens'} by hour of day`, V.hourChart(u.byHour, state.metric, disposers, palette)),
        V.panel('Tasks started by hour of day', V.activityChart(u.activity, disposers))),
      V.panel('By agent', V.agentTable(u.byAgent, agentName),
        csv('CSV', `${base}/usage/by-agent${api.qs(tzq)}`, `${slug}-by-agent.csv`)),
      V.panel('By model', V.modelTable(u.current),
        h('button', {
          type: 'button', class: 'small', 'data-csv': `${slug}-by-model.csv`,
          onclick: () => api.saveBlob(new Blob([V.modelCsv(u.current)], { type: 'text/csv' }), `${slug}-by-model.csv`),
        }, 'CSV')),
      V.panel('Daily', V.dailyTable(u.dates, u.current),
        csv('CSV (by day and model)', `${base}/usage${api.qs(tzq)}`, `${slug}-daily.csv`)));
    root.dataset.ready = `${state.range}|${ctx.zone}|${state.metric}`;
  }

  async function reload() {
    root.dataset.ready = '';
    try {
      await loadUsage();
      drawBody();
    } catch (e) {
      put(body, ctx.errorPanel(e, reload));
    }
  }

  drawHead();
  drawTools();
  drawBody();
  performance.mark('hangar:runtime-rendered');

  const { refresh, cancel } = coalescer({ runtime: loadRuntime, usage: loadUsage, people: loadPeople, budgets: loadBudgets }, () => {
    drawHead();
    drawBody();
  });
  return {
    onEvent(ev) {
      const p = ev.payload || {};
      if (ev.type.startsWith('budget:') || ev.type.startsWith('price:')) {
        refresh(['budgets'], 300);
        return;
      }
      if (p.runtime_id !== id && !(ev.type.startsWith('agent:'))) return;
      if (ev.type === 'daemon:register' && p.action === 'delete') {
        state.deleted = true;
        drawHead();
      } else if (ev.type === 'runtime:status' || ev.type === 'daemon:register') {
        state.runtime.status = p.status || state.runtime.status;
        drawHead();
        refresh(['runtime'], 200);
      } else if (ev.type === 'usage:reported') {
        refresh(['usage', 'budgets'], 3000);
      } else if (ev.type.startsWith('agent:')) {
        refresh(['people'], 500);
      }
    },
    dispose() { cancel(); disposers.forEach((d) => d()); },
  };
}
