// The one message protocol between the main thread (index.ts) and the engine worker (worker.ts). Both sides
// import these types, so a request or event that does not match is a compile error on either side.
//
// Requests (main → worker):   { id, type, payload }
//   id       a positive integer chosen by the main thread, unique per engine; every event names it.
//   type     one of the Operations below, or 'cancel'.
//   payload  the operation's input. Model bytes travel as transferred ArrayBuffers (never copied by postMessage).
//
// Events (worker → main):     { id, type, payload }
//   progress  0..n per fine-tune step               (FineTuneProgress)
//   checkpoint 0..n per fine-tune, every N steps    (FineTuneCheckpoint)
//   tokens    0..n per generation slice             (GeneratedToken[]: the tokens of a few milliseconds)
//   readRange 0..n per loadCheckpoint of ranged files (RangeRequest: the worker waits for the answer, ranged_files.ts)
//   blobRead  0..n per loadCheckpoint of posted Blobs (BlobRead: how far the worker has read one, for progress)
//   engine    once per worker, id 0, as its engine starts and so before any result that needed it: what the
//             running engine says it is (EngineReport), whichever .wasm it was asked to run
//   result    exactly one terminal success          (the operation's result)
//   error     exactly one terminal failure          (WireError: name, code, message)
// After `result` or `error` an id is finished: no further events carry it.
//
// Cancellation: { id: fresh, type: 'cancel', payload: { target } } asks the worker to stop request `target`. The
// worker checks between training steps and between generation slices, so it stops within one of them and answers
// `target` with an `error` whose name is 'AbortError'. A request cancelled while still queued never starts.
// Cancelling a finished or unknown id does nothing. The cancel request itself gets no answer.
//
// Ordering: operations on one model run one at a time in arrival order (FIFO); operations on different models
// may interleave step by step. Model handles (modelId) are chosen by the worker and returned by load/create.

import type { AdapterRequest, AdapterResult, WireLoraOptions } from './adapter_protocol.js';
import type { SessionOperations } from './protocol_session.js';
import type { RangeRequest, RangedFilesWire } from './ranged_files.js';
import type { BlobRead, WorkerBlob } from './worker_blob_files.js';
import type { StoredFileHandle } from './worker_stored_files.js';

// ---- options and results shared by the API and the worker -----------------------------------------------------

export type RecurrentArch = 'lstm' | 'gru' | 'rnn_tanh' | 'rnn_relu';
export type TrainableArch = RecurrentArch | 'gpt';       // what TinyLM.create makes
export type Arch = TrainableArch | 'llama' | 'ngram';    // what a loaded model may be

// How a model file stores its weight matrices: float32, float16, or int8 with one float32 scale per row.
export type Dtype = 'f32' | 'f16' | 'int8';

export interface CreateConfig {
  arch: TrainableArch;
  layers: number;        // L: recurrent layers or Transformer blocks
  hidden: number;        // H (recurrent)
  embed: number;         // E (recurrent embedding) or C (GPT model width)
  heads: number;         // GPT: attention heads; C must divide by it
  context: number;       // GPT: positions attended over
  dropout: number;       // training only: between layers (recurrent); embeddings, attention, residuals (GPT)
  seed: number;          // weight initialisation
  tokenizer: 'char' | 'word' | 'bpe';
  lowercase: boolean;    // char and word
  maxVocab: number;      // char/word: 0 = every character (word) seen in the text; bpe: vocabulary size (0 = 512)
}

export interface ModelInfo {
  arch: Arch;
  vocabSize: number;       // V
  contextSize: number;     // tokens attended to; 0 = unbounded (recurrent)
  parameterCount: number;  // 0 for models without trainable parameters
  trainable: boolean;      // false for n-grams, and for a model loaded with weights 'f16' or 'int8'
  weights: 'f32' | 'f16' | 'int8';  // how the engine holds its matrices (TinyLM.load's weights option)
  tokenizerKind: string;   // 'char' | 'word' | 'bpe'
  dtype: Dtype;            // how the weights were stored in the file it was loaded from ('f32' when created);
                           // export() and save() keep it unless given another
  config: Record<string, unknown>;  // the model file's config
  source?: CheckpointInfo;  // a Hugging Face checkpoint's; absent for tinylm model files
}

