// The runtime detail page's charts and tables, drawn from report rows already fetched for
// the chosen range and zone. Each returns an element; charts redraw when their panel resizes.

import * as api from '../api.js';
import { heatLegend, heatmap, legend, responsive, stackedBars } from '../charts.js';
import { cardify, h } from '../dom.js';
import { compact, dayLabel, int, money, usd } from '../format.js';
import * as U from '../usage.js';

const metricAxis = (metric) => (metric === 'tokens' ? (v) => compact(v) : (v) => axisUsd(v));
const metricFmt = (metric) => (metric === 'tokens' ? (v) => `${int(v)} tokens` : (v) => usd(v));

function axisUsd(v) {
  if (v === 0) return '$0';
  if (v >= 1000) return `$${compact(v)}`;
  return v >= 10 || Number.isInteger(v) ? `$${Math.round(v)}` : `$${v.toFixed(v < 0.1 ? 3 : 2).replace(/0+$/, '')}`;
}

/** A panel with a title, optional tools (buttons) and a body. */
export function panel(title, body, ...tools) {
  return h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, title), tools.length ? h('div', { class: 'toolbar' }, tools) : null),
    body);
}

/** Daily stacked bars by model over `dates`. Registers its resize watcher in `disposers`. */
export function dailyChart(dates, rows, metric, disposers, palette, name = 'daily') {
  const series = U.colourBy(U.seriesOf(rows, metric), palette);
  const cells = U.groupBy(rows, (r) => `${r.date}|${U.modelKey(r)}`);
  const holder = h('div', { class: 'chart-holder' });
  disposers.push(responsive(holder, (width) => stackedBars({
    name, width, height: 240, categories: dates, series,
    value: (date, key) => U.metricValue(cells.get(`${date}|${key}`), metric),
    axis: metricAxis(metric), fmt: metricFmt(metric),
    catLabel: (d) => dayLabel(d, { weekday: false }), catTitle: (d) => dayLabel(d),
  })));
  return h('div', {}, holder, series.length ? legend(series) : h('p', { class: 'muted' }, 'No usage in this range.'));
}

/** The 26-week calendar of daily cost ending today. */
export function heatmapView(today, rows, disposers) {
  const byDate = U.groupBy(rows, (r) => r.date);
  const holder = h('div', { class: 'chart-holder' });
  disposers.push(responsive(holder, (width) => heatmap({
    width, endDate: today, weeks: 26, name: 'heatmap',
    value: (d) => {
      const acc = byDate.get(d);
      if (!acc) return 0;
      return acc.priced ? acc.costMicros / 1e6 : (U.tokens(acc) ? null : 0);
    },
    fmt: (v) => usd(v),
  })));
  return h('div', {}, holder, heatLegend());
}

/** Usage by local hour of day, stacked by model. */
export function hourChart(rows, metric, disposers, palette) {
  const series = U.colourBy(U.seriesOf(rows, metric), palette);
  const cells = U.groupBy(rows, (r) => `${r.hour}|${U.modelKey(r)}`);
  const hours = Array.from({ length: 24 }, (_, i) => i);
  const holder = h('div', { class: 'chart-holder' });
  disposers.push(responsive(holder, (width) => stackedBars({
    name: 'by-hour', width, height: 200, categories: hours, series,
    value: (hour, key) => U.metricValue(cells.get(`${hour}|${key}`), metric),
    axis: metricAxis(metric), fmt: metricFmt(metric),
    catLabel: (hr) => String(hr).padStart(2, '0'), catTitle: (hr) => `${String(hr).padStart(2, '0')}:00–${String(hr).padStart(2, '0')}:59`,
  })));
  return h('div', {}, holder, series.length ? legend(series) : h('p', { class: 'muted' }, 'No usage in this range.'));
}

/** Tasks started by local hour of day. */
export function activityChart(rows, disposers) {
  const counts = new Map(rows.map((r) => [r.hour, r.count]));
  const hours = Array.from({ length: 24 }, (_, i) => i);
  const holder = h('div', { class: 'chart-holder' });
  disposers.push(responsive(holder, (width) => stackedBars({
    name: 'activity', width, height: 200, categories: hours, series: [{ key: 'tasks', label: 'tasks started' }],
    value: (hour) => counts.get(hour) || 0,
    axis: (v) => (Number.isInteger(v) ? int(v) : ''), fmt: (v) => `${int(v)} tasks`,
    catLabel: (hr) => String(hr).padStart(2, '0'), catTitle: (hr) => `${String(hr).padStart(2, '0')}:00–${String(hr).padStart(2, '0')}:59`,
  })));
  return holder;
}

const TOKEN_HEADS = ['Tokens in', 'Tokens out', 'Cache read', 'Cache write'];

