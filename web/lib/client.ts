// The main thread's side of the worker protocol (protocol.ts): starts the engine worker, numbers requests, routes
// each event to the request it names, turns 'error' events into TinyLMError/AbortError, and forwards AbortSignals
// as 'cancel' requests. One EngineClient (one worker, one wasm heap) serves every model of a page or process.
//
// The worker itself is started by the platform (platform_browser.ts / platform_node.ts).
//
// Cancellation is never lost: a signal already aborted, or aborted before the worker is connected, rejects the
// request with an AbortError before it is ever posted; once posted, an abort sends a 'cancel' the worker honours
// within one step (queued requests never start).
import { AbortError, TinyLMError, fromWireError } from './errors.js';
import { platform, type WorkerLike } from './platform.js';
import type { EngineReport, ErrorCode, OperationType, Operations, WorkerEvent } from './protocol.js';

interface Pending {
  type: OperationType;
  onEvent?: (event: WorkerEvent) => void;
  resolve(result: unknown): void;
  reject(error: TinyLMError): void;
}

export class EngineClient {
  private worker: Promise<WorkerLike> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private workerEpoch = 0;
  private lastEnd: TinyLMError | undefined;  // why the last worker ended (for requests that were still connecting)
  private report: EngineReport | undefined;  // what the current worker's engine said it is, once it started

  private connect(): Promise<WorkerLike> {
    if (!this.worker) {
      const epoch = this.workerEpoch;
      // Started in a microtask, so a failure to construct it (a bad assetBase) rejects like any other.
      this.worker = Promise.resolve().then(() =>
        platform().startWorker(
          (event) => this.route(event, epoch),
          (message, code) => {
            if (epoch === this.workerEpoch) this.fail(message, code);  // not a late exit of a replaced worker
          },
        ),
      ).catch((error: unknown) => {
        this.worker = undefined;
        throw new TinyLMError('WORKER_FAILED', `the engine worker could not start: ${(error as Error)?.message ?? String(error)}`);
      });
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
    // Listen from this tick on: an abort while the worker connects must not be lost.
    let abortedEarly = false;
    const onEarlyAbort = () => (abortedEarly = true);
    signal?.addEventListener('abort', onEarlyAbort, { once: true });
    let worker: WorkerLike;
    const epoch = this.workerEpoch;
    try {
      worker = await this.connect();
    } finally {
      signal?.removeEventListener('abort', onEarlyAbort);
    }
    if (abortedEarly || signal?.aborted) throw new AbortError('the operation was cancelled before it started');
    // The worker ended while this request connected (a failure found as it started): it fails as the pending did.
    if (this.workerEpoch !== epoch && this.lastEnd) throw this.lastEnd;
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

  // A worker is running or starting (until terminate() or a failure).
  get started(): boolean {
    return this.worker !== undefined;
  }

  // What the running engine said it is (protocol.ts: 'engine'); undefined until it has started, and once it ends.
  get engineReport(): EngineReport | undefined {
    return this.report;
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
    this.report = undefined;
    this.rejectAll('the engine was shut down');
    await (await worker).terminate();
  }

  private route(event: WorkerEvent, epoch: number): void {
    if (event.type === 'engine') {
      if (epoch === this.workerEpoch) this.report = event.payload;  // not a late word from a replaced worker
      return;
    }
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

  // The worker crashed, could not start or was the wrong one: its models are gone. Pending requests fail; the next
  // request starts a fresh worker.
  private fail(message: string, code: ErrorCode = 'WORKER_FAILED'): void {
    if (!this.worker) return;  // terminate() already settled everything
    this.worker = undefined;
    this.workerEpoch += 1;
    this.report = undefined;
    this.rejectAll(message, code);
  }

  private rejectAll(message: string, code: ErrorCode = 'WORKER_FAILED'): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    this.lastEnd = new TinyLMError(code, message);
    for (const request of pending) request.reject(new TinyLMError(code, message));
  }
}
