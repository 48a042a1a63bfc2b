// Retiring a runtime: the strict DELETE first; when it answers 409 runtime_has_active_agents
// the dialog becomes the cascade plan (agents, their active tasks, autopilots, squads) behind a
// required confirmation, posted with the exact agent ids shown. A plan that changed meanwhile
// (409 runtime_delete_plan_changed) is re-rendered with the checkbox cleared; squads that
// block the delete are named.

import * as api from '../api.js';
import { h, modal, put } from '../dom.js';
import { ago } from '../format.js';

const ACTIVE = ['queued', 'dispatched', 'running'];

/** Opens the dialog for `runtime`; `onDeleted(result)` after a successful delete. */
export function openDeleteDialog(ctx, runtime, { onDeleted }) {
  const ws = ctx.ws.id;
  let busy = false;

  modal(`Delete runtime “${runtime.name}”`, (body, close) => {
    const onlineWarning = runtime.status === 'online'
      ? h('p', { class: 'notice', 'data-warning': 'online' }, `${runtime.name} is online: its daemon will register it again as a new runtime unless you stop it or revoke its token first.`)
      : null;

    const finish = (result) => { close(); onDeleted(result); };

    const failure = (e) => {
      if (e.code === 'runtime_has_active_squads') return squadsBlock(e.body.active_squads || []);
      return h('p', { class: 'notice danger', role: 'alert' }, `${e.message}${e.code ? ` (${e.code})` : ''}`);
    };

    function squadsBlock(squads) {
      return h('div', { class: 'notice danger', role: 'alert', 'data-blocked': 'squads' },
        h('p', {}, 'Squads led by this runtime\'s agents must be archived or given another leader first:'),
        h('ul', {}, squads.map((s) => h('li', { 'data-squad-id': s.id }, h('b', {}, s.name)))));
    }

    function strictStep(message) {
      const button = h('button', { type: 'button', class: 'danger solid', id: 'confirm-delete' }, 'Delete runtime');
      const status = h('div', { 'aria-live': 'polite' }, message || null);
      button.addEventListener('click', async () => {
        if (busy) return;
        busy = true;
        button.disabled = true;
        try {
          finish(await api.del(`/api/runtimes/${runtime.id}`));
        } catch (e) {
          if (e.code === 'runtime_has_active_agents') await planStep(e.body.active_agents || [], null);
          else { put(status, failure(e)); button.disabled = false; }
        } finally {
          busy = false;
        }
      });
      put(body, onlineWarning,
        h('p', {}, 'The runtime is removed from the registry. Its usage history stays in the workspace reports; tasks of surviving agents keep their history.'),
        status,
        h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: close }, 'Cancel'), button));
    }

    async function planStep(agents, changedNote) {
      put(body, h('p', { class: 'muted' }, 'Working out what the delete would touch…'));
      let plan;
      try {
        plan = await loadPlan(ws, runtime.id, agents);
      } catch (e) {
        put(body, failure(e), h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: close }, 'Close')));
        return;
      }
      const checkbox = h('input', { type: 'checkbox', id: 'cascade-confirm' });
      const button = h('button', { type: 'button', class: 'danger solid', id: 'confirm-cascade', disabled: true },
        `Archive ${agents.length} agent${agents.length === 1 ? '' : 's'} and delete`);
      const status = h('div', { 'aria-live': 'polite' });
      checkbox.addEventListener('change', () => { button.disabled = !checkbox.checked || plan.blockers.length > 0; });
      button.addEventListener('click', async () => {
        if (busy || !checkbox.checked) return;
        busy = true;
        button.disabled = true;
        try {
          finish(await api.post(`/api/runtimes/${runtime.id}/archive-agents-and-delete`, {
            expected_active_agent_ids: agents.map((a) => a.id),
          }));
        } catch (e) {
          if (e.code === 'runtime_delete_plan_changed') {
            await planStep(e.body.active_agents || [], describeChange(agents, e.body.active_agents || []));
          } else if (e.code === 'runtime_has_active_agents') {
            await planStep(e.body.active_agents || [], 'The runtime\'s agents changed.');
          } else {
            put(status, failure(e));
            button.disabled = !checkbox.checked;
          }
        } finally {
          busy = false;
        }
      });
      if (!agents.length) {
        strictStep(changedNote ? h('p', { class: 'notice info', 'data-plan-changed': 'true' }, `${changedNote} It has no active agents now.`) : null);
        return;
      }
      put(body,
        changedNote ? h('p', { class: 'notice', role: 'alert', 'data-plan-changed': 'true' }, `The plan changed while this dialog was open: ${changedNote} Review it and confirm again.`) : null,
        onlineWarning,
        h('p', {}, `${runtime.name} still has ${agents.length} active agent${agents.length === 1 ? '' : 's'}. Deleting it will, in one step:`),
        h('h3', {}, 'Archive these agents'),
        h('ul', { class: 'plan-agents' }, agents.map((a) => h('li', { 'data-agent-id': a.id },
          h('b', {}, a.name), a.description ? ` — ${a.description}` : '', h('span', { class: 'sub' }, `created ${ago(a.created_at)}`)))),
        h('h3', {}, 'Cancel their active tasks'),
        h('p', { 'data-plan': 'tasks' }, plan.tasks.length
          ? `${plan.tasks.length} queued or running task${plan.tasks.length === 1 ? '' : 's'} will be cancelled (${countBy(plan.tasks, 'status')}).`
          : 'No active tasks.'),
        h('h3', {}, 'Pause their autopilots'),
        plan.autopilots.length
          ? h('ul', { 'data-plan': 'autopilots' }, plan.autopilots.map((a) => h('li', {}, a.name)))
          : h('p', { 'data-plan': 'autopilots' }, 'No active autopilots.'),
        plan.archivedSquads.length ? h('p', {}, `Archived squads led by them are deleted: ${plan.archivedSquads.map((s) => s.name).join(', ')}.`) : null,
        plan.blockers.length ? squadsBlock(plan.blockers) : null,
        h('p', { class: 'muted' }, 'Usage history is kept: workspace reports do not change.'),
        h('label', { class: 'confirm', for: 'cascade-confirm' }, checkbox,
          h('span', {}, `I understand: archive these ${agents.length} agents, cancel their tasks and delete ${runtime.name}.`)),
        status,
        h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: close }, 'Cancel'), button));
    }

    strictStep();
  });
}

