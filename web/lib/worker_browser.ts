// The engine worker in browsers (a module Web Worker started by assets.ts). The glue is imported statically, so
// a bundler bundles it into the worker; the .wasm and the engine's deferred modules are located with literal URLs
// the bundler emits as assets (see assets.ts for the scheme). The page compiles that .wasm while this worker starts
// and posts the module (engine_module.ts); the engine starts once it has arrived. A page that adopted this worker
// (given_worker.ts) asks first which build it runs.
import { readInWorker, withDeferredEngine } from './deferred_engine.js';
import type { Engine } from './engine.js';
import { instantiateCompiled, isEngineModuleMessage } from './engine_module.js';
import { isBuildQuery, type BuildAnswer } from './given_worker.js';
import type { Request, WorkerEvent } from './protocol.js';
import createTinyLMEngine from './wasm/tinylm_wasm.js';
import { serve } from './worker_core.js';

const engineWasmUrl = new URL('./wasm/tinylm_wasm.wasm', import.meta.url);
// The engine's deferred modules (deferred_engine.ts), standard and relaxed SIMD: fetched only if the engine needs one.
const deferredWasmUrls = {
  standard: new URL('./wasm/tinylm_wasm.deferred.wasm', import.meta.url),
  relaxed: new URL('./wasm/tinylm_wasm_relaxed.deferred.wasm', import.meta.url),
};

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
};

let setCompiled: (module: WebAssembly.Module | null) => void = () => {};
const compiledModule = new Promise<WebAssembly.Module | null>((resolve) => (setCompiled = resolve));

serve(
  {
    post: (event: WorkerEvent, transfer: ArrayBuffer[]) => scope.postMessage(event, transfer),
    listen: (handler) =>
      scope.addEventListener('message', ({ data }) => {
        if (isEngineModuleMessage(data)) return setCompiled(data.tinylmEngineModule);
        if (isBuildQuery(data)) return scope.postMessage({ tinylmBuild: 'single' } satisfies BuildAnswer, []);
        handler(data as Request);
      }),
  },
  async () => {
    const module = await compiledModule;  // null: the glue fetches the .wasm itself
    return (await new Promise<unknown>((resolve, reject) => {
      const instantiateWasm = module ? instantiateCompiled(module, reject) : undefined;
      const overrides = { locateFile: () => engineWasmUrl.href, ...(instantiateWasm && { instantiateWasm }) };
      createTinyLMEngine(withDeferredEngine(overrides, readInWorker(deferredWasmUrls))).then(resolve, reject);
    })) as Engine;
  },
);
