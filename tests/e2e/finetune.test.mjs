// Fine-tuning on the built site: a short run moves the progress bar, draws the loss chart and lowers the
// validation loss; cancelling a long run leaves the model usable; a saved model survives a reload and loads back.
// The main thread's longest task during fine-tuning is logged (PerformanceObserver 'longtask').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveSite, launchBrowser, openPage, screenshot, serveSite } from './helpers.mjs';

const recordLongTasks = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((entry) => entry.duration)))
    .observe({ type: 'longtask', buffered: true });
};

test('fine-tune, cancel, save, reload and load back', { skip: !haveSite && 'build the site first (npm run build:site)', timeout: 120_000 }, async (t) => {
  const server = await serveSite();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const context = await browser.newContext();
  await context.addInitScript(recordLongTasks);
  const { page, problems } = await openPage(context, `${server.url}finetune.html`);
  const status = page.getByRole('status').first();
  await status.filter({ hasText: 'Ready.' }).waitFor();

  await page.getByLabel('Steps').fill('30');
  await page.evaluate(() => (window.__longTasks.length = 0));
  await page.getByRole('button', { name: 'Fine-tune' }).click();
  await page.waitForFunction(() => document.querySelector('progress').value > 0);
  await status.filter({ hasText: 'Done:' }).waitFor({ timeout: 60_000 });
  const longest = await page.evaluate(() => Math.max(0, ...window.__longTasks));
  console.log(`main-thread longest task while fine-tuning: ${longest.toFixed(0)} ms`);
  assert.equal(await page.locator('progress').evaluate((bar) => bar.value), 1);
  assert.ok((await page.locator('.chart canvas').count()) > 0, 'the loss chart draws on a canvas');
  const [, before, after] = /validation loss ([\d.]+) → ([\d.]+)/.exec(await status.innerText());
  assert.ok(Number(after) < Number(before), `validation loss should fall: ${before} → ${after}`);
  assert.ok((await page.getByLabel('Sample after fine-tuning').innerText()).length > 30);
  await screenshot(page, 'finetune');

  await page.getByLabel('Steps').fill('3000');
  await page.getByRole('button', { name: 'Fine-tune' }).click();
  await page.waitForFunction(() => { const bar = document.querySelector('progress'); return bar.value > 0 && bar.value < 0.5; });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await status.filter({ hasText: 'Cancelled' }).waitFor();
  await page.waitForFunction(() => document.querySelector('[aria-label="Sample after fine-tuning"]').textContent.length > 60);

  await page.getByLabel('Save as').fill('e2e-model');
  await page.getByRole('button', { name: 'Save in this browser' }).click();
  await status.filter({ hasText: "Saved as 'e2e-model'" }).waitFor();
  await page.reload();
  await status.filter({ hasText: 'Ready.' }).waitFor();
  await page.getByLabel('Start from').selectOption('stored:e2e-model');
  await status.filter({ hasText: 'Ready.' }).waitFor();
  assert.match(await page.locator('.controls .note').first().innerText(), /parameters/);
  assert.deepEqual(problems, []);
});
