// Starts one of the threaded engine's pthread Workers (worker_pthread.ts), with the literal
// `new Worker(new URL(...))` every bundler emits. worker_browser_threads.ts calls it when the pool is released
// (deferred_pthread_workers.ts, pool_release.ts), once per extra thread.
export function startPthreadWorker(): Worker {
  return new Worker(new URL('./worker_pthread.js', import.meta.url), { type: 'module', name: 'tinylm-pthread' });
}
