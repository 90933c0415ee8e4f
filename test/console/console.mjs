// Drives the voicehook web console in Chromium: places a call from the
// calls list, watches it live, opens its ladder, reads and replays the
// answer webhook, and checks the page fits a 400 px window.
//
//   VH_URL=http://127.0.0.1:18080 VH_ARTIFACTS=/tmp/console-artifacts node console.mjs
//
// Each step prints one JSON line. Any browser console error or page error
// fails the run.

import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const base = (process.env.VH_URL ?? '').replace(/\/+$/, '');
const artifacts = process.env.VH_ARTIFACTS;
if (!base || !artifacts) {
  console.error('console.mjs: set VH_URL (the server, e.g. http://127.0.0.1:18080) and VH_ARTIFACTS (a directory for screenshots)');
  process.exit(2);
}
fs.mkdirSync(artifacts, { recursive: true });

const STEP_TIMEOUT = 20_000;
const step = (obj) => console.log(JSON.stringify(obj));

let browser;
const problems = []; // browser console errors and page errors
// failed rejects at the first problem, so the run stops there.
let fail;
const failed = new Promise((_, reject) => { fail = reject; });
const report = (what) => {
  problems.push(what);
  fail(new Error(`the browser reported errors:\n  ${problems.join('\n  ')}`));
};

