// The threaded engine's worker in browsers (a module Web Worker started by assets.ts on a cross-origin isolated
// page), the twin of worker_browser.ts. Its thread count comes in a message before any request (threads.ts); the
// engine starts once it has arrived, with the WebAssembly module the page compiled meanwhile (engine_module.ts). The
// engine's further threads each run on a pthread Worker: this same script, started by worker_pthread_start.ts under
// a name that gives it a pthread's part (worker_pthread.ts) and handed to the glue as it asks for one, so that no
// bundler needs to locate Emscripten's own pthread script and a page downloads the glue once. The glue is built
// without import.meta (wasm/wasm.cmake), so a bundler finds no other file to emit in it. A page that adopted this
// worker (given_worker.ts) asks first which build it runs.
//
// The engine answers before its pthread Workers are up (pool_start.ts): it starts on 1 thread, loads and generates
// at once, and computes on all its threads from the first call after the last pthread Worker has loaded the module.
// The glue gets stand-ins for those Workers (deferred_pthread_workers.ts), and the real ones start only once the
// engine has done its first piece of work (pool_release.ts), so that they do not take the CPU the first token
// waits for.
import { readInWorker, withDeferredEngine } from './deferred_engine.js';
import type { Engine } from './engine.js';
import { instantiateCompiled, isEngineModuleMessage } from './engine_module.js';
import { isBuildQuery, type BuildAnswer } from './given_worker.js';
import type { Request, WorkerEvent } from './protocol.js';
import { isThreadCountMessage, kMaxThreads } from './threads.js';
import { answerBeforePool } from './pool_start.js';
import { watchForPoolRelease, type PoolReleaseWatch } from './pool_release.js';
import { deferredPthreadWorkers } from './deferred_pthread_workers.js';
import { isPthreadWorker, startPthreadWorker } from './worker_pthread_start.js';
import { servePthread } from './worker_pthread.js';
import createThreadedEngine from './wasm/tinylm_wasm_threads.mjs';
import { serve } from './worker_core.js';
import { markTimeline } from './worker_state.js';

const engineWasmUrl = new URL('./wasm/tinylm_wasm_threads.wasm', import.meta.url);
// The engine's deferred modules (deferred_engine.ts), standard and relaxed SIMD: fetched only if the engine needs one.
const deferredWasmUrls = {
  standard: new URL('./wasm/tinylm_wasm_threads.deferred.wasm', import.meta.url),
  relaxed: new URL('./wasm/tinylm_wasm_threads_relaxed.deferred.wasm', import.meta.url),
};

const scope = globalThis as unknown as {
  Worker: typeof Worker;
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
};

let setThreads: (threads: number) => void = () => {};
const threadCount = new Promise<number>((resolve) => (setThreads = resolve));
let setCompiled: (module: WebAssembly.Module | null) => void = () => {};
const compiledModule = new Promise<WebAssembly.Module | null>((resolve) => (setCompiled = resolve));

// Watches this worker's messages and events from the start, as a compute request may come before the engine is up;
// the pool it releases exists once the engine starts (createEngine).
let releasePool: (() => void) | undefined;
let poolReleased = false;
let poolRelease: PoolReleaseWatch;

// The glue asks for max(1, threads − 1) pthread Workers while its factory runs (PTHREAD_POOL_SIZE), each with
// `new Worker(url)`: for that call only, Worker hands out stand-ins, which start real Workers once released. The
// page's module (engine_module.ts) is then instantiated here (null: the glue fetches the .wasm itself). Resolves
// with the engine once it is instantiated, and with when its pthread Workers have all loaded the module.
async function createEngine(threads: number, compiled: Promise<WebAssembly.Module | null>): Promise<{ engine: unknown; poolLoaded: Promise<void> }> {
  const pool = deferredPthreadWorkers(Math.max(1, threads - 1), startPthreadWorker);
  releasePool = pool.release;
  if (poolReleased) pool.release();
  const workers = [...pool.workers];
  const module = await compiled;
  return new Promise((resolve, reject) => {
    const NativeWorker = scope.Worker;
    scope.Worker = function pthreadWorker() {
      const worker = workers.shift();
      if (!worker) throw new Error('the threaded engine asked for more pthread Workers than it was started with');
      return worker;
    } as unknown as typeof Worker;
    try {
      const instantiateWasm = module ? instantiateCompiled(module, reject) : undefined;
      const overrides: Record<string, unknown> = withDeferredEngine(
        { tinylmThreads: threads, locateFile: () => engineWasmUrl.href, ...(instantiateWasm && { instantiateWasm }) },
        readInWorker(deferredWasmUrls), { shareWithThreads: true });
      const started = createThreadedEngine(overrides);
      const poolLoaded = answerBeforePool(overrides);  // the glue's module object is `overrides` itself
      started.then((engine: unknown) => resolve({ engine, poolLoaded }), reject);
    } finally {
      scope.Worker = NativeWorker;
    }
  });
}

type ThreadedEngine = Engine & { setThreadCount(threads: number): number | Error };

function serveEngine(): void {
  poolRelease = watchForPoolRelease(() => {
    poolReleased = true;
    markTimeline('tinylm pthread workers started');
    releasePool?.();
  });
  serve(
    {
      post: (event: WorkerEvent, transfer: ArrayBuffer[]) => {
        scope.postMessage(event, transfer);
        poolRelease.event(event);
      },
      listen: (handler) =>
        scope.addEventListener('message', ({ data }) => {
          if (isEngineModuleMessage(data)) {
            markTimeline('tinylm module received');
            return setCompiled(data.tinylmEngineModule);
          }
          if (isBuildQuery(data)) return scope.postMessage({ tinylmBuild: 'threads' } satisfies BuildAnswer, []);
          if (!isThreadCountMessage(data)) {
            poolRelease.request(data);
            return handler(data as Request);
          }
          markTimeline('tinylm thread count received');
          const threads = Number(data.tinylmThreads);
          setThreads(Number.isInteger(threads) && threads >= 1 && threads <= kMaxThreads ? threads : 1);
        }),
    },
    async () => {
      const threads = await threadCount;
      const { engine, poolLoaded } = await createEngine(threads, compiledModule);
      const threaded = engine as ThreadedEngine;
      // Runs as a message of its own (the last pthread Worker's 'loaded'), so between two engine calls: the pool
      // grows from 1 thread to all of them where no parallel region can be in flight. Results are the same at
      // every count; a count the engine refuses leaves it on the threads it has.
      void poolLoaded.then(() => {
        const grown = threaded.setThreadCount(threads);
        if (grown instanceof Error) console.error(`tinylm-js: the engine stays on 1 thread: ${grown.message}`);
        markTimeline('tinylm threads ready');
      });
      return threaded;
    },
  );
}

if (isPthreadWorker()) servePthread();
else serveEngine();
