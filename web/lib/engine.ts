// The types of what the wasm engine's Embind bindings (wasm/bindings*.cpp) expose. Only the workers import this
// file (worker_browser.ts and worker_node.ts start the engine from its glue, dist/wasm/tinylm_wasm.js): the
// engine never runs on the main thread.
import type { RangedFile } from './worker_files.js';

export type WeightsForm = 'f32' | 'f16' | 'int8';

export interface EngineModelInfo {
  arch: string;
  vocabSize: number;
  contextSize: number;
  parameterCount: number;
  trainable: boolean;
  weights: WeightsForm;
  tokenizerKind: string;
  configJson: string;
}

export interface EngineEvalResult {
  loss: number;
  perplexity: number;
  accuracy: number;
  tokens: number;
}

export interface EngineStepResult {
  step: number;
  loss: number;
  learningRate: number;
  gradNorm: number;
  tokens: number;
}

export interface EngineGenerateStep {
  piece: string;
  done: boolean;
  token: number;
  stopReason: string;
}

// A failed engine call returns (does not throw) a JS Error with the core's message and code 'ENGINE_ERROR' or
// 'OUT_OF_MEMORY' (see "the seam" in wasm/seam.hpp); ok() throws it on this side.
export type Result<T> = T | (Error & { code?: string });

export function ok<T>(result: Result<T>): T {
  if (result instanceof Error) throw result;
  return result;
}

// Every handle must be freed with delete(); a Trainer or Generator before the Model it refers to.
interface Handle {
  delete(): void;
}

// A Hugging Face checkpoint's chat facts (wasm/bindings_hf.cpp: checkpointInfo), null for tinylm model files.
export interface EngineCheckpointInfo {
  architecture: string;
  chatTemplate: string;
  bosToken: string;
  eosToken: string;
  endTokens: string[];
}

export interface EngineModel extends Handle {
  checkpointInfo(): EngineCheckpointInfo | null;
  serialize(dtype: string): Result<Uint8Array>;  // 'f32' | 'f16' | 'int8'
  info(): Result<EngineModelInfo>;
  encode(text: string): Result<Int32Array>;
  decode(ids: Int32Array): Result<string>;
  evaluate(text: string): Result<EngineEvalResult>;
  startEvaluation(text: string): Result<EngineEvaluation>;
  resetState(): Result<undefined>;
  stepLogits(token: number): Result<Float32Array>;
  fingerprint(): Result<string>;  // the weights as held, with config and tokenizer (train/fingerprint.hpp)
  inspect(text: string): Result<
    | {
        kind: 'gates';
        tokens: Int32Array;
        gates: Float32Array;
        hidden: Float32Array;
        layers: number;
        gateCount: number;
        hiddenSize: number;
        gateNames: string;
      }
    | { kind: 'attention'; tokens: Int32Array; attention: Float32Array; layers: number; heads: number }
  >;
}

export interface EngineTrainer extends Handle {
  step(): Result<EngineStepResult>;
  validate(): Result<EngineEvalResult>;
  hasValidation(): boolean;
  trainTokens(): number;
  validationTokens(): number;
  checkpoint(run: string): Result<Uint8Array>;  // training-checkpoint bytes, `run` in their "tinylm_run" metadata
  resume(bytes: Uint8Array): Result<undefined>;  // continues that run; changes nothing when it refuses
}

// An evaluation in progress: advance() scores about `predictions` more and says whether any remain.
export interface EngineEvaluation extends Handle {
  advance(predictions: number): Result<boolean>;
  stats(): Result<EngineEvalResult>;
  progress(): number;
}

// Something that generates: a loaded model, or a fusion of two (wasm/model_handle.hpp).
export type EngineGenerating = EngineModel | EngineFusion;

// Two models blended (wasm/bindings_session.cpp): delete it before either model.
export type EngineFusion = Handle;

export interface EngineBeamHypothesis {
  tokens: Int32Array;
  text: string;
  logProbability: number;
  score: number;
  stopReason: 'max_tokens' | 'stop' | 'eos';
}

export interface EngineBeamSearch extends Handle {
  begin(prompt: string): Result<undefined>;
  prefill(maxTokens: number): Result<boolean>;
  advance(): Result<boolean>;
  results(): Result<EngineBeamHypothesis[]>;
}

