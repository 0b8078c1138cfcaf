// Starts one of the threaded engine's pthread Workers in browsers: the engine worker's own script again, by the URL
// it runs from, under a name that gives it a pthread's part (worker_browser_threads.ts asks isPthreadWorker()), so
// the page downloads the threaded glue once and its HTTP cache serves the same file to every further thread. The URL
// is the one the worker runs from, not a `new URL(…, import.meta.url)`, so that no bundler emits a second copy of the
// script. worker_browser_threads.ts calls it when the pool is released (deferred_pthread_workers.ts,
// pool_release.ts), once per extra thread.
const kPthreadWorkerName = 'tinylm-pthread';

const scope = globalThis as unknown as { name?: string; location: { href: string } };

export function startPthreadWorker(): Worker {
  return new Worker(scope.location.href, { type: 'module', name: kPthreadWorkerName });
}

// True in a Worker startPthreadWorker() started.
export const isPthreadWorker = (): boolean => scope.name === kPthreadWorkerName;
