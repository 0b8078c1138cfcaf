// What the engine worker holds (see worker_core.ts for the protocol and dispatch): the wasm engine, started once
// on first use, and every loaded model, each with its queue and the precision it was stored in. Plus the helpers
// every operation handler shares.
import type { Engine, EngineModel } from './engine.js';
import { engineErrorCode, ok } from './engine.js';
import { TinyLMError, toWireError } from './errors.js';
import type { CheckpointInfo, Dtype, ModelHandle, ModelInfo, WorkerEvent } from './protocol.js';

export interface LoadedModel {
  engineModel: EngineModel;
  dtype: Dtype;             // how its weights were stored when loaded (created models: 'f32'); export()'s default
  queue: Promise<unknown>;  // the last operation on this model: the next one starts after it settles
  version: number;          // counts the operations that may have changed the weights (worker_core.ts): sessions
                            // made at another version no longer match the model
}

export const models = new Map<number, LoadedModel>();
let nextModelId = 1;
let engineLoader: (() => Promise<Engine>) | undefined;
let enginePromise: Promise<Engine> | undefined;

export function setEngineLoader(loader: () => Promise<Engine>): void {
  engineLoader = loader;
}

export function engine(): Promise<Engine> {
  enginePromise ??= (engineLoader ?? (() => Promise.reject(new Error('no engine loader'))))().then(
    (started) => {
      markTimeline('tinylm engine ready');
      return started;
    },
    (error: unknown) => {
      throw new TinyLMError('WORKER_FAILED', `the tinylm wasm engine could not start: ${toWireError(error).message}`);
    },
  );
  return enginePromise;
}

// A mark on the worker's performance timeline (the browser's performance panel, bench/site/timeline.mjs): where
// a cold start's time goes, seen from inside the worker. Never fails an operation.
export function markTimeline(name: string): void {
  try {
    performance.mark(name);
  } catch {
    // no performance timeline here
  }
}

// What a handler gets besides its payload.
export interface Context {
  id: number;
  emit(event: WorkerEvent, transfer?: ArrayBuffer[]): void;  // transfer: buffers that move instead of being copied
  throwIfCancelled(what: string): void;
}

export function describe(engineModel: EngineModel, dtype: Dtype, source?: CheckpointInfo): ModelInfo {
  const { configJson, arch, ...info } = ok(engineModel.info());
  const described: ModelInfo = { ...info, arch: arch as ModelInfo['arch'], dtype, config: JSON.parse(configJson) as Record<string, unknown> };
  if (source) described.source = source;
  return described;
}

export function adopt(engineModel: EngineModel, dtype: Dtype, source?: CheckpointInfo): ModelHandle {
  const modelId = nextModelId++;
  models.set(modelId, { engineModel, dtype, queue: Promise.resolve(), version: 0 });
  return { modelId, info: describe(engineModel, dtype, source) };
}

export function loadedModel(modelId: number): LoadedModel {
  const model = models.get(modelId);
  if (!model) throw new TinyLMError('DISPOSED', 'this model was disposed: load or create it again to use it');
  return model;
}

export function modelOf(modelId: number): EngineModel {
  return loadedModel(modelId).engineModel;
}

export function requireText(text: string, purpose: string): void {
  if (typeof text !== 'string' || text.length === 0) {
    throw new TinyLMError('EMPTY_TEXT', `the text for ${purpose} is empty: pass at least a few sentences`);
  }
}

// The engine's names for model dimensions, as the API calls them (engine messages come from the C++ configs).
const apiNames: Array<[RegExp, string]> = [
  [/\bembed_size\b/g, 'embed'],
  [/\bhidden_size\b/g, 'hidden'],
  [/\bnum_layers\b/g, 'layers'],
  [/\bnum_heads\b/g, 'heads'],
  [/\bcontext_size\b/g, 'context'],
  [/\bvocab_size\b/g, 'vocabulary size'],
  [/\bbatch_size\b/g, 'batchSize'],
  [/\bseq_len\b/g, 'seqLen'],
];

export function inApiNames(message: string): string {
  return apiNames.reduce((text, [pattern, name]) => text.replace(pattern, name), message);
}

// Re-labels an engine error with the code that fits where it happened (the engine knows ENGINE_ERROR,
// OUT_OF_MEMORY and MODEL_TOO_LARGE, the last two from sizes checked before allocation). Running out of memory
// while making a model means the model is too large for the cap.
export function relabel(error: unknown, code: TinyLMError['code'], prefix = '', outOfMemoryCode: TinyLMError['code'] = 'OUT_OF_MEMORY'): never {
  if (error instanceof TinyLMError) throw error;
  const message = inApiNames(error instanceof Error ? error.message : String(error));
  if (engineErrorCode(error) === 'OUT_OF_MEMORY') throw new TinyLMError(outOfMemoryCode, message);
  if (engineErrorCode(error) === 'MODEL_TOO_LARGE') throw new TinyLMError('MODEL_TOO_LARGE', message);
  throw new TinyLMError(code, prefix + message);
}