// The steps of a streamed turn, as a Generator and a Session's turn both give them.
export interface EngineTokenSource {
  prefill(maxTokens: number): Result<boolean>;
  next(): Result<EngineGenerateStep>;
  alternatives(count: number): Result<Array<{ token: number; piece: string; probability: number }>>;
}

export interface EngineSession extends Handle, EngineTokenSource {
  beginTurn(prompt: string, options: GeneratorOptions, stop: string[]): Result<undefined>;
  endTurn(): Result<undefined>;
  fork(): Result<EngineSession>;
  save(): Result<Uint8Array>;
  stats(): { historyTokens: number; lastTurnTokensRead: number };
}

export interface EngineGenerator extends Handle {
  start(prompt: string): Result<undefined>;
  begin(prompt: string): Result<undefined>;
  beginReusing(prompt: string, held: Int32Array): Result<{ promptTokens: number; reused: number }>;
  tokensInState(): Result<Int32Array>;
  prefill(maxTokens: number): Result<boolean>;
  next(): Result<EngineGenerateStep>;
  alternatives(count: number): Result<Array<{ token: number; piece: string; probability: number }>>;
}

export interface ParameterSnapshot extends Handle {
  restoreInto(model: EngineModel): Result<undefined>;
  size(): number;
}

export interface TrainerOptions {
  steps: number;
  batchSize: number;
  seqLen: number;
  learningRate: number;
  optimizer: string;
  weightDecay: number;
  clip: number;
  warmupSteps: number;
  cosine: boolean;
  validationSplit: number;
  evalBatches: number;
  seed: number;
}

export interface GeneratorOptions {
  maxTokens: number;
  temperature: number;
  topK: number;
  topP: number;
  repetitionPenalty: number;
  repetitionWindow: number;
  seed: number;
  stopAtEos: boolean;
}

export interface Engine {
  Model: {
    load(bytes: Uint8Array): Result<EngineModel>;
    loadAs(bytes: Uint8Array, weights: WeightsForm): Result<EngineModel>;
    // A file is bytes, or a file object (worker_files.ts) whose reads answer '' or what went wrong.
    loadHf(files: Record<string, Uint8Array | RangedFile>, label: string, maxContext: number, weights: WeightsForm): Result<EngineModel>;
    create(
      options: {
        arch: string;
        layers: number;
        hidden: number;
        embed: number;
        heads: number;
        context: number;
        dropout: number;
        seed: number;
        tokenizer: string;
        lowercase: boolean;
        maxVocab: number;
      },
      text: string,
    ): Result<EngineModel>;
  };
  Trainer: { create(model: EngineModel, text: string, options: TrainerOptions): Result<EngineTrainer> };
  Generator: { create(model: EngineGenerating, options: GeneratorOptions, stop: string[]): Result<EngineGenerator> };
  Fusion: { create(primary: EngineModel, secondary: EngineModel, weight: number): Result<EngineFusion> };
  BeamSearch: {
    create(
      model: EngineGenerating,
      options: { beams: number; lengthPenalty: number; maxTokens: number; stopAtEos: boolean },
      stop: string[],
    ): Result<EngineBeamSearch>;
  };
  Session: {
    create(model: EngineModel): Result<EngineSession>;
    restore(model: EngineModel, bytes: Uint8Array): Result<EngineSession>;
  };
  ParameterSnapshot: { take(model: EngineModel): Result<ParameterSnapshot> };
  engineMemory(): { heapSize: number; inUse: number; maximum: number };
  relaxedSimd(): boolean;  // this engine's kernels are relaxed SIMD's: the .wasm that runs is <engine>_relaxed.wasm
  checkpointRun(bytes: Uint8Array): Result<string>;  // a checkpoint's "tinylm_run" metadata ('' without one)
  textFingerprint(text: string): string;
}

// The code of an engine error: 'ENGINE_ERROR' | 'OUT_OF_MEMORY'.
export function engineErrorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
}

// The glue's default export (wasm/tinylm_wasm.d.ts): a factory taking Module overrides.
export type EngineFactory = (overrides: Record<string, unknown>) => Promise<Engine>;
