// The threaded engine's side of page.html's tinylm rows with &threads=N: a module Web Worker (a blocking engine
// call may wait in Atomics.wait here, which a page's main thread may not) that starts the threaded engine of the
// served package on N threads, runs benchTinyLM on it and posts the rows back. The engine is driven through Embind
// directly, as node.mjs --threads drives it, so the rows are those of the single-thread runs with the work split.
//
//   postMessage({ dist, threads, text, options })  dist: where the package is served ('/dist/'); options: what
//                                                   benchTinyLM takes, less gptBytes (fetched here)
//   ← { rows } or { error }
//
// Each further thread runs on a pthread Worker the glue asks for with `new Worker(url)`: for the factory's call,
// Worker makes the package's threaded worker (dist/worker_browser_threads.js, the glue bundled in) under the name
// that gives it a pthread's part, as the package's engine worker does, since Emscripten's classic pthread script
// cannot import the ES-module glue.
import { benchTinyLM } from './tinylm_bench.mjs';

// The engine returns a JS Error instead of throwing one (bindings.cpp's seam).
function ok(result) {
  if (result instanceof Error) throw result;
  return result;
}

async function startEngine(dist, threads) {
  const { default: createEngine } = await import(`${dist}wasm/tinylm_wasm_threads.mjs`);
  // Training's code is the engine's deferred module, read when first needed (web/lib/deferred_engine.ts) and left
  // in the heap for the package's pthread script.
  const { readInWorker, withDeferredEngine } = await import(`${dist}deferred_engine.js`);
  const deferred = readInWorker({ standard: new URL(`${dist}wasm/tinylm_wasm_threads.deferred.wasm`, location.href),
    relaxed: new URL(`${dist}wasm/tinylm_wasm_threads_relaxed.deferred.wasm`, location.href) });
  const NativeWorker = self.Worker;
  self.Worker = function pthreadWorker() {
    return new NativeWorker(`${dist}worker_browser_threads.js`, { type: 'module', name: 'tinylm-pthread' });
  };
  let started;
  try {
    // The glue starts its max(1, threads − 1) pthread Workers while the factory runs, and resolves once each has
    // loaded the module: the pool can then grow to `threads`.
    started = createEngine(withDeferredEngine({ tinylmThreads: threads, locateFile: () => `${dist}wasm/tinylm_wasm_threads.wasm` }, deferred,
      { shareWithThreads: true }));
  } finally {
    self.Worker = NativeWorker;
  }
  const engine = await started;
  if (ok(engine.setThreadCount(threads)) !== threads) throw new Error(`the threaded engine did not start ${threads} threads`);
  return engine;
}

self.onmessage = async ({ data: { dist, threads, text, options } }) => {
  try {
    const engine = await startEngine(dist, threads);
    const gptBytes = new Uint8Array(await (await fetch('/models/moby-char-gpt.safetensors')).arrayBuffer());
    self.postMessage({ rows: await benchTinyLM(engine, text, { ...options, gptBytes }) });
  } catch (error) {
    self.postMessage({ error: `${error.name}: ${error.message}` });
  }
};
