// Chat, the learn pages and the API page on the built site: a chat turn gets an answer, the recurrent lessons
// replace their precomputed heatmaps with live ones from the model, the sampling page shows the live
// distribution, the training page trains, an API snippet runs. No page logs an error; each is screenshotted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { screenshot, siteSession } from './helpers.mjs';

const { skip, visit } = siteSession();

test('a chat turn answers with the offline chat model', { skip, timeout: 60_000 }, async () => {
  const { page, problems } = await visit('chat');
  await page.getByRole('status').filter({ hasText: 'Ready' }).first().waitFor();
  assert.match(await page.getByLabel('Model', { exact: true }).locator('option:checked').innerText(), /chat/);
  await page.getByLabel('Message').fill('Good morning! How do you do?');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('status').filter({ hasText: 'Your turn.' }).first().waitFor();
  assert.equal(await page.locator('.turn.user').count(), 1);
  const reply = await page.locator('.turn.model .text').last().innerText();
  assert.ok(reply.trim().length > 0, 'the model turn holds a reply');
  assert.ok((await page.getByTestId('context').textContent()).endsWith('Good morning! How do you do?\n'));
  await screenshot(page, 'chat');
  assert.deepEqual(problems, []);
});

for (const arch of ['lstm', 'gru', 'rnn']) {
  test(`learn-${arch} draws live heatmaps from the model`, { skip, timeout: 60_000 }, async () => {
    const { page, problems } = await visit(`learn-${arch}`);
    assert.match(await page.getByTestId('heatmap-source').innerText(), /Precomputed|Live/);
    await page.locator('[data-testid=heatmap-source][data-live=true]').waitFor({ timeout: 45_000 });
    assert.ok(await page.locator('.katex').count() >= 2, 'equations render with KaTeX');
    const size = await page.getByTestId('heatmap').evaluate((canvas) => canvas.width * canvas.height);
    assert.ok(size > 0);
    await page.getByLabel('Text to run through the model').fill('the sea');
    await page.waitForFunction(() => document.querySelector('[data-testid=heatmap]').getAttribute('aria-label').includes('“the␣sea”'));
    await screenshot(page, `learn-${arch}`);
    assert.deepEqual(problems, []);
  });
}

test('learn-sampling reshapes the live distribution', { skip, timeout: 30_000 }, async () => {
  const { page, problems } = await visit('learn-sampling');
  await page.locator('[data-testid=distribution-source][data-live=true]').waitFor();
  await page.getByLabel('Top-k').fill('3');
  assert.equal(await page.locator('[data-testid=distribution] tbody tr').count(), 3);
  await screenshot(page, 'learn-sampling');
  assert.deepEqual(problems, []);
});

test('learn-training trains a model live', { skip, timeout: 60_000 }, async () => {
  const { page, problems } = await visit('learn-training');
  await page.getByRole('button', { name: /Train a/ }).click();
  await page.getByRole('status').filter({ hasText: 'Trained 200 steps' }).waitFor({ timeout: 45_000 });
  await screenshot(page, 'learn-training');
  assert.deepEqual(problems, []);
});

test('learn-transformer and the API page', { skip, timeout: 90_000 }, async () => {
  const transformer = await visit('learn-transformer');
  assert.equal(await transformer.page.locator('[data-testid=attention] tbody tr').count(), 4);
  await screenshot(transformer.page, 'learn-transformer');
  assert.deepEqual(transformer.problems, []);

  const { page, problems } = await visit('api');
  await page.getByRole('button', { name: 'Run: lm.generate(prompt, options)' }).click();
  await page.waitForFunction(() => { const text = document.querySelector('[data-testid=result-1]').textContent; return text !== 'Running…' && !text.startsWith('Expected'); });
  const output = await page.getByTestId('result-1').innerText();
  assert.ok(!output.startsWith('Error') && output.length >= 30, output);
  await page.getByRole('button', { name: 'Run: lm.inspect(text)' }).click();
  await page.getByTestId('result-5').filter({ hasText: 'H e l l o' }).waitFor();
  await page.getByRole('button', { name: 'Run: lm.save(name), TinyLM.load(name), lm.export({ dtype })' }).click();
  await page.getByTestId('result-6').filter({ hasText: 'true lstm int8 959900 bytes' }).waitFor();
  await page.getByTestId('result-6').filter({ hasText: 'as f32: 3705524 bytes' }).waitFor();
  await page.getByRole('button', { name: 'Run: TinyLM.load()', exact: true }).click();
  await page.getByTestId('result-7').filter({ hasText: /^lstm char \| / }).waitFor();
  await page.getByRole('button', { name: 'Run: TinyLM.create(config, text)' }).click();
  await page.getByTestId('result-8').filter({ hasText: 'attention 2 layers × 2 heads over 9 characters' }).waitFor({ timeout: 45_000 });
  const [, before, after] = /validation loss ([\d.]+) → ([\d.]+)/.exec(await page.getByTestId('result-8').innerText());
  assert.ok(Number(after) < Number(before), `a GPT trained in the page learns: ${before} → ${after}`);
  await screenshot(page, 'api');
  assert.deepEqual(problems, []);
});
