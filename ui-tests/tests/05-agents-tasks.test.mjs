// Agents, tasks and autopilots pages: an agent created on a usable runtime, archived and
// restored; a task queued and cancelled; an autopilot paused and resumed.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { demoContext, get, launch, newPage, ORIGIN, shootAll, signIn, waitReady } from '../lib.mjs';

let browser;
let demo;
before(async () => {
  browser = await launch();
  demo = await demoContext('UTC');
});
after(async () => { await browser.close(); });

test('an agent is created on a usable runtime, archived and restored', async () => {
  const page = await newPage(browser);
  await signIn(page);
  await page.goto(`${ORIGIN}/agents`);
  await waitReady(page);
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  const offered = await page.$$eval('#agent-runtime option', (os) => os.map((o) => o.value));
  // The demo user owns the workspace, so every runtime is usable.
  assert.deepEqual(offered.sort(), runtimes.map((r) => r.id).sort());
  const name = `ui-agent-${Date.now()}`;
  await page.fill('#agent-name', name);
  await page.selectOption('#agent-runtime', offered[0]);
  await page.fill('#agent-description', 'made by the browser test');
  await page.click('#new-agent button[type=submit]');
  const created = await (async () => {
    for (let i = 0; i < 50; i += 1) {
      const found = (await get(`/api/workspaces/${demo.ws}/agents`)).find((a) => a.name === name);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  })();
  assert.ok(created, 'the agent exists');
  assert.equal(created.runtime_id, offered[0]);
  const row = `tr[data-agent-id="${created.id}"]`;
  await page.waitForSelector(row);

  await page.click(`${row} [data-action=archive]`);
  await page.click('.dialog [data-confirm=yes]');
  await page.waitForSelector(row, { state: 'detached' });
  assert.ok((await get(`/api/agents/${created.id}`)).archived_at, 'archived');
  await page.click('.seg[aria-label="Which agents"] button[data-value=all]');
  await page.waitForSelector(`${row}[data-archived="true"]`);
  await page.click(`${row} [data-action=restore]`);
  await page.waitForSelector(`${row}[data-archived="false"]`);
  assert.equal((await get(`/api/agents/${created.id}`)).archived_at, null, 'restored');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('a task is queued and cancelled; an autopilot paused and resumed', async () => {
  const page = await newPage(browser);
  await signIn(page);
  await page.goto(`${ORIGIN}/tasks`);
  await waitReady(page);
  const prompt = `ui test task ${Date.now()}`;
  await page.fill('#new-task-prompt', prompt);
  await page.click('#new-task button[type=submit]');
  const task = await (async () => {
    for (let i = 0; i < 50; i += 1) {
      const found = (await get(`/api/workspaces/${demo.ws}/tasks?status=queued&limit=200`)).find((t) => t.prompt === prompt);
      if (found) return found;
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  })();
  assert.ok(task, 'the task was queued');
  const row = `tr[data-task-id="${task.id}"]`;
  await page.waitForSelector(`${row}[data-status=queued]`);
  await page.click(`${row} [data-action=cancel]`);
  await page.waitForSelector(`${row}[data-status=cancelled]`);
  assert.equal((await get(`/api/tasks/${task.id}`)).status, 'cancelled');

  await page.goto(`${ORIGIN}/autopilots`);
  await waitReady(page);
  const autopilots = await get(`/api/workspaces/${demo.ws}/autopilots`);
  const active = autopilots.find((a) => a.status === 'active');
  assert.ok(active, 'the demo has an active autopilot');
  const ap = `tr[data-autopilot-id="${active.id}"]`;
  await page.click(`${ap} [data-action=pause]`);
  await page.waitForSelector(`${ap}[data-status=paused]`);
  assert.equal((await get(`/api/workspaces/${demo.ws}/autopilots`)).find((a) => a.id === active.id).status, 'paused');
  await page.click(`${ap} [data-action=resume]`);
  await page.waitForSelector(`${ap}[data-status=active]`);
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('screenshots: agents, tasks, autopilots', async () => {
  await shootAll(browser, 'agents', '/agents');
  await shootAll(browser, 'tasks', '/tasks');
  await shootAll(browser, 'autopilots', '/autopilots');
});
