// Shared helpers of the browser tests: the demo server's URL and token (from HANGAR_URL, the
// line `hangar demo` prints), an API client, Chromium launched from Debian's package, pages
// that record console errors, screenshots, and the UI's own money/date rules for comparing.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const loginUrl = process.env.HANGAR_URL;
if (!loginUrl) throw new Error('HANGAR_URL (the URL printed by `hangar demo`) is not set');
const parsed = new URL(loginUrl);
export const ORIGIN = parsed.origin;
export const TOKEN = decodeURIComponent(/token=([^&]+)/.exec(parsed.hash)[1]);
export const SHOTS = process.env.SCREENSHOT_DIR || path.resolve('../target/screenshots');
fs.mkdirSync(SHOTS, { recursive: true });

export const VIEWPORTS = { desktop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

/** Calls the API; returns {status, body, text, headers}. */
export async function call(method, urlPath, body, token = TOKEN, extraHeaders = {}) {
  const res = await fetch(ORIGIN + urlPath, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }), ...extraHeaders },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: res.status, body: json, text, headers: res.headers };
}

/** GET that must answer 200; returns the JSON body. */
export async function get(urlPath, token = TOKEN) {
  const r = await call('GET', urlPath, undefined, token);
  assert.equal(r.status, 200, `GET ${urlPath} → ${r.status} ${r.text}`);
  return r.body;
}

/** GET that must answer 200; returns the body as text (for CSV). */
export async function text(urlPath, token = TOKEN) {
  const r = await call('GET', urlPath, undefined, token);
  assert.equal(r.status, 200, `GET ${urlPath} → ${r.status} ${r.text}`);
  return r.text;
}

export async function send(method, urlPath, body, expected, token = TOKEN) {
  const r = await call(method, urlPath, body, token);
  assert.equal(r.status, expected, `${method} ${urlPath} → ${r.status} ${r.text}`);
  return r.body;
}

/** The demo owner's profile and workspace; sets the owner's zone so every test starts in UTC. */
export async function demoContext(zone = 'UTC') {
  const me = await send('PATCH', '/api/me', { timezone: zone }, 200);
  return { me, ws: me.workspaces[0].id };
}

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
}

/**
 * A new page that records console errors and page errors in `page.errors`. Failed-resource
 * messages for statuses listed in `allowStatuses` (e.g. an expected 409) are not errors.
 */
export async function newPage(browser, { viewport = VIEWPORTS.desktop, scheme = 'light', allowStatuses = [] } = {}) {
  const context = await browser.newContext({ viewport, colorScheme: scheme, acceptDownloads: true });
  const page = await context.newPage();
  page.errors = [];
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const text = msg.text();
    if (allowStatuses.some((s) => text.includes(`status of ${s}`))) return;
    page.errors.push(`console: ${text} @ ${msg.location().url}`);
  });
  page.on('pageerror', (e) => page.errors.push(`pageerror: ${e.message}`));
  return page;
}

/** Signs in through #token= and waits for the runtimes page. */
export async function signIn(page, pathAfter = '/runtimes') {
  await page.goto(`${ORIGIN}${pathAfter}#token=${encodeURIComponent(TOKEN)}`);
  await page.waitForSelector('.page[data-ready]:not([data-ready=""])', { timeout: 20000 });
  assert.ok(!page.url().includes('token='), `the token must leave the address bar: ${page.url()}`);
}

/** Opens `urlPath` (already signed in) and waits until its page says it is ready. */
export async function open(page, urlPath, ready = '') {
  await page.goto(ORIGIN + urlPath);
  await waitReady(page, ready);
}

export async function waitReady(page, ready = '') {
  const selector = ready ? `.page[data-ready="${ready}"]` : '.page[data-ready]:not([data-ready=""])';
  await page.waitForSelector(selector, { timeout: 20000 });
}

export async function shot(page, name) {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage: true });
}

/** Screenshots `urlPath` at desktop and phone widths, light and dark. */
export async function shootAll(browser, name, urlPath, { ready = '', before } = {}) {
  for (const [size, viewport] of Object.entries(VIEWPORTS)) {
    for (const scheme of ['light', 'dark']) {
      const page = await newPage(browser, { viewport, scheme });
      await signIn(page);
      if (urlPath !== '/runtimes') await open(page, urlPath, ready);
      if (before) await before(page);
      await page.waitForTimeout(150);
      await shot(page, `${name}-${size}-${scheme}`);
      assert.deepEqual(page.errors, [], `console errors on ${urlPath}`);
      await page.context().close();
    }
  }
}

/** The UI's money rule: $x.xx with thousands separators, half away from zero. */
export function usd(value) {
  const micros = Math.round(Math.abs(value) * 1e6);
  const cents = Math.floor((micros + 5000) / 10000);
  const grouped = new Intl.NumberFormat('en-US').format(Math.floor(cents / 100));
  return `${value < 0 && cents > 0 ? '-' : ''}$${grouped}.${String(cents % 100).padStart(2, '0')}`;
}

/** Sums dollar values exactly in micro-dollars; null when none is priced. */
export function sumUsd(values) {
  let micros = 0;
  let any = false;
  for (const v of values) {
    if (v === null || v === undefined) continue;
    any = true;
    micros += Math.round(v * 1e6);
  }
  return any ? micros / 1e6 : null;
}

export function localDate(zone, instant = Date.now()) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' })
    .formatToParts(new Date(instant));
  const part = (t) => parts.find((p) => p.type === t).value;
  return `${part('year')}-${part('month')}-${part('day')}`;
}

export function addDays(date, n) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Asserts two dollar amounts are the same to the micro-dollar. */
export function sameUsd(actual, expected, what) {
  assert.equal(Math.round(Number(actual) * 1e6), Math.round(Number(expected) * 1e6), `${what}: ${actual} ≠ ${expected}`);
}

/** Polls `fn` every 100 ms until it returns a truthy value (returned) or `ms` pass (throws). */
export async function until(fn, what, ms = 10000) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The budgets UI's percentage rule: rounded down, `decimals` places, then " %". */
export function percentText(percent, decimals = 0) {
  const scale = 10 ** decimals;
  return `${(Math.floor(percent * scale + 1e-9) / scale).toFixed(decimals)} %`;
}

/** The UI's date-time rule: "29 Nov 2026, 14:05" in `zone`. */
export function dateTime(iso, zone) {
  return new Intl.DateTimeFormat('en-GB', {
    timeZone: zone, day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(new Date(iso));
}
