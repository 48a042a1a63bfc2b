// The workspace usage dashboard: the last 1/7/30/90 local days (today included, the
// workspace rule), daily cost by model, the per-model summary with the total, and the top
// agents and runtimes — deleted ones labelled, since workspace reports keep their usage;
// with the month's projection, a notice of unpriced models, and the bill reconciliation.

import * as api from '../api.js';
import { cardify, h, put, segmented, toast } from '../dom.js';
import { compact, int, money, usd } from '../format.js';
import { coalescer } from '../live.js';
import * as U from '../usage.js';
import { lastDays, localDate } from '../zones.js';
import { projectionPanel, unpricedNotice } from './outlook.js';
import { reconcilePanel } from './reconcile.js';
import { dailyChart, panel } from './runtime-views.js';

const RANGES = [1, 7, 30, 90];
const TOP = 10;

export async function render(ctx, root) {
  ctx.setTitle('Usage');
  const ws = ctx.ws.id;
  const param = Number(ctx.query.get('days'));
  const state = { days: RANGES.includes(param) ? param : 30, metric: 'cost', data: null };
  let disposers = [];

  const load = async () => {
    const q = api.qs({ days: state.days, tz: ctx.zone });
    const dailyRes = await api.request('GET', `/api/workspaces/${ws}/usage/daily${q}`, undefined, { raw: true });
    const zone = dailyRes.headers.get('X-Hangar-Timezone') || ctx.zone;
    const [daily, summary, byAgent, byRuntime, runtimes, agents, projection, unpriced] = await Promise.all([
      dailyRes.json(),
      api.get(`/api/workspaces/${ws}/usage/summary${q}`),
      api.get(`/api/workspaces/${ws}/usage/by-agent${q}`),
      api.get(`/api/workspaces/${ws}/usage/by-runtime${q}`),
      api.get(`/api/workspaces/${ws}/runtimes`),
      api.get(`/api/workspaces/${ws}/agents?include_archived=true`),
      api.get(`/api/workspaces/${ws}/usage/projection${api.qs({ tz: ctx.zone })}`),
      api.get(`/api/workspaces/${ws}/usage/unpriced${q}`),
    ]);
    const today = localDate(zone);
    state.data = {
      zone, today, dates: lastDays(today, state.days), daily, summary, byAgent, byRuntime, projection, unpriced,
      runtimes: new Map(runtimes.map((r) => [r.id, r])), agents: new Map(agents.map((a) => [a.id, a])),
    };
  };

  const tools = h('div', { class: 'toolbar' });
  const body = h('div', { class: 'stack' });
  put(root, h('div', { class: 'page-head' }, h('h1', {}, 'Usage'), h('p', { class: 'summary muted' }, `Workspace ${ctx.ws.name}, in ${ctx.zone}`)),
    tools, body, reconcilePanel(ctx));

  function drawTools() {
    put(tools,
      segmented(RANGES.map((n) => [String(n), n === 1 ? 'Today' : `${n} days`]), String(state.days), async (v) => {
        state.days = Number(v);
        ctx.setQuery({ days: v });
        drawTools();
        await reload();
      }, 'Range'),
      segmented([['cost', 'Cost'], ['tokens', 'Tokens']], state.metric, (v) => { state.metric = v; drawTools(); draw(); }, 'Chart metric'),
      h('span', { class: 'spacer' }), h('a', { href: '/prices', class: 'button-link', id: 'prices-link' }, 'Prices'));
  }

  const runtimeLabel = (id) => {
    const r = state.data.runtimes.get(id);
    return r ? h('a', { href: `/runtimes/${id}` }, r.name)
      : h('span', {}, h('span', { class: 'muted' }, `runtime ${id.slice(0, 8)}`), ' ', h('span', { class: 'badge deleted' }, 'deleted'));
  };
  const agentLabel = (id) => {
    const a = state.data.agents.get(id);
    if (!a) return h('span', {}, h('span', { class: 'muted' }, `agent ${id.slice(0, 8)}`), ' ', h('span', { class: 'badge deleted' }, 'deleted'));
    const runtime = state.data.runtimes.get(a.runtime_id);
    return h('span', {}, a.name, a.archived_at ? [' ', h('span', { class: 'badge' }, 'archived')] : null,
      h('span', { class: 'sub' }, runtime ? runtime.name : ''));
  };

  function csvButton(report, file) {
    return h('button', {
      type: 'button', class: 'small', 'data-csv': file,
      onclick: () => api.downloadCsv(`/api/workspaces/${ws}/usage/${report}${api.qs({ days: state.days, tz: ctx.zone, format: 'csv' })}`, file)
        .catch((e) => toast(e.message, 'error')),
    }, 'CSV');
  }

  function topTable(name, rows, label, idField) {
    const top = rows.slice(0, TOP);
    return h('div', { class: 'table-scroll' }, cardify(h('table', { class: 'table', 'data-table': name },
      h('thead', {}, h('tr', {}, [name === 'top-agents' ? 'Agent' : 'Runtime', 'Tasks', 'Tokens', 'Cost'].map((t, i) => h('th', { class: i ? 'num' : null }, t)))),
      h('tbody', {}, top.length ? top.map((r) => {
        const acc = U.addRow(U.emptyAcc(), r);
        return h('tr', { [`data-${idField.replace('_id', '')}-id`]: r[idField] },
          h('td', {}, label(r[idField])), h('td', { class: 'num' }, int(r.task_count)),
          h('td', { class: 'num', 'data-tip': `${int(acc.input)} in · ${int(acc.output)} out · ${int(acc.cacheRead)} cache read · ${int(acc.cacheWrite)} cache write` }, compact(U.tokens(acc))),
          h('td', { class: 'num' }, money(r.cost_usd, r.unpriced_tokens)));
      }) : h('tr', {}, h('td', { colspan: 4, class: 'muted' }, 'No usage in this range.'))),
      rows.length > TOP ? h('tfoot', {}, h('tr', {}, h('td', { colspan: 4, class: 'muted' }, `and ${rows.length - TOP} more (in the CSV)`))) : null)));
  }

  function summaryTable(rows) {
    const all = U.total(rows);
    const tokenCells = (acc) => [acc.input, acc.output, acc.cacheRead, acc.cacheWrite].map((n) => h('td', { class: 'num' }, int(n)));
    return h('div', { class: 'table-scroll' }, cardify(h('table', { class: 'table', 'data-table': 'summary' },
      h('thead', {}, h('tr', {}, ['Model', 'Tokens in', 'Tokens out', 'Cache read', 'Cache write', 'Tasks', 'Cost']
        .map((t, i) => h('th', { class: i ? 'num' : null }, t)))),
      h('tbody', {}, rows.length ? rows.map((r) => {
        const acc = U.addRow(U.emptyAcc(), r);
        return h('tr', { 'data-model': r.model }, h('td', {}, r.model), tokenCells(acc),
          h('td', { class: 'num' }, int(r.task_count)), h('td', { class: 'num' }, money(r.cost_usd, r.unpriced_tokens)));
      }) : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No usage in this range.'))),
      rows.length > 1 ? h('tfoot', {}, h('tr', {}, h('td', {}, 'Total'), tokenCells(all), h('td', { class: 'num' }, int(all.tasks)),
        h('td', { class: 'num' }, money(U.cost(all), all.unpriced)))) : null)));
  }

  function draw() {
    disposers.forEach((d) => d());
    disposers = [];
    const d = state.data;
    const all = U.total(d.summary);
    const deletedRuntimes = d.byRuntime.filter((r) => !d.runtimes.has(r.runtime_id)).length;
    put(body,
      unpricedNotice(d.unpriced, ctx),
      h('div', { class: 'kpis' },
        h('div', { class: 'kpi', 'data-kpi': 'cost', 'data-value': U.cost(all) ?? '' }, h('div', { class: 'label' }, 'Total cost'),
          h('div', { class: 'value' }, money(U.cost(all), all.unpriced))),
        h('div', { class: 'kpi', 'data-kpi': 'input', 'data-value': all.input }, h('div', { class: 'label' }, 'Tokens in'),
          h('div', { class: 'value', 'data-tip': int(all.input) }, compact(all.input))),
        h('div', { class: 'kpi', 'data-kpi': 'output', 'data-value': all.output }, h('div', { class: 'label' }, 'Tokens out'),
          h('div', { class: 'value', 'data-tip': int(all.output) }, compact(all.output))),
        h('div', { class: 'kpi', 'data-kpi': 'tasks', 'data-value': all.tasks }, h('div', { class: 'label', 'data-tip': 'Tasks with usage; a task that used two models counts twice' }, 'Tasks'),
          h('div', { class: 'value' }, int(all.tasks)))),
      projectionPanel(d.projection),
      panel(`Daily ${state.metric} by model`, dailyChart(d.dates, d.daily, state.metric, disposers, new Map(), 'ws-daily'), csvButton('daily', `usage-daily-${state.days}d.csv`)),
      panel('By model', summaryTable(d.summary), csvButton('summary', `usage-summary-${state.days}d.csv`)),
      h('div', { class: 'grid-2' },
        panel('Top agents', topTable('top-agents', d.byAgent, agentLabel, 'agent_id'), csvButton('by-agent', `usage-by-agent-${state.days}d.csv`)),
        panel('Top runtimes', h('div', {}, topTable('top-runtimes', d.byRuntime, runtimeLabel, 'runtime_id'),
          deletedRuntimes ? h('p', { class: 'muted' }, `${deletedRuntimes} deleted runtime${deletedRuntimes === 1 ? '' : 's'}: their usage still counts.`) : null),
        csvButton('by-runtime', `usage-by-runtime-${state.days}d.csv`))));
    root.dataset.ready = `${state.days}|${ctx.zone}`;
  }

  async function reload() {
    root.dataset.ready = '';
    try {
      await load();
      draw();
    } catch (e) {
      put(body, ctx.errorPanel(e, reload));
    }
  }

  drawTools();
  await load();
  draw();
  const { refresh, cancel } = coalescer({ load }, draw);
  return {
    onEvent(ev) {
      if (ev.type === 'usage:reported' || ev.type === 'daemon:register') refresh(['load'], 3000);
      else if (ev.type.startsWith('price:')) refresh(['load'], 300);
    },
    dispose() { cancel(); disposers.forEach((d) => d()); },
  };
}
