// The package's build selection (web/lib/threads.ts): TinyLM.capabilities() says which engine build runs on how
// many threads; TinyLM.configure({ threads }) picks them for engines started afterwards. The same seed gives the
// same fine-tuning losses, evaluation and sample on the single-thread build and on the threaded build at 2 and 3
// threads — in Node (always able to thread) and in headless Chromium, where a cross-origin isolated page runs the
// threaded build and a page without isolation runs the single-thread one, with one console warning saying how to
// get threads. Chromium runs each build's relaxed SIMD .wasm unless configure({ relaxedSimd: false }) says not to;
// once the engine has started, capabilities().relaxedSimd is what it says it runs, which a module the page compiled
// (configure({ engineModule })) or a relaxed .wasm that failed to arrive makes the standard one.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { runInChromium, skipWithoutChromium } from './chromium.mjs';
import { TinyLM, corpus } from './helpers.mjs';

after(async () => {
  TinyLM.configure({ threads: undefined });
  await TinyLM.shutdown();
});

// Small enough to run quickly, large enough that products, rows and the recurrence split over threads.
async function scenario(tinylm) {
  const lm = await tinylm.create({ arch: 'gpt', layers: 2, hidden: 64, embed: 64, heads: 4, context: 64, seed: 3 }, corpus);
  const tuned = await lm.fineTune(corpus, { steps: 4, batchSize: 8, seqLen: 64, seed: 5, validationSplit: 0.1 });
  const evaluation = await lm.evaluate(corpus.slice(0, 3000));
  let sample = '';
  for await (const piece of lm.generate('Call me', { maxTokens: 40, temperature: 0.9, seed: 11 })) sample += piece;
  const bytes = await lm.export();
  let checksum = 0;
  for (const byte of bytes) checksum = (checksum * 31 + byte) >>> 0;
  return { loss: tuned.loss, validationLoss: tuned.validationLoss, evaluation, sample, bytes: bytes.length, checksum };
}

test('Node: the threaded build by default, the single-thread build on one thread, the same results on both', async () => {
  await TinyLM.shutdown();
  TinyLM.configure({ threads: undefined });
  const defaults = TinyLM.capabilities();
  assert.equal(defaults.build, defaults.threads > 1 ? 'threads' : 'single');
  assert.equal(defaults.crossOriginIsolated, true, 'Node can always share memory');
  assert.equal(defaults.simd, true);
  assert.equal(defaults.maxThreads, 16);

  const runs = {};
  for (const threads of [1, 2, 3]) {
    await TinyLM.shutdown();
    TinyLM.configure({ threads });
    const capabilities = TinyLM.capabilities();
    assert.deepEqual({ build: capabilities.build, threads: capabilities.threads },
      { build: threads === 1 ? 'single' : 'threads', threads });
    runs[threads] = await scenario(TinyLM);
  }
  assert.ok(runs[1].sample.length > 0 && Number.isFinite(runs[1].loss));
  assert.deepStrictEqual(runs[2], runs[1], '2 threads (threaded build) = 1 thread (single-thread build)');
  assert.deepStrictEqual(runs[3], runs[1], '3 threads = 1 thread');
});

test('configure({ threads }) refuses counts that are not whole numbers from 1 to 16, and keeps the last good one', async () => {
  TinyLM.configure({ threads: 2 });
  for (const bad of [0, 17, 1.5, '2', -1, Number.NaN]) {
    assert.throws(() => TinyLM.configure({ threads: bad }), (error) =>
      error.code === 'INVALID_ARGUMENT' && /threads must be a whole number from 1 to 16/.test(error.message), String(bad));
  }
  assert.equal(TinyLM.capabilities().threads, 2);
  assert.throws(() => TinyLM.configure({ thread: 2 }), /did you mean 'threads'/);
});

// ---- Chromium ---------------------------------------------------------------------------------------------------

