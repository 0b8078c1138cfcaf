// Starts the threaded engine's pthread Workers (worker_pthread.ts), with the literal `new Worker(new URL(...))` every
// bundler emits. worker_browser_threads.ts imports this module first, so it is evaluated before the glue and the
// rest of that worker's script: the first pthread Worker (the engine always has at least one, threads.ts) then
// boots while the engine worker is still evaluating, instead of after it.
export function startPthreadWorker(): Worker {
  return new Worker(new URL('./worker_pthread.js', import.meta.url), { type: 'module', name: 'tinylm-pthread' });
}

let first: Worker | undefined = startPthreadWorker();

// `count` pthread Workers: the one started as this module was evaluated, then new ones.
export function pthreadWorkers(count: number): Worker[] {
  const workers = first ? [first] : [];
  first = undefined;
  while (workers.length < count) workers.push(startPthreadWorker());
  return workers;
}
