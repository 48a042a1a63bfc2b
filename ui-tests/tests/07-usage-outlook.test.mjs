// The usage dashboard's outlook against the API: the month-to-date and projected month-end
// figures, the notice of unpriced models; a price added for one from the notice (its preview
// equal to the API's, the model leaving the notice, back after deleting the price); and a
// provider bill uploaded for reconciliation showing the rows the API flags, or the line and
// column of a malformed file.

import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  addDays, demoContext, get, launch, localDate, newPage, open, ORIGIN, send, shot, shootAll, SHOTS, signIn, TOKEN, until, usd, VIEWPORTS, waitReady,
} from '../lib.mjs';

let browser;
let demo;
before(async () => {
  browser = await launch();
  demo = await demoContext('UTC');
});
after(async () => { await browser.close(); });

const unpricedModels = async (days) => (await get(`/api/workspaces/${demo.ws}/usage/unpriced?days=${days}&tz=UTC`)).map((r) => r.model);
const noticeModels = (page) => page.$$eval('[data-notice=unpriced] [data-unpriced-model]', (els) => els.map((e) => e.dataset.unpricedModel));

test('the month-to-date and projected month-end figures equal the projection', async () => {
  const page = await newPage(browser);
  await signIn(page);
  const first = await get(`/api/workspaces/${demo.ws}/usage/projection?tz=UTC`);
  await open(page, '/usage?days=30', '30|UTC');
  const kpi = (name) => page.$eval(`[data-kpi="${name}"]`, (el) => [Number(el.dataset.value), el.textContent]);
  const [toDate, toDateText] = await kpi('month-to-date');
  const [projected, projectedText] = await kpi('projected-month-end');
  const [burn] = await kpi('burn-24h');
  const later = await get(`/api/workspaces/${demo.ws}/usage/projection?tz=UTC`);
  assert.equal(toDate, first.month_to_date_usd);
  assert.ok(toDateText.includes(usd(first.month_to_date_usd)), toDateText);
  // The projection moves with the clock: the page's figure lies between the reads around it.
  const [lo, hi] = [first.projected_month_end_usd, later.projected_month_end_usd].sort((a, b) => a - b);
  assert.ok(projected >= lo - 1e-6 && projected <= hi + 1e-6, `projected ${projected} in [${lo}, ${hi}]`);
  assert.ok(projectedText.includes(usd(projected)), projectedText);
  assert.ok([first.burn_usd_last_24h, later.burn_usd_last_24h].includes(burn));
  const month = new Intl.DateTimeFormat('en-GB', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(first.month_start));
  assert.match(await page.textContent('[data-panel=projection] h2'), new RegExp(month));
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the unpriced notice lists the models the API lists', async () => {
  const page = await newPage(browser);
  await signIn(page);
  for (const days of [7, 30, 90]) {
    await open(page, `/usage?days=${days}`, `${days}|UTC`);
    const want = await unpricedModels(days);
    assert.deepEqual(await noticeModels(page), want, `${days} days`);
    if (!want.length) assert.equal(await page.$('[data-notice=unpriced]'), null);
  }
  assert.ok((await unpricedModels(30)).length, 'the demo has an unpriced model');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a price added from the notice: preview equals the API\'s, the model leaves the notice until the price is deleted', async () => {
  const page = await newPage(browser);
  await signIn(page);
  await open(page, '/usage?days=30', '30|UTC');
  const [model] = await unpricedModels(30);
  await page.click(`[data-unpriced-model="${model}"] a.add-price`);
  await page.waitForURL(/\/prices\?/);
  await waitReady(page);
  assert.equal(await page.inputValue('#price-model'), model);
  assert.equal(await page.isDisabled('#price-save'), true, 'saving needs a preview');
  for (const [field, value] of [['input', '0.2'], ['output', '0.6'], ['cache-read', '0.02'], ['cache-write', '0.2']]) {
    await page.fill(`#price-${field}`, value);
  }
  const body = {
    model, input: 0.2, output: 0.6, cache_read: 0.02, cache_write: 0.2,
    valid_from: `${await page.inputValue('#price-valid-from')}:00Z`,
  };
  await page.click('#price-preview');
  await page.waitForSelector('[data-table=price-preview]');
  const want = await send('POST', `/api/workspaces/${demo.ws}/prices/preview`, body, 200);
  assert.ok(want.delta_usd > 0, 'pricing unpriced tokens adds cost');
  assert.equal(Number(await page.getAttribute('.preview', 'data-delta')), want.delta_usd);
  const months = await page.$$eval('[data-table=price-preview] tbody tr', (trs) => trs.map((tr) => [tr.dataset.month, Number(tr.dataset.delta)]));
  assert.deepEqual(months, want.months.map((m) => [m.month, m.delta_usd]));
  await shot(page, 'prices-preview-desktop-light');

  await page.click('#price-save');
  const saved = await until(async () => (await get(`/api/workspaces/${demo.ws}/pricing`)).overrides.find((o) => o.model === model), 'the saved price');
  assert.equal(saved.valid_from, body.valid_from.replace(':00Z', ':00.000Z'));
  await page.waitForSelector(`[data-table=in-force] tr[data-model="${model}"][data-source=workspace]`);
  assert.ok(!(await unpricedModels(30)).includes(model), 'priced now');
  await open(page, '/usage?days=30', '30|UTC');
  assert.ok(!(await noticeModels(page)).includes(model), 'the notice no longer lists it');

  await open(page, '/prices');
  await page.click(`[data-table=overrides] tr[data-override-id="${saved.id}"] [data-action=delete]`);
  await page.click('.dialog [data-confirm=yes]');
  await page.waitForSelector(`tr[data-override-id="${saved.id}"]`, { state: 'detached' });
  assert.ok(!(await get(`/api/workspaces/${demo.ws}/pricing`)).overrides.some((o) => o.id === saved.id), 'deleted');
  await open(page, '/usage?days=30', '30|UTC');
  assert.ok((await noticeModels(page)).includes(model), 'unpriced again');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

/** Three past days of the ledger as a bill: one model mispriced, one missing, one unknown, one row split. */
async function fixtureBill() {
  const daily = await get(`/api/workspaces/${demo.ws}/usage/daily?days=10&tz=UTC`);
  const today = localDate('UTC');
  const dates = [addDays(today, -4), addDays(today, -3), addDays(today, -2)];
  const micros = new Map();
  for (const r of daily.filter((x) => dates.includes(x.date))) {
    const key = `${r.date}|${r.model}`;
    micros.set(key, (micros.get(key) || 0) + Math.round((r.cost_usd || 0) * 1e6));
  }
  const models = (d) => [...micros.keys()].filter((k) => k.startsWith(d)).map((k) => k.split('|')[1]).sort();
  const money = (m) => (m / 1e6).toFixed(6);
  const lines = ['Date,Model,Cost_USD,Note'];
  const [d1, d2, d3] = dates;
  for (const m of models(d1)) {
    const all = micros.get(`${d1}|${m}`);
    if (m === models(d1)[0]) lines.push(`${d1},${m},${money(Math.floor(all / 2))},first half`, `${d1},${m},${money(all - Math.floor(all / 2))},"second, half"`);
    else lines.push(`${d1},${m},${money(all)},`);
  }
  const mispriced = models(d2)[0];
  for (const m of models(d2)) lines.push(`${d2},${m},${money(micros.get(`${d2}|${m}`) * (m === mispriced ? 1.5 : 1) + (m === mispriced ? 1e6 : 0))},`);
  const missing = models(d3)[0];
  for (const m of models(d3).filter((x) => x !== missing)) lines.push(`${d3},${m},${money(micros.get(`${d3}|${m}`))},`);
  lines.push(`${d3},mystery-model,12.340000,not ours`);
  return { csv: `${lines.join('\n')}\n`, d1, d2, d3, mispriced, missing, split: models(d1)[0] };
}

async function reconcileApi(csv, query) {
  const res = await fetch(`${ORIGIN}/api/workspaces/${demo.ws}/usage/reconcile?${query}`, {
    method: 'POST', headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'text/csv' }, body: csv,
  });
  return { status: res.status, body: await res.json() };
}

async function upload(page, csv, { zone = 'UTC', tolerance = '1' } = {}) {
  await page.setInputFiles('#reconcile-file', { name: 'bill.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
  await page.selectOption('#reconcile-zone', zone);
  await page.fill('#reconcile-tolerance', tolerance);
  await page.click('#reconcile-form button[type=submit]');
}

test('a reconcile upload shows the rows the API flags, and a malformed bill\'s line and column', async () => {
  const bill = await fixtureBill();
  const { status, body: want } = await reconcileApi(bill.csv, 'tz=UTC&tolerance_pct=1');
  assert.equal(status, 200, JSON.stringify(want));
  const flaggedWant = want.rows.filter((r) => r.flagged);
  const keys = flaggedWant.map((r) => `${r.date}|${r.model}`);
  for (const k of [`${bill.d2}|${bill.mispriced}`, `${bill.d3}|${bill.missing}`, `${bill.d3}|mystery-model`]) assert.ok(keys.includes(k), `the fixture flags ${k}: ${keys}`);
  assert.ok(!keys.includes(`${bill.d1}|${bill.split}`), 'a split row sums to the ledger');

  const page = await newPage(browser, { allowStatuses: [400] });
  await signIn(page);
  await open(page, '/usage?days=30', '30|UTC');
  await upload(page, bill.csv);
  await page.waitForSelector('.reconcile-answer');
  const shown = await page.$$eval('[data-table=reconcile-flagged] tbody tr', (trs) => trs.map((tr) => ({
    key: `${tr.dataset.date}|${tr.dataset.model}`, diff: tr.querySelector('[data-diff]').dataset.diff, cells: [...tr.children].map((td) => td.textContent),
  })));
  assert.deepEqual(shown.map((r) => r.key), keys, 'the flagged rows, in the API\'s order');
  for (const [i, r] of flaggedWant.entries()) {
    assert.equal(shown[i].diff, String(r.cost_diff_usd ?? r.token_diff ?? ''), `${keys[i]} difference`);
    if (r.bill && r.bill.cost_usd !== null) assert.equal(shown[i].cells[2], usd(r.bill.cost_usd));
    if (r.ledger && r.ledger.cost_usd !== null) assert.equal(shown[i].cells[3], usd(r.ledger.cost_usd));
    if (!r.bill) assert.equal(shown[i].cells[2], 'missing');
    if (!r.ledger) assert.equal(shown[i].cells[3], 'missing');
  }
  for (const key of ['dates_only_in_bill', 'dates_only_in_ledger', 'models_only_in_bill', 'models_only_in_ledger']) {
    const el = await page.$(`[data-list=${key}]`);
    if (!want[key].length) assert.equal(el, null, key);
    else assert.ok((await el.textContent()).endsWith(want[key].join(', ')), `${key}: ${await el.textContent()}`);
  }
  assert.deepEqual(want.models_only_in_bill, ['mystery-model']);
  assert.match(await page.textContent('[data-list=duplicates]'), new RegExp(`${bill.d1} ${bill.split} \\(lines 2, 3\\)`));
  await shot(page, 'usage-reconcile-desktop-light');

  const bad = 'date,model,cost_usd\n2026-01-01,a,1.5\n2026-01-02,b,lots\n';
  const refused = await reconcileApi(bad, 'tz=UTC');
  assert.equal(refused.status, 400);
  assert.equal(refused.body.code, 'invalid_csv');
  await upload(page, bad);
  await page.waitForSelector('#reconcile-error:not([hidden])');
  assert.equal(await page.getAttribute('#reconcile-error', 'data-line'), String(refused.body.line));
  assert.equal(await page.getAttribute('#reconcile-error', 'data-column'), String(refused.body.column));
  assert.ok((await page.textContent('#reconcile-error')).includes(refused.body.error));
  assert.equal(await page.$('.reconcile-answer'), null, 'no stale answer under the error');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('screenshots: prices, reconciliation', async () => {
  await shootAll(browser, 'prices', '/prices');
  const bill = await fixtureBill();
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    const page = await newPage(browser, { viewport, scheme: 'dark' });
    await signIn(page);
    await open(page, '/usage?days=30', '30|UTC');
    await upload(page, bill.csv);
    await page.waitForSelector('.reconcile-answer');
    // The sticky header would cover the top of the panel in an element screenshot.
    await page.evaluate(() => { document.querySelector('header.top').style.position = 'static'; });
    await (await page.$('[data-panel=reconcile]')).screenshot({ path: path.join(SHOTS, `usage-reconcile-${size}-dark.png`) });
    assert.deepEqual(page.errors, []);
    await page.context().close();
  }
});
