// The budgets page: each budget of the workspace with its progress this period (thresholds
// marked, amber from 80 %, red from 100 %), its period in the viewer's zone, state, burn
// rate, projected period-end spend and run-out time; admins create, edit and delete.

import * as api from '../api.js';
import { confirmDialog, h, put, toast } from '../dom.js';
import { dateTime, usd } from '../format.js';
import { budgetName, level, listBudgets, PERIOD_WORD, percentText, progressBar, statusesOf } from '../budgets.js';
import { coalescer } from '../live.js';
import { openBudgetForm } from './budget-form.js';

export async function render(ctx, root) {
  ctx.setTitle('Budgets');
  const ws = ctx.ws.id;
  const state = { budgets: [], statuses: new Map(), runtimes: [], agents: [] };

  const loadBudgets = async () => {
    const budgets = await listBudgets(ws);
    state.statuses = await statusesOf(budgets);
    state.budgets = budgets;
  };
  const loadRefs = async () => {
    [state.runtimes, state.agents] = await Promise.all([
      api.get(`/api/workspaces/${ws}/runtimes`),
      api.get(`/api/workspaces/${ws}/agents?include_archived=true`),
    ]);
  };

  const summary = h('p', { class: 'summary muted' });
  const list = h('div', { class: 'budgets' });
  const newButton = ctx.isAdmin ? h('button', { type: 'button', class: 'primary', id: 'new-budget', onclick: () => edit(null) }, 'New budget') : null;
  put(root, h('div', { class: 'page-head' }, h('div', {}, h('h1', {}, 'Budgets'), summary), newButton), list);

  function edit(budget) {
    openBudgetForm(ctx, {
      budget, runtimes: state.runtimes, agents: state.agents,
      onSaved: async (saved) => {
        toast(`${budget ? 'Saved' : 'Created'} ${budgetName(saved)}.`);
        await reload();
      },
    });
  }

  async function remove(b) {
    if (!await confirmDialog(`Delete ${budgetName(b)}`, 'Its record of announced thresholds goes too. Dispatch it holds back resumes.', 'Delete', { danger: true })) return;
    try {
      await api.del(`/api/budgets/${b.id}`);
      toast(`Deleted ${budgetName(b)}.`);
      await reload();
    } catch (e) { toast(e.message, 'error'); }
  }

  function scopeText(b) {
    if (b.scope.type === 'workspace') return h('span', {}, 'Whole workspace');
    const pool = b.scope.type === 'runtime' ? state.runtimes : state.agents;
    const found = pool.find((x) => x.id === b.scope.id);
    const name = found ? found.name : `${b.scope.type} ${b.scope.id.slice(0, 8)} (deleted)`;
    return h('span', {}, `${b.scope.type === 'runtime' ? 'Runtime' : 'Agent'} `,
      b.scope.type === 'runtime' && found ? h('a', { href: `/runtimes/${found.id}` }, name) : h('b', {}, name));
  }

  function stateBadges(b) {
    return [
      b.state === 'paused' ? h('span', { class: 'badge paused', 'data-state': 'paused', 'data-tip': 'Spent: new tasks in scope stay queued' }, 'paused') : null,
      b.state === 'exceeded' ? h('span', { class: 'badge over', 'data-state': 'exceeded' }, 'over budget') : null,
      h('span', { class: ['badge', b.action === 'pause_dispatch' ? 'action-pause' : 'action-alert'], 'data-action': b.action },
        b.action === 'pause_dispatch' ? 'pauses dispatch' : 'alert'),
    ];
  }

  function outlook(b, st) {
    const over = st.percent >= 100;
    const runOut = over ? 'already spent'
      : st.runs_out_at ? dateTime(st.runs_out_at, ctx.zone) : 'not this period';
    return h('ul', { class: 'facts budget-facts' },
      h('li', { 'data-fact': 'period', 'data-tip': `${st.period.start_local} – ${st.period.end_local} (${st.period.timezone})` },
        'period ', h('b', {}, `${dateTime(st.period.start, ctx.zone)} – ${dateTime(st.period.end, ctx.zone)}`)),
      h('li', { 'data-fact': 'burn', 'data-value': st.burn_usd_last_24h }, 'burn ',
        h('b', {}, `${usd(st.burn_usd_last_24h)} in the last 24 h`), ` (${usd(st.burn_rate_usd_per_hour)}/h)`),
      h('li', { 'data-fact': 'projected', 'data-value': st.projected_usd }, 'projected ', h('b', {}, usd(st.projected_usd)), ' by the period\'s end'),
      h('li', { 'data-fact': 'runs-out', 'data-value': st.runs_out_at || '' }, 'runs out ', h('b', {}, runOut)));
  }

  function card(b) {
    const st = state.statuses.get(b.id);
    const crossed = new Set(st ? st.thresholds_crossed.map((t) => t.threshold) : []);
    return h('section', { class: ['panel', 'budget', st ? level(st.percent) : null], 'data-budget-id': b.id, 'data-state': b.state },
      h('div', { class: 'panel-head' },
        h('h2', {}, budgetName(b), ' ', stateBadges(b)),
        ctx.isAdmin ? h('div', { class: 'toolbar' },
          h('button', { type: 'button', class: 'small', 'data-action': 'edit', onclick: () => edit(b) }, 'Edit…'),
          h('button', { type: 'button', class: 'small danger', 'data-action': 'delete', onclick: () => remove(b) }, 'Delete')) : null),
      h('p', { class: 'sub' }, scopeText(b), ` · ${usd(b.amount_usd)} per ${PERIOD_WORD[b.period] || b.period} in ${b.timezone}`),
      st ? [
        h('div', { class: 'budget-progress' },
          progressBar(st.percent, b.thresholds),
          h('span', { class: 'budget-percent', 'data-percent': st.percent }, percentText(st.percent, 1))),
        h('p', { class: 'budget-figures' },
          h('b', { 'data-spent': st.spent_usd }, usd(st.spent_usd)), ` of ${usd(st.amount_usd)} spent · `,
          h('span', { 'data-remaining': st.remaining_usd }, `${usd(st.remaining_usd)} left`), ' · thresholds ',
          b.thresholds.length ? b.thresholds.map((t) => h('span', {
            class: ['threshold', crossed.has(t) ? 'crossed' : null], 'data-threshold': t,
            'data-tip': crossed.has(t) ? 'announced this period' : 'not reached this period',
          }, `${t} %`)) : h('span', { class: 'muted' }, 'none')),
        outlook(b, st),
      ] : h('p', { class: 'muted' }, 'Status unavailable.'));
  }

  function draw() {
    const paused = state.budgets.filter((b) => b.state === 'paused').length;
    summary.textContent = `${state.budgets.length} budget${state.budgets.length === 1 ? '' : 's'}`
      + (paused ? ` · ${paused} pausing dispatch` : '') + ` · times in ${ctx.zone}`;
    if (!state.budgets.length) {
      put(list, h('div', { class: 'empty' }, 'No budgets yet.', ctx.isAdmin ? ' Create one to be told at 50, 80 and 100 % of a spend limit.' : ' An admin can create one.'));
      return;
    }
    const order = { paused: 0, exceeded: 1, ok: 2 };
    const sorted = [...state.budgets].sort((a, b) => (order[a.state] ?? 3) - (order[b.state] ?? 3) || budgetName(a).localeCompare(budgetName(b)));
    put(list, sorted.map(card));
  }

  async function reload() {
    try {
      await loadBudgets();
      draw();
    } catch (e) {
      put(list, ctx.errorPanel(e, reload));
    }
  }

  await Promise.all([loadBudgets(), loadRefs()]);
  draw();
  root.dataset.ready = 'true';
  const { refresh, cancel } = coalescer({ budgets: loadBudgets, refs: loadRefs }, draw);
  return {
    onEvent(ev) {
      if (ev.type.startsWith('budget:') || ev.type.startsWith('price:')) refresh(['budgets'], 300);
      else if (ev.type === 'usage:reported') refresh(['budgets'], 3000);
      else if (ev.type.startsWith('agent:') || ev.type === 'daemon:register') refresh(['refs'], 500);
    },
    dispose: cancel,
  };
}
