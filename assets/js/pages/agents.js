// Agents: list (archived ones on request), create on a runtime the user may use (the picker
// offers only those), move to another usable runtime, archive, restore, and enqueue a task;
// badges show the budgets on an agent and whether one holds its dispatch.

import * as api from '../api.js';
import { budgetBadges, scopeInfo } from '../budgets.js';
import { confirmDialog, h, modal, put, segmented, select, toast } from '../dom.js';
import { ago } from '../format.js';
import { coalescer } from '../live.js';

export async function render(ctx, root) {
  ctx.setTitle('Agents');
  const ws = ctx.ws.id;
  const state = { agents: [], runtimes: [], members: new Map(), budgets: null, show: ctx.query.get('show') === 'all' ? 'all' : 'active', q: '' };

  const loadAgents = async () => { state.agents = await api.get(`/api/workspaces/${ws}/agents?include_archived=true`); };
  const loadRuntimes = async () => { state.runtimes = await api.get(`/api/workspaces/${ws}/runtimes`); };
  const loadBudgets = async () => { state.budgets = await scopeInfo(ws); };
  const loadMembers = async () => {
    state.members = new Map((await api.get(`/api/workspaces/${ws}/members`)).map((m) => [m.user_id, m]));
  };

  const usable = (r) => ctx.isAdmin || r.visibility === 'public' || r.owner_id === ctx.me.id;
  const mayManage = (a) => ctx.isAdmin || a.owner_id === ctx.me.id;
  const runtimeOptions = (exceptId) => state.runtimes.filter((r) => usable(r) && r.id !== exceptId)
    .sort((a, b) => (a.status === 'online' ? 0 : 1) - (b.status === 'online' ? 0 : 1) || a.name.localeCompare(b.name))
    .map((r) => [r.id, `${r.name} · ${r.status}${r.visibility === 'public' ? ' · public' : ''}`]);
  const person = (uid) => (uid === ctx.me.id ? 'you' : (state.members.get(uid) || {}).name || 'former member');

  const formHolder = h('div', {});
  const tools = h('div', { class: 'toolbar' });
  const list = h('div', {});
  put(root, h('div', { class: 'page-head' }, h('h1', {}, 'Agents')), formHolder, tools, list);

  function drawForm() {
    const options = runtimeOptions(null);
    if (!options.length) {
      put(formHolder, h('p', { class: 'notice info' }, 'No runtime you may use yet: connect a machine, or ask an admin to make a runtime public. ',
        h('a', { href: '/connect' }, 'Connect a machine')));
      return;
    }
    const name = h('input', { type: 'text', id: 'agent-name', required: true, maxlength: 200, placeholder: 'e.g. reviewer' });
    const runtime = select(options, options[0][0], null, { id: 'agent-runtime' });
    const description = h('input', { type: 'text', id: 'agent-description', maxlength: 2000, placeholder: 'optional' });
    const form = h('form', {
      class: 'panel form-grid', id: 'new-agent',
      onsubmit: async (e) => {
        e.preventDefault();
        try {
          const agent = await api.post(`/api/workspaces/${ws}/agents`, {
            name: name.value.trim(), runtime_id: runtime.value, description: description.value.trim() || undefined,
          });
          toast(`Created ${agent.name}.`);
          name.value = '';
          description.value = '';
          await loadAgents();
          draw();
        } catch (err) { toast(err.message, 'error'); }
      },
    },
    h('label', {}, 'New agent', name), h('label', {}, 'Runtime', runtime), h('label', {}, 'Description', description),
    h('button', { type: 'submit', class: 'primary' }, 'Create agent'));
    put(formHolder, form);
  }

  function drawTools() {
    const search = h('input', {
      type: 'search', placeholder: 'Search agents…', 'aria-label': 'Search agents', value: state.q,
      oninput: () => { state.q = search.value; draw(); },
    });
    put(tools, segmented([['active', 'Active'], ['all', 'Including archived']], state.show, (v) => {
      state.show = v; ctx.setQuery({ show: v === 'all' ? 'all' : null }); drawTools(); draw();
    }, 'Which agents'), search);
  }

  async function act(label, fn) {
    try {
      await fn();
      await loadAgents();
      draw();
    } catch (e) { toast(`${label}: ${e.message}`, 'error'); }
  }

  function moveDialog(agent) {
    const options = runtimeOptions(agent.runtime_id);
    modal(`Move ${agent.name}`, (body, close) => {
      if (!options.length) {
        put(body, h('p', {}, 'There is no other runtime you may use.'));
        return;
      }
      const target = select(options, options[0][0], null, { id: 'move-runtime' });
      put(body, h('p', {}, 'Queued tasks move with the agent; tasks already dispatched or running finish where they are.'),
        h('label', { for: 'move-runtime' }, 'New runtime'), ' ', target,
        h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: close }, 'Cancel'),
          h('button', {
            type: 'button', class: 'primary', id: 'confirm-move',
            onclick: () => { close(); act('Move', () => api.patch(`/api/agents/${agent.id}`, { runtime_id: target.value })); },
          }, 'Move')));
    });
  }

  function taskDialog(agent) {
    modal(`New task for ${agent.name}`, (body, close) => {
      const prompt = h('textarea', { id: 'task-prompt', required: true, maxlength: 100000, placeholder: 'What should the agent do?' });
      put(body, h('form', {
        onsubmit: async (e) => {
          e.preventDefault();
          try {
            await api.post(`/api/agents/${agent.id}/tasks`, { prompt: prompt.value });
            close();
            toast('Task queued.');
          } catch (err) { toast(err.message, 'error'); }
        },
      }, h('label', { for: 'task-prompt' }, 'Prompt'), prompt,
      h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: close }, 'Cancel'),
        h('button', { type: 'submit', class: 'primary' }, 'Queue task'))));
    });
  }

  function row(a) {
    const runtime = state.runtimes.find((r) => r.id === a.runtime_id);
    const archived = Boolean(a.archived_at);
    const manage = mayManage(a);
    return h('tr', { 'data-agent-id': a.id, 'data-archived': String(archived), class: archived ? 'archived' : null },
      h('td', { class: 'name', 'data-label': 'Agent' }, h('span', { class: 'strong' }, a.name),
        archived ? null : budgetBadges(state.budgets, { runtimeId: a.runtime_id, agentId: a.id }), a.description ? h('span', { class: 'sub' }, a.description) : null),
      h('td', { 'data-label': 'Runtime' }, runtime
        ? h('span', {}, h('a', { href: `/runtimes/${runtime.id}` }, runtime.name), ' ', h('span', { class: ['pill', runtime.status] }, runtime.status))
        : h('span', { class: 'muted' }, 'unknown')),
      h('td', { 'data-label': 'Owner' }, person(a.owner_id)),
      h('td', { 'data-label': 'Status' }, archived
        ? h('span', { class: 'pill', 'data-tip': `archived by ${person(a.archived_by)}` }, `archived ${ago(a.archived_at)}`)
        : h('span', { class: 'pill active' }, 'active')),
      h('td', { 'data-label': 'Created' }, ago(a.created_at)),
      h('td', { class: 'actions' },
        !archived ? h('button', { type: 'button', class: 'small', 'data-action': 'task', onclick: () => taskDialog(a) }, 'New task') : null,
        manage && !archived ? h('button', { type: 'button', class: 'small', 'data-action': 'move', onclick: () => moveDialog(a) }, 'Move…') : null,
        manage && !archived ? h('button', {
          type: 'button', class: 'small danger', 'data-action': 'archive',
          onclick: async () => {
            if (!await confirmDialog(`Archive ${a.name}`, 'Archiving cancels its queued and running tasks and pauses its autopilots. You can restore it later.', 'Archive', { danger: true })) return;
            act('Archive', () => api.post(`/api/agents/${a.id}/archive`));
          },
        }, 'Archive') : null,
        manage && archived ? h('button', {
          type: 'button', class: 'small', 'data-action': 'restore',
          onclick: () => act('Restore', () => api.post(`/api/agents/${a.id}/restore`)),
        }, 'Restore') : null));
  }

  function draw() {
    const q = state.q.trim().toLowerCase();
    const shown = state.agents
      .filter((a) => state.show === 'all' || !a.archived_at)
      .filter((a) => !q || `${a.name} ${a.description || ''}`.toLowerCase().includes(q))
      .sort((a, b) => Boolean(a.archived_at) - Boolean(b.archived_at) || a.name.localeCompare(b.name));
    if (!shown.length) {
      put(list, h('div', { class: 'empty' }, state.agents.length ? 'No agents match.' : 'No agents yet. Create one above.'));
      return;
    }
    put(list, h('table', { class: 'table cards', 'data-table': 'agents' },
      h('thead', {}, h('tr', {}, ['Agent', 'Runtime', 'Owner', 'Status', 'Created', ''].map((t) => h('th', {}, t)))),
      h('tbody', {}, shown.map(row))));
  }

  await Promise.all([loadAgents(), loadRuntimes(), loadMembers(), loadBudgets()]);
  drawForm();
  drawTools();
  draw();
  root.dataset.ready = 'true';
  const { refresh, cancel } = coalescer({ agents: loadAgents, runtimes: loadRuntimes, budgets: loadBudgets }, () => {
    // Keep the runtime picker current, unless the user is filling the form in.
    if (!formHolder.contains(document.activeElement)) drawForm();
    draw();
  });
  return {
    onEvent(ev) {
      if (ev.type.startsWith('agent:')) refresh(['agents'], 300);
      else if (ev.type.startsWith('budget:') || ev.type.startsWith('price:')) refresh(['budgets'], 300);
      else if (ev.type === 'usage:reported') refresh(['budgets'], 3000);
      else if (ev.type === 'daemon:register' || ev.type === 'runtime:status') {
        refresh(['runtimes', 'agents'], 500);
      }
    },
    dispose: cancel,
  };
}
