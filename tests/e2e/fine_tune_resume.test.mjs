// Fine-tune checkpoints in Chromium (web/lib/fine_tune.ts): a page imports dist/browser.js and fine-tunes a GPT
// with checkpointEvery; the run is stopped at a known step from its own progress callback (where a closed tab or a
// crash would stop it at an unknown one: a tiny model finishes its 60 steps faster than a test can reload a page
// mid-run), then the page is reloaded, so nothing of the run survives but IndexedDB; the
// reloaded page calls fineTune again with resume: true, which continues from the last checkpoint in IndexedDB and
// ends with the same weights, bit for bit, as a run never interrupted (compared by SHA-256 of the exported
// bytes, and by a sample with the same seed); the completed run deletes its checkpoint.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';

import { chromiumPath, launchBrowser, openPage, root } from './helpers.mjs';

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
// The page builds the same base model on every load (a seeded GPT on a fixed text) and offers the run to the test.
const page = `<!doctype html><title>tinylm resume test</title><link rel="icon" href="data:,">
<script type="module">
import { TinyLM, indexedDbStore } from '/dist/browser.js';
const text = 'It is a way I have of driving off the spleen and regulating the circulation. Whenever I find myself ' +
  'growing grim about the mouth; whenever it is a damp, drizzly November in my soul. '.repeat(12);
const shape = { arch: 'gpt', layers: 2, heads: 2, embed: 32, context: 32, seed: 5, dropout: 0.1 };
const training = { steps: 60, batchSize: 4, seqLen: 32, learningRate: 3e-3, seed: 2 };
const digest = async (bytes) => [...new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))]
  .map((b) => b.toString(16).padStart(2, '0')).join('');
window.run = async (options, stopAtStep) => {
  const lm = await TinyLM.create(shape, text);
  const stop = new AbortController();
  const onProgress = (p) => p.step >= stopAtStep && stop.abort();
  const report = await lm.fineTune(text, { ...training, ...options, onProgress, signal: stop.signal });
  let sample = '';
  for await (const piece of lm.generate('It is', { maxTokens: 30, seed: 4 })) sample += piece;
  const result = { weights: await digest(await lm.export({ dtype: 'f32' })), sample, resumedFromStep: report.resumedFromStep };
  lm.dispose();
  return result;
};
window.storedCheckpoints = () => indexedDbStore('tinylm-checkpoints', 'checkpoints').list();
window.ready = true;
</script>`;

let server, browser, origin;
const skip = (!existsSync(join(root, 'dist', 'browser.js')) || !existsSync(chromiumPath)) && 'build the package first';

before(async () => {
  if (skip) return;
  server = createServer(async (request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    if (path === '/') return response.writeHead(200, { 'content-type': 'text/html' }).end(page);
    try {
      if (!path.startsWith('/dist/') || path.includes('..')) throw new Error('not served');
      response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(await readFile(join(root, path)));
    } catch {
      response.writeHead(404).end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${server.address().port}/`;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve()));
});

test('Chromium: a fine-tune reloaded mid-run resumes from IndexedDB and ends with the uninterrupted run\'s bytes', { skip, timeout: 180_000 }, async () => {
  const { page: tab, problems } = await openPage(await browser.newContext(), origin);
  await tab.waitForFunction(() => window.ready === true);
  const uninterrupted = await tab.evaluate(() => window.run({}));
  assert.equal(uninterrupted.resumedFromStep, null);

  const checkpointing = { checkpointEvery: 5, checkpointName: 'e2e-run', resume: true };
  const stopped = await tab.evaluate((options) => window.run(options, 17).then(() => 'finished', (error) => error.name), checkpointing);
  assert.equal(stopped, 'AbortError');
  await tab.reload();  // a new page and a new worker: only IndexedDB's last checkpoint (step 15) carries over
  await tab.waitForFunction(() => window.ready === true);
  assert.deepEqual(await tab.evaluate(() => window.storedCheckpoints()), ['e2e-run']);

  const resumed = await tab.evaluate((options) => window.run(options), checkpointing);
  assert.ok(resumed.resumedFromStep >= 15 && resumed.resumedFromStep < 60 && resumed.resumedFromStep % 5 === 0,
    `resumed from step ${resumed.resumedFromStep}`);
  assert.equal(resumed.weights, uninterrupted.weights, 'the same weights, bit for bit');
  assert.equal(resumed.sample, uninterrupted.sample);
  assert.deepEqual(await tab.evaluate(() => window.storedCheckpoints()), [], 'the completed run deleted its checkpoint');
  assert.deepEqual(problems, []);
});
