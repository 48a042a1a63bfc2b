// Two parts of the usage dashboard that look beyond the chosen range: this calendar month's
// spend with its projected end (GET …/usage/projection), and the notice naming models whose
// tokens have no price (GET …/usage/unpriced), each with a link to add one.

import { h } from '../dom.js';
import { compact, dayLabel, int, usd } from '../format.js';

/** The month-to-date and projected month-end figures. */
export function projectionPanel(p) {
  const month = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' })
    .format(new Date(`${p.month_start_local.slice(0, 10)}T00:00:00Z`));
  const figure = (name, label, value, tip) => h('div', { class: 'kpi', 'data-kpi': name, 'data-value': value },
    h('div', { class: 'label', 'data-tip': tip }, label), h('div', { class: 'value' }, usd(value)));
  return h('section', { class: 'panel', 'data-panel': 'projection' },
    h('div', { class: 'panel-head' }, h('h2', {}, `This month: ${month}`),
      h('a', { href: '/budgets', class: 'small-link' }, 'Budgets')),
    h('div', { class: 'kpis flat' },
      figure('month-to-date', 'Month to date', p.month_to_date_usd, `Priced spend since ${p.month_start_local.slice(0, 10)} 00:00 in ${p.timezone}`),
      figure('projected-month-end', 'Projected month end', p.projected_month_end_usd, 'Month to date plus the last 24 hours\' rate until the month ends'),
      figure('burn-24h', 'Last 24 hours', p.burn_usd_last_24h, `${usd(p.burn_rate_usd_per_hour)} per hour`)),
    h('p', { class: 'muted' }, `Calendar month in ${p.timezone}; tokens without a price are not in these figures.`));
}

/** The notice for models with unpriced tokens, or null when every model has a price. */
export function unpricedNotice(rows, { isAdmin }) {
  if (!rows.length) return null;
  const few = rows.length === 1;
  return h('div', { class: 'notice unpriced', role: 'status', 'data-notice': 'unpriced' },
    h('p', {}, h('b', {}, few ? '1 model has no price' : `${rows.length} models have no price`),
      few ? ', so its tokens are not in these costs (never counted as $0):' : ', so their tokens are not in these costs (never counted as $0):'),
    h('ul', {}, rows.map((r) => {
      const add = `/prices?${new URLSearchParams({ model: r.model, from: r.first_seen })}`;
      return h('li', { 'data-unpriced-model': r.model },
        h('b', {}, r.model), r.provider ? h('span', { class: 'muted' }, ` (${r.provider})`) : null,
        ' — ', h('span', { 'data-tip': `${int(r.unpriced_tokens)} tokens, last used ${r.last_seen}` }, `${compact(r.unpriced_tokens)} tokens`),
        ` since ${dayLabel(r.first_seen, { weekday: false })} `,
        h('a', { href: add, class: 'add-price' }, isAdmin ? 'Add a price' : 'See prices'));
    })));
}
