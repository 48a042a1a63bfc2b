// Budgets as every page shows them: a name, what a budget watches, its status (one call per
// budget, in parallel), a progress bar with the thresholds marked, and the badges a runtime
// or agent in a budget's scope carries ("budget 82 %", "paused" while dispatch is held).

import * as api from './api.js';
import { h, s } from './dom.js';
import { usd } from './format.js';

export const PERIOD_WORD = { day: 'day', week: 'week', month: 'month' };
const PERIOD_ADJ = { day: 'daily', week: 'weekly', month: 'monthly' };

/** The budget's name, or a description of it. */
export function budgetName(b) {
  return b.name || `${b.scope.type[0].toUpperCase()}${b.scope.type.slice(1)} ${PERIOD_ADJ[b.period] || b.period} budget`;
}

/** ok below 80 %, warn from 80 %, over from 100 %. */
export function level(percent) {
  if (percent >= 100) return 'over';
  return percent >= 80 ? 'warn' : 'ok';
}

/**
 * A percentage as the API gives it (hundredths, rounded down), shown rounded down so a
 * threshold not reached never looks reached: 82.97 → "82 %" or, with one decimal, "82.9 %".
 */
export function percentText(percent, decimals = 0) {
  const scale = 10 ** decimals;
  return `${(Math.floor(percent * scale + 1e-9) / scale).toFixed(decimals)} %`;
}

export function listBudgets(wsId) {
  return api.get(`/api/workspaces/${wsId}/budgets`);
}

/** Map budget id → status; a budget whose status failed (deleted meanwhile) is left out. */
export async function statusesOf(budgets) {
  const answers = await Promise.all(budgets.map((b) => api.get(`/api/budgets/${b.id}/status`).catch((e) => {
    if (e.status === 401) throw e;
    return null;
  })));
  return new Map(budgets.map((b, i) => [b.id, answers[i]]).filter(([, st]) => st));
}

/** A bar of `percent` (full past 100 %) with a mark at each threshold. */
export function progressBar(percent, thresholds) {
  const filled = Math.min(100, Math.max(0, percent));
  return s('svg', {
    class: ['budget-bar', level(percent)], viewBox: '0 0 100 10', preserveAspectRatio: 'none',
    role: 'img', 'aria-label': `${percentText(percent, 1)} spent`, 'data-percent': percent,
  },
  s('rect', { class: 'track', x: 0, y: 0, width: 100, height: 10 }),
  s('rect', { class: 'fill', x: 0, y: 0, width: filled, height: 10 }),
  thresholds.filter((t) => t < 100).map((t) => s('line', {
    class: ['mark', percent >= t ? 'reached' : null], x1: t, x2: t, y1: 0, y2: 10, 'data-threshold': t,
  })));
}

/**
 * Budget facts for the runtime and agent pages: every budget, and the status of those scoped
 * to one runtime or agent. Null when budgets cannot be read: the page shows no badges.
 */
export async function scopeInfo(wsId) {
  try {
    const budgets = await listBudgets(wsId);
    const statuses = await statusesOf(budgets.filter((b) => b.scope.type !== 'workspace'));
    return { budgets, statuses };
  } catch (e) {
    if (e.status === 401) throw e;
    return null;
  }
}

/** The spent pause_dispatch budgets holding back work of a runtime or of an agent. */
export function holding(info, { runtimeId, agentId = null }) {
  return info.budgets.filter((b) => b.state === 'paused' && (b.scope.type === 'workspace'
    || (b.scope.type === 'runtime' && b.scope.id === runtimeId)
    || (agentId !== null && b.scope.type === 'agent' && b.scope.id === agentId)));
}

/**
 * Badges for a runtime (agentId omitted) or an agent: one per budget scoped to exactly it,
 * with its percentage, and "paused" while a budget holds its dispatch.
 */
export function budgetBadges(info, { runtimeId, agentId = null }) {
  if (!info) return null;
  const own = info.budgets.filter((b) => (agentId === null
    ? b.scope.type === 'runtime' && b.scope.id === runtimeId
    : b.scope.type === 'agent' && b.scope.id === agentId));
  const badges = own.map((b) => {
    const st = info.statuses.get(b.id);
    if (!st) return null;
    return h('a', {
      href: '/budgets', class: ['badge', 'budget', level(st.percent)], 'data-budget-id': b.id, 'data-percent': st.percent,
      'data-tip': `${budgetName(b)}: ${usd(st.spent_usd)} of ${usd(st.amount_usd)} this ${PERIOD_WORD[b.period] || b.period}`,
    }, `budget ${percentText(st.percent)}`);
  }).filter(Boolean);
  const held = holding(info, { runtimeId, agentId });
  if (held.length) {
    badges.push(h('a', {
      href: '/budgets', class: 'badge paused', 'data-paused': 'true',
      'data-tip': `Dispatch paused by ${held.map(budgetName).join(', ')}: new tasks stay queued`,
    }, 'paused'));
  }
  return badges.length ? h('span', { class: 'budget-badges' }, badges) : null;
}
