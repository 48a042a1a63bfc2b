// The shell and the runtimes page against the seeded demo: sign-in via #token=, every
// runtime listed with the API's 7-day cost, a heartbeat bringing a runtime online updates the
// page without a reload, no console errors; page weight and time to first render recorded.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import {
  call, demoContext, get, launch, newPage, ORIGIN, send, shootAll, shot, signIn, SHOTS, sumUsd, TOKEN, usd,
} from '../lib.mjs';

let browser;
let demo;
before(async () => {
  browser = await launch();
  demo = await demoContext('UTC');
});
after(async () => { await browser.close(); });

test('sign-in by pasted token, then sign out', async () => {
  const page = await newPage(browser);
  await page.goto(`${ORIGIN}/runtimes`);
  await page.fill('#token', 'hgr_u_not-a-real-token');
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('.form-error:not([hidden])');
  await page.fill('#token', TOKEN);
  await page.click('form.signin button[type=submit]');
  await page.waitForSelector('.page[data-ready="true"]');
  assert.equal(await page.evaluate(() => localStorage.getItem('hangar.token')), TOKEN);
  await page.click('#signout');
  await page.waitForSelector('#token');
  assert.equal(await page.evaluate(() => localStorage.getItem('hangar.token')), null);
  assert.deepEqual(page.errors.filter((e) => !e.includes('status of 401')), []);
  await page.context().close();
});

