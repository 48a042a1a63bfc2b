// The runtime detail page against the API: KPIs, the daily chart, the heatmap, by hour,
// activity and the by-agent table equal the reports for the chosen range; switching the zone
// UTC → Asia/Kathmandu re-buckets exactly as the API does; CSV downloads match.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import {
  addDays, demoContext, get, text, launch, localDate, newPage, ORIGIN, sameUsd, shootAll, shot, signIn, SHOTS, sumUsd, waitReady,
} from '../lib.mjs';

let browser;
let demo;
let runtime;
before(async () => {
  browser = await launch();
  demo = await demoContext('UTC');
  const top = await get(`/api/workspaces/${demo.ws}/usage/by-runtime?days=90&tz=UTC`);
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  runtime = runtimes.find((r) => r.id === top.find((t) => runtimes.some((x) => x.id === t.runtime_id)).runtime_id);
});
beforeEach(async () => { await demoContext('UTC'); });
after(async () => { await browser.close(); });

/** What the page should show for `range` days in `tz`, computed straight from the reports. */
async function expected(id, range, tz) {
  const q = (days) => `days=${days}&tz=${encodeURIComponent(tz)}`;
  const daily = await get(`/api/runtimes/${id}/usage?${q(Math.max(2 * range, 181))}`);
  const today = localDate(tz);
  const first = addDays(today, -(range - 1));
  const prevFirst = addDays(first, -range);
  const inWindow = daily.filter((r) => r.date >= first && r.date <= today);
  const inPrev = daily.filter((r) => r.date >= prevFirst && r.date < first);
  const cells = new Map();
  for (const r of inWindow) if (r.cost_usd) cells.set(`${r.date}|${r.provider}/${r.model}`, r.cost_usd);
  const perDay = new Map();
  for (const r of daily) {
    if (!perDay.has(r.date)) perDay.set(r.date, []);
    perDay.get(r.date).push(r);
  }
  const byHour = await get(`/api/runtimes/${id}/usage/by-hour?${q(range - 1)}`);
  const hourCells = new Map();
  for (const r of byHour) {
    const key = `${r.hour}|${r.provider ? `${r.provider}/${r.model}` : r.model}`;
    if (r.cost_usd) hourCells.set(key, sumUsd([hourCells.get(key), r.cost_usd]));
  }
  const activity = await get(`/api/runtimes/${id}/activity?${q(range - 1)}`);
  const byAgent = await get(`/api/runtimes/${id}/usage/by-agent?${q(range - 1)}`);
  const agentCost = new Map();
  for (const r of byAgent) agentCost.set(r.agent_id, sumUsd([agentCost.get(r.agent_id), r.cost_usd]));
  return {
    cells, perDay, hourCells, activity, agentCost,
    cost: sumUsd(inWindow.map((r) => r.cost_usd)),
    prevCost: sumUsd(inPrev.map((r) => r.cost_usd)),
    input: inWindow.reduce((s, r) => s + r.input_tokens, 0),
    output: inWindow.reduce((s, r) => s + r.output_tokens, 0),
    savings: sumUsd(inWindow.map((r) => r.cache_savings_usd)) || 0,
    dayTotals: new Map([...perDay.entries()].filter(([d]) => d >= first).map(([d, rows]) => [d, sumUsd(rows.map((r) => r.cost_usd))])),
  };
}

async function shown(page) {
  return page.evaluate(() => {
    const rects = (chart, cls) => [...document.querySelectorAll(`[data-chart="${chart}"] rect.${cls}`)];
    const kpi = (name) => document.querySelector(`[data-kpi="${name}"]`).dataset;
    return {
      cells: rects('daily', 'bar').map((r) => [`${r.dataset.cat}|${r.dataset.series}`, Number(r.dataset.value)]),
      heat: rects('heatmap', 'cell').map((r) => [r.dataset.date, r.dataset.value]),
      hours: rects('by-hour', 'bar').map((r) => [`${r.dataset.cat}|${r.dataset.series}`, Number(r.dataset.value)]),
      activity: rects('activity', 'bar').map((r) => [Number(r.dataset.cat), Number(r.dataset.value)]),
      agents: [...document.querySelectorAll('[data-table="by-agent"] tr[data-agent-id]')]
        .map((tr) => [tr.dataset.agentId, tr.querySelector('[data-cost]').dataset.cost]),
      kpis: Object.fromEntries(['cost', 'input', 'output', 'savings'].map((k) => [k, [kpi(k).value, kpi(k).prev]])),
    };
  });
}

