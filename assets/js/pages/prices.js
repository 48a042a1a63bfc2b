// The workspace price book: the prices in force (workspace overrides, else the price table),
// the stored overrides, and for admins a form to add one (with its preview) and delete one.
// ?model=&from= (from the dashboard's unpriced notice) starts the form with that model.

import * as api from '../api.js';
import { cardify, confirmDialog, h, put, toast } from '../dom.js';
import { dateTime } from '../format.js';
import { coalescer } from '../live.js';
import { priceForm } from './price-form.js';

const FIRST_ROWS = 20;
const COLUMNS = [['input', 'Input'], ['output', 'Output'], ['cache_read', 'Cache read'], ['cache_write', 'Cache write']];

/** USD per million tokens: at least 2 decimals, up to the 4 a price may have. */
function perMillion(n) {
  const text = n.toFixed(4).replace(/0{1,2}$/, '');
  return `$${text}`;
}

export async function render(ctx, root) {
  ctx.setTitle('Prices');
  const ws = ctx.ws.id;
  const state = { book: null, members: new Map(), q: '', all: false };
  const loadBook = async () => { state.book = await api.get(`/api/workspaces/${ws}/pricing`); };
  const loadMembers = async () => {
    state.members = new Map((await api.get(`/api/workspaces/${ws}/members`)).map((m) => [m.user_id, m]));
  };
  await Promise.all([loadBook(), loadMembers()]);

  const summary = h('p', { class: 'summary muted' });
  const formHolder = h('div', {});
  const overrides = h('div', {});
  const inForce = h('div', {});
  put(root,
    h('p', { class: 'crumbs' }, h('a', { href: '/usage' }, 'Usage'), ' › prices'),
    h('div', { class: 'page-head' }, h('h1', {}, 'Prices'), summary),
    formHolder, overrides, inForce);

  const price = (row) => COLUMNS.map(([key]) => h('td', { class: 'num', [`data-${key.replace('_', '-')}`]: row[key] }, perMillion(row[key])));
  const heads = (first, last) => h('thead', {}, h('tr', {}, [first, ...COLUMNS.map(([, l]) => l), ...last]
    .map((t, i) => h('th', { class: i && i <= COLUMNS.length ? 'num' : null }, t))));

  function drawForm() {
    if (!ctx.isAdmin) {
      put(formHolder, h('p', { class: 'notice info' }, 'Only workspace owners and admins can add or delete prices.'));
      return;
    }
    const form = priceForm({
      ws, models: state.book.models, model: ctx.query.get('model') || '', from: ctx.query.get('from') || '',
      onSaved: async (sent) => {
        toast(`Saved the price of ${sent.model}.`);
        ctx.setQuery({ model: null, from: null });
        await loadBook();
        drawForm();
        draw();
      },
    });
    put(formHolder, h('section', { class: 'panel', id: 'add-price' }, h('h2', {}, 'Add a workspace price'),
      h('p', { class: 'muted' }, 'Overrides the price table for this workspace from the given instant on, for every member and every report. Prices are USD per million tokens.'),
      form));
    if (ctx.query.get('model')) formHolder.querySelector('#price-input').focus();
  }

  async function remove(o) {
    if (!await confirmDialog(`Delete the ${o.model} price`, `Reports from ${o.valid_from} on go back to the previous price of ${o.model}.`, 'Delete', { danger: true })) return;
    try {
      await api.del(`/api/workspaces/${ws}/prices/${o.id}`);
      toast(`Deleted the ${o.model} price.`);
      await loadBook();
      draw();
    } catch (e) { toast(e.message, 'error'); }
  }

  function draw() {
    const { book } = state;
    summary.textContent = `Price table as of ${book.as_of} · ${book.overrides.length} workspace override${book.overrides.length === 1 ? '' : 's'}`;
    const person = (id) => (id === ctx.me.id ? 'you' : (state.members.get(id) || {}).name || 'former member');
    put(overrides, h('section', { class: 'panel' }, h('h2', {}, 'Workspace overrides'),
      book.overrides.length ? h('div', { class: 'table-scroll' }, cardify(h('table', { class: 'table', 'data-table': 'overrides' },
        heads('Model', ['Valid from', 'Added', '']),
        h('tbody', {}, book.overrides.map((o) => h('tr', { 'data-override-id': o.id, 'data-model': o.model },
          h('td', {}, h('b', {}, o.model)), price(o),
          h('td', { 'data-tip': `${dateTime(o.valid_from, ctx.zone)} in ${ctx.zone}` }, `${dateTime(o.valid_from, 'UTC')} UTC`),
          h('td', {}, person(o.created_by), h('span', { class: 'sub' }, dateTime(o.created_at, ctx.zone))),
          h('td', { class: 'actions' }, ctx.isAdmin ? h('button', { type: 'button', class: 'small danger', 'data-action': 'delete', onclick: () => remove(o) }, 'Delete') : null)))))))
        : h('p', { class: 'muted' }, 'None: every model is priced from the price table.')));
    drawInForce();
  }

  const forceTable = h('div', {});
  const search = h('input', {
    type: 'search', placeholder: 'Search models…', 'aria-label': 'Search models',
    oninput: () => { state.q = search.value; drawInForce(); },
  });
  put(inForce, h('section', { class: 'panel' },
    h('div', { class: 'panel-head' }, h('h2', {}, 'Prices in force now'), h('div', { class: 'toolbar' }, search)),
    forceTable));

  // A compact table (not cards: dozens of models), the workspace's prices first, the first
  // rows until asked for all.
  function drawInForce() {
    const q = state.q.trim().toLowerCase();
    const matching = state.book.models.filter((m) => !q || m.model.toLowerCase().includes(q))
      .sort((a, b) => (a.source === 'workspace' ? 0 : 1) - (b.source === 'workspace' ? 0 : 1));
    const shown = q || state.all ? matching : matching.slice(0, FIRST_ROWS);
    put(forceTable, h('div', { class: 'table-scroll' }, h('table', { class: 'table compact', 'data-table': 'in-force' },
      heads('Model', ['Source']),
      h('tbody', {}, shown.map((m) => h('tr', { 'data-model': m.model, 'data-source': m.source },
        h('td', {}, m.model), price(m),
        h('td', {}, m.source === 'workspace'
          ? h('span', { class: 'badge public', 'data-tip': `since ${dateTime(m.valid_from, ctx.zone)}` }, 'workspace')
          : h('span', { class: 'badge' }, 'table'))))))),
    shown.length < matching.length ? h('p', { class: 'more' }, h('button', {
      type: 'button', class: 'small', id: 'all-prices', onclick: () => { state.all = true; drawInForce(); },
    }, `Show all ${matching.length} models`)) : null);
  }

  drawForm();
  draw();
  root.dataset.ready = 'true';
  const { refresh, cancel } = coalescer({ book: loadBook }, draw);
  return {
    onEvent(ev) { if (ev.type.startsWith('price:')) refresh(['book'], 300); },
    dispose: cancel,
  };
}
