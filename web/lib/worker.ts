// The engine worker: owns the wasm engine and every model in it; the main thread only sends messages
// (index.ts) and never blocks on engine work. Runs as a module Web Worker in browsers and as a worker_threads
// Worker in Node, with the same code.
//
// Protocol (types in protocol.ts):
//   main → worker  { id, type, payload }  type ∈ load | create | generate | fineTune | evaluate | export | inspect |
//                                          encode | decode | dispose | memory | cancel
//   worker → main  { id, type: 'progress' | 'token', payload }  zero or more, then exactly one of
//                  { id, type: 'result', payload } | { id, type: 'error', payload: { name, code, message } }
//   cancel         { type: 'cancel', payload: { target } } — checked between training steps and between tokens;
//                  the target then ends with an 'AbortError'. Queued requests that were cancelled never start.
//
// Per model, operations run one at a time in arrival order (a promise chain per model); long operations yield
// to the event loop after every step or token so that cancel messages are seen. Engine errors never end the
// worker: each becomes an 'error' event for its request and the next request runs normally.
import { AbortError, TinyLMError, toWireError } from './errors.js';
import type { Engine, EngineModel, ParameterSnapshot } from './engine.js';
import { engineErrorCode, loadEngine, ok } from './engine.js';
import { openPort, yieldToEventLoop } from './worker_port.js';
import type {
  FineTuneReport,
  ModelHandle,
  ModelInfo,
  OperationRequest,
  OperationType,
  Operations,
  WorkerEvent,
} from './protocol.js';

// ---- state ---------------------------------------------------------------------------------------------------

interface LoadedModel {
  engineModel: EngineModel;
  queue: Promise<unknown>;  // the last operation on this model: the next one starts after it settles
}

const models = new Map<number, LoadedModel>();
let nextModelId = 1;
const activeRequests = new Set<number>();    // queued or running
const cancelledRequests = new Set<number>();  // subset of activeRequests asked to stop
let enginePromise: Promise<Engine> | undefined;

function engine(): Promise<Engine> {
  enginePromise ??= loadEngine().catch((error: unknown) => {
    throw new TinyLMError('WORKER_FAILED', `the tinylm wasm engine could not start: ${toWireError(error).message}`);
  });
  return enginePromise;
}

interface Context {
  id: number;
  emit(event: WorkerEvent): void;
  throwIfCancelled(what: string): void;
}

// ---- helpers ---------------------------------------------------------------------------------------------------

function describe(engineModel: EngineModel): ModelInfo {
  const { configJson, ...info } = ok(engineModel.info());
  return { ...info, config: JSON.parse(configJson) as Record<string, unknown> };
}

function adopt(engineModel: EngineModel): ModelHandle {
  const modelId = nextModelId++;
  models.set(modelId, { engineModel, queue: Promise.resolve() });
  return { modelId, info: describe(engineModel) };
}

function modelOf(modelId: number): EngineModel {
  const model = models.get(modelId);
  if (!model) throw new TinyLMError('DISPOSED', 'this model was disposed: load or create it again to use it');
  return model.engineModel;
}

function requireText(text: string, purpose: string): void {
  if (typeof text !== 'string' || text.length === 0) {
    throw new TinyLMError('EMPTY_TEXT', `the text for ${purpose} is empty: pass at least a few sentences`);
  }
}

// Re-labels an engine error with the code that fits where it happened (the engine only knows ENGINE_ERROR and
// OUT_OF_MEMORY). Running out of memory while making a model means the model is too large for the cap.
function relabel(error: unknown, code: TinyLMError['code'], prefix = '', outOfMemoryCode: TinyLMError['code'] = 'OUT_OF_MEMORY'): never {
  if (error instanceof TinyLMError) throw error;
  const message = error instanceof Error ? error.message : String(error);
  if (engineErrorCode(error) === 'OUT_OF_MEMORY') throw new TinyLMError(outOfMemoryCode, message);
  throw new TinyLMError(code, prefix + message);
}

