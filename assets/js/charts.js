// Inline SVG charts drawn by small functions: stacked bars (by day or by hour), a calendar
// heatmap and a legend. Colours come from CSS classes (s0…s9, h0…h4) so both themes apply;
// every drawn value carries data-* attributes with the raw number (read by the browser tests)
// and a data-tip for the shared tooltip.

import { h, s } from './dom.js';
import { addDays, weekday } from './zones.js';

const PALETTE = 10;

/** The CSS class of the i-th series colour. */
export function seriesClass(i) {
  return `s${i % PALETTE}`;
}

/** A round axis maximum and step for `max` spread over about `ticks` lines. */
export function niceScale(max, ticks = 4) {
  if (!(max > 0)) return { max: 1, step: 0.25 };
  const raw = max / ticks;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 2.5 ? 2.5 : norm <= 5 ? 5 : 10) * mag;
  return { max: step * Math.ceil(max / step - 1e-9), step };
}

/**
 * Stacked bars. opts: {width, height, categories, series:[{key,label,color?}], value(cat,key),
 * axis(n) → tick text, fmt(n) → tooltip value text, catLabel(cat) → x label,
 * catTitle(cat) → tooltip heading, name}.
 */
export function stackedBars(opts) {
  const { width, height = 220, categories, series, value, axis, fmt, catLabel, catTitle } = opts;
  const left = 52;
  const bottom = 22;
  const top = 8;
  const plotW = Math.max(40, width - left - 6);
  const plotH = height - top - bottom;
  const totals = categories.map((c) => series.reduce((sum, se) => sum + (value(c, se.key) || 0), 0));
  const scale = niceScale(Math.max(0, ...totals));
  const y = (v) => top + plotH - (v / scale.max) * plotH;
  const slot = plotW / Math.max(1, categories.length);
  const barW = Math.max(1, slot * (slot > 8 ? 0.72 : 0.9));

  const svg = s('svg', {
    class: 'chart', width, height, viewBox: `0 0 ${width} ${height}`, role: 'img',
    'aria-label': opts.name || 'chart', 'data-chart': opts.name || '',
  });
  for (let v = 0; v <= scale.max + scale.step / 2; v += scale.step) {
    svg.append(
      s('line', { class: 'grid', x1: left, x2: left + plotW, y1: y(v), y2: y(v) }),
      s('text', { class: 'axis', x: left - 6, y: y(v) + 4, 'text-anchor': 'end' }, axis(v)),
    );
  }
  const labelEvery = Math.max(1, Math.ceil(categories.length / Math.max(1, Math.floor(plotW / 56))));
  categories.forEach((cat, i) => {
    const x = left + i * slot + (slot - barW) / 2;
    let base = 0;
    const lines = [];
    series.forEach((se, si) => {
      const v = value(cat, se.key) || 0;
      if (v <= 0) return;
      lines.push(`${se.label}: ${fmt(v)}`);
      svg.append(s('rect', {
        class: ['bar', seriesClass(se.color ?? si)], x, width: barW, y: y(base + v), height: Math.max(0.5, y(base) - y(base + v)),
        'data-cat': cat, 'data-series': se.key, 'data-value': v,
      }));
      base += v;
    });
    const tip = [catTitle(cat), ...lines.reverse(), lines.length > 1 ? `Total: ${fmt(totals[i])}` : null, lines.length ? null : 'no usage']
      .filter(Boolean).join('\n');
    svg.append(s('rect', { class: 'hit', x: left + i * slot, width: slot, y: top, height: plotH, 'data-tip': tip, 'data-cat': cat, 'data-total': totals[i] }));
    if (i % labelEvery === 0) {
      svg.append(s('text', { class: 'axis', x: left + i * slot + slot / 2, y: height - 6, 'text-anchor': 'middle' }, catLabel(cat)));
    }
  });
  svg.append(s('line', { class: 'baseline', x1: left, x2: left + plotW, y1: y(0), y2: y(0) }));
  return svg;
}

