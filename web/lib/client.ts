// The main thread's side of the worker protocol (protocol.ts): starts the engine worker, numbers requests, routes
// each event to the request it names, turns 'error' events into TinyLMError/AbortError, and forwards AbortSignals
// as 'cancel' requests. One EngineClient (one worker, one wasm heap) serves every model of a page or process.
//
// Browsers: a module Web Worker, created with the literal `new Worker(new URL('./worker.js', import.meta.url),
// { type: 'module' })` that bundlers (Vite, webpack) recognise. Node: a worker_threads Worker, unref'd while no
// request is pending so an idle engine never keeps the process alive.
import { AbortError, TinyLMError, fromWireError } from './errors.js';
import type { OperationType, Operations, WorkerEvent } from './protocol.js';

interface WorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): unknown;
  ref?(): void;    // Node only
  unref?(): void;  // Node only
}

interface Pending {
  type: OperationType;
  onEvent?: (event: WorkerEvent) => void;
  resolve(result: unknown): void;
  reject(error: TinyLMError): void;
}

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

async function startWorker(onEvent: (event: WorkerEvent) => void, onFailure: (message: string) => void): Promise<WorkerLike> {
  if (isNode) {
    const workerThreads = 'node:worker_threads';
    const { Worker: NodeWorker } = (await import(/* @vite-ignore */ workerThreads)) as typeof import('node:worker_threads');
    const worker = new NodeWorker(new URL('./worker.js', import.meta.url));
    worker.on('message', onEvent);
    worker.on('error', (error) => onFailure(error.message));
    worker.on('exit', (code) => onFailure(`the engine worker exited (code ${code})`));
    return worker as unknown as WorkerLike;
  }
  const worker = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  worker.onmessage = (event: MessageEvent<WorkerEvent>) => onEvent(event.data);
  worker.onerror = (event: ErrorEvent) => onFailure(event.message || 'the engine worker failed to start');
  return worker;
}

export class EngineClient {
  private worker: Promise<WorkerLike> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private workerEpoch = 0;

  private connect(): Promise<WorkerLike> {
    if (!this.worker) {
      const epoch = this.workerEpoch;
      this.worker = startWorker(
        (event) => this.route(event),
        (message) => {
          if (epoch === this.workerEpoch) this.fail(message);  // not a late exit of a replaced worker
        },
      );
    }
    return this.worker;
  }

  // Sends one operation; resolves with its result. onEvent receives its progress/token events in order.
  async request<K extends OperationType>(
    type: K,
    payload: Operations[K]['payload'],
    options: { signal?: AbortSignal; transfer?: ArrayBuffer[]; onEvent?: (event: WorkerEvent) => void } = {},
  ): Promise<Operations[K]['result']> {
    const { signal, transfer = [], onEvent } = options;
    if (signal?.aborted) throw new AbortError('the operation was cancelled before it started');
    const worker = await this.connect();
    const id = this.nextId++;
    const onAbort = () => this.cancel(id);
    return new Promise<Operations[K]['result']>((resolve, reject) => {
      this.pending.set(id, {
        type,
        onEvent,
        resolve: (result) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(result as Operations[K]['result']);
        },
        reject: (error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(error);
        },
      });
      if (this.pending.size === 1) worker.ref?.();
      signal?.addEventListener('abort', onAbort, { once: true });
      worker.postMessage({ id, type, payload }, transfer);
    });
  }

  // Asks the worker to stop a request; it answers the request with an AbortError within one step or token.
  private cancel(target: number): void {
    if (!this.pending.has(target) || !this.worker) return;
    void this.worker.then((worker) => worker.postMessage({ id: this.nextId++, type: 'cancel', payload: { target } }, []));
  }

  // Increments whenever a worker ends: model ids from an earlier worker mean nothing to the current one.
  get epoch(): number {
    return this.workerEpoch;
  }

  // Ends the worker; pending requests fail with WORKER_FAILED. The next request starts a new worker.
  async terminate(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.workerEpoch += 1;
    this.rejectAll('the engine was shut down');
    await (await worker).terminate();
  }

  private route(event: WorkerEvent): void {
    const pending = this.pending.get(event.id);
    if (!pending) return;
    if (event.type === 'result' || event.type === 'error') {
      this.pending.delete(event.id);
      if (this.pending.size === 0) void this.worker?.then((worker) => worker.unref?.());
      if (event.type === 'result') pending.resolve(event.payload);
      else pending.reject(fromWireError(event.payload));
      return;
    }
    pending.onEvent?.(event);
  }

  // The worker crashed or could not start: its models are gone. Pending requests fail; the next request starts a
  // fresh worker.
  private fail(message: string): void {
    if (!this.worker) return;  // terminate() already settled everything
    this.worker = undefined;
    this.workerEpoch += 1;
    this.rejectAll(message);
  }

  private rejectAll(message: string): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) request.reject(new TinyLMError('WORKER_FAILED', message));
  }
}