// Where a model loaded from a Hugging Face checkpoint folder came from, and what its tokenizer files say about chat.
export interface CheckpointInfo {
  format: 'huggingface';
  location: string;                // 'hf:owner/name@revision', the folder's URL, or 'the files given'
  architecture: string;            // config.json's: 'GPT2LMHeadModel' | 'LlamaForCausalLM'
  dtype: 'f32' | 'f16' | 'bf16';   // how the checkpoint stores its weights (ModelInfo.weights: how the engine holds them)
  bytes: number;                   // the folder's size: every file read
  chatTemplate: string;            // tokenizer_config.json's chat_template (Jinja), '' when it has none
  bosToken: string;
  eosToken: string;
  endTokens: string[];             // the texts of the tokens that end a turn: eos_token and generation_config's eos_token_id
}

export interface WireGenerateOptions {
  maxTokens: number;
  temperature: number;        // 0 = greedy
  topK: number;               // 0 = off
  topP: number;               // 1 = off
  repetitionPenalty: number;  // 1 = off
  repetitionWindow: number;   // 0 = whole history
  seed: number;
  stop: string[];
  stopAtEos: boolean;
  alternatives: number;       // how many top alternatives each token event carries (0 = none)
  truncatePrompt: boolean;    // a prompt longer than the context: slide past its beginning instead of failing
  beams: number;              // 1 = sample; more = beam search (worker_search.ts)
  lengthPenalty: number;      // beam search: score = Σ log p / length^lengthPenalty
  fuse: { modelId: number; weight: number } | null;  // blend with another model of the worker (same tokenizer)
  adapter?: string | null;    // the LoRA adapter for this call (null: the bare base); absent: the active one
}

export interface Alternative {
  token: number;
  piece: string;         // the token's text (a BPE token may be part of a character)
  probability: number;   // in the distribution the token was drawn from (after temperature, top-k, top-p)
}

export interface GeneratedToken {
  piece: string;         // text that became safe to show: never half a character, never part of a stop sequence
  token: number;         // the sampled id; −1 when the final event only releases held-back text
  alternatives: Alternative[];
}

export interface GenerateSummary {
  tokens: number;                               // tokens generated (the prompt not counted)
  stopReason: 'max_tokens' | 'stop' | 'eos';
}

// What one chat() read and generated (lm.lastChatStats()).
export interface ChatStats extends GenerateSummary {
  promptTokens: number;        // the conversation as the chat template renders it, in tokens
  promptTokensReused: number;  // of those, already in the model's state from the previous chat(): not read again
  promptTokensRead: number;    // read by this chat: promptTokens − promptTokensReused
}

export interface WireFineTuneOptions {
  steps: number;
  learningRate: number;
  batchSize: number;        // B
  seqLen: number;           // T
  validationSplit: number;  // the last fraction of the text is held out
  evalEvery: number;        // validate every this many steps (and after the last)
  evalBatches: number;      // validation windows of (B, T)
  optimizer: 'adam' | 'adamw' | 'rmsprop' | 'sgd';
  weightDecay: number;
  clip: number;             // max gradient norm; 0 = off
  warmupSteps: number;
  cosine: boolean;
  seed: number;
  keepPartial: boolean;     // on cancel/failure keep the last completed step instead of restoring
  lora?: WireLoraOptions;   // train a LoRA adapter beside the frozen model instead of the model itself
  checkpoint?: WireCheckpointOptions;  // training checkpoints (fine_tune_checkpoints.ts)
}

export interface WireCheckpointOptions {
  every: number;                   // a 'checkpoint' event after every this many steps (0: none)
  name: string;                    // the stored checkpoint's name, for messages
  resumeFrom: ArrayBuffer | null;  // the stored checkpoint to continue (resume: true and one was stored)
}

// A training checkpoint after `step` steps: the core's checkpoint bytes (train/checkpoint.hpp) with the run's
// identity and running figures in their "tinylm_run" metadata (worker_checkpoints.ts).
export interface FineTuneCheckpoint {
  step: number;
  bytes: ArrayBuffer;
}