test('runtimes are listed by machine with the API 7-day costs', async () => {
  const page = await newPage(browser);
  await signIn(page);
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  assert.ok(runtimes.length >= 3, 'the demo has 3+ runtimes');
  const machines = new Set(runtimes.map((r) => r.daemon_id));
  assert.ok(machines.size >= 2, 'on 2+ machines');
  const week = await get(`/api/workspaces/${demo.ws}/usage/by-runtime?days=7&tz=UTC`);
  const fortnight = await get(`/api/workspaces/${demo.ws}/usage/by-runtime?days=14&tz=UTC`);
  const rows = await page.$$eval('tr.runtime', (trs) => trs.map((tr) => ({
    id: tr.dataset.runtimeId,
    daemon: tr.closest('tbody').dataset.daemonId,
    status: tr.dataset.status,
    cost: tr.querySelector('.cost [data-cost]').dataset.cost,
    costText: tr.querySelector('.cost').textContent,
    agents: tr.querySelector('.agents').textContent,
  })));
  assert.deepEqual(rows.map((r) => r.id).sort(), runtimes.map((r) => r.id).sort());
  const agents = await get(`/api/workspaces/${demo.ws}/agents`);
  let priced = 0;
  for (const r of runtimes) {
    const row = rows.find((x) => x.id === r.id);
    assert.equal(row.daemon, r.daemon_id || '', `${r.name} grouped under its machine`);
    assert.equal(row.status, r.status);
    assert.equal(Number(row.agents), agents.filter((a) => a.runtime_id === r.id).length, `${r.name} agent count`);
    const apiRow = week.find((w) => w.runtime_id === r.id);
    if (!apiRow) {
      assert.equal(row.cost, '0', `${r.name} has no usage this week`);
      continue;
    }
    if (apiRow.cost_usd === null) {
      assert.equal(row.cost, '', `${r.name} unpriced`);
      assert.match(row.costText, /unpriced/);
      continue;
    }
    priced += 1;
    assert.equal(Number(row.cost), apiRow.cost_usd, `${r.name} 7-day cost`);
    assert.ok(row.costText.includes(usd(apiRow.cost_usd)), `${r.name} shows ${usd(apiRow.cost_usd)}: ${row.costText}`);
    if (apiRow.unpriced_tokens > 0) assert.match(row.costText, /unpriced/);
    const prev = sumUsd([fortnight.find((f) => f.runtime_id === r.id)?.cost_usd, -apiRow.cost_usd]);
    if (prev > 0) {
      const pct = ((apiRow.cost_usd - prev) / prev) * 100;
      const rounded = Math.abs(pct) < 10 ? Math.round(pct * 10) / 10 : Math.round(pct);
      if (rounded !== 0) assert.ok(row.costText.includes(`${Math.abs(rounded)}%`), `${r.name} change ${rounded}%: ${row.costText}`);
    }
  }
  assert.ok(priced >= 2, 'several runtimes have a priced 7-day cost');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('filters and search narrow the list', async () => {
  const page = await newPage(browser);
  await signIn(page);
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  const count = () => page.$$eval('tr.runtime', (trs) => trs.length);
  await page.click('.seg[aria-label=Status] button[data-value=offline]');
  assert.equal(await count(), runtimes.filter((r) => r.status === 'offline').length);
  await page.click('.seg[aria-label=Status] button[data-value=all]');
  await page.click('.seg[aria-label=Owner] button[data-value=mine]');
  assert.equal(await count(), runtimes.filter((r) => r.owner_id === demo.me.id).length);
  await page.click('.seg[aria-label=Owner] button[data-value=all]');
  const target = runtimes[runtimes.length - 1];
  await page.fill('#runtime-search', target.daemon_id);
  assert.equal(await count(), runtimes.filter((r) => r.daemon_id === target.daemon_id).length);
  assert.match(page.url(), /q=/);
  await page.fill('#runtime-search', 'no-such-runtime-anywhere');
  await page.waitForSelector('.empty');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a heartbeat brings a runtime online without a reload', async () => {
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  const target = runtimes.find((r) => r.status === 'offline' && r.owner_id === demo.me.id);
  assert.ok(target, 'the demo has an offline runtime owned by the demo user');
  const daemon = await send('POST', `/api/workspaces/${demo.ws}/daemon-tokens`, { name: 'ui-test heartbeat' }, 201);
  const page = await newPage(browser);
  await signIn(page);
  await page.waitForSelector('body[data-live="live"]');
  const row = `tr.runtime[data-runtime-id="${target.id}"]`;
  assert.equal(await page.getAttribute(row, 'data-status'), 'offline');
  await page.evaluate(() => { window.__sameDocument = true; });
  const beat = await call('POST', '/api/daemon/heartbeat', { runtime_ids: [target.id] }, daemon.token);
  assert.equal(beat.status, 200, beat.text);
  assert.deepEqual(beat.body.runtimes, [{ id: target.id, status: 'online' }]);
  await page.waitForSelector(`${row}[data-status="online"]`, { timeout: 10000 });
  assert.equal(await page.evaluate(() => window.__sameDocument), true, 'no reload happened');
  assert.match(await page.textContent(`${row} .seen`), /just now/);
  await shot(page, 'runtimes-after-heartbeat');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('page weight and time to first render of the runtimes page', async () => {
  const page = await newPage(browser);
  await signIn(page);
  const samples = [];
  for (let i = 0; i < 5; i += 1) {
    await page.reload();
    await page.waitForSelector('.page[data-ready="true"]');
    samples.push(await page.evaluate(() => {
      const mark = performance.getEntriesByName('hangar:runtimes-rendered')[0];
      const paint = performance.getEntriesByName('first-contentful-paint')[0];
      const resources = performance.getEntriesByType('resource');
      const nav = performance.getEntriesByType('navigation')[0];
      const isApi = (r) => new URL(r.name).pathname.startsWith('/api/');
      const bytes = (list) => list.reduce((sum, r) => sum + (r.encodedBodySize || 0), 0);
      return {
        rendered_ms: mark.startTime,
        first_contentful_paint_ms: paint ? paint.startTime : null,
        asset_bytes: nav.encodedBodySize + bytes(resources.filter((r) => !isApi(r) && !r.name.includes('/events/stream'))),
        api_bytes: bytes(resources.filter((r) => isApi(r) && !r.name.includes('/events/stream'))),
        requests: resources.length + 1,
      };
    }));
  }
  const median = (k) => [...samples.map((s) => s[k])].sort((a, b) => a - b)[2];
  const metrics = {
    runtimes_first_render_ms_median: Math.round(median('rendered_ms')),
    first_contentful_paint_ms_median: Math.round(median('first_contentful_paint_ms')),
    page_weight_kb: Math.round(samples[0].asset_bytes / 102.4) / 10,
    api_data_kb: Math.round(samples[0].api_bytes / 102.4) / 10,
    requests: samples[0].requests,
  };
  fs.writeFileSync(path.join(SHOTS, 'metrics-runtimes.json'), `${JSON.stringify(metrics, null, 2)}\n`);
  console.log('runtimes page:', JSON.stringify(metrics));
  assert.ok(metrics.runtimes_first_render_ms_median < 3000, 'renders within 3 s');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('screenshots: sign-in, runtimes, connect', async () => {
  for (const scheme of ['light', 'dark']) {
    for (const [size, viewport] of Object.entries({ desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } })) {
      const page = await newPage(browser, { viewport, scheme });
      await page.goto(`${ORIGIN}/`);
      await page.waitForSelector('#token');
      await shot(page, `signin-${size}-${scheme}`);
      await page.context().close();
    }
  }
  await shootAll(browser, 'runtimes', '/runtimes');
  await shootAll(browser, 'connect', '/connect');
});
