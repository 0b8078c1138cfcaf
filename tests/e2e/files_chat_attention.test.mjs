// The rest of the site's promises, in Chromium: a dropped .txt file becomes the training text (and a dropped
// non-text file is refused); the model downloads as a .safetensors file that loads back through the file picker,
// and a file that is not a model leaves the current one loaded; the Transformer page draws the real GPT's
// attention on the reader's text, and its map works by keyboard and by touch.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { screenshot, siteSession } from './helpers.mjs';

const { skip, visit } = siteSession();

// Drops a file built in the page onto the element matching `selector`, as a user dragging it from the desktop.
function dropFile(page, selector, name, type, content) {
  return page.evaluate(({ selector, name, type, content }) => {
    const transfer = new DataTransfer();
    transfer.items.add(new File([content], name, { type }));
    document.querySelector(selector).dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, { selector, name, type, content });
}

test('fine-tune page: drop a .txt, download .safetensors, load it back', { skip, timeout: 90_000 }, async () => {
  const { page, problems } = await visit('finetune');
  const status = page.getByRole('status').first();
  await status.filter({ hasText: 'Ready.' }).waitFor();

  const text = 'The sea was calm and the ship sailed on towards the whales. '.repeat(40);
  await dropFile(page, 'textarea', 'voyage.txt', 'text/plain', text);
  await status.filter({ hasText: 'Read “voyage.txt”' }).waitFor();
  assert.equal(await page.locator('textarea').inputValue(), text);
  assert.match(await page.getByTestId('size-note').innerText(), /^2,400 characters → suggested \d+ steps/);
  await dropFile(page, 'textarea', 'photo.png', 'image/png', '\x89PNG');
  await status.filter({ hasText: '“photo.png” is not a plain-text file' }).waitFor();
  assert.equal(await page.locator('textarea').inputValue(), text, 'a refused file leaves the text alone');

  await page.getByLabel('Save as').fill('voyage-model');
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Download .safetensors' }).click()]);
  assert.equal(download.suggestedFilename(), 'voyage-model.safetensors');
  const file = await download.path();
  const bytes = readFileSync(file);
  const headerLength = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
  assert.ok(header.__metadata__?.config, 'the download is a safetensors file with the model config');
  const parameters = (await page.locator('.controls .note').first().innerText()).split(' · stored in ')[0];

  await page.getByLabel('Load a .safetensors file').setInputFiles(file);
  await status.filter({ hasText: 'Ready.' }).waitFor();
  assert.equal((await page.locator('.controls .note').first().innerText()).split(' · stored in ')[0], parameters, 'the loaded file is the same model');
  await page.getByLabel('Load a .safetensors file').setInputFiles({ name: 'broken.safetensors', mimeType: 'application/octet-stream', buffer: bytes.subarray(0, 100) });
  await status.filter({ hasText: 'Could not load “broken.safetensors”' }).waitFor();
  assert.match(await status.innerText(), /The model you had is still loaded\.$/);
  assert.equal(await page.getByRole('button', { name: 'Fine-tune' }).isEnabled(), true, 'the model stays usable');
  await page.getByLabel('Steps').fill('2');
  await page.getByRole('button', { name: 'Fine-tune' }).click();
  await status.filter({ hasText: 'Done' }).waitFor({ timeout: 60_000 });
  assert.deepEqual(problems, []);
});

test('learn-transformer draws the real GPT attention on the reader text', { skip, timeout: 60_000 }, async () => {
  const { page, problems } = await visit('learn-transformer', { hasTouch: true });
  assert.equal(await page.locator('[data-testid=attention] tbody tr').count(), 4, 'the worked example');
  await page.locator('[data-testid=attention-source][data-live=true]').waitFor({ timeout: 45_000 });
  assert.match(await page.getByTestId('attention-source').innerText(), /Live: the shipped model/);
  assert.equal(await page.getByLabel('Layer', { exact: true }).locator('option').count(), 4);
  assert.equal(await page.getByLabel('Head', { exact: true }).locator('option').count(), 5, 'four heads and their mean');
  await page.getByLabel('Text to run through the model').fill('the whale');
  const label = () => page.getByTestId('attention-map').getAttribute('aria-label');
  await page.waitForFunction(() => document.querySelector('[data-testid=attention-map]').getAttribute('aria-label').includes('“the␣whale”'));
  // Nine characters: nine strongest links, the first character can only look at itself.
  const links = (await label()).split('Strongest link per position: ')[1].split('; ');
  assert.equal(links.length, 9);
  assert.match(links[0], /^“t” → “t” 1\.00$/);
  const width = await page.getByTestId('attention-map').evaluate((canvas) => canvas.width);
  assert.ok(width > 0);

  // By keyboard: the map is one tab stop; arrows move between the cells a position can see.
  const readout = page.getByTestId('attention-readout');
  await page.locator('.attention-surface').focus();
  assert.match(await readout.innerText(), /^“t” \(position 1\) gives 100\.0% of its attention to “t” \(position 1\)\.$/);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('End');
  assert.match(await readout.innerText(), /\(position 3\) gives [\d.]+% of its attention to “e” \(position 3\)/);
  await page.keyboard.press('ArrowRight');
  assert.match(await readout.innerText(), /to “e” \(position 3\)/, 'the future stays out of reach');
  // By touch: a tap on a cell picks it (row 5 = “w”, column 2 = “h”).
  const box = await page.getByTestId('attention-map').boundingBox();
  await page.touchscreen.tap(box.x + 22 + 1 * 18 + 9, box.y + 22 + 4 * 18 + 9);
  assert.match(await readout.innerText(), /^“w” \(position 5\) gives [\d.]+% of its attention to “h” \(position 2\)/);
  await page.getByLabel('Head', { exact: true }).selectOption('mean');
  await page.getByLabel('Layer', { exact: true }).selectOption('3');
  assert.match(await label(), /layer 4, the mean of 4 heads/);
  await screenshot(page, 'learn-transformer-live');
  assert.deepEqual(problems, []);
});
