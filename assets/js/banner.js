// The banner under the header while a pause_dispatch budget of the workspace is spent: it
// names the budgets holding back new work and links to the budgets page. Re-read on every
// navigation and, coalesced, on the events that can change a budget's state.

import { h, put } from './dom.js';
import { budgetName, listBudgets } from './budgets.js';

const EVENT_DELAY_MS = { budget: 300, price: 500, usage: 3000 };

/** Drives `el`: {refresh(wsId), onEvent(ev), clear()}. */
export function budgetBanner(el) {
  let ws = null;
  let seq = 0;
  let timer = null;

  function draw(paused) {
    if (!paused.length) {
      el.hidden = true;
      put(el);
      return;
    }
    const names = paused.map((b) => h('b', { 'data-budget-id': b.id }, budgetName(b)));
    const list = names.flatMap((n, i) => (i ? [i === names.length - 1 ? ' and ' : ', ', n] : [n]));
    put(el, h('div', { class: 'banner-inner' },
      h('span', { class: 'banner-icon', 'aria-hidden': 'true' }),
      h('span', {}, 'Dispatch paused: ', list, paused.length === 1 ? ' is spent, so new tasks in its scope stay queued.' : ' are spent, so new tasks in their scopes stay queued.'),
      h('a', { href: '/budgets' }, 'View budgets')));
    el.dataset.budgets = paused.map((b) => b.id).join(' ');
    el.hidden = false;
  }

  async function refresh(wsId = ws) {
    ws = wsId;
    clearTimeout(timer);
    timer = null;
    const mine = ++seq;
    try {
      const budgets = await listBudgets(ws);
      if (mine === seq) draw(budgets.filter((b) => b.state === 'paused'));
    } catch {
      // Keep what is shown; the next navigation or event tries again.
    }
  }

  return {
    refresh,
    onEvent(ev) {
      const delay = EVENT_DELAY_MS[ev.type.split(':')[0]];
      if (delay === undefined || !ws) return;
      if (timer) return;
      timer = setTimeout(() => { timer = null; refresh(); }, delay);
    },
    clear() {
      ws = null;
      seq += 1;
      clearTimeout(timer);
      timer = null;
      draw([]);
    },
  };
}
