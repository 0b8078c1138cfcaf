// Fine-tuning on the built site. The suggested settings lower the held-out loss on the page's own example and on
// a pasted page of new prose (Persuasion's opening, tests/e2e/fixtures/persuasion-page.txt — public domain); a
// run whose validation rises says so and keeps its best checkpoint; progress and results sit beside the controls;
// cancelling clears the progress and leaves the model usable; text and settings survive a reload; a saved model
// loads back. The main thread's longest task while training is logged (PerformanceObserver 'longtask').
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { desktop, screenshot, siteSession } from './helpers.mjs';

const { skip, visit } = siteSession();
const prose = readFileSync(new URL('./fixtures/persuasion-page.txt', import.meta.url), 'utf8');

const recordLongTasks = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((entry) => entry.duration)))
    .observe({ type: 'longtask', buffered: true });
};

async function open() {
  const { page, problems } = await visit('finetune', desktop);
  await page.getByRole('status').filter({ hasText: 'Ready.' }).first().waitFor();
  return { page, problems, status: page.getByRole('status').first() };
}

// Fine-tunes with the settings on the page; returns the validation loss before and after, from the result.
async function fineTune(page, status) {
  await page.getByRole('button', { name: 'Fine-tune' }).click();
  await status.filter({ hasText: /^Done/ }).waitFor({ timeout: 90_000 });
  const result = await page.getByTestId('result').innerText();
  const [, before, after] = /Validation loss ([\d.]+) → ([\d.]+)/.exec(result);
  return { before: Number(before), after: Number(after), result };
}

test('the suggested settings lower the held-out loss on the example and on a pasted page of prose', { skip, timeout: 180_000 }, async () => {
  const { page, problems, status } = await open();
  await page.evaluate(recordLongTasks);
  const example = await fineTune(page, status);
  assert.ok(example.after < example.before, `example: ${example.result}`);
  console.log(`example: ${example.result}`);
  console.log(`main-thread longest task while fine-tuning: ${(await page.evaluate(() => Math.max(0, ...window.__longTasks))).toFixed(0)} ms`);
  const controls = page.locator('aside.controls');
  assert.equal(await controls.getByTestId('train-progress').evaluate((bar) => bar.value), 1, 'progress sits beside the controls');
  assert.match(await controls.getByTestId('progress-text').innerText(), /step \d+\/\d+.*ETA/s);
  assert.ok((await page.locator('.chart canvas').count()) > 0, 'the loss chart draws on a canvas');
  assert.ok((await page.getByLabel('Sample after fine-tuning').innerText()).length > 30);
  await screenshot(page, 'finetune');

  await page.getByLabel('Training text').fill(prose);
  assert.match(await page.getByTestId('size-note').innerText(), /^3,584 characters → suggested \d+ steps/);
  const page2 = await fineTune(page, status);
  assert.ok(page2.after < page2.before, `pasted prose: ${page2.result}`);
  console.log(`pasted prose: ${page2.result}`);
  assert.deepEqual(problems, []);
});

test('a run whose validation rises says so and keeps its best checkpoint', { skip, timeout: 180_000 }, async () => {
  const { page, problems, status } = await open();
  await page.getByLabel('Training text').fill(prose);
  await page.getByLabel('Steps').fill('16');
  await page.getByLabel('Learning rate').fill('0.01');
  const run = await fineTune(page, status);
  assert.match(await status.innerText(), /validation rose/);
  assert.match(run.result, /(rose to [\d.]+ by step 16: the model from step \d+ is kept|the model is back to its weights from before)/);
  assert.ok(run.after <= run.before, `the kept model is no worse than the start: ${run.result}`);
  assert.deepEqual(problems, []);
});

test('cancel clears the progress; text and settings survive a reload; a saved model loads back', { skip, timeout: 120_000 }, async () => {
  const { page, problems, status } = await open();
  await page.getByLabel('Training text').fill(prose);
  await page.getByLabel('Steps').fill('3000');
  await page.getByRole('button', { name: 'Fine-tune' }).click();
  await page.waitForFunction(() => { const bar = document.querySelector('[data-testid=train-progress]'); return !bar.hidden && bar.value > 0; });
  await page.getByRole('button', { name: 'Cancel' }).click();
  await status.filter({ hasText: 'Cancelled' }).waitFor();
  assert.equal(await page.getByTestId('train-progress').isHidden(), true, 'no stale progress bar');
  assert.equal(await page.getByTestId('progress-text').innerText(), '', 'no stale progress line');
  await page.waitForFunction(() => document.querySelector('[aria-label="Sample after fine-tuning"]').textContent.length > 60);

  await page.getByLabel('Save as').fill('e2e-model');
  await page.getByRole('button', { name: 'Save in this browser' }).click();
  await page.getByRole('status').filter({ hasText: "Saved as 'e2e-model'" }).waitFor();
  await page.reload();
  await status.filter({ hasText: 'Ready.' }).waitFor();
  assert.equal(await page.getByLabel('Training text').inputValue(), prose, 'the text survives a reload');
  assert.equal(await page.getByLabel('Steps').inputValue(), '3000', 'so do the settings');
  assert.equal(await page.getByLabel('Save as').inputValue(), 'e2e-model');
  await page.getByLabel('Start from').selectOption('stored:e2e-model');
  await status.filter({ hasText: 'Ready.' }).waitFor();
  assert.match(await page.locator('.controls .note').first().innerText(), /parameters/);
  await page.getByRole('button', { name: 'Use the suggested settings' }).click();
  assert.notEqual(await page.getByLabel('Steps').inputValue(), '3000');
  assert.deepEqual(problems, []);
});