const page = (settings = {}) => `<!doctype html><script type="module">
const warnings = [];
const warn = console.warn;
console.warn = (...args) => { warnings.push(args.join(' ')); warn(...args); };
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
try {
  const { TinyLM } = await import('/dist/browser.js');
  const { scenario } = await import('/scenario.mjs');
  TinyLM.configure({ ...${JSON.stringify(settings)}, threads: 2 });
  const capabilities = TinyLM.capabilities();
  const threaded = await scenario(TinyLM);
  const running = TinyLM.capabilities();
  await TinyLM.shutdown();
  TinyLM.configure({ threads: 1 });
  const single = await scenario(TinyLM);
  await report({ capabilities, running, threaded, single, warnings, pageIsolated: self.crossOriginIsolated,
    workers: performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname) });
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message, warnings });
}
</script>`;

// The page over dist/ in headless Chromium, cross-origin isolated or not, configured with `settings` too; the
// scenario above is served as a module.
async function runPage(t, isolated, settings) {
  const scenarioModule = `export ${scenario.toString()}\nconst corpus = ${JSON.stringify(corpus)};`;
  const { outcome, requested } = await runInChromium(t, page(settings), { isolated, files: { '/scenario.mjs': scenarioModule },
    timeoutMs: 180_000 });
  assert.equal(outcome.error, undefined, outcome.error);
  return { ...outcome, fetched: requested };
}

const skip = skipWithoutChromium;

// Chromium validates relaxed SIMD: each build runs its relaxed .wasm (relaxed_simd.ts), and only that one is fetched.
const wasmFetched = (outcome) => [...new Set(outcome.fetched.filter((path) => path.endsWith('.wasm')))].sort();

test('Chromium, cross-origin isolated: the threaded build on 2 threads computes what the single-thread build does', { skip }, async (t) => {
  const outcome = await runPage(t, true);
  assert.equal(outcome.pageIsolated, true);
  assert.deepEqual(outcome.capabilities, { threads: 2, maxThreads: 16, simd: true, relaxedSimd: true, crossOriginIsolated: true, build: 'threads' });
  assert.deepEqual(outcome.running, outcome.capabilities, 'the engine that ran says it is the relaxed one');
  assert.deepStrictEqual(outcome.threaded, outcome.single, 'relaxed SIMD: the same results at every thread count');
  assert.deepEqual(outcome.warnings, []);
  // The engine worker's script twice: the second is the pthread Worker's, which runs it as a pthread (worker_pthread_start.ts).
  assert.equal(outcome.fetched.filter((path) => path === '/dist/worker_browser_threads.js').length, 2);
  // Each engine's training code is in its deferred module, the relaxed one's (deferred_engine.ts).
  assert.deepEqual(wasmFetched(outcome), ['/dist/wasm/tinylm_wasm_relaxed.deferred.wasm', '/dist/wasm/tinylm_wasm_relaxed.wasm',
    '/dist/wasm/tinylm_wasm_threads_relaxed.deferred.wasm', '/dist/wasm/tinylm_wasm_threads_relaxed.wasm']);
});

test('Chromium, configure({ relaxedSimd: false }): the standard .wasm of either build, within rounding of the relaxed one', { skip }, async (t) => {
  const standard = await runPage(t, true, { relaxedSimd: false });
  assert.deepEqual(standard.capabilities, { threads: 2, maxThreads: 16, simd: true, relaxedSimd: false, crossOriginIsolated: true, build: 'threads' });
  assert.deepEqual(standard.running, standard.capabilities);
  assert.deepStrictEqual(standard.threaded, standard.single);
  assert.deepEqual(wasmFetched(standard), ['/dist/wasm/tinylm_wasm.deferred.wasm', '/dist/wasm/tinylm_wasm.wasm',
    '/dist/wasm/tinylm_wasm_threads.deferred.wasm', '/dist/wasm/tinylm_wasm_threads.wasm']);
  // The relaxed build's multiply-adds round once where the CPU fuses them, twice here: after 4 training steps the
  // losses agree to far better than 1e-4 (tests/js/relaxed_simd.test.mjs measures the spread in Node).
  const relaxed = await runPage(t, true);
  for (const figure of ['loss', 'validationLoss']) {
    const [a, b] = [standard.single[figure], relaxed.single[figure]];
    assert.ok(Math.abs(a - b) <= 1e-4 * Math.abs(a), `${figure}: standard ${a}, relaxed ${b}`);
  }
  assert.ok(Math.abs(standard.single.evaluation.loss - relaxed.single.evaluation.loss) <= 1e-4 * standard.single.evaluation.loss);
});