export interface FineTuneProgress {
  step: number;                     // steps completed
  steps: number;                    // steps planned
  loss: number;                     // this step's training loss (nats/token)
  validationLoss: number | null;    // the latest validation, null before the first
  learningRate: number;
  gradNorm: number;                 // before clipping
  tokensPerSecond: number;
  elapsedSeconds: number;
  etaSeconds: number;
}

export interface FineTuneReport {
  steps: number;                          // steps completed
  loss: number;                           // mean training loss over the last ≤10 steps
  validationLoss: number | null;          // after fine-tuning; null without a validation split
  initialValidationLoss: number | null;   // before fine-tuning, on the same windows
  validationSkipped: string | null;       // why there was no validation ('validationSplit is 0', 'text too short: …')
  tokensPerSecond: number;
  seconds: number;
  trainTokens: number;
  validationTokens: number;
  resumedFromStep: number | null;         // the checkpoint's step this run continued from; null when it started afresh
}

export interface EvaluationReport {
  loss: number;         // mean negative log-likelihood, nats per token
  perplexity: number;   // exp(loss)
  accuracy: number;     // fraction of next tokens predicted exactly (argmax)
  tokens: number;       // predictions scored
}

// What a model computes on a text, for visualisations: gates for recurrent models, attention for GPT.
export type Inspection = GateInspection | AttentionInspection;

export interface GateInspection {
  kind: 'gates';
  tokens: Int32Array;       // (N)
  pieces: string[];         // (N) each token's text
  gates: Float32Array;      // (N, L, G·H) activated gates (LSTM i,f,g,o; GRU r,z,n; RNN pre-activation)
  hidden: Float32Array;     // (N, L, H) hidden state after each token
  layers: number;           // L
  gateCount: number;        // G
  hiddenSize: number;       // H
  gateNames: string[];      // ['i','f','g','o'] | ['r','z','n'] | ['a']
}

export interface AttentionInspection {
  kind: 'attention';
  tokens: Int32Array;       // (N), N ≤ the model's context
  pieces: string[];         // (N) each token's text
  attention: Float32Array;  // (L, NH, N, N): [l][h][q][k] = weight of position k in position q's mix; 0 for k > q
  layers: number;           // L
  heads: number;            // NH
}

export interface EngineMemory {
  heapSize: number;   // bytes of wasm linear memory (grows, never shrinks)
  inUse: number;      // bytes allocated and not freed
  maximum: number;    // the cap the heap may grow to
}

export interface ModelHandle {
  modelId: number;
  info: ModelInfo;
}

// ---- the operations: payload in, events along the way, result out ----------------------------------------------

export interface Operations extends SessionOperations {
  load: { payload: { bytes: ArrayBuffer; weights: 'f32' | 'f16' | 'int8' }; event: never; result: ModelHandle };
  loadCheckpoint: {
    // files: bytes the worker owns; ranged: files the calling thread serves range by range (ranged_files.ts);
    // blobs: the caller's Blobs, or weights files a browser stored (the Cache API's Blobs, the handles of files in the
    // origin private file system), which the worker reads itself (worker_blob_files.ts, worker_stored_files.ts);
    // blobsCancelled: Int32Array(1)
    // the caller sets non-zero when the load's signal aborts (where memory can be shared), checked before each read
    payload: {
      files: Record<string, ArrayBuffer>; ranged?: RangedFilesWire; blobs?: Record<string, WorkerBlob | StoredFileHandle>; blobsCancelled?: SharedArrayBuffer;
      label: string; maxContext: number; weights: 'f32' | 'f16' | 'int8';
    };
    event: { type: 'readRange'; payload: RangeRequest } | { type: 'blobRead'; payload: BlobRead };
    result: ModelHandle;
  };
  create: { payload: { config: CreateConfig; text: string }; event: never; result: ModelHandle };
  generate: {
    payload: { modelId: number; prompt: string; options: WireGenerateOptions };
    event: { type: 'tokens'; payload: GeneratedToken[] };
    result: GenerateSummary;
  };
  chat: {
    payload: { modelId: number; prompt: string; options: WireGenerateOptions; reusePrompt: boolean };
    event: { type: 'tokens'; payload: GeneratedToken[] };
    result: ChatStats;
  };
  fineTune: {
    payload: { modelId: number; text: string; options: WireFineTuneOptions };
    event: { type: 'progress'; payload: FineTuneProgress } | { type: 'checkpoint'; payload: FineTuneCheckpoint };
    result: FineTuneReport;
  };
  evaluate: { payload: { modelId: number; text: string }; event: never; result: EvaluationReport };
  adapter: { payload: { modelId: number; request: AdapterRequest }; event: never; result: AdapterResult };
  export: { payload: { modelId: number; dtype?: Dtype }; event: never; result: { bytes: ArrayBuffer } };
  inspect: { payload: { modelId: number; text: string }; event: never; result: Inspection };
  encode: { payload: { modelId: number; text: string }; event: never; result: { tokens: Int32Array } };
  decode: { payload: { modelId: number; tokens: Int32Array }; event: never; result: { text: string } };
  dispose: { payload: { modelId: number }; event: never; result: null };
  memory: { payload: Record<string, never>; event: never; result: EngineMemory };
}