/** A legend of series keys with their colours. */
export function legend(series) {
  return h('ul', { class: 'legend' }, series.map((se, i) => h('li', {},
    h('span', { class: ['sw', seriesClass(se.color ?? i)] }), se.label)));
}

/**
 * A calendar heatmap of `weeks` weeks ending with the week of `endDate` (Monday-first
 * columns). value(date) → number|null|undefined: null means usage without a price.
 */
export function heatmap({ width, endDate, weeks = 26, value, fmt, name = 'heatmap' }) {
  const left = 30;
  const top = 16;
  const cell = Math.max(6, Math.min(16, Math.floor((width - left - 4) / weeks) - 2));
  const gap = 2;
  const start = addDays(endDate, -weekday(endDate) - (weeks - 1) * 7);
  const dates = [];
  for (let d = start; d <= endDate; d = addDays(d, 1)) dates.push(d);
  const levels = quartiles(dates.map(value).filter((v) => v > 0));
  const svgW = left + weeks * (cell + gap);
  const svgH = top + 7 * (cell + gap);
  const svg = s('svg', { class: 'chart heat', width: svgW, height: svgH, viewBox: `0 0 ${svgW} ${svgH}`, role: 'img', 'aria-label': name, 'data-chart': name });
  ['Mon', '', 'Wed', '', 'Fri', '', ''].forEach((label, row) => {
    if (label) svg.append(s('text', { class: 'axis', x: 0, y: top + row * (cell + gap) + cell - 2 }, label));
  });
  let lastMonth = '';
  dates.forEach((date, i) => {
    const col = Math.floor(i / 7);
    const row = i % 7;
    const x = left + col * (cell + gap);
    const month = date.slice(0, 7);
    if (row === 0 && month !== lastMonth && col < weeks - 1) {
      lastMonth = month;
      const label = new Date(`${date}T00:00:00Z`).toLocaleString('en-GB', { month: 'short', timeZone: 'UTC' });
      svg.append(s('text', { class: 'axis', x, y: 10 }, label));
    }
    const v = value(date);
    const level = v === null ? 'hu' : !(v > 0) ? 'h0' : `h${levels.findIndex((limit) => v <= limit) + 1 || 4}`;
    const text = v === null ? 'unpriced usage' : v > 0 ? fmt(v) : 'no cost';
    svg.append(s('rect', {
      class: ['cell', level], x, y: top + row * (cell + gap), width: cell, height: cell, rx: 2,
      'data-date': date, 'data-value': v === null ? '' : v || 0, 'data-tip': `${date}\n${text}`,
    }));
  });
  return svg;
}

/** The upper limits of levels 1..4 for positive values (quartiles). */
function quartiles(values) {
  if (!values.length) return [Infinity, Infinity, Infinity, Infinity];
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return [at(0.25), at(0.5), at(0.75), Infinity];
}

/** The heatmap's colour key. */
export function heatLegend() {
  return h('div', { class: 'heat-legend' }, 'Less',
    ['h0', 'h1', 'h2', 'h3', 'h4'].map((c) => h('span', { class: ['sw', c] })), 'More',
    h('span', { class: ['sw', 'hu'] }), 'unpriced');
}

/**
 * Redraws `draw(width)` into `holder` now and whenever the holder's width changes.
 * Returns a function that stops watching.
 */
export function responsive(holder, draw) {
  let lastWidth = 0;
  const render = () => {
    const width = Math.floor(holder.clientWidth);
    if (width === lastWidth || width === 0) return;
    lastWidth = width;
    holder.replaceChildren(draw(width));
  };
  const observer = new ResizeObserver(() => requestAnimationFrame(render));
  observer.observe(holder);
  render();
  if (!lastWidth) holder.replaceChildren(draw(600));
  return () => observer.disconnect();
}
