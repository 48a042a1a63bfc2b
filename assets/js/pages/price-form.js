// Adding a workspace price (admins): model, the four prices in USD per million tokens and the
// UTC instant it applies from (on the 15-minute grid; back-dating re-prices history). Saving
// needs a preview of exactly these values first: the cost per UTC month before and after,
// which the saved change then moves the reports by.

import * as api from '../api.js';
import { cardify, h, put } from '../dom.js';
import { dateTime, int, usd } from '../format.js';
import { addDays } from '../zones.js';

const PRICE_FIELDS = [['input', 'Input'], ['output', 'Output'], ['cache_read', 'Cache read'], ['cache_write', 'Cache write']];

/** "YYYY-MM-DDTHH:MM" (UTC) of a date at midnight. */
const midnight = (date) => `${date}T00:00`;

/**
 * The form. opts: {ws, models (the table in force, for suggestions and prefill), model and
 * from (a local date) to start with, onSaved()}.
 */
export function priceForm({ ws, models, model = '', from = '', onSaved }) {
  const fields = {
    model: h('input', { type: 'text', id: 'price-model', list: 'price-models', required: true, maxlength: 200, value: model, placeholder: 'e.g. qwen3-coder-30b or ollama/qwen3-coder-30b' }),
  };
  for (const [key] of PRICE_FIELDS) {
    fields[key] = h('input', { type: 'number', id: `price-${key.replace('_', '-')}`, min: '0', step: '0.0001', inputmode: 'decimal', required: true });
  }
  // A local date may start up to 14 hours before its UTC date: begin the day before.
  const start = from ? addDays(from, -1) : new Date().toISOString().slice(0, 10);
  fields.valid_from = h('input', { type: 'datetime-local', id: 'price-valid-from', step: '900', required: true, value: midnight(start) });
  const suggestions = h('datalist', { id: 'price-models' }, models.map((m) => h('option', { value: m.model })));
  const error = h('p', { class: 'form-error wide', id: 'price-error', role: 'alert', hidden: true });
  const preview = h('div', { class: 'wide', id: 'price-preview-result' });
  const previewButton = h('button', { type: 'button', id: 'price-preview', onclick: () => run(false) }, 'Preview');
  const save = h('button', { type: 'submit', class: 'primary', id: 'price-save', disabled: true, 'data-tip': 'Preview first' }, 'Save price');
  let previewed = null;

  const body = () => {
    const out = { model: fields.model.value.trim(), valid_from: fields.valid_from.value ? `${fields.valid_from.value.slice(0, 16)}:00Z` : '' };
    for (const [key] of PRICE_FIELDS) out[key] = fields[key].value === '' ? null : Number(fields[key].value);
    return out;
  };
  const invalidate = () => {
    if (previewed === null) return;
    previewed = null;
    save.disabled = true;
    preview.classList.add('stale');
  };
  function prefill() {
    const entry = models.find((m) => m.model === fields.model.value.trim());
    if (!entry || PRICE_FIELDS.some(([key]) => fields[key].value !== '')) return;
    for (const [key] of PRICE_FIELDS) fields[key].value = entry[key];
  }
  fields.model.addEventListener('change', prefill);
  for (const el of Object.values(fields)) el.addEventListener('input', invalidate);

  function showError(e) {
    for (const el of Object.values(fields)) el.removeAttribute('aria-invalid');
    const field = /^(\w+): /.exec(e.message || '');
    if (field && fields[field[1]]) fields[field[1]].setAttribute('aria-invalid', 'true');
    error.textContent = `${e.message}${e.code ? ` (${e.code})` : ''}`;
    error.dataset.code = e.code || '';
    error.hidden = false;
  }

  async function run(saving) {
    error.hidden = true;
    const sent = body();
    const key = JSON.stringify(sent);
    try {
      if (!saving) {
        const answer = await api.post(`/api/workspaces/${ws}/prices/preview`, sent);
        previewed = key;
        save.disabled = false;
        put(preview, previewView(answer));
        return;
      }
      if (previewed !== key) return;
      await api.post(`/api/workspaces/${ws}/prices`, sent);
      onSaved(sent);
    } catch (e) {
      if (e.status !== 401) showError(e);
    }
  }

  return h('form', {
    class: 'form-grid price-form', id: 'price-form', novalidate: true,
    onsubmit: (e) => { e.preventDefault(); run(true); },
  },
  error,
  h('label', { class: 'wide' }, 'Model', fields.model, suggestions),
  PRICE_FIELDS.map(([key, label]) => h('label', {}, `${label} ($ / M tokens)`, fields[key])),
  h('label', {}, 'Valid from (UTC)', fields.valid_from),
  h('div', { class: 'buttons wide' }, previewButton, save),
  preview);
}

function previewView(p) {
  const months = p.months;
  const unpricedGone = months.reduce((n, m) => n + m.old_unpriced_tokens - m.new_unpriced_tokens, 0);
  const signed = (v) => `${v > 0 ? '+' : ''}${usd(v)}`;
  return h('div', { class: 'preview', 'data-delta': p.delta_usd },
    h('p', {}, h('b', {}, `${signed(p.delta_usd)} in total`), ` for ${p.model} from ${dateTime(p.valid_from, 'UTC')} UTC (months in ${p.months_zone})`,
      unpricedGone > 0 ? `; ${int(unpricedGone)} unpriced tokens become priced` : '', '.'),
    months.length ? h('div', { class: 'table-scroll' }, cardify(h('table', { class: 'table', 'data-table': 'price-preview' },
      h('thead', {}, h('tr', {}, ['Month', 'Now', 'With this price', 'Change'].map((t, i) => h('th', { class: i ? 'num' : null }, t)))),
      h('tbody', {}, months.map((m) => h('tr', { 'data-month': m.month, 'data-delta': m.delta_usd },
        h('td', {}, m.month), h('td', { class: 'num' }, usd(m.old_cost_usd)), h('td', { class: 'num' }, usd(m.new_cost_usd)),
        h('td', { class: 'num' }, signed(m.delta_usd)))))))) : h('p', { class: 'muted' }, 'No usage from then on: nothing changes.'));
}
