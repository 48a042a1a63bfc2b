// The budget form (admins), in a dialog: create, or edit an existing budget. Scope is picked
// from the workspace's runtimes or agents; the zone defaults to the user's. The API checks
// every field; its refusal ("amount_usd: must be …") is shown in the form with the field
// marked, and nothing is saved.

import * as api from '../api.js';
import { h, modal, put, select } from '../dom.js';
import { zoneSelect } from '../zones.js';

const FIELD_LABELS = {
  name: 'Name', 'scope.type': 'Scope', 'scope.id': 'Scope', amount_usd: 'Amount',
  period: 'Period', timezone: 'Time zone', thresholds: 'Thresholds', action: 'At 100 %',
};

/**
 * Opens the form. opts: {budget (to edit) | null, runtimes, agents, onSaved(budget)}.
 */
export function openBudgetForm(ctx, { budget = null, runtimes, agents, onSaved }) {
  modal(budget ? `Edit ${budget.name || 'budget'}` : 'New budget', (body, close) => {
    put(body, budgetForm(ctx, { budget, runtimes, agents, onSaved: (b) => { close(); onSaved(b); }, onCancel: close }));
  });
}

function budgetForm(ctx, { budget, runtimes, agents, onSaved, onCancel }) {
  const b = budget || { name: '', scope: { type: 'workspace', id: null }, amount_usd: '', period: 'month', timezone: ctx.zone, thresholds: [50, 80, 100], action: 'alert' };
  const fields = {};
  fields.name = h('input', { type: 'text', id: 'budget-name', maxlength: 200, value: b.name || '', placeholder: 'e.g. Team monthly' });
  fields['scope.type'] = select([['workspace', 'Whole workspace'], ['runtime', 'A runtime'], ['agent', 'An agent']], b.scope.type,
    () => drawScopeIds(), { id: 'budget-scope-type' });
  fields['scope.id'] = h('select', { id: 'budget-scope-id', 'aria-label': 'Runtime or agent' });
  fields.amount_usd = h('input', { type: 'number', id: 'budget-amount', min: '0', step: '0.01', inputmode: 'decimal', value: b.amount_usd, placeholder: '500' });
  fields.period = select([['day', 'Day'], ['week', 'Week (from Monday)'], ['month', 'Calendar month']], b.period, null, { id: 'budget-period' });
  fields.timezone = zoneSelect(b.timezone, null, { id: 'budget-zone' });
  fields.thresholds = h('input', { type: 'text', id: 'budget-thresholds', value: b.thresholds.join(', '), placeholder: '50, 80, 100' });
  fields.action = select([['alert', 'Alert only'], ['pause_dispatch', 'Pause dispatch']], b.action, null, { id: 'budget-action' });
  const scopeLabel = h('label', { class: 'scope-id' }, 'Which', fields['scope.id']);
  const error = h('p', { class: 'form-error', id: 'budget-error', role: 'alert', hidden: true });

  function drawScopeIds() {
    const type = fields['scope.type'].value;
    scopeLabel.hidden = type === 'workspace';
    if (type === 'workspace') return;
    const keep = b.scope.type === type ? b.scope.id : null;
    const options = type === 'runtime'
      ? runtimes.map((r) => [r.id, r.name])
      : agents.filter((a) => !a.archived_at || a.id === keep).map((a) => [a.id, a.archived_at ? `${a.name} (archived)` : a.name]);
    options.sort((x, y) => x[1].localeCompare(y[1]));
    put(fields['scope.id'], options.map(([value, label]) => h('option', { value, selected: value === keep }, label)));
  }

  function showError(e) {
    const field = /^([\w.]+): /.exec(e.message || '');
    const el = field && fields[field[1]];
    for (const f of Object.values(fields)) f.removeAttribute('aria-invalid');
    error.textContent = field && FIELD_LABELS[field[1]] ? `${FIELD_LABELS[field[1]]}: ${e.message.slice(field[0].length)}` : e.message;
    error.dataset.field = field ? field[1] : '';
    error.dataset.code = e.code || '';
    error.hidden = false;
    if (el) {
      el.setAttribute('aria-invalid', 'true');
      el.focus();
    }
  }

  function body() {
    const type = fields['scope.type'].value;
    const words = fields.thresholds.value.split(/[\s,;%]+/).filter(Boolean);
    const thresholds = words.map(Number);
    const bad = words.find((w, i) => !Number.isFinite(thresholds[i]));
    if (bad !== undefined) throw Object.assign(new Error(`thresholds: "${bad}" is not a number`), { code: 'invalid_field' });
    const name = fields.name.value.trim();
    return {
      name: name || (budget ? null : undefined),
      scope: { type, id: type === 'workspace' ? null : fields['scope.id'].value || null },
      amount_usd: fields.amount_usd.value === '' ? 0 : Number(fields.amount_usd.value),
      period: fields.period.value,
      timezone: fields.timezone.value,
      thresholds,
      action: fields.action.value,
    };
  }

  const save = h('button', { type: 'submit', class: 'primary', id: 'budget-save' }, budget ? 'Save' : 'Create budget');
  const form = h('form', {
    class: 'form-grid budget-form', id: 'budget-form', novalidate: true,
    onsubmit: async (e) => {
      e.preventDefault();
      save.disabled = true;
      try {
        const sent = body();
        const saved = budget ? await api.patch(`/api/budgets/${budget.id}`, sent) : await api.post(`/api/workspaces/${ctx.ws.id}/budgets`, sent);
        onSaved(saved);
      } catch (err) {
        if (err.status === 401) return;
        showError(err);
      } finally {
        save.disabled = false;
      }
    },
  },
  error,
  h('label', {}, 'Name', fields.name),
  h('label', {}, 'Scope', fields['scope.type']), scopeLabel,
  h('label', {}, 'Amount (USD)', fields.amount_usd),
  h('label', {}, 'Period', fields.period),
  h('label', {}, 'Time zone', fields.timezone),
  h('label', {}, 'Thresholds (%)', fields.thresholds),
  h('label', {}, 'At 100 %', fields.action),
  h('p', { class: 'muted wide' }, 'Each threshold is announced once per period. "Pause dispatch" keeps new tasks in scope queued, and autopilots in scope idle, while the period\'s spend is at or over the amount.'),
  h('div', { class: 'buttons wide' }, h('button', { type: 'button', onclick: onCancel }, 'Cancel'), save));
  error.classList.add('wide');
  drawScopeIds();
  return form;
}