/** What else the cascade touches, read from the public API. */
async function loadPlan(ws, runtimeId, agents) {
  const ids = new Set(agents.map((a) => a.id));
  const [runtimeAgents, autopilots, squads, ...taskLists] = await Promise.all([
    api.get(`/api/workspaces/${ws}/agents${api.qs({ runtime_id: runtimeId, include_archived: true })}`),
    api.get(`/api/workspaces/${ws}/autopilots`),
    api.get(`/api/workspaces/${ws}/squads`),
    ...ACTIVE.map((status) => api.get(`/api/workspaces/${ws}/tasks${api.qs({ status, limit: 200 })}`)),
  ]);
  const onRuntime = new Set([...ids, ...runtimeAgents.map((a) => a.id)]);
  const tasks = taskLists.flat().filter((t) => t.runtime_id === runtimeId || ids.has(t.agent_id));
  const leaders = squads.filter((s) => onRuntime.has(s.leader_agent_id));
  return {
    tasks,
    autopilots: autopilots.filter((a) => a.status === 'active' && onRuntime.has(a.assignee_agent_id)),
    blockers: leaders.filter((s) => !s.archived_at),
    archivedSquads: leaders.filter((s) => s.archived_at),
  };
}

function describeChange(before, after) {
  const had = new Set(before.map((a) => a.id));
  const has = new Set(after.map((a) => a.id));
  const added = after.filter((a) => !had.has(a.id)).map((a) => a.name);
  const removed = before.filter((a) => !has.has(a.id)).map((a) => a.name);
  return [added.length ? `added ${added.join(', ')}.` : '', removed.length ? `no longer active: ${removed.join(', ')}.` : '']
    .filter(Boolean).join(' ') || 'the set of agents changed.';
}

function countBy(items, key) {
  const counts = new Map();
  for (const i of items) counts.set(i[key], (counts.get(i[key]) || 0) + 1);
  return [...counts.entries()].map(([k, n]) => `${n} ${k}`).join(', ');
}
