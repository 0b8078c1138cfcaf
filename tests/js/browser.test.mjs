// The package in a real browser: headless Chromium loads dist/browser.js (the package's browser entry) from a local server; the engine runs in a
// module Web Worker, saves to IndexedDB, and honours an AbortSignal. The page compiles the .wasm while the worker
// starts and hands the module over, so the .wasm is fetched once; when the page cannot (here: its request fails),
// the worker fetches it itself. (The Node tests cover behaviour in depth; this one proves the browser-only paths:
// Worker, the compiled module's hand-over, locateFile, IndexedDB.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extname } from 'node:path';
import { runInChromium, skipWithoutChromium } from './chromium.mjs';
import './helpers.mjs';  // fails early, saying what to build, when dist/ is missing

const page = `<!doctype html><script type="module">
import { TinyLM } from '/dist/browser.js';
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
try {
  const text = 'It is a way I have of driving off the spleen and regulating the circulation. '.repeat(30);
  const lm = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 24, embed: 8 }, text);
  const fineTune = await lm.fineTune(text, { steps: 5, batchSize: 4, seqLen: 16 });
  let sample = '';
  for await (const piece of lm.generate('It is', { maxTokens: 12, seed: 1 })) sample += piece;
  await lm.save('browser-model');
  const copy = await TinyLM.load('browser-model');
  const sameLoss = (await copy.evaluate(text)).loss === (await lm.evaluate(text)).loss;
  const controller = new AbortController();
  const aborted = await lm.fineTune(text, { steps: 100000, batchSize: 4, seqLen: 16, signal: controller.signal,
    onProgress: (p) => p.step === 2 && controller.abort() }).catch((error) => error.name);
  await report({ steps: fineTune.steps, sampleLength: [...sample].length, sameLoss, aborted,
    stored: await TinyLM.storedModels() });
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message });
}
</script>`;

const generatePage = `<!doctype html><script type="module">
import { TinyLM } from '/dist/browser.js';
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
try {
  const lm = await TinyLM.load();
  let sample = '';
  for await (const piece of lm.generate('Call me', { maxTokens: 12, seed: 1 })) sample += piece;
  await report({ sampleLength: [...sample].length });
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message });
}
</script>`;

// Runs `html` in headless Chromium over dist/ and resolves with what the page reports and how often the engine's .wasm
// and its deferred module (web/lib/deferred_engine.ts: training's code) were requested. failFirstWasm: the first
// .wasm request gets a 503.
async function runPage(t, html, { failFirstWasm = false } = {}) {
  let wasmRequests = 0;
  let deferredRequests = 0;
  const respond = (path, response) => {
    if (path.endsWith('.deferred.wasm')) deferredRequests += 1;
    if (extname(path) !== '.wasm' || path.endsWith('.deferred.wasm') || ++wasmRequests !== 1 || !failFirstWasm) return false;
    response.writeHead(503).end();
    return true;
  };
  const { outcome } = await runInChromium(t, html, { respond, timeoutMs: 60_000 });
  return { outcome, wasmRequests, deferredRequests };
}

const skip = skipWithoutChromium;

test('generate, fineTune, save to IndexedDB, load and cancel in headless Chromium; the .wasm is fetched once', { skip }, async (t) => {
  const { outcome, wasmRequests, deferredRequests } = await runPage(t, page);
  assert.deepEqual(outcome, { steps: 5, sampleLength: 12, sameLoss: true, aborted: 'AbortError', stored: ['browser-model'] });
  assert.equal(wasmRequests, 1, 'the worker used the module the page compiled');
  assert.equal(deferredRequests, 1, 'the fine-tune fetched the deferred module, once');
});

test('a page whose request for the .wasm fails: the worker fetches it and the engine runs', { skip }, async (t) => {
  const { outcome, wasmRequests, deferredRequests } = await runPage(t, generatePage, { failFirstWasm: true });
  assert.deepEqual(outcome, { sampleLength: 12 });
  assert.equal(wasmRequests, 2, 'the page asked first (503), then the worker');
  assert.equal(deferredRequests, 0, 'generating needs no deferred module');
});
