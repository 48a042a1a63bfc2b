// Reconciling a provider's bill on the usage dashboard: the CSV goes as it is to
// POST …/usage/reconcile with the bill's zone and a tolerance; the answer's flagged rows,
// the days and models found on one side only, and the bill's duplicate rows are shown.
// A malformed file is answered with its line and column, shown next to the form.

import * as api from '../api.js';
import { cardify, h, put } from '../dom.js';
import { int, usd } from '../format.js';
import { zoneSelect } from '../zones.js';

const MAX_BYTES = 5 * 1024 * 1024;

/** The upload panel; it keeps its answer while the rest of the dashboard redraws. */
export function reconcilePanel(ctx) {
  const file = h('input', { type: 'file', id: 'reconcile-file', accept: '.csv,text/csv', required: true });
  const zone = zoneSelect(ctx.zone, null, { id: 'reconcile-zone' });
  const tolerance = h('input', { type: 'number', id: 'reconcile-tolerance', min: '0', step: '0.1', value: '1' });
  const error = h('p', { class: 'form-error', id: 'reconcile-error', role: 'alert', hidden: true });
  const result = h('div', { id: 'reconcile-result' });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Compare');

  function fail(message, extra = {}) {
    error.textContent = message;
    error.dataset.line = extra.line ?? '';
    error.dataset.column = extra.column ?? '';
    error.hidden = false;
    put(result);
  }

  async function compare(e) {
    e.preventDefault();
    error.hidden = true;
    const chosen = file.files[0];
    if (!chosen) return fail('Choose the bill\'s CSV file first.');
    if (chosen.size > MAX_BYTES) return fail('The bill is larger than 5 MiB.');
    submit.disabled = true;
    try {
      const path = `/api/workspaces/${ctx.ws.id}/usage/reconcile${api.qs({ tz: zone.value, tolerance_pct: tolerance.value })}`;
      const answer = await api.request('POST', path, await chosen.text(), { contentType: 'text/csv' });
      put(result, answerView(answer));
    } catch (err) {
      if (err.status === 401) return undefined;
      const where = err.code === 'invalid_csv' && err.body.line ? { line: err.body.line, column: err.body.column } : {};
      fail(`${err.message}${err.code ? ` (${err.code})` : ''}`, where);
    } finally {
      submit.disabled = false;
    }
    return undefined;
  }

  return h('section', { class: 'panel', 'data-panel': 'reconcile' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Reconcile with a provider bill')),
    h('p', { class: 'muted' }, 'A CSV with the columns date and model, and cost_usd or the four token columns (input_tokens, output_tokens, cache_read_tokens, cache_write_tokens). Dates are local dates in the bill\'s zone.'),
    h('form', { class: 'form-grid', id: 'reconcile-form', onsubmit: compare },
      h('label', {}, 'Bill (CSV)', file), h('label', {}, 'Bill\'s time zone', zone),
      h('label', {}, 'Tolerance (%)', tolerance), h('div', {}, submit)),
    error, result);
}

const figure = (f) => {
  if (!f) return h('span', { class: 'muted' }, 'missing');
  return f.cost_usd !== null ? usd(f.cost_usd) : `${int(f.tokens)} tokens`;
};

function difference(row) {
  if (row.cost_diff_usd !== null) return `${row.cost_diff_usd > 0 ? '+' : ''}${usd(row.cost_diff_usd)}`;
  if (row.token_diff !== null) return `${row.token_diff > 0 ? '+' : ''}${int(row.token_diff)} tokens`;
  return '—';
}

function answerView(a) {
  const flagged = a.rows.filter((r) => r.flagged);
  const summary = flagged.length
    ? `${flagged.length} of ${a.rows.length} rows differ by more than ${a.tolerance_pct} % or are on one side only (dates in ${a.timezone}).`
    : `The bill and the ledger agree on all ${a.rows.length} rows within ${a.tolerance_pct} % (dates in ${a.timezone}).`;
  const list = (key, label) => (a[key].length
    ? h('p', { 'data-list': key }, h('b', {}, `${label}: `), a[key].join(', ')) : null);
  return h('div', { class: 'stack reconcile-answer', 'data-flagged': flagged.length },
    h('p', { class: flagged.length ? 'notice' : 'notice info', 'data-summary': '' }, summary),
    flagged.length ? h('div', { class: 'table-scroll' }, cardify(h('table', { class: 'table', 'data-table': 'reconcile-flagged' },
      h('thead', {}, h('tr', {}, ['Date', 'Model', 'Bill', 'Ledger', 'Ledger − bill'].map((t, i) => h('th', { class: i > 1 ? 'num' : null }, t)))),
      h('tbody', {}, flagged.map((r) => h('tr', { 'data-date': r.date, 'data-model': r.model },
        h('td', {}, r.date), h('td', {}, r.model),
        h('td', { class: 'num' }, figure(r.bill)), h('td', { class: 'num' }, figure(r.ledger)),
        h('td', { class: 'num', 'data-diff': r.cost_diff_usd ?? r.token_diff ?? '' }, difference(r)))))))) : null,
    list('dates_only_in_bill', 'Days only in the bill'),
    list('dates_only_in_ledger', 'Days only in the ledger'),
    list('models_only_in_bill', 'Models only in the bill'),
    list('models_only_in_ledger', 'Models only in the ledger'),
    a.duplicates.length ? h('p', { 'data-list': 'duplicates' }, h('b', {}, 'Rows repeated in the bill (summed): '),
      a.duplicates.map((d) => `${d.date} ${d.model} (lines ${d.lines.join(', ')})`).join('; ')) : null);
}