test('Chromium, not isolated: the single-thread build, with one warning saying how to get threads', { skip }, async (t) => {
  const outcome = await runPage(t, false);
  assert.equal(outcome.pageIsolated, false);
  assert.deepEqual(outcome.capabilities, { threads: 1, maxThreads: 1, simd: true, relaxedSimd: true, crossOriginIsolated: false, build: 'single' });
  assert.deepEqual(outcome.running, outcome.capabilities);
  assert.deepStrictEqual(outcome.threaded, outcome.single);
  assert.equal(outcome.warnings.length, 1, outcome.warnings.join('\n'));
  assert.match(outcome.warnings[0], /2 threads were asked for.*not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp.*coi-serviceworker/s);
  assert.ok(!outcome.fetched.some((path) => /tinylm_wasm_threads|worker_browser_threads|worker_pthread/.test(path)), `only the single-thread build is fetched: ${outcome.fetched.join(', ')}`);
  assert.deepEqual(wasmFetched(outcome), ['/dist/wasm/tinylm_wasm_relaxed.deferred.wasm', '/dist/wasm/tinylm_wasm_relaxed.wasm']);
});

// ---- Chromium: what runs, whichever .wasm was asked for ----------------------------------------------------------

// capabilities().relaxedSimd before the first call, once the engine has answered one (memory() needs it), and after
// shutdown(); then the same for a second engine, started without the module given to the first.
const whatRunsPage = (givenWasm) => `<!doctype html><script type="module">
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
try {
  const { TinyLM } = await import('/dist/browser.js');
  const relaxedSimd = () => TinyLM.capabilities().relaxedSimd;
  const engineModule = ${JSON.stringify(givenWasm)} && WebAssembly.compileStreaming(fetch(${JSON.stringify(givenWasm)}));
  TinyLM.configure({ threads: 2, ...(engineModule && { engineModule }) });
  const build = TinyLM.capabilities().build;
  const runs = [];
  for (const engine of ['first', 'second']) {
    const before = relaxedSimd();
    await TinyLM.memory();
    const running = relaxedSimd();
    await TinyLM.shutdown();
    runs.push({ before, running, after: relaxedSimd() });
  }
  await report({ build, runs });
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message });
}
</script>`;

test('Chromium: a standard .wasm the page compiled runs as the standard engine, and capabilities() says so once it started', { skip }, async (t) => {
  const { outcome } = await runInChromium(t, whatRunsPage('/dist/wasm/tinylm_wasm_threads.wasm'), { isolated: true });
  assert.equal(outcome.error, undefined, outcome.error);
  assert.equal(outcome.build, 'threads');
  assert.deepEqual(outcome.runs, [
    { before: true, running: false, after: true },  // the given module: relaxed SIMD validates, yet the standard engine runs
    { before: true, running: true, after: true },   // the package's own choice, the relaxed .wasm
  ]);
});

test('Chromium: where the relaxed .wasm fails to arrive, the worker runs the standard one, and capabilities() says so', { skip }, async (t) => {
  const refused = [];
  const respond = (path, response) => {
    if (!path.endsWith('_relaxed.wasm')) return false;
    refused.push(path);
    response.writeHead(503).end();
    return true;
  };
  const { outcome } = await runInChromium(t, whatRunsPage(null), { respond });
  assert.equal(outcome.error, undefined, outcome.error);
  assert.equal(outcome.build, 'single');
  assert.deepEqual(outcome.runs, Array(2).fill({ before: true, running: false, after: true }));
  assert.deepEqual(refused, ['/dist/wasm/tinylm_wasm_relaxed.wasm', '/dist/wasm/tinylm_wasm_relaxed.wasm']);
});
