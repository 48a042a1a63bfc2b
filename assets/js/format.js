// Number, money, time and change formatting. Money is shown as `$x.xx` with thousands
// separators, rounded half away from zero from the API's micro-dollar values; a cost the
// server could not price (null) is never shown as $0.

import { h } from './dom.js';

const grouped = new Intl.NumberFormat('en-US');

/** 1234567 → "1,234,567". */
export function int(n) {
  return grouped.format(Math.round(n || 0));
}

/** 1234567 → "1.2M" (for KPI headlines; tables use int()). */
export function compact(n) {
  const abs = Math.abs(n || 0);
  const units = [[1e12, 'T'], [1e9, 'B'], [1e6, 'M'], [1e3, 'K']];
  for (const [size, unit] of units) {
    if (abs >= size) {
      const v = n / size;
      return `${v >= 100 ? v.toFixed(0) : v.toFixed(1).replace(/\.0$/, '')}${unit}`;
    }
  }
  return int(n);
}

/** 1234.5 → "$1,234.50"; exact for the API's ≤ 6 decimals; null → null. */
export function usd(value) {
  if (value === null || value === undefined) return null;
  const micros = Math.round(Math.abs(value) * 1e6);
  const cents = Math.floor((micros + 5000) / 10000);
  const sign = value < 0 && cents > 0 ? '-' : '';
  return `${sign}$${grouped.format(Math.floor(cents / 100))}.${String(cents % 100).padStart(2, '0')}`;
}

/** Sums API dollar values exactly (in micro-dollars) so 0.1 + 0.2 doesn't drift. */
export function sumUsd(values) {
  let micros = 0;
  let any = false;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    any = true;
    micros += Math.round(v * 1e6);
  }
  return any ? micros / 1e6 : null;
}

/**
 * A cost cell: "$x.xx", plus an "unpriced" flag when some tokens had no price; "unpriced"
 * alone when nothing could be priced. `data-cost` carries the raw value for tests.
 */
export function money(cost, unpricedTokens = 0) {
  const flag = unpricedTokens > 0
    ? h('span', { class: 'badge warn', 'data-tip': `${int(unpricedTokens)} tokens of models without a price are not in this cost` }, 'unpriced')
    : null;
  if (cost === null || cost === undefined) {
    return h('span', { class: 'money', 'data-cost': '' }, flag || h('span', { class: 'muted' }, '—'));
  }
  return h('span', { class: 'money', 'data-cost': String(cost) }, usd(cost), flag ? ' ' : null, flag);
}

/**
 * The change from `previous` to `current`: "+12%", "−5%", "new", or "—". Returns an element
 * whose class says the direction.
 */
export function change(current, previous, { label = 'vs previous period' } = {}) {
  const cur = current || 0;
  const prev = previous || 0;
  let text;
  let dir = 'flat';
  if (prev === 0) {
    text = cur === 0 ? '—' : 'new';
    dir = cur === 0 ? 'flat' : 'up';
  } else {
    const pct = ((cur - prev) / Math.abs(prev)) * 100;
    const rounded = Math.abs(pct) < 10 ? Math.round(pct * 10) / 10 : Math.round(pct);
    if (rounded === 0) text = '±0%';
    else text = `${rounded > 0 ? '+' : '−'}${Math.abs(rounded)}%`;
    dir = rounded > 0 ? 'up' : rounded < 0 ? 'down' : 'flat';
  }
  return h('span', { class: ['change', dir], 'data-tip': label }, text);
}

/** "just now", "4 min ago", "3 h ago", "2 days ago", or "never". */
export function ago(iso, now = Date.now()) {
  if (!iso) return 'never';
  const secs = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (secs < 45) return 'just now';
  const mins = Math.round(secs / 60);
  if (mins < 60) return `${mins} min ago`;
  const hours = Math.round(mins / 60);
  if (hours < 36) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  if (days < 60) return `${days} days ago`;
  const months = Math.round(days / 30);
  return months < 24 ? `${months} months ago` : `${Math.round(days / 365)} years ago`;
}

/** An instant as "29 Nov 2026, 14:05" in `zone`. */
export function dateTime(iso, zone) {
  if (!iso) return '—';
  try {
    return new Intl.DateTimeFormat('en-GB', {
      timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
    }).format(new Date(iso));
  } catch {
    return iso;
  }
}

/** "2026-11-29" → "Sun 29 Nov". */
export function dayLabel(date, { weekday = true } = {}) {
  const d = new Date(`${date}T00:00:00Z`);
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: 'UTC', weekday: weekday ? 'short' : undefined, day: 'numeric', month: 'short',
  }).format(d);
}

/** A percentage with one decimal: 0.4567 → "45.7%". */
export function pct(ratio) {
  return ratio === null || !Number.isFinite(ratio) ? '—' : `${(ratio * 100).toFixed(1)}%`;
}

/** "every 90 min" style text for an interval in minutes. */
export function interval(minutes) {
  if (minutes % 1440 === 0) return minutes === 1440 ? 'daily' : `every ${minutes / 1440} days`;
  if (minutes % 60 === 0) return minutes === 60 ? 'hourly' : `every ${minutes / 60} h`;
  return `every ${minutes} min`;
}