async function main() {
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox'] });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('console', (msg) => {
    if (msg.type() === 'error') {
      const loc = msg.location();
      report(`console error: ${msg.text()}${loc?.url ? ` (${loc.url}${loc.lineNumber ? `:${loc.lineNumber}` : ''})` : ''}`);
    }
  });
  page.on('pageerror', (err) => report(`page error: ${err.stack || err.message}`));
  const check = () => {
    if (problems.length) throw new Error(`the browser reported errors:\n  ${problems.join('\n  ')}`);
  };

  // 1. The calls list loads.
  await page.goto(`${base}/`);
  await page.locator('[data-testid="calls-list"][data-loaded="true"]').waitFor();
  if ((await page.title()) !== 'voicehook console') throw new Error(`page title is ${JSON.stringify(await page.title())}`);
  // The live stream is up, and a marker that a reload would wipe is set:
  // the list must update without one.
  await page.locator('[data-testid="live"][data-state="on"]').waitFor();
  await page.evaluate(() => { window.__vhNoReload = true; });
  check();

  // 2. Place a call with the form's defaults (they arrive with /console/api/info).
  await page.locator('[data-testid="place-form"][data-ready="true"]').waitFor();
  const defaults = {
    to: await page.getByTestId('place-to').inputValue(),
    answerUrl: await page.getByTestId('place-answer-url').inputValue(),
  };
  if (defaults.to !== '+15550000200') throw new Error(`the form's default "to" is ${defaults.to}`);
  if (!defaults.answerUrl) throw new Error('the form has no default answer URL');
  await page.getByTestId('place-submit').click();
  const placed = page.getByTestId('placed-link');
  await Promise.race([
    placed.waitFor(),
    page.locator('[data-testid="place-error"]:not([hidden])').waitFor().then(async () => {
      throw new Error(`placing the call failed: ${await page.getByTestId('place-error').textContent()}`);
    }),
  ]);
  const callId = await placed.getAttribute('data-call-id');
  if (!/^c-/.test(callId ?? '')) throw new Error(`odd call id ${callId}`);
  step({ step: 'placed', callId });
  check();

  // 3. The call shows up in the list, then ends, with no reload.
  const row = page.locator(`[data-testid="call-row"][data-call-id="${callId}"]`);
  await row.waitFor();
  await page.locator(`[data-testid="call-row"][data-call-id="${callId}"][data-state="disconnected"]`).waitFor({ timeout: 30_000 });
  if (!(await page.evaluate(() => window.__vhNoReload === true))) throw new Error('the page reloaded');
  const shown = (await row.getByTestId('cell-state').textContent())?.trim();
  if (shown !== 'disconnected') throw new Error(`the row shows state ${JSON.stringify(shown)}`);
  const cause = await row.getAttribute('data-cause');
  step({ step: 'live', state: 'disconnected', cause });
  check();

  // 4. Screenshot of the list.
  await page.screenshot({ path: path.join(artifacts, 'calls-list.png'), fullPage: true });

  // 5. Open the call from its row; the ladder shows the answer and disconnect webhooks.
  await row.getByTestId('call-link').click();
  await page.locator(`[data-testid="call-page"][data-call-id="${callId}"][data-loaded="true"]`).waitFor();
  await page.getByTestId('ladder').waitFor();
  const hooks = page.getByTestId('ladder-webhook');
  // The disconnect webhook may still be on its way: wait for both.
  await page.waitForFunction(() => {
    const types = [...document.querySelectorAll('[data-testid="ladder-webhook"]')].map((b) => b.dataset.eventType);
    return types.includes('answer') && types.includes('disconnect');
  }, null, { timeout: STEP_TIMEOUT });
  const webhooks = await hooks.evaluateAll((els) => els.map((b) => b.dataset.eventType));
  step({ step: 'ladder', webhooks });
  check();

  // 6. Open the answer webhook with the keyboard and read the request body.
  const answer = page.locator('[data-testid="ladder-webhook"][data-event-type="answer"]').first();
  await answer.focus();
  await page.keyboard.press('Enter');
  const panel = page.getByTestId('webhook-panel');
  await page.locator('[data-testid="webhook-panel"][data-event-type="answer"]').waitFor();
  const requestText = await panel.getByTestId('webhook-request').textContent();
  let request;
  try {
    request = JSON.parse(requestText ?? '');
  } catch (err) {
    throw new Error(`the request body shown is not JSON (${err.message}): ${requestText}`);
  }
  step({ step: 'body', eventType: request.eventType });
  check();

  // 7. Replay it to its own URL.
  const url = await panel.getByTestId('replay-url').inputValue();
  if (!url) throw new Error('the replay URL is empty');
  await panel.getByTestId('replay-submit').click();
  const result = panel.locator('[data-testid="replay-result"][data-status]');
  await result.waitFor();
  const status = await result.getAttribute('data-status');
  if (status === 'error') throw new Error(`replay failed: ${await result.textContent()}`);
  step({ step: 'replay', status: Number(status) });
  check();

  // 8. Screenshot of the call page, with the replay's result in view.
  // (The panel scrolls on its own beside the ladder; show its end.)
  await panel.evaluate((el) => { el.scrollTop = el.scrollHeight; window.scrollTo(0, 0); });
  await page.screenshot({ path: path.join(artifacts, 'call-page.png'), fullPage: true });

  // Escape closes the panel and gives focus back to the webhook.
  await page.keyboard.press('Escape');
  await panel.waitFor({ state: 'hidden' });
  if (!(await answer.evaluate((el) => el === document.activeElement))) throw new Error('focus did not return to the webhook after Escape');

  // 9. A 400 px window: nothing may overflow sideways, on the call page
  // (panel open) and on the list.
  await page.setViewportSize({ width: 400, height: 800 });
  await answer.click();
  await page.locator('[data-testid="webhook-panel"][data-event-type="answer"]').waitFor();
  const overflow = async (where) => {
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
    const width = await page.evaluate(() => document.scrollingElement.scrollWidth);
    if (width > 401) {
      const wide = await page.evaluate(() => [...document.querySelectorAll('body *')]
        .filter((el) => el.getBoundingClientRect().right > 401)
        .slice(0, 5).map((el) => `${el.tagName.toLowerCase()}${el.dataset.testid ? `[data-testid=${el.dataset.testid}]` : ''}.${el.className}`));
      throw new Error(`${where} is ${width} px wide in a 400 px window; too wide: ${wide.join(', ')}`);
    }
  };
  await overflow('the call page');
  await page.screenshot({ path: path.join(artifacts, 'call-page-narrow.png'), fullPage: true });
  await page.getByTestId('back-link').click();
  await page.locator('[data-testid="calls-list"][data-loaded="true"]').waitFor();
  await overflow('the calls list');
  await page.screenshot({ path: path.join(artifacts, 'calls-list-narrow.png'), fullPage: true });
  check();
  step({ step: 'narrow', ok: true });
}

const guard = setTimeout(() => {
  console.error('console.mjs: gave up after 120 s');
  process.exit(1);
}, 120_000);

try {
  await Promise.race([main(), failed]);
  await browser?.close();
  clearTimeout(guard);
  process.exit(0);
} catch (err) {
  console.error(`console.mjs: FAIL: ${err.message}`);
  if (problems.length && !err.message.includes('the browser reported errors')) {
    console.error(`the browser also reported:\n  ${problems.join('\n  ')}`);
  }
  await browser?.close().catch(() => {});
  process.exit(1);
}
