// Stand-ins for the threaded engine's pthread Workers in browsers (worker_browser_threads.ts): the glue gets them
// in place of real Workers, and no real one starts until the pool is released (pool_release.ts says when).
//
// Why: a pthread Worker fetches and evaluates its script (the glue again) and instantiates the module a second
// time. Started with the engine worker, on 2 cores that took CPU from what the first token after navigation waits
// for — the engine worker's own script, the engine's instantiation, the model's load and the first generated
// token — for threads the engine cannot compute with before then anyway (pool_start.ts: it computes on 1 thread
// until every pthread Worker has loaded the module).
//
// Emscripten 3.1.6's glue (PThread in tinylm_wasm_threads.mjs) uses these members of a Worker only: it sets
// onmessage and onerror, posts 'load' as it instantiates the module (later 'run' and the queue commands, which
// wait for the Worker's 'loaded'), terminates it (terminateAllThreads, killThread), and keeps its own bookkeeping
// in properties of the object (loaded, pthread, runPthread), which a stand-in holds as well as a Worker. A
// stand-in keeps what it is sent, in order, and when started hands it to a real Worker whose messages and errors
// go to the handlers the glue set.

type Held = [message: unknown, transfer: Transferable[]];

export class DeferredWorker {
  onmessage: ((event: MessageEvent) => void) | null = null;
  onerror: ((event: ErrorEvent) => void) | null = null;
  private worker: Worker | undefined;
  private held: Held[] | undefined = [];  // undefined once started or terminated

  get started(): boolean {
    return this.worker !== undefined;
  }

  postMessage(message: unknown, transfer: Transferable[] = []): void {
    if (this.held) this.held.push([message, transfer]);
    else this.worker?.postMessage(message, transfer);
  }

  // Before start(): the real Worker is never started, and what it was sent is dropped.
  terminate(): void {
    this.held = undefined;
    this.worker?.terminate();
  }

  // Starts the real Worker (startWorker) and sends it what this one was sent; once only, never after terminate().
  start(startWorker: () => Worker): void {
    if (!this.held) return;
    const worker = startWorker();
    this.worker = worker;
    worker.onmessage = (event) => this.onmessage?.(event);
    worker.onerror = (event) => this.onerror?.(event);
    for (const [message, transfer] of this.held) worker.postMessage(message, transfer);
    this.held = undefined;
  }
}

export interface DeferredPool {
  workers: DeferredWorker[];  // for the glue, in the order it asks for them
  release(): void;            // starts them all; again: nothing
}

export function deferredPthreadWorkers(count: number, startWorker: () => Worker): DeferredPool {
  const workers = Array.from({ length: count }, () => new DeferredWorker());
  return { workers, release: () => workers.forEach((worker) => worker.start(startWorker)) };
}