function compare(seen, want, label) {
  sameUsd(seen.kpis.cost[0], want.cost, `${label} KPI cost`);
  sameUsd(seen.kpis.cost[1], want.prevCost, `${label} KPI previous cost`);
  assert.equal(Number(seen.kpis.input[0]), want.input, `${label} KPI tokens in`);
  assert.equal(Number(seen.kpis.output[0]), want.output, `${label} KPI tokens out`);
  sameUsd(seen.kpis.savings[0], want.savings, `${label} KPI cache savings`);
  assert.deepEqual(new Map(seen.cells), want.cells, `${label} daily chart bars`);
  for (const [date, value] of seen.heat) {
    const rows = want.perDay.get(date);
    if (!rows) { assert.equal(value, '0', `${label} heatmap ${date} empty`); continue; }
    const total = sumUsd(rows.map((r) => r.cost_usd));
    if (total === null) assert.equal(value, '', `${label} heatmap ${date} unpriced`);
    else sameUsd(value, total, `${label} heatmap ${date}`);
  }
  assert.deepEqual(new Map(seen.hours), want.hourCells, `${label} by-hour bars`);
  assert.deepEqual(new Map(seen.activity.filter(([, v]) => v > 0)), new Map(want.activity.map((r) => [r.hour, r.count])), `${label} activity`);
  assert.equal(seen.agents.length, want.agentCost.size, `${label} by-agent rows`);
  for (const [agent, cost] of seen.agents) {
    const w = want.agentCost.get(agent);
    if (w === null) assert.equal(cost, '');
    else sameUsd(cost, w, `${label} agent ${agent}`);
  }
}

async function download(page, selector) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return fs.readFileSync(await file.path(), 'utf8');
}

