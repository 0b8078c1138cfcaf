// The threaded engine answers before its pthread Workers are up (browsers' engine worker, worker_browser_threads.ts).
//
// Emscripten 3.1.6's glue resolves its factory only once every pthread Worker of its pool (PTHREAD_POOL_SIZE) has
// instantiated the module too and said 'loaded': a module Worker of its own that fetches and runs its script (the
// glue again), waits for the engine's instance, then instantiates the module a second time. On 2 cores that came
// to ~300 ms of the first token after navigation, spent waiting while the engine itself was ready. Yet the engine
// needs none of those Workers to compute: its pool has 1 thread until setThreadCount() (wasm/bindings.cpp).
//
// So the glue is told each Worker has loaded as soon as it was sent the module, and the factory resolves with the
// instance; the real 'loaded' messages still arrive (the glue counts them per Worker: worker.loaded, and a thread
// started on a Worker that has not loaded yet waits for it), and the returned promise resolves with the last.
// Only then may the pool grow (setThreadCount), never before: a parallel region would block the engine worker
// waiting for a thread whose Worker can only start once the engine worker's event loop relays that 'loaded'.
//
// Call with the glue's module object (the overrides the factory was given: the glue adopts that very object) right
// after calling the factory, before the module is instantiated.

interface GluePThread {
  unusedWorkers: unknown[];
  loadWasmModuleToWorker(worker: unknown, onFinishedLoading?: (worker: unknown) => void): void;
}

export function answerBeforePool(glueModule: Record<string, unknown>): Promise<void> {
  const pthread = glueModule.PThread as GluePThread | undefined;
  if (!pthread || typeof pthread.loadWasmModuleToWorker !== 'function') {
    // Another glue than the one this was written for: it waits for its Workers itself, as before.
    return Promise.resolve();
  }
  const load = pthread.loadWasmModuleToWorker;
  let loading = pthread.unusedWorkers.length;
  return new Promise((resolve) => {
    if (loading === 0) resolve();
    pthread.loadWasmModuleToWorker = function loadWithoutWaiting(worker, onFinishedLoading) {
      load.call(pthread, worker, () => {
        if (--loading === 0) resolve();
      });
      // After the glue's receiveInstance has sent the module to every Worker, as a real 'loaded' would come.
      if (onFinishedLoading) queueMicrotask(() => onFinishedLoading(worker));
    };
  });
}
