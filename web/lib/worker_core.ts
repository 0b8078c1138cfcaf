// The engine worker's protocol and dispatch: owns the wasm engine and every model in it; the main thread only
// sends messages (index.ts, client.ts) and never blocks on engine work. The same code runs as a module Web Worker
// in browsers (worker_browser.ts) and as a worker_threads Worker in Node (worker_node.ts); each of those hands
// serve() its message port and the way to start the engine.
//
// Protocol (types in protocol.ts):
//   main → worker  { id, type, payload }  type ∈ load | loadCheckpoint | create | generate | chat | fineTune | evaluate | export | inspect |
//                                          encode | decode | dispose | memory | cancel
//   worker → main  { id, type: 'progress' | 'checkpoint' | 'tokens', payload }  zero or more, then exactly one of
//                  { id, type: 'result', payload } | { id, type: 'error', payload: { name, code, message } }
//                  { id: 0, type: 'engine', payload: { relaxedSimd } }  once, as the engine starts
//   cancel         { type: 'cancel', payload: { target } } — checked between training steps and between
//                  generation slices; the target then ends with an 'AbortError'. Queued requests that were
//                  cancelled never start.
//
// Per model, operations run one at a time in arrival order (a promise chain per model); long operations yield
// to the event loop between steps or slices so that cancel messages are seen. Engine errors never end the
// worker: each becomes an 'error' event for its request and the next request runs normally.
import { AbortError, toWireError } from './errors.js';
import type { Engine } from './engine.js';
import type { OperationRequest, OperationType } from './protocol.js';
import { handlers, type Handler } from './worker_handlers.js';
import { forgetChatState } from './worker_chat.js';
import type { Port } from './worker_port.js';
import { models, setEngineLoader, engine, type Context } from './worker_state.js';

const activeRequests = new Set<number>();    // queued or running
const cancelledRequests = new Set<number>();  // subset of activeRequests asked to stop

// Typed arrays and ArrayBuffers in a result move to the main thread instead of being copied.
function transferablesOf(result: unknown): ArrayBuffer[] {
  if (typeof result !== 'object' || result === null) return [];
  const buffers = new Set<ArrayBuffer>();
  for (const value of Object.values(result)) {
    if (value instanceof ArrayBuffer) buffers.add(value);
    else if (ArrayBuffer.isView(value) && value.buffer instanceof ArrayBuffer) buffers.add(value.buffer);
  }
  return [...buffers];
}

// ---- dispatch --------------------------------------------------------------------------------------------------

function modelIdOf(request: OperationRequest): number | undefined {
  const payload = request.payload as { modelId?: number };
  return request.type === 'load' || request.type === 'loadCheckpoint' || request.type === 'create' || request.type === 'memory'
    ? undefined
    : payload.modelId;
}

// A fused generation reads a second model: it waits for that model's queue too, and that model's next operation for it.
function partnerIdOf(request: OperationRequest): number | undefined {
  return request.type === 'generate' || request.type === 'chat' ? request.payload.options?.fuse?.modelId : undefined;
}

// The operations that only read a model; any other may change its weights, and ends the sessions made before it.
const readOnlyOperations = new Set<OperationType>(['generate', 'chat', 'evaluate', 'export', 'inspect', 'encode', 'decode',
  'dispose', 'sessionCreate', 'sessionRestore', 'sessionGenerate', 'sessionFork', 'sessionSave', 'sessionStats',
  'sessionDispose']);

export function serve(port: Port, loadEngine: () => Promise<Engine>): void {
  // Posted before the engine promise resolves, so before the result of any request that waited for it.
  setEngineLoader(async () => {
    const started = await loadEngine();
    port.post({ id: 0, type: 'engine', payload: { relaxedSimd: started.relaxedSimd() } }, []);
    return started;
  });

  async function run(request: OperationRequest): Promise<void> {
    const context: Context = {
      id: request.id,
      emit: (event, transfer = []) => port.post(event, transfer),
      throwIfCancelled: (what) => {
        if (cancelledRequests.has(request.id)) throw new AbortError(what);
      },
    };
    try {
      context.throwIfCancelled('the operation was cancelled before it started');
      const handler = handlers[request.type] as Handler<OperationType>;
      const result = await handler(request.payload, context);
      port.post({ id: request.id, type: 'result', payload: result }, transferablesOf(result));
    } catch (error) {
      port.post({ id: request.id, type: 'error', payload: toWireError(error) }, []);
    } finally {
      activeRequests.delete(request.id);
      cancelledRequests.delete(request.id);
    }
  }

  port.listen((request) => {
    if (request.type === 'cancel') {
      if (activeRequests.has(request.payload.target)) cancelledRequests.add(request.payload.target);
      return;
    }
    activeRequests.add(request.id);
    const modelId = modelIdOf(request);
    const model = modelId === undefined ? undefined : models.get(modelId);
    if (!model) {
      void run(request);  // not bound to a model, or an unknown one (run reports DISPOSED)
      return;
    }
    const partnerId = partnerIdOf(request);
    const partner = partnerId === undefined || partnerId === modelId ? undefined : models.get(partnerId);
    const before = partner ? Promise.all([model.queue, partner.queue]) : model.queue;
    const done = before.then(() => {
      if (!readOnlyOperations.has(request.type)) model.version += 1;
      forgetChatState(request, partnerId === undefined ? [modelId!] : [modelId!, partnerId]);
      return run(request);
    });
    model.queue = done;
    if (partner) partner.queue = done;
  });
  void engine().catch(() => {});  // start compiling the wasm while the first request is on its way
}

