// Retiring a demo runtime from its detail page: the strict delete answers with the active
// agents, the dialog shows the cascade plan behind a required checkbox; an agent added
// through the API meanwhile is caught (plan changed), re-rendered with the checkbox cleared;
// confirming again deletes the runtime.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { call, demoContext, get, launch, newPage, ORIGIN, send, shot, signIn, VIEWPORTS, waitReady } from '../lib.mjs';

let browser;
let demo;
let target;
before(async () => {
  browser = await launch();
  demo = await demoContext('UTC');
  const [runtimes, agents, squads] = await Promise.all([
    get(`/api/workspaces/${demo.ws}/runtimes`),
    get(`/api/workspaces/${demo.ws}/agents?include_archived=true`),
    get(`/api/workspaces/${demo.ws}/squads`),
  ]);
  const leads = (r) => squads.some((s) => !s.archived_at && agents.some((a) => a.id === s.leader_agent_id && a.runtime_id === r.id));
  target = runtimes.find((r) => !leads(r) && agents.some((a) => a.runtime_id === r.id && !a.archived_at));
  assert.ok(target, 'the demo has a runtime with active agents that leads no squad');
});
after(async () => { await browser.close(); });

const activeAgentIds = async (runtimeId) => (await get(`/api/workspaces/${demo.ws}/agents?runtime_id=${runtimeId}`)).map((a) => a.id).sort();
const listed = (page) => page.$$eval('.dialog .plan-agents li', (lis) => lis.map((li) => li.dataset.agentId).sort());

test('the cascade dialog catches a changed plan and deletes after confirmation', async () => {
  const page = await newPage(browser, { allowStatuses: [409] });
  await signIn(page);
  await page.goto(`${ORIGIN}/runtimes/${target.id}`);
  await waitReady(page);
  await page.click('#delete-runtime');
  await page.waitForSelector('.dialog #confirm-delete');
  if (target.status === 'online') assert.ok(await page.$('.dialog [data-warning="online"]'), 'online runtimes warn');
  await page.click('#confirm-delete');
  await page.waitForSelector('.dialog #cascade-confirm');
  const before = await activeAgentIds(target.id);
  assert.deepEqual(await listed(page), before, 'the plan lists the runtime\'s active agents');
  assert.equal(await page.isDisabled('#confirm-cascade'), true, 'confirming needs the checkbox');
  await shot(page, 'retire-plan-desktop-light');

  // Meanwhile someone adds an agent to the runtime.
  const added = await send('POST', `/api/workspaces/${demo.ws}/agents`, { name: 'added-meanwhile', runtime_id: target.id }, 201);
  await page.check('#cascade-confirm');
  await page.click('#confirm-cascade');
  await page.waitForSelector('.dialog [data-plan-changed]');
  assert.equal(await page.isChecked('#cascade-confirm'), false, 'the checkbox is cleared');
  assert.equal(await page.isDisabled('#confirm-cascade'), true);
  assert.deepEqual(await listed(page), [...before, added.id].sort(), 'the new plan includes the added agent');
  assert.match(await page.textContent('.dialog [data-plan-changed]'), /added-meanwhile/);
  assert.equal((await call('GET', `/api/runtimes/${target.id}`)).status, 200, 'nothing was deleted yet');
  await shot(page, 'retire-plan-changed-desktop-light');

  await page.check('#cascade-confirm');
  await page.click('#confirm-cascade');
  await page.waitForURL(`${ORIGIN}/runtimes`);
  await waitReady(page);
  assert.equal(await page.$(`tr.runtime[data-runtime-id="${target.id}"]`), null, 'gone from the list');
  assert.equal((await call('GET', `/api/runtimes/${target.id}`)).status, 404);
  const archived = await get(`/api/workspaces/${demo.ws}/agents?include_archived=true`);
  assert.ok(!archived.some((a) => a.runtime_id === target.id), 'its archived agents were deleted with it');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('screenshots: the retire dialog on a phone, light and dark', async () => {
  const runtimes = await get(`/api/workspaces/${demo.ws}/runtimes`);
  const agents = await get(`/api/workspaces/${demo.ws}/agents`);
  const withAgents = runtimes.find((r) => agents.some((a) => a.runtime_id === r.id));
  assert.ok(withAgents, 'a runtime with active agents is left');
  for (const scheme of ['light', 'dark']) {
    for (const [size, viewport] of Object.entries(VIEWPORTS)) {
      const page = await newPage(browser, { viewport, scheme, allowStatuses: [409] });
      await signIn(page);
      await page.goto(`${ORIGIN}/runtimes/${withAgents.id}`);
      await waitReady(page);
      await page.click('#delete-runtime');
      await page.click('#confirm-delete');
      await page.waitForSelector('.dialog #cascade-confirm, .dialog [data-blocked], .dialog .notice');
      await shot(page, `retire-dialog-${size}-${scheme}`);
      assert.deepEqual(page.errors, []);
      await page.context().close();
    }
  }
});
