// The workspace usage dashboard against the reports: totals, the daily chart, the per-model
// summary, and top runtimes with the deleted one labelled (the retire test deleted one).

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { demoContext, get, launch, newPage, ORIGIN, sameUsd, shootAll, signIn, sumUsd, usd, waitReady } from '../lib.mjs';

let browser;
let demo;
before(async () => {
  browser = await launch();
  demo = await demoContext('UTC');
});
after(async () => { await browser.close(); });

for (const days of [1, 7, 30, 90]) {
  test(`dashboard totals equal the API's over ${days} day(s)`, async () => {
    const page = await newPage(browser);
    await signIn(page);
    await page.goto(`${ORIGIN}/usage?days=${days}`);
    await waitReady(page, `${days}|UTC`);
    const q = `days=${days}&tz=UTC`;
    const [summary, daily, byRuntime, runtimes] = await Promise.all([
      get(`/api/workspaces/${demo.ws}/usage/summary?${q}`),
      get(`/api/workspaces/${demo.ws}/usage/daily?${q}`),
      get(`/api/workspaces/${demo.ws}/usage/by-runtime?${q}`),
      get(`/api/workspaces/${demo.ws}/runtimes`),
    ]);
    const total = sumUsd(summary.map((r) => r.cost_usd));
    const kpi = await page.$eval('[data-kpi="cost"]', (el) => ({ value: el.dataset.value, text: el.textContent }));
    sameUsd(kpi.value, total, 'total cost');
    assert.ok(kpi.text.includes(usd(total)), `shows ${usd(total)}: ${kpi.text}`);
    if (summary.some((r) => r.unpriced_tokens > 0)) assert.match(kpi.text, /unpriced/);
    const input = summary.reduce((s, r) => s + r.total_input_tokens, 0);
    assert.equal(Number(await page.getAttribute('[data-kpi="input"]', 'data-value')), input);
    // Per-row rounding may make the two views differ by up to half a micro-dollar per row.
    const drift = Math.abs(Math.round(sumUsd(daily.map((r) => r.cost_usd)) * 1e6) - Math.round(total * 1e6));
    assert.ok(drift <= daily.length + summary.length, `daily and summary agree within rounding (${drift} µ$)`);
    const bars = await page.$$eval('[data-chart="ws-daily"] rect.bar', (rs) => rs.map((r) => [`${r.dataset.cat}|${r.dataset.series}`, Number(r.dataset.value)]));
    assert.deepEqual(new Map(bars), new Map(daily.filter((r) => r.cost_usd).map((r) => [`${r.date}|${r.model}`, r.cost_usd])));
    const models = await page.$$eval('[data-table="summary"] tbody tr[data-model]', (trs) => trs.map((tr) => [tr.dataset.model, tr.querySelector('[data-cost]').dataset.cost]));
    assert.deepEqual(models.map(([m]) => m), summary.map((r) => r.model));
    for (const [model, cost] of models) {
      const want = summary.find((r) => r.model === model).cost_usd;
      if (want === null) assert.equal(cost, '', `${model} is unpriced, not $0`);
      else sameUsd(cost, want, model);
    }
    const top = await page.$$eval('[data-table="top-runtimes"] tbody tr[data-runtime-id]', (trs) => trs.map((tr) => ({
      id: tr.dataset.runtimeId, deleted: Boolean(tr.querySelector('.badge.deleted')), cost: tr.querySelector('[data-cost]').dataset.cost,
    })));
    assert.deepEqual(top.map((t) => t.id), byRuntime.slice(0, 10).map((r) => r.runtime_id));
    for (const t of top) {
      assert.equal(t.deleted, !runtimes.some((r) => r.id === t.id), `runtime ${t.id} deleted label`);
      const want = byRuntime.find((r) => r.runtime_id === t.id).cost_usd;
      if (want !== null) sameUsd(t.cost, want, `runtime ${t.id}`);
    }
    if (days >= 30) assert.ok(top.some((t) => t.deleted), 'the runtime deleted earlier is still counted, labelled deleted');
    assert.deepEqual(page.errors, []);
    await page.context().close();
  });
}

test('screenshots: usage dashboard', async () => {
  await shootAll(browser, 'usage', '/usage?days=30', { ready: '30|UTC' });
});
