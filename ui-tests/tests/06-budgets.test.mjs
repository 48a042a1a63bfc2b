// Budgets in the UI against the API: the banner names the spent pause_dispatch budgets on
// every page and follows the event stream; each progress bar, its thresholds and outlook equal
// /api/budgets/{id}/status; runtimes and agents in a budget's scope carry its badge and
// "paused" while their dispatch is held; the form creates (refusing bad thresholds with the
// field named), edits and deletes a budget.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  dateTime, demoContext, get, launch, newPage, open, ORIGIN, percentText, sameUsd, send, shootAll, shot, signIn, until, waitReady,
} from '../lib.mjs';

let browser;
let demo;
before(async () => {
  browser = await launch();
  demo = await demoContext('UTC');
});
after(async () => { await browser.close(); });

const budgets = () => get(`/api/workspaces/${demo.ws}/budgets`);
const status = (id) => get(`/api/budgets/${id}/status`);
const bannerIds = (page) => page.$eval('#banner', (el) => (el.hidden ? '' : el.dataset.budgets || ''));

test('the banner names every paused budget on every page and links to the budgets page', async () => {
  const paused = (await budgets()).filter((b) => b.state === 'paused');
  assert.ok(paused.length >= 1, 'the demo has a spent pause_dispatch budget');
  const page = await newPage(browser);
  await signIn(page);
  for (const path of ['/runtimes', '/usage', '/agents', '/tasks']) {
    if (path !== '/runtimes') await open(page, path);
    await page.waitForSelector('#banner:not([hidden])');
    assert.deepEqual((await bannerIds(page)).split(' ').sort(), paused.map((b) => b.id).sort(), `banner on ${path}`);
    const text = await page.textContent('#banner');
    for (const b of paused) assert.ok(text.includes(b.name), `${path}: the banner names ${b.name}: ${text}`);
  }
  await page.click('#banner a[href="/budgets"]');
  await page.waitForURL(`${ORIGIN}/budgets`);
  await waitReady(page);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the banner and badges follow budget events live', async () => {
  const page = await newPage(browser);
  await signIn(page);
  await open(page, '/agents');
  await page.waitForSelector('header .live[data-state="live"]');
  const before = (await bannerIds(page)).split(' ').filter(Boolean);
  const agents = await get(`/api/workspaces/${demo.ws}/agents`);
  const pausedRows = () => page.$$eval('tr[data-agent-id] .badge.paused', (els) => els.map((e) => e.closest('tr').dataset.agentId).sort());
  const heldBefore = await pausedRows();
  assert.ok(heldBefore.length < agents.length, 'some agent is not held by the demo budgets');
  // A workspace budget of one micro-dollar is spent at once: it holds every agent.
  const held = await send('POST', `/api/workspaces/${demo.ws}/budgets`, {
    name: 'Live test freeze', scope: { type: 'workspace', id: null }, amount_usd: 0.000001, period: 'month', action: 'pause_dispatch',
  }, 201);
  assert.equal(held.state, 'paused');
  await until(async () => (await bannerIds(page)).includes(held.id), 'the new budget in the banner');
  assert.match(await page.textContent('#banner'), /Live test freeze/);
  for (const a of agents) await page.waitForSelector(`tr[data-agent-id="${a.id}"] .badge.paused`);
  await send('DELETE', `/api/budgets/${held.id}`, undefined, 204);
  await until(async () => !(await bannerIds(page)).includes(held.id), 'the deleted budget leaving the banner');
  assert.deepEqual((await bannerIds(page)).split(' ').filter(Boolean), before);
  await until(async () => JSON.stringify(await pausedRows()) === JSON.stringify(heldBefore), 'the badges as before');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

async function cards(page) {
  return page.$$eval('section.budget[data-budget-id]', (all) => all.map((c) => {
    const bar = c.querySelector('.budget-bar');
    return {
      id: c.dataset.budgetId,
      state: c.dataset.state,
      percent: Number(bar.dataset.percent),
      level: ['ok', 'warn', 'over'].find((l) => bar.classList.contains(l)),
      percentText: c.querySelector('.budget-percent').textContent,
      spent: Number(c.querySelector('[data-spent]').dataset.spent),
      remaining: Number(c.querySelector('[data-remaining]').dataset.remaining),
      burn: Number(c.querySelector('[data-fact=burn]').dataset.value),
      projected: Number(c.querySelector('[data-fact=projected]').dataset.value),
      period: c.querySelector('[data-fact=period]').textContent,
      marks: [...bar.querySelectorAll('line.mark')].map((m) => Number(m.dataset.threshold)),
      crossed: [...c.querySelectorAll('.threshold.crossed')].map((t) => Number(t.dataset.threshold)),
      badges: [...c.querySelectorAll('h2 .badge')].map((b) => b.textContent),
    };
  }));
}

test('each progress bar, its thresholds and outlook equal the budget status', async () => {
  const page = await newPage(browser);
  await signIn(page);
  const list = await budgets();
  const first = new Map(await Promise.all(list.map(async (b) => [b.id, await status(b.id)])));
  await open(page, '/budgets');
  const shown = await cards(page);
  const runsOut = await page.$$eval('[data-fact=runs-out]', (els) => els.map((e) => [e.closest('[data-budget-id]').dataset.budgetId, e.dataset.value, e.textContent]));
  const later = new Map(await Promise.all(list.map(async (b) => [b.id, await status(b.id)])));
  assert.deepEqual(shown.map((c) => c.id).sort(), list.map((b) => b.id).sort(), 'one card per budget');
  for (const b of list) {
    const c = shown.find((x) => x.id === b.id);
    const st = first.get(b.id);
    const st2 = later.get(b.id);
    assert.equal(c.percent, st.percent, `${b.name}: percent`);
    assert.equal(c.percentText, percentText(st.percent, 1), `${b.name}: percent text`);
    assert.equal(c.level, st.percent >= 100 ? 'over' : st.percent >= 80 ? 'warn' : 'ok', `${b.name}: colour`);
    sameUsd(c.spent, st.spent_usd, `${b.name}: spent`);
    sameUsd(c.remaining, st.remaining_usd, `${b.name}: remaining`);
    assert.deepEqual(c.marks, b.thresholds.filter((t) => t < 100), `${b.name}: threshold marks`);
    assert.deepEqual(c.crossed, st.thresholds_crossed.map((t) => t.threshold), `${b.name}: thresholds crossed`);
    assert.ok(c.period.includes(`${dateTime(st.period.start, 'UTC')} – ${dateTime(st.period.end, 'UTC')}`), `${b.name}: period in the viewer's zone: ${c.period}`);
    assert.equal(c.state, b.state);
    if (b.state === 'paused') assert.ok(c.badges.includes('paused'), `${b.name}: paused badge`);
    // The burn window and the projection move with the clock: the page's figure lies between
    // the two reads around it.
    assert.ok([st.burn_usd_last_24h, st2.burn_usd_last_24h].includes(c.burn), `${b.name}: burn ${c.burn}`);
    const [lo, hi] = [st.projected_usd, st2.projected_usd].sort((x, y) => x - y);
    assert.ok(c.projected >= lo - 1e-6 && c.projected <= hi + 1e-6, `${b.name}: projected ${c.projected} in [${lo}, ${hi}]`);
    const [, when, text] = runsOut.find(([id]) => id === b.id);
    if (st.percent >= 100) assert.equal(text, 'runs out already spent');
    else if (st.runs_out_at === null && st2.runs_out_at === null) assert.equal(when, '');
    else assert.ok(Math.abs(Date.parse(when) - Date.parse(st2.runs_out_at)) < 120000, `${b.name}: runs out ${when}`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('runtimes and agents in a budget\'s scope carry its percentage and "paused"', async () => {
  const list = await budgets();
  const statuses = new Map(await Promise.all(list.map(async (b) => [b.id, await status(b.id)])));
  const [runtimes, agents] = await Promise.all([get(`/api/workspaces/${demo.ws}/runtimes`), get(`/api/workspaces/${demo.ws}/agents`)]);
  const paused = list.filter((b) => b.state === 'paused');
  const holdsRuntime = (r) => paused.some((b) => b.scope.type === 'workspace' || (b.scope.type === 'runtime' && b.scope.id === r));
  const holdsAgent = (a) => holdsRuntime(a.runtime_id) || paused.some((b) => b.scope.type === 'agent' && b.scope.id === a.id);
  const scoped = (type) => list.filter((b) => b.scope.type === type);
  assert.ok(scoped('runtime').length && scoped('agent').length, 'the demo has runtime and agent budgets');
  const page = await newPage(browser);
  await signIn(page);
  const badge = async (row, b) => page.$eval(`${row} .badge.budget[data-budget-id="${b.id}"]`, (el) => [Number(el.dataset.percent), el.textContent]);

  for (const b of scoped('runtime')) {
    const row = `tr[data-runtime-id="${b.scope.id}"]`;
    assert.deepEqual(await badge(row, b), [statuses.get(b.id).percent, `budget ${percentText(statuses.get(b.id).percent)}`], `${b.name} on the runtimes list`);
  }
  for (const r of runtimes) {
    assert.equal(Boolean(await page.$(`tr[data-runtime-id="${r.id}"] .badge.paused`)), holdsRuntime(r.id), `${r.name}: paused badge`);
  }
  for (const b of scoped('runtime')) {
    await open(page, `/runtimes/${b.scope.id}`);
    assert.deepEqual(await badge('h1', b), [statuses.get(b.id).percent, `budget ${percentText(statuses.get(b.id).percent)}`], `${b.name} on the runtime page`);
  }
  await open(page, '/agents');
  for (const b of scoped('agent')) {
    const row = `tr[data-agent-id="${b.scope.id}"]`;
    assert.deepEqual(await badge(row, b), [statuses.get(b.id).percent, `budget ${percentText(statuses.get(b.id).percent)}`], `${b.name} on the agents list`);
  }
  for (const a of agents) {
    assert.equal(Boolean(await page.$(`tr[data-agent-id="${a.id}"] .badge.paused`)), holdsAgent(a), `${a.name}: paused badge`);
  }
  assert.ok(agents.some(holdsAgent), 'some agent is held');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an admin creates a budget (bad thresholds refused, field named), edits and deletes it', async () => {
  // 404: a refresh the edit's event started may list the budget just before the delete and
  // ask for its status just after; the page leaves such a budget out (statusesOf), but the
  // browser still logs the answer.
  const page = await newPage(browser, { allowStatuses: [400, 404] });
  await signIn(page);
  await open(page, '/budgets');
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  const target = runtimes[0];
  const name = `ui budget ${Date.now()}`;
  await page.click('#new-budget');
  await page.waitForSelector('#budget-form');
  assert.equal(await page.inputValue('#budget-zone'), 'UTC', 'the zone defaults to the user\'s');
  await page.fill('#budget-name', name);
  await page.selectOption('#budget-scope-type', 'runtime');
  await page.selectOption('#budget-scope-id', target.id);
  await page.fill('#budget-amount', '250.5');
  await page.selectOption('#budget-period', 'week');
  await page.selectOption('#budget-zone', 'America/New_York');
  await page.fill('#budget-thresholds', '50, 50');
  await page.click('#budget-save');
  await page.waitForSelector('#budget-error:not([hidden])');
  assert.equal(await page.getAttribute('#budget-error', 'data-field'), 'thresholds');
  assert.match(await page.textContent('#budget-error'), /Thresholds: 50 is repeated/);
  assert.equal(await page.getAttribute('#budget-thresholds', 'aria-invalid'), 'true');
  assert.ok(!(await budgets()).some((b) => b.name === name), 'nothing was written');
  await shot(page, 'budget-form-error-desktop-light');

  await page.fill('#budget-thresholds', '25 50 100');
  await page.click('#budget-save');
  await page.waitForSelector('#budget-form', { state: 'detached' });
  const created = await until(async () => (await budgets()).find((b) => b.name === name), 'the created budget');
  assert.deepEqual({ ...created.scope, amount: created.amount_usd, period: created.period, tz: created.timezone, t: created.thresholds, action: created.action },
    { type: 'runtime', id: target.id, amount: 250.5, period: 'week', tz: 'America/New_York', t: [25, 50, 100], action: 'alert' });
  const card = `section.budget[data-budget-id="${created.id}"]`;
  await page.waitForSelector(card);
  assert.equal(Number(await page.getAttribute(`${card} .budget-bar`, 'data-percent')), (await status(created.id)).percent);

  await page.click(`${card} [data-action=edit]`);
  await page.waitForSelector('#budget-form');
  assert.equal(await page.inputValue('#budget-name'), name);
  await page.fill('#budget-amount', '400');
  await page.click('#budget-save');
  await page.waitForSelector('#budget-form', { state: 'detached' });
  await until(async () => (await get(`/api/budgets/${created.id}`)).amount_usd === 400, 'the edited amount');
  await until(async () => (await page.textContent(`${card} .sub`)).includes('$400.00 per week'), 'the edited card');
  assert.equal(Number(await page.getAttribute(`${card} .budget-bar`, 'data-percent')), (await status(created.id)).percent);

  await page.click(`${card} [data-action=delete]`);
  await page.click('.dialog [data-confirm=yes]');
  await page.waitForSelector(card, { state: 'detached' });
  assert.ok(!(await budgets()).some((b) => b.id === created.id), 'deleted');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('screenshots: budgets', async () => {
  await shootAll(browser, 'budgets', '/budgets');
});
