// TinyLM.configure({ worker, engineModule }) (web/lib/given_worker.ts): an engine worker the page started itself,
// from a classic script in <head>, is the one the engine runs in — the package starts no worker of its own, and
// every request, cancellation and disposal goes through it — and it computes what the package's own worker
// computes; the .wasm the page compiled there is the one it runs (the package fetches no other). Values that cannot
// be an engine worker or module are refused at once; a worker or module of the other build, or a worker that is not
// tinylm's, fails the first call with a message saying what to start, and the next call starts the package's own
// worker; a module whose compile failed is compiled by the package instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInChromium, skipWithoutChromium } from './chromium.mjs';
import { TinyLM } from './helpers.mjs';

test('Node: option worker is refused with what to do instead', () => {
  for (const value of [{ postMessage() {}, terminate() {} }, 'worker_browser.js']) {
    assert.throws(() => TinyLM.configure({ worker: value }), (error) =>
      error.code === 'INVALID_ARGUMENT' && /option worker takes a Web Worker, which only browsers have/.test(error.message));
  }
  TinyLM.configure({ worker: undefined });  // clearing it is always allowed
});

const page = `<!doctype html>
<script>
window.headWorker = new Worker('/dist/worker_browser_threads.js', { type: 'module' });
window.headModule = WebAssembly.compileStreaming(fetch('/dist/wasm/tinylm_wasm_threads.wasm'));
</script>
<script type="module">
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
const outcome = (promise) => promise.then((value) => value, (error) => error.name + ' ' + error.code + ': ' + error.message);
const wasmFetches = () => performance.getEntriesByType('resource').filter((entry) => entry.name.endsWith('.wasm')).length;
const refusal = (f) => { try { f(); return 'accepted'; } catch (error) { return error.code + ': ' + error.message; } };
async function sample(lm) {
  let text = '';
  for await (const piece of lm.generate('Call me', { maxTokens: 12, seed: 1 })) text += piece;
  return text;
}
try {
  const { TinyLM } = await import('/dist/browser.js');
  const NativeWorker = window.Worker;
  const started = [];  // Workers the page's own code (the package) starts from here on
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      started.push(new URL(String(url), location.href).pathname);
      super(url, options);
    }
  };
  const given = window.headWorker;
  const posted = [];
  const post = given.postMessage.bind(given);
  given.postMessage = (message, transfer) => {
    posted.push(message.type ?? Object.keys(message)[0]);
    post(message, transfer);
  };

  const wrongValues = ['/dist/worker_browser_threads.js', { postMessage() {}, terminate() {} }, null]
    .map((value) => refusal(() => TinyLM.configure({ worker: value })));
  const wrongModules = ['/dist/wasm/tinylm_wasm_threads.wasm', new ArrayBuffer(8)]
    .map((value) => refusal(() => TinyLM.configure({ engineModule: value })));
  TinyLM.configure({ threads: 2, worker: given, engineModule: window.headModule });
  const lm = await TinyLM.load();
  const adopted = await sample(lm);
  const wasmFetchesAdopted = wasmFetches();
  const whileRunning = refusal(() => TinyLM.configure({ worker: new NativeWorker('/dist/worker_browser_threads.js', { type: 'module' }) }));
  const controller = new AbortController();
  const cancelled = await outcome((async () => {
    for await (const piece of lm.generate('Call me', { maxTokens: 100000, signal: controller.signal })) controller.abort();
  })());
  await lm.dispose();
  const disposed = await outcome(sample(lm));
  const startedWhileAdopted = [...started];
  await TinyLM.shutdown();

  TinyLM.configure({ worker: new NativeWorker('/dist/worker_browser.js', { type: 'module' }) });
  const otherBuild = await outcome(TinyLM.load());
  const own = await sample(await TinyLM.load());  // the package's own worker now
  const startedAfter = [...started];
  await TinyLM.shutdown();

  const notTinylm = new NativeWorker(URL.createObjectURL(new Blob(['onmessage = () => postMessage("hello")'], { type: 'text/javascript' })));
  TinyLM.configure({ worker: notTinylm });
  const foreign = await outcome(TinyLM.memory());

  TinyLM.configure({ engineModule: WebAssembly.compileStreaming(fetch('/dist/wasm/tinylm_wasm.wasm')) });
  const otherModule = await outcome(TinyLM.memory());
  TinyLM.configure({ engineModule: Promise.resolve(new ArrayBuffer(8)) });
  const notModule = await outcome(TinyLM.memory());
  TinyLM.configure({ engineModule: Promise.reject(new Error('offline')) });
  const compiledHere = await sample(await TinyLM.load());
  await report({ wrongModules, wasmFetchesAdopted, otherModule, notModule, compiledHere, wrongValues, adopted, own, posted, startedWhileAdopted, startedAfter, whileRunning, cancelled, disposed,
    otherBuild, foreign, capabilities: TinyLM.capabilities() });
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message });
}
</script>`;

