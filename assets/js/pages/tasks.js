// Tasks: newest first with status and agent filters, paging, enqueue, cancel, and a detail
// view with output, error and the task's usage.

import * as api from '../api.js';
import { h, modal, put, segmented, select, toast } from '../dom.js';
import { ago, dateTime, int, money } from '../format.js';
import { coalescer } from '../live.js';

const STATUSES = ['queued', 'dispatched', 'running', 'completed', 'failed', 'cancelled'];
const ACTIVE = new Set(['queued', 'dispatched', 'running']);
const PAGE = 50;

export async function render(ctx, root) {
  ctx.setTitle('Tasks');
  const ws = ctx.ws.id;
  const state = {
    tasks: [], agents: [], runtimes: new Map(), more: false,
    status: STATUSES.includes(ctx.query.get('status')) ? ctx.query.get('status') : '',
    agent: ctx.query.get('agent_id') || '',
  };

  const listPath = (extra) => `/api/workspaces/${ws}/tasks${api.qs({ status: state.status, agent_id: state.agent, ...extra })}`;
  const loadFirst = async () => {
    const limit = Math.min(200, Math.max(PAGE, state.tasks.length));
    const tasks = await api.get(listPath({ limit }));
    state.tasks = tasks;
    state.more = tasks.length === limit;
  };
  const loadMore = async () => {
    const last = state.tasks[state.tasks.length - 1];
    const tasks = await api.get(listPath({ limit: PAGE, before: last ? last.id : undefined }));
    state.tasks.push(...tasks);
    state.more = tasks.length === PAGE;
  };
  const loadRefs = async () => {
    const [agents, runtimes] = await Promise.all([
      api.get(`/api/workspaces/${ws}/agents?include_archived=true`),
      api.get(`/api/workspaces/${ws}/runtimes`),
    ]);
    state.agents = agents;
    state.runtimes = new Map(runtimes.map((r) => [r.id, r]));
  };
  const agentById = (id) => state.agents.find((a) => a.id === id);

  const formHolder = h('div', {});
  const tools = h('div', { class: 'toolbar' });
  const list = h('div', {});
  put(root, h('div', { class: 'page-head' }, h('h1', {}, 'Tasks')), formHolder, tools, list);

  function drawForm() {
    const active = state.agents.filter((a) => !a.archived_at).sort((a, b) => a.name.localeCompare(b.name));
    if (!active.length) {
      put(formHolder, h('p', { class: 'notice info' }, 'Tasks are queued for an agent. ', h('a', { href: '/agents' }, 'Create an agent'), ' first.'));
      return;
    }
    const agent = select(active.map((a) => [a.id, a.name]), state.agent || active[0].id, null, { id: 'task-agent' });
    const prompt = h('textarea', { id: 'new-task-prompt', required: true, maxlength: 100000, placeholder: 'What should the agent do?' });
    put(formHolder, h('form', {
      class: 'panel form-grid', id: 'new-task',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          await api.post(`/api/agents/${agent.value}/tasks`, { prompt: prompt.value });
          prompt.value = '';
          toast('Task queued.');
          await loadFirst();
          draw();
        } catch (err) { toast(err.message, 'error'); }
      },
    }, h('label', {}, 'Agent', agent), h('label', { class: 'wide' }, 'Prompt', prompt),
    h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Queue task'))));
  }

  function drawTools() {
    const agents = [['', 'All agents'], ...state.agents.map((a) => [a.id, a.archived_at ? `${a.name} (archived)` : a.name])];
    put(tools,
      segmented([['', 'All'], ...STATUSES.map((s) => [s, s])], state.status, async (v) => {
        state.status = v; ctx.setQuery({ status: v }); drawTools(); await reload();
      }, 'Status'),
      select(agents, state.agent, async (v) => { state.agent = v; ctx.setQuery({ agent_id: v }); await reload(); }, { 'aria-label': 'Agent' }));
  }

  async function showTask(id) {
    let task;
    try { task = await api.get(`/api/tasks/${id}`); } catch (e) { toast(e.message, 'error'); return; }
    const agent = agentById(task.agent_id);
    modal('Task', (body) => {
      put(body,
        h('p', {}, h('span', { class: ['pill', task.status] }, task.status), ' for ', h('b', {}, agent ? agent.name : 'a deleted agent'),
          task.autopilot_id ? ' (autopilot)' : ''),
        h('pre', { class: 'snippet-text' }, task.prompt),
        h('ul', { class: 'facts' },
          ['created_at', 'dispatched_at', 'started_at', 'completed_at'].filter((k) => task[k])
            .map((k) => h('li', {}, `${k.replace('_at', '')} `, h('b', {}, dateTime(task[k], ctx.zone))))),
        task.error ? h('p', { class: 'notice danger' }, task.error) : null,
        task.output ? [h('h3', {}, 'Output'), h('pre', {}, task.output)] : null,
        task.usage && task.usage.length ? [h('h3', {}, 'Usage'), h('table', { class: 'table' },
          h('thead', {}, h('tr', {}, ['Model', 'In', 'Out', 'Cache read', 'Cost'].map((t, i) => h('th', { class: i ? 'num' : null }, t)))),
          h('tbody', {}, task.usage.map((u) => h('tr', {}, h('td', {}, u.model),
            h('td', { class: 'num' }, int(u.input_tokens)), h('td', { class: 'num' }, int(u.output_tokens)),
            h('td', { class: 'num' }, int(u.cache_read_tokens || 0)),
            h('td', { class: 'num' }, u.cost_usd === undefined ? '—' : money(u.cost_usd, u.unpriced_tokens || 0))))))] : null);
    });
  }

  function row(t) {
    const agent = agentById(t.agent_id);
    const runtime = t.runtime_id ? state.runtimes.get(t.runtime_id) : null;
    return h('tr', { 'data-task-id': t.id, 'data-status': t.status },
      h('td', { class: 'name', 'data-label': 'Task' },
        h('a', { href: '#', onclick: (e) => { e.preventDefault(); showTask(t.id); } }, t.prompt.length > 90 ? `${t.prompt.slice(0, 90)}…` : t.prompt),
        t.error ? h('span', { class: 'sub' }, t.error) : null),
      h('td', { 'data-label': 'Agent' }, agent ? agent.name : 'deleted agent'),
      h('td', { 'data-label': 'Runtime' }, runtime ? h('a', { href: `/runtimes/${runtime.id}` }, runtime.name) : h('span', { class: 'muted' }, t.runtime_id ? 'unknown' : 'deleted')),
      h('td', { 'data-label': 'Status' }, h('span', { class: ['pill', t.status] }, t.status)),
      h('td', { 'data-label': 'Created', 'data-tip': dateTime(t.created_at, ctx.zone) }, ago(t.created_at)),
      h('td', { class: 'actions' }, ACTIVE.has(t.status) ? h('button', {
        type: 'button', class: 'small danger', 'data-action': 'cancel',
        onclick: async () => {
          try {
            await api.post(`/api/tasks/${t.id}/cancel`);
            await loadFirst();
            draw();
          } catch (e) { toast(e.message, 'error'); }
        },
      }, 'Cancel') : null));
  }

  function draw() {
    if (!state.tasks.length) {
      put(list, h('div', { class: 'empty' }, state.status || state.agent ? 'No tasks match these filters.' : 'No tasks yet.'));
      return;
    }
    put(list, h('table', { class: 'table cards', 'data-table': 'tasks' },
      h('thead', {}, h('tr', {}, ['Task', 'Agent', 'Runtime', 'Status', 'Created', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, state.tasks.map(row))),
    state.more ? h('p', { class: 'more' }, h('button', {
      type: 'button', onclick: async () => { try { await loadMore(); draw(); } catch (e) { toast(e.message, 'error'); } },
    }, 'Load more')) : null);
  }

  async function reload() {
    state.tasks = [];
    try { await loadFirst(); draw(); } catch (e) { put(list, ctx.errorPanel(e, reload)); }
  }

  await Promise.all([loadRefs(), loadFirst()]);
  drawForm();
  drawTools();
  draw();
  root.dataset.ready = 'true';
  const { refresh, cancel } = coalescer({ first: loadFirst, refs: loadRefs }, draw);
  return {
    onEvent(ev) {
      if (ev.type.startsWith('task:')) refresh(['first'], 500);
      else if (ev.type.startsWith('agent:') || ev.type === 'daemon:register') refresh(['refs'], 500);
    },
    dispose: cancel,
  };
}