function tokenCells(acc) {
  return [acc.input, acc.output, acc.cacheRead, acc.cacheWrite].map((n) => h('td', { class: 'num' }, int(n)));
}

function table(name, heads, rows, foot) {
  return h('div', { class: 'table-scroll' }, cardify(h('table', { class: 'table', 'data-table': name },
    h('thead', {}, h('tr', {}, heads.map((t, i) => h('th', { class: i ? 'num' : null, scope: 'col' }, t)))),
    h('tbody', {}, rows.length ? rows : h('tr', {}, h('td', { colspan: heads.length, class: 'muted' }, 'No usage in this range.'))),
    foot ? h('tfoot', {}, foot) : null)));
}

/** Usage per agent (from the by-agent report), largest cost first. */
export function agentTable(rows, agentName) {
  const byAgent = U.groupBy(rows, (r) => r.agent_id);
  const models = new Map();
  for (const r of rows) {
    if (!models.has(r.agent_id)) models.set(r.agent_id, new Set());
    models.get(r.agent_id).add(r.model);
  }
  const sorted = [...byAgent.entries()].sort((a, b) => b[1].costMicros - a[1].costMicros || U.tokens(b[1]) - U.tokens(a[1]));
  const all = U.total(rows);
  return table('by-agent', ['Agent', 'Tasks', ...TOKEN_HEADS, 'Cost'],
    sorted.map(([id, acc]) => h('tr', { 'data-agent-id': id },
      h('td', {}, agentName(id), h('span', { class: 'sub' }, [...models.get(id)].join(', '))),
      h('td', { class: 'num' }, int(acc.tasks)), tokenCells(acc),
      h('td', { class: 'num' }, money(U.cost(acc), acc.unpriced)))),
    sorted.length > 1 ? h('tr', {}, h('td', {}, 'Total'), h('td', { class: 'num' }, int(all.tasks)), tokenCells(all),
      h('td', { class: 'num' }, money(U.cost(all), all.unpriced))) : null);
}

/** Usage per model over the window's daily rows. */
export function modelTable(rows) {
  const series = U.seriesOf(rows, 'cost');
  const all = U.total(rows);
  return table('by-model', ['Model', ...TOKEN_HEADS, 'Cache savings', 'Cost'],
    series.map((se) => h('tr', { 'data-model': se.key },
      h('td', {}, se.model, h('span', { class: 'sub' }, se.provider)),
      tokenCells(se.acc), h('td', { class: 'num' }, se.acc.priced ? usd(U.savings(se.acc)) : '—'),
      h('td', { class: 'num' }, money(U.cost(se.acc), se.acc.unpriced)))),
    series.length > 1 ? h('tr', {}, h('td', {}, 'Total'), tokenCells(all), h('td', { class: 'num' }, usd(U.savings(all))),
      h('td', { class: 'num' }, money(U.cost(all), all.unpriced))) : null);
}

/** The CSV of modelTable (no report gives it per runtime, so it is written here). */
export function modelCsv(rows) {
  const series = U.seriesOf(rows, 'cost');
  return api.toCsv(
    ['provider', 'model', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cache_savings_usd', 'cost_usd', 'unpriced_tokens'],
    series.map(({ provider, model, acc }) => [provider, model, acc.input, acc.output, acc.cacheRead,
      acc.cacheWrite, U.savings(acc), U.cost(acc), acc.unpriced]),
  );
}

const DAILY_SHOWN = 14;

/** One row per day of the window, newest first; the first two weeks until asked for more. */
export function dailyTable(dates, rows) {
  const byDate = U.groupBy(rows, (r) => r.date);
  const present = [...dates].reverse().filter((d) => byDate.has(d));
  const all = U.total(rows);
  const trs = present.map((d, i) => {
    const acc = byDate.get(d);
    return h('tr', { 'data-date': d, hidden: i >= DAILY_SHOWN }, h('td', {}, dayLabel(d), h('span', { class: 'sub' }, d)),
      tokenCells(acc), h('td', { class: 'num' }, usd(U.savings(acc))),
      h('td', { class: 'num' }, money(U.cost(acc), acc.unpriced)));
  });
  const view = table('daily', ['Day', ...TOKEN_HEADS, 'Cache savings', 'Cost'], trs,
    present.length > 1 ? h('tr', {}, h('td', {}, 'Total'), tokenCells(all), h('td', { class: 'num' }, usd(U.savings(all))),
      h('td', { class: 'num' }, money(U.cost(all), all.unpriced))) : null);
  if (present.length <= DAILY_SHOWN) return view;
  const more = h('button', {
    type: 'button', class: 'small',
    onclick: () => { trs.forEach((tr) => { tr.hidden = false; }); more.remove(); },
  }, `Show all ${present.length} days`);
  return h('div', {}, view, h('p', { class: 'more' }, more));
}