// The page over dist/, cross-origin isolated (so the threaded build runs), in headless Chromium.
async function runPage(t) {
  const { outcome } = await runInChromium(t, page, { isolated: true, timeoutMs: 120_000 });
  assert.equal(outcome.error, undefined, outcome.error);
  return outcome;
}

const skip = skipWithoutChromium;

test('Chromium: the engine runs in the worker the page started in <head>; wrong workers get a clear error', { skip }, async (t) => {
  const outcome = await runPage(t);
  assert.match(outcome.wrongValues[0], /^INVALID_ARGUMENT: option worker must be a Worker started from the package's worker_browser\.js or worker_browser_threads\.js .*got string \/dist\/worker_browser_threads\.js/);
  assert.match(outcome.wrongValues[1], /^INVALID_ARGUMENT: option worker must be a Worker .*got a plain object/);
  assert.match(outcome.wrongValues[2], /^INVALID_ARGUMENT: option worker must be a Worker .*got null/);

  // The given worker is the one used: the package started none, and everything went to it.
  assert.deepEqual(outcome.startedWhileAdopted, []);
  assert.deepEqual(outcome.posted.slice(0, 2), ['tinylmBuildQuery', 'tinylmThreads']);
  for (const type of ['tinylmEngineModule', 'load', 'generate', 'cancel', 'dispose']) assert.ok(outcome.posted.includes(type), `${type} went to the given worker: ${outcome.posted}`);
  assert.equal([...outcome.adopted].length, 12);
  assert.equal(outcome.adopted, outcome.own, 'the given worker computes what the package\'s own worker computes');
  assert.match(outcome.cancelled, /^AbortError/);
  assert.match(outcome.disposed, /^TinyLMError DISPOSED/);
  assert.match(outcome.whileRunning, /^INVALID_ARGUMENT: option worker: an engine is already running .*TinyLM\.shutdown\(\) first/);
  // relaxedSimd: the package's own choice in Chromium; the module given (the standard .wasm here) runs as it is.
  assert.deepEqual(outcome.capabilities, { threads: 2, maxThreads: 16, simd: true, relaxedSimd: true, crossOriginIsolated: true, build: 'threads' });

  // The wrong build fails the first call; the next call starts the package's own (threaded) worker.
  assert.match(outcome.otherBuild, /^TinyLMError INVALID_ARGUMENT: the Worker given to TinyLM\.configure\(\{ worker \}\) runs worker_browser\.js, but this engine is the threaded build on 2 threads \(worker_browser_threads\.js\): start that file instead/);
  assert.deepEqual(outcome.startedAfter, ['/dist/worker_browser_threads.js']);
  assert.match(outcome.foreign, /^TinyLMError INVALID_ARGUMENT: the Worker given to TinyLM\.configure\(\{ worker \}\) is not tinylm's engine worker/);

  // The page's compiled .wasm: used (the package fetched none), refused when it is not one or of the other build,
  // and replaced by the package's own compile when the page's failed.
  assert.equal(outcome.wasmFetchesAdopted, 1, 'only the page\'s own fetch of the .wasm');
  assert.match(outcome.wrongModules[0], /^INVALID_ARGUMENT: option engineModule must be a WebAssembly\.Module or a promise of one .*got string/);
  assert.match(outcome.wrongModules[1], /^INVALID_ARGUMENT: option engineModule must be a WebAssembly\.Module or a promise of one .*got object/);
  assert.match(outcome.otherModule, /^TinyLMError INVALID_ARGUMENT: option engineModule is the single-thread build \(tinylm_wasm\.wasm\)'s \.wasm, but this engine is the threaded build \(tinylm_wasm_threads\.wasm\)/);
  assert.match(outcome.notModule, /^TinyLMError INVALID_ARGUMENT: option engineModule resolved to \[object ArrayBuffer\], not a WebAssembly\.Module/);
  assert.equal(outcome.compiledHere, outcome.adopted);
});