export type OperationType = keyof Operations;

export type OperationRequest = {
  [K in OperationType]: { id: number; type: K; payload: Operations[K]['payload'] };
}[OperationType];

export interface CancelRequest {
  id: number;
  type: 'cancel';
  payload: { target: number };
}

export type Request = OperationRequest | CancelRequest;

// ---- errors on the wire ---------------------------------------------------------------------------------------

export type ErrorCode =
  | 'INVALID_MODEL_FILE'   // not a tinylm safetensors model, or a corrupt one (or a checkpoint folder's bad file)
  | 'UNSUPPORTED_MODEL'    // a checkpoint of an architecture tinylm does not implement
  | 'MODEL_TOO_LARGE'      // the model does not fit under the engine's memory cap
  | 'OUT_OF_MEMORY'        // an operation needed more memory than the cap allows
  | 'EMPTY_TEXT'           // a text argument was empty
  | 'TEXT_TOO_SHORT'       // the training text does not fill one training window
  | 'PROMPT_TOO_LONG'      // the prompt has more tokens than the model's context (GPT)
  | 'DISPOSED'             // the model was disposed
  | 'INVALID_ARGUMENT'     // an option or argument is out of range
  | 'NOT_FOUND'            // no stored model by that name, or the URL/file does not exist
  | 'NOT_TRAINABLE'        // the model has no trainable parameters
  | 'TRAINING_DIVERGED'    // the loss became non-finite or stayed far above its start (see FineTuneOptions)
  | 'CHECKPOINT_MISMATCH'  // resume: the stored checkpoint is of another run (base model, text or options differ)
  | 'CHECKPOINT_CORRUPT'   // resume: the stored checkpoint is not a whole tinylm training checkpoint
  | 'CHECKPOINT_WRITE_FAILED'  // a training checkpoint could not be stored (the run stops; the last stored one stays)
  | 'ABORTED'              // cancelled through an AbortSignal (error name 'AbortError')
  | 'WORKER_FAILED'        // the engine worker could not start or crashed
  | 'ENGINE_ERROR';        // any other error the engine reported

export interface WireError {
  name: 'TinyLMError' | 'AbortError';
  code: ErrorCode;
  message: string;
}

// The engine's own word on what runs: a page may hand the worker another module than the package chose
// (configure({ engineModule })), and a worker whose module did not arrive fetches its build's standard .wasm.
export interface EngineReport {
  relaxedSimd: boolean;  // the kernels are the relaxed SIMD build's (wasm/bindings.cpp: relaxedSimd())
}

export type WorkerEvent =
  | { id: 0; type: 'engine'; payload: EngineReport }
  | { id: number; type: 'progress'; payload: FineTuneProgress }
  | { id: number; type: 'checkpoint'; payload: FineTuneCheckpoint }
  | { id: number; type: 'tokens'; payload: GeneratedToken[] }
  | { id: number; type: 'readRange'; payload: RangeRequest }
  | { id: number; type: 'blobRead'; payload: BlobRead }
  | { id: number; type: 'result'; payload: Operations[OperationType]['result'] }
  | { id: number; type: 'error'; payload: WireError };
