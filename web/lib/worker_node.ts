// The engine worker in Node (a worker_threads Worker started by platform_node.ts). workerData names the build,
// thread count and .wasm (standard or relaxed SIMD's: relaxed_simd.ts; threads.ts), whose deferred module is read
// from beside it when the engine first needs it (deferred_engine.ts): the single-thread engine, or the
// threaded one, whose further threads run on Emscripten's own pthread script (wasm/tinylm_wasm_threads.worker.cjs,
// CommonJS as it must be under Node).
// Emscripten 3.1.6's ES-module glue expects, under Node, `require` and `__dirname` as globals when its factory
// runs, and gets the .wasm bytes passed in (Node's fetch cannot read file: URLs).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import { withDeferredEngine, type ReadDeferred } from './deferred_engine.js';
import { ok, type Engine, type EngineFactory } from './engine.js';
import type { EngineChoice } from './threads.js';
import { serve } from './worker_core.js';

const builds = {
  single: {
    glue: new URL('./wasm/tinylm_wasm.js', import.meta.url),
    wasm: new URL('./wasm/tinylm_wasm.wasm', import.meta.url),
    relaxedWasm: new URL('./wasm/tinylm_wasm_relaxed.wasm', import.meta.url),
    deferred: new URL('./wasm/tinylm_wasm.deferred.wasm', import.meta.url),
    relaxedDeferred: new URL('./wasm/tinylm_wasm_relaxed.deferred.wasm', import.meta.url),
  },
  threads: {
    glue: new URL('./wasm/tinylm_wasm_threads.mjs', import.meta.url),
    wasm: new URL('./wasm/tinylm_wasm_threads.wasm', import.meta.url),
    relaxedWasm: new URL('./wasm/tinylm_wasm_threads_relaxed.wasm', import.meta.url),
    pthread: new URL('./wasm/tinylm_wasm_threads.worker.cjs', import.meta.url),
    deferred: new URL('./wasm/tinylm_wasm_threads.deferred.wasm', import.meta.url),
    relaxedDeferred: new URL('./wasm/tinylm_wasm_threads_relaxed.deferred.wasm', import.meta.url),
  },
};

if (!parentPort) throw new Error('tinylm-js worker_node.js must run inside a worker thread');
const port = parentPort;
const choice: EngineChoice = (workerData as EngineChoice | undefined) ?? { build: 'single', threads: 1, relaxedSimd: false };

async function startEngine(): Promise<Engine> {
  const globals = globalThis as Record<string, unknown>;
  const { glue, wasm: standardWasm, relaxedWasm } = builds[choice.build];
  const wasm = choice.relaxedSimd ? relaxedWasm : standardWasm;  // the same glue runs either (relaxed_simd.ts)
  globals.require ??= createRequire(glue);
  globals.__dirname ??= fileURLToPath(new URL('.', glue));
  const { default: create } = (await import(glue.href)) as { default: EngineFactory };
  const wasmBinary = await readFile(wasm);
  const { deferred, relaxedDeferred } = builds[choice.build];
  const readDeferred: ReadDeferred = (relaxed) => {
    const file = fileURLToPath(relaxed ? relaxedDeferred : deferred);
    try {
      return { bytes: new Uint8Array(readFileSync(file)) };
    } catch (error) {
      return { problem: (error as Error).message, file };
    }
  };
  if (choice.build === 'single') return create(withDeferredEngine({ wasmBinary }, readDeferred));
  const engine = (await create(withDeferredEngine({
    wasmBinary,
    tinylmThreads: choice.threads,
    mainScriptUrlOrBlob: glue.href,
    locateFile: (file: string) => (file.endsWith('.worker.js') ? fileURLToPath(builds.threads.pthread) : fileURLToPath(new URL(file, glue))),
  }, readDeferred))) as Engine & { setThreadCount(threads: number): number | Error };
  ok(engine.setThreadCount(choice.threads));
  return engine;
}

serve(
  {
    post: (event, transfer) => port.postMessage(event, transfer),
    listen: (handler) => port.on('message', handler),
  },
  startEngine,
);