test('detail page equals the reports, re-buckets on a zone switch, and its CSVs match', async () => {
  const page = await newPage(browser);
  await signIn(page);
  await page.goto(`${ORIGIN}/runtimes/${runtime.id}?range=30`);
  await waitReady(page, '30|UTC|cost');
  const utc = await expected(runtime.id, 30, 'UTC');
  assert.ok(utc.cells.size > 10, 'the demo runtime has a month of usage');
  compare(await shown(page), utc, 'UTC');
  assert.match(await page.textContent('[data-kpi="cost"] .value'), /^\$[\d,]+\.\d\d/);

  await page.selectOption('#detail-zone', 'Asia/Kathmandu');
  await waitReady(page, '30|Asia/Kathmandu|cost');
  const ktm = await expected(runtime.id, 30, 'Asia/Kathmandu');
  compare(await shown(page), ktm, 'Asia/Kathmandu');
  const moved = [...ktm.dayTotals.keys()].filter((d) => utc.dayTotals.has(d) && ktm.dayTotals.get(d) !== utc.dayTotals.get(d));
  assert.ok(moved.length > 0, 'switching to +05:45 moves usage between days');
  assert.equal((await get('/api/me')).timezone, 'Asia/Kathmandu', 'the zone is saved to the profile');
  await shot(page, 'runtime-detail-kathmandu');

  const tz = encodeURIComponent('Asia/Kathmandu');
  const byAgentCsv = await download(page, '[data-csv$="-by-agent.csv"]');
  assert.equal(byAgentCsv, await text(`/api/runtimes/${runtime.id}/usage/by-agent?days=29&tz=${tz}&format=csv`), 'by-agent CSV is the API\'s');
  const dailyCsv = await download(page, '[data-csv$="-daily.csv"]');
  assert.equal(dailyCsv, await text(`/api/runtimes/${runtime.id}/usage?days=29&tz=${tz}&format=csv`), 'daily CSV is the API\'s');
  const modelCsv = (await download(page, '[data-csv$="-by-model.csv"]')).trim().split('\r\n').map((l) => l.split(','));
  assert.deepEqual(modelCsv[0], ['provider', 'model', 'input_tokens', 'output_tokens', 'cache_read_tokens', 'cache_write_tokens', 'cache_savings_usd', 'cost_usd', 'unpriced_tokens']);
  const perModel = new Map();
  for (const [key, cost] of ktm.cells) {
    const model = key.split('|')[1];
    perModel.set(model, sumUsd([perModel.get(model), cost]));
  }
  for (const line of modelCsv.slice(1)) {
    const want = perModel.get(`${line[0]}/${line[1]}`);
    if (want === undefined || want === null) assert.ok(line[7] === '' || Number(line[7]) === 0, `unpriced model ${line[1]}`);
    else sameUsd(line[7], want, `by-model CSV ${line[1]}`);
  }
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('an unpriced model is flagged, never shown as $0', async () => {
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  const week = await get(`/api/workspaces/${demo.ws}/usage/by-runtime?days=30&tz=UTC`);
  const unpriced = runtimes.find((r) => week.some((w) => w.runtime_id === r.id && w.unpriced_tokens > 0));
  assert.ok(unpriced, 'the demo has a runtime using an unpriced model');
  const page = await newPage(browser);
  await signIn(page);
  await page.goto(`${ORIGIN}/runtimes/${unpriced.id}?range=30`);
  await waitReady(page, '30|UTC|cost');
  const costs = await page.$$eval('[data-table="by-model"] tbody tr', (trs) => trs.map((tr) => {
    const cell = tr.lastElementChild;
    return { cost: cell.querySelector('[data-cost]').dataset.cost, text: cell.textContent };
  }));
  const unpricedRows = costs.filter((c) => c.cost === '');
  assert.ok(unpricedRows.length > 0, 'a model without a price has no cost');
  assert.ok(unpricedRows.every((c) => c.text.trim() === 'unpriced'), 'it reads "unpriced", never $0.00');
  assert.match(await page.textContent('[data-chart="daily"] + .legend, .legend'), /\(unpriced\)/);
  const modelCsv = (await download(page, '[data-csv$="-by-model.csv"]')).trim().split('\r\n').map((l) => l.split(','));
  assert.ok(modelCsv.slice(1).some((l) => l[7] === '' && Number(l[8]) > 0), 'the CSV leaves its cost empty and counts its tokens');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('ranges 7 and 180 equal the reports; 180 days renders fast', async () => {
  const page = await newPage(browser);
  await signIn(page);
  await page.goto(`${ORIGIN}/runtimes/${runtime.id}?range=7`);
  await waitReady(page, '7|UTC|cost');
  compare(await shown(page), await expected(runtime.id, 7, 'UTC'), '7 days');
  const timings = [];
  for (let i = 0; i < 3; i += 1) {
    await page.goto(`${ORIGIN}/runtimes/${runtime.id}?range=180`);
    await waitReady(page, '180|UTC|cost');
    timings.push(await page.evaluate(() => performance.getEntriesByName('hangar:runtime-rendered')[0].startTime));
  }
  compare(await shown(page), await expected(runtime.id, 180, 'UTC'), '180 days');
  const ms = Math.round([...timings].sort((a, b) => a - b)[1]);
  fs.writeFileSync(path.join(SHOTS, 'metrics-detail.json'), `${JSON.stringify({ detail_180d_first_render_ms_median: ms }, null, 2)}\n`);
  console.log(`runtime detail, 180 days: first render ${ms} ms (median of 3)`);
  await page.click('.seg[aria-label="Chart metric"] button[data-value=tokens]');
  await waitReady(page, '180|UTC|tokens');
  assert.ok((await page.$$('[data-chart="daily"] rect.bar')).length > 0);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('screenshots: runtime detail', async () => {
  await shootAll(browser, 'runtime-detail', `/runtimes/${runtime.id}?range=90`, { ready: '90|UTC|cost' });
});