// The F32 bytes a safetensors file's tensors need once loaded (F16 widens to F32), read from its header without
// touching the data; undefined when the header is unreadable (the engine then explains what is wrong).
function declaredParameterBytes(bytes: Uint8Array): number | undefined {
  if (bytes.byteLength < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength <= 0 || headerLength > bytes.byteLength - 8 || headerLength > 100 << 20) return undefined;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
      string,
      { shape?: number[] }
    >;
    let total = 0;
    for (const [name, tensor] of Object.entries(header)) {
      if (name === '__metadata__' || !Array.isArray(tensor?.shape)) continue;
      total += tensor.shape.reduce((product, dim) => product * Number(dim), 1) * 4;
    }
    return total;
  } catch {
    return undefined;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

// ---- operations ------------------------------------------------------------------------------------------------

type Handler<K extends OperationType> = (
  payload: Operations[K]['payload'],
  context: Context,
) => Promise<Operations[K]['result']>;

const handlers: { [K in OperationType]: Handler<K> } = {
  async load({ bytes }) {
    const wasm = await engine();
    const data = new Uint8Array(bytes);
    const parameterBytes = declaredParameterBytes(data);
    if (parameterBytes !== undefined) {
      // Values and gradients, plus the file itself while it is parsed.
      const needed = 2 * parameterBytes + data.byteLength;
      const { maximum, inUse } = wasm.engineMemory();
      if (needed > maximum - inUse) {
        throw new TinyLMError(
          'MODEL_TOO_LARGE',
          `the model needs about ${megabytes(needed)} (parameters, gradients and the file) but the engine's memory ` +
            `is capped at ${megabytes(maximum)}, ${megabytes(inUse)} of it in use` +
            (models.size > 0 ? ` by ${models.size} loaded model(s): dispose() those you no longer need` : '') +
            '; use a smaller model',
        );
      }
    }
    let engineModel: EngineModel;
    try {
      engineModel = ok(wasm.Model.load(data));
    } catch (error) {
      relabel(error, 'INVALID_MODEL_FILE', 'not a usable tinylm model file: ', 'MODEL_TOO_LARGE');
    }
    return adopt(engineModel);
  },

  async create({ config, text }) {
    const wasm = await engine();
    requireText(text, 'fitting the tokenizer');
    try {
      return adopt(ok(wasm.Model.create(config, text)));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT', '', 'MODEL_TOO_LARGE');
    }
  },

  async generate({ modelId, prompt, options }, context) {
    const wasm = await engine();
    const model = modelOf(modelId);
    const { stop, alternatives, truncatePrompt, ...generatorOptions } = options;
    // A GPT reads at most contextSize tokens. A longer prompt would silently lose its beginning as the window
    // slides, so that only happens when the caller asks for it.
    const { contextSize } = ok(model.info());
    if (contextSize > 0 && !truncatePrompt) {
      const length = ok(model.encode(prompt)).length;
      if (length > contextSize) {
        throw new TinyLMError('PROMPT_TOO_LONG', `the prompt is ${length} tokens but this model reads at most ${contextSize}: ` +
          'shorten it, or pass truncatePrompt: true to let the window slide past its beginning');
      }
    }
    let generator;
    try {
      generator = ok(wasm.Generator.create(model, generatorOptions, stop));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
    try {
      ok(generator.start(prompt));
      let tokens = 0;
      for (;;) {
        context.throwIfCancelled(`generation was cancelled after ${tokens} token(s)`);
        const step = ok(generator.next());
        if (step.token >= 0) tokens += 1;
        if (step.token >= 0 || step.piece.length > 0) {
          context.emit({
            id: context.id,
            type: 'token',
            payload: {
              piece: step.piece,
              token: step.token,
              alternatives: step.token >= 0 && alternatives > 0 ? ok(generator.alternatives(alternatives)) : [],
            },
          });
        }
        if (step.done) return { tokens, stopReason: step.stopReason as 'max_tokens' | 'stop' | 'eos' };
        await yieldToEventLoop();
      }
    } finally {
      generator.delete();
    }
  },

  async fineTune({ modelId, text, options }, context) {
    const wasm = await engine();
    const model = modelOf(modelId);
    requireText(text, 'fine-tuning');
    const info = ok(model.info());
    if (!info.trainable) {
      throw new TinyLMError('NOT_TRAINABLE', `a '${info.arch}' model has no trainable parameters`);
    }
    const tokenCount = ok(model.encode(text)).length;
    const trainCount = tokenCount - Math.floor(tokenCount * options.validationSplit);
    if (trainCount < options.seqLen + 1) {
      throw new TinyLMError(
        'TEXT_TOO_SHORT',
        `the text is ${tokenCount} tokens; after holding out validationSplit ${options.validationSplit} the ` +
          `training part is ${trainCount}, but one training window of seqLen ${options.seqLen} needs ` +
          `${options.seqLen + 1}: give more text or lower seqLen`,
      );
    }
    const snapshot: ParameterSnapshot | undefined = options.keepPartial ? undefined : ok(wasm.ParameterSnapshot.take(model));
    let trainer;
    try {
      trainer = ok(wasm.Trainer.create(model, text, options));
    } catch (error) {
      snapshot?.delete();
      relabel(error, 'INVALID_ARGUMENT');
    }
    try {
      const started = performance.now();
      const hasValidation = trainer.hasValidation();
      const initialValidationLoss = hasValidation ? ok(trainer.validate()).loss : null;
      let validationLoss: number | null = null;
      let tokens = 0;
      const recentLosses: number[] = [];
      for (let step = 1; step <= options.steps; step++) {
        context.throwIfCancelled(`fine-tuning was cancelled after ${step - 1} of ${options.steps} steps`);
        let report;
        try {
          report = ok(trainer.step());
        } catch (error) {
          relabel(error, 'TRAINING_DIVERGED');
        }
        tokens += report.tokens;
        recentLosses.push(report.loss);
        if (recentLosses.length > 10) recentLosses.shift();
        if (hasValidation && (step % options.evalEvery === 0 || step === options.steps)) {
          validationLoss = ok(trainer.validate()).loss;
        }
        const elapsedSeconds = (performance.now() - started) / 1000;
        context.emit({
          id: context.id,
          type: 'progress',
          payload: {
            step,
            steps: options.steps,
            loss: report.loss,
            validationLoss,
            learningRate: report.learningRate,
            gradNorm: report.gradNorm,
            tokensPerSecond: tokens / Math.max(elapsedSeconds, 1e-9),
            elapsedSeconds,
            etaSeconds: ((options.steps - step) * elapsedSeconds) / step,
          },
        });
        await yieldToEventLoop();
      }
      const seconds = (performance.now() - started) / 1000;
      const result: FineTuneReport = {
        steps: options.steps,
        loss: recentLosses.length ? recentLosses.reduce((a, b) => a + b, 0) / recentLosses.length : NaN,
        validationLoss,
        initialValidationLoss,
        tokensPerSecond: tokens / Math.max(seconds, 1e-9),
        seconds,
        trainTokens: trainer.trainTokens(),
        validationTokens: trainer.validationTokens(),
      };
      return result;
    } catch (error) {
      if (snapshot) ok(snapshot.restoreInto(model));  // a cancelled or failed fine-tune leaves the weights from before it
      throw error;
    } finally {
      trainer.delete();
      snapshot?.delete();
    }
  },

  async evaluate({ modelId, text }) {
    await engine();
    const model = modelOf(modelId);
    requireText(text, 'evaluation');
    try {
      return ok(model.evaluate(text));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
  },

  async export({ modelId }) {
    await engine();
    const bytes = ok(modelOf(modelId).serialize());
    return { bytes: bytes.buffer as ArrayBuffer };
  },

  async inspect({ modelId, text }) {
    await engine();
    const model = modelOf(modelId);
    requireText(text, 'inspection');
    let inspection;
    try {
      inspection = ok(model.inspect(text));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
    const pieces = Array.from(inspection.tokens, (token) => ok(model.decode(Int32Array.of(token))));
    if (inspection.kind === 'attention') return { ...inspection, pieces };
    return { ...inspection, pieces, gateNames: inspection.gateNames.split(',') };
  },

  async encode({ modelId, text }) {
    await engine();
    return { tokens: ok(modelOf(modelId).encode(text)) };
  },

  async decode({ modelId, tokens }) {
    await engine();
    try {
      return { text: ok(modelOf(modelId).decode(tokens)) };
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
  },

  async dispose({ modelId }) {
    const model = models.get(modelId);
    if (model) {
      models.delete(modelId);
      model.engineModel.delete();
    }
    return null;
  },

  async memory() {
    return (await engine()).engineMemory();
  },
};

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
  return request.type === 'load' || request.type === 'create' || request.type === 'memory' ? undefined : payload.modelId;
}

async function main(): Promise<void> {
  const port = await openPort();

  async function run(request: OperationRequest): Promise<void> {
    const context: Context = {
      id: request.id,
      emit: (event) => port.post(event, []),
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
    model.queue = model.queue.then(() => run(request));
  });
  void engine().catch(() => {});  // start compiling the wasm while the first request is on its way
}

void main();
