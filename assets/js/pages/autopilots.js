// Autopilots: each schedule, its agent and next run, with pause / resume.

import * as api from '../api.js';
import { h, put, toast } from '../dom.js';
import { ago, dateTime, interval } from '../format.js';
import { coalescer } from '../live.js';

export async function render(ctx, root) {
  ctx.setTitle('Autopilots');
  const ws = ctx.ws.id;
  const state = { autopilots: [], agents: new Map() };
  const loadAutopilots = async () => { state.autopilots = await api.get(`/api/workspaces/${ws}/autopilots`); };
  const loadAgents = async () => {
    state.agents = new Map((await api.get(`/api/workspaces/${ws}/agents?include_archived=true`)).map((a) => [a.id, a]));
  };

  const list = h('div', {});
  put(root, h('div', { class: 'page-head' }, h('h1', {}, 'Autopilots'),
    h('p', { class: 'summary muted' }, 'Recurring tasks: each queues its prompt for its agent on a schedule, skipping a run while the last one is still active.')), list);

  async function setStatus(a, status) {
    try {
      await api.patch(`/api/autopilots/${a.id}`, { status });
      await loadAutopilots();
      draw();
    } catch (e) {
      toast(e.code === 'assignee_missing' ? `${a.name}: its agent no longer exists, so it cannot run again.` : e.message, 'error');
    }
  }

  function row(a) {
    const agent = state.agents.get(a.assignee_agent_id);
    const active = a.status === 'active';
    return h('tr', { 'data-autopilot-id': a.id, 'data-status': a.status },
      h('td', { class: 'name', 'data-label': 'Autopilot' }, h('span', { class: 'strong' }, a.name),
        h('span', { class: 'sub', 'data-tip': a.prompt }, a.prompt.length > 80 ? `${a.prompt.slice(0, 80)}…` : a.prompt)),
      h('td', { 'data-label': 'Agent' }, agent ? [agent.name, agent.archived_at ? [' ', h('span', { class: 'badge' }, 'archived')] : null]
        : h('span', { class: 'badge deleted' }, 'agent deleted')),
      h('td', { 'data-label': 'Schedule' }, interval(a.interval_minutes)),
      h('td', { 'data-label': 'Status' }, h('span', { class: ['pill', a.status] }, a.status)),
      h('td', { 'data-label': 'Next run', 'data-tip': a.next_run_at ? dateTime(a.next_run_at, ctx.zone) : '' },
        a.next_run_at ? nextRun(a.next_run_at) : '—'),
      h('td', { class: 'actions' }, h('button', {
        type: 'button', class: 'small', 'data-action': active ? 'pause' : 'resume',
        onclick: () => setStatus(a, active ? 'paused' : 'active'),
      }, active ? 'Pause' : 'Resume')));
  }

  function draw() {
    if (!state.autopilots.length) {
      put(list, h('div', { class: 'empty' }, 'No autopilots in this workspace.'));
      return;
    }
    const sorted = [...state.autopilots].sort((a, b) => (a.status === 'active' ? 0 : 1) - (b.status === 'active' ? 0 : 1) || a.name.localeCompare(b.name));
    put(list, h('table', { class: 'table cards', 'data-table': 'autopilots' },
      h('thead', {}, h('tr', {}, ['Autopilot', 'Agent', 'Schedule', 'Status', 'Next run', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, sorted.map(row))));
  }

  await Promise.all([loadAutopilots(), loadAgents()]);
  draw();
  root.dataset.ready = 'true';
  const tick = setInterval(draw, 30000);
  const { refresh, cancel } = coalescer({ autopilots: loadAutopilots, agents: loadAgents }, draw);
  return {
    onEvent(ev) {
      if (ev.type.startsWith('autopilot:')) refresh(['autopilots'], 300);
      else if (ev.type.startsWith('agent:')) refresh(['agents', 'autopilots'], 300);
    },
    dispose() { clearInterval(tick); cancel(); },
  };
}

function nextRun(iso) {
  const secs = Math.round((Date.parse(iso) - Date.now()) / 1000);
  if (secs <= 30) return 'due now';
  return `in ${ago(new Date(Date.now() - secs * 1000).toISOString()).replace(' ago', '')}`;
}
