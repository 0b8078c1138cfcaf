// Where the package finds its own files at run time. Every file is written as a literal
// `new URL('./file', import.meta.url)` next to the code that uses it, the one pattern every bundler (Vite,
// webpack, Parcel, Rollup and esbuild plugins) and every browser understands: a bundler copies the file into the
// app's output and rewrites the URL; without a bundler the URL resolves beside the module itself.
//
//   file                                  used by            located in
//   worker_browser.js (+ its imports)     main thread        assets.ts: newEngineWorker(), or the app
//                                                            (TinyLM.configure({ worker }), given_worker.ts)
//   wasm/tinylm_wasm.js (Emscripten glue) the worker         worker_browser.ts: a static import (bundled with it)
//   wasm/tinylm_wasm.wasm                 main thread        assets.ts: compiled as the worker starts (or by the
//                                                            app: TinyLM.configure({ engineModule }))
//                                         (the glue)         worker_browser.ts: engineWasmUrl, if the page could not
//   wasm/tinylm_wasm_relaxed.wasm         main thread        assets.ts: instead, where relaxed SIMD validates
//                                                            (relaxed_simd.ts); the same glue runs it. If the page
//                                                            cannot compile it, the worker fetches the standard one
//   wasm/tinylm_wasm{,_relaxed}.deferred.wasm  the worker    worker_browser.ts: the rest of that engine's code
//                                                            (deferred_engine.ts), read when it first needs it
//   models/moby-char-lstm.safetensors     TinyLM.load()      assets.ts: defaultModelUrl()
//   worker_node.js, wasm/* (Node)         node entry         platform_node.ts, worker_node.ts (same names)
//
//   worker_browser_threads.js (+ glue) main thread        assets.ts: newEngineWorker() (the threaded build),
//                                                         or the app, as worker_browser.js
//   worker_browser_threads.js again     threaded worker    worker_pthread_start.ts: by the URL it runs from, as
//                                                         each pthread (one per extra thread), once the engine has
//                                                         done its first piece of work (pool_release.ts)
//   wasm/tinylm_wasm_threads.wasm       main thread        assets.ts: compiled as the worker starts
//                                       (threaded worker)  worker_browser_threads.ts: engineWasmUrl, if not
//   wasm/tinylm_wasm_threads_relaxed.wasm  main thread     assets.ts: instead, as tinylm_wasm_relaxed.wasm
//   wasm/tinylm_wasm_threads.{mjs,wasm,worker.cjs} (Node) worker_node.ts (and either build's _relaxed.wasm)
//
// Each build has its own engine worker, so a page downloads one build's glue and .wasm only. The page fetches and
// compiles that .wasm while the worker starts and hands the module over (engine_module.ts).
//
// Two cases the literal URLs cannot cover:
//   - Setups that copy the package's files themselves (esbuild, Rollup without an asset plugin, a CDN):
//     TinyLM.configure({ assetBase }) names the folder that holds a copy of dist/ (same relative paths), and every
//     URL above is resolved against it instead.
//   - Vite 5 and 6 development servers serve a dependency from one pre-bundled file in node_modules/.vite/deps/,
//     which moves import.meta.url away from the package's files without rebasing the literal URLs (Vite 8
//     rebases them). Detected by the default model's URL pointing into that folder; the files are then taken
//     from node_modules/tinylm-js/dist/, two folders up. (A different cacheDir or layout: use assetBase.)
import { postCompiledEngine } from './engine_module.js';
import { TinyLMError } from './errors.js';
import { threadCountMessage, type EngineBuild, type EngineChoice } from './threads.js';

let assetBase: URL | undefined;

// Relative strings resolve against the page (browsers) or, in Node, must be a file: URL or an absolute URL.
export function setAssetBase(base: string | URL | undefined): void {
  if (base === undefined) {
    assetBase = undefined;
    return;
  }
  let url: URL;
  try {
    url = new URL(String(base), (globalThis as { location?: { href: string } }).location?.href);
  } catch {
    throw new TinyLMError('INVALID_ARGUMENT', `assetBase '${String(base)}' is not a URL: give the URL of the folder that holds a copy of the package's dist/ files`);
  }
  assetBase = new URL(url.href.endsWith('/') ? url.href : `${url.href}/`);
}

export function configuredAssetBase(): URL | undefined {
  return assetBase;
}

// ---- browsers ----------------------------------------------------------------------------------------------------

function viteDevBase(): URL | undefined {
  const literal = new URL('./models/moby-char-lstm.safetensors', import.meta.url);
  // Resolved against the model's URL, not import.meta.url: bundlers treat `new URL(literal, import.meta.url)` as
  // an asset to emit, and this folder is not one.
  return literal.pathname.includes('/node_modules/.vite/deps/') ? new URL('../../../tinylm-js/dist/', literal) : undefined;
}

export function defaultModelUrl(): URL {
  const base = assetBase ?? viteDevBase();
  if (base) return new URL('models/moby-char-lstm.safetensors', base);
  return new URL('./models/moby-char-lstm.safetensors', import.meta.url);
}

// The .wasm a worker of this build runs (compiled on the page: engine_module.ts), standard or relaxed SIMD's
// (relaxed_simd.ts): four literal URLs, so a bundler emits all four and a page fetches the one it compiles.
export function engineWasmUrl(build: EngineBuild, relaxedSimd: boolean): URL {
  const base = assetBase ?? viteDevBase();
  if (build === 'threads' && relaxedSimd) {
    return base ? new URL('wasm/tinylm_wasm_threads_relaxed.wasm', base) : new URL('./wasm/tinylm_wasm_threads_relaxed.wasm', import.meta.url);
  }
  if (build === 'threads') return base ? new URL('wasm/tinylm_wasm_threads.wasm', base) : new URL('./wasm/tinylm_wasm_threads.wasm', import.meta.url);
  if (relaxedSimd) return base ? new URL('wasm/tinylm_wasm_relaxed.wasm', base) : new URL('./wasm/tinylm_wasm_relaxed.wasm', import.meta.url);
  return base ? new URL('wasm/tinylm_wasm.wasm', base) : new URL('./wasm/tinylm_wasm.wasm', import.meta.url);
}

// What an engine worker, started here or adopted (adopt_worker.ts), is told before any request: the threaded
// build's thread count (threads.ts), then the engine's compiled module once it is ready (engine_module.ts).
export function postEngineSetup(worker: Worker, choice: EngineChoice, module: Promise<WebAssembly.Module | null>): void {
  if (choice.build === 'threads') worker.postMessage(threadCountMessage(choice.threads));
  postCompiledEngine(worker, module);
}

// One engine worker per build, each a literal URL, so a bundler emits both and a page fetches only the one it
// starts (the threaded one only on a cross-origin isolated page asking for more than one thread: threads.ts).
// (Worker options stay literal too: Vite refuses any it cannot read statically.)
export function newEngineWorker(build: EngineBuild): Worker {
  const base = assetBase ?? viteDevBase();
  if (build === 'threads') {
    return base
      ? new Worker(new URL('worker_browser_threads.js', base), { type: 'module' })
      : new Worker(new URL('./worker_browser_threads.js', import.meta.url), { type: 'module' });
  }
  return base
    ? new Worker(new URL('worker_browser.js', base), { type: 'module' })
    : new Worker(new URL('./worker_browser.js', import.meta.url), { type: 'module' });
}
