// tinylm — load a small language model, stream text from it, fine-tune it on the user's own text, in the tab.
//
//   import { TinyLM } from 'tinylm';
//   const lm = await TinyLM.load();     // the shipped default model; or a URL, path, Uint8Array, Blob or stored name
//   for await (const piece of lm.generate('Call me', { maxTokens: 40, seed: 1 })) process.stdout.write(piece);
//   //  → " Ishmael. Some years ago—never mind how long precisely—having lit"   (depends on the model)
//   const report = await lm.fineTune(myText, { steps: 50, onProgress: (p) => console.log(p.step, p.loss) });
//   //  → { steps: 50, loss: 1.52, validationLoss: 1.61, initialValidationLoss: 1.94, tokensPerSecond: 21000, … }
//   await lm.evaluate(otherText);       // → { loss: 1.63, perplexity: 5.1, accuracy: 0.52, tokens: 4095 }
//   await lm.save('my-model');          // IndexedDB (browsers) or a directory (Node); TinyLM.load('my-model')
//   const bytes = await lm.export();    // safetensors, loadable by the CLI and by PyTorch tooling
//   lm.dispose();
//
// Every engine call runs in one shared worker (a module Web Worker, or worker_threads in Node), so the main thread
// never blocks. Calls on one model are queued and run one at a time, first come first served; calls on different
// models may interleave. Failures are TinyLMError with a `code`; cancellation through an AbortSignal is an
// AbortError that arrives within one training step or one token and leaves the model usable.
import { EngineClient } from './client.js';
import { AbortError, TinyLMError } from './errors.js';
import type {
  CreateConfig,
  EngineMemory,
  EvaluationReport,
  FineTuneProgress,
  FineTuneReport,
  GeneratedToken,
  Inspection,
  ModelInfo,
  OperationType,
  Operations,
  WireFineTuneOptions,
  WireGenerateOptions,
  WorkerEvent,
} from './protocol.js';
import { readSource, type ModelSource } from './sources.js';
import { defaultStore, isStoredModelName, type ModelStore } from './storage.js';
import { resolvedNumber } from './options.js';

export { AbortError, TinyLMError } from './errors.js';
export { directoryStore, indexedDbStore, type ModelStore } from './storage.js';
export type {
  Alternative,
  AttentionInspection,
  CreateConfig,
  EngineMemory,
  ErrorCode,
  EvaluationReport,
  FineTuneProgress,
  FineTuneReport,
  GateInspection,
  GeneratedToken,
  Inspection,
  ModelInfo,
  RecurrentArch,
} from './protocol.js';

export type { ModelSource } from './sources.js';

export interface LoadOptions {
  store?: ModelStore;  // where stored names are looked up (default: IndexedDB / $TINYLM_MODEL_DIR)
}

export interface GenerateOptions {
  maxTokens?: number;          // default 200
  temperature?: number;        // default 0.8; 0 = greedy
  topK?: number;               // default 0 = off
  topP?: number;               // default 1 = off
  repetitionPenalty?: number;  // default 1 = off
  repetitionWindow?: number;   // default 0 = the whole history
  seed?: number;               // default: a fresh random seed per call; fix it to repeat a sample
  stop?: string | string[];    // generation ends before the first occurrence
  stopAtEos?: boolean;         // end at the tokenizer's <eos> (default false)
  alternatives?: number;       // generateSteps(): top alternatives per token (default 5)
  truncatePrompt?: boolean;    // a prompt longer than a GPT's context: false (default) fails with PROMPT_TOO_LONG,
                               // true lets the window slide so the model sees only the prompt's end
  signal?: AbortSignal;
}

export interface FineTuneOptions {
  steps?: number;            // default 100
  learningRate?: number;     // default 1e-3
  batchSize?: number;        // default 16
  seqLen?: number;           // default 64
  validationSplit?: number;  // default 0.1: the text's last 10% is held out (0 = no validation)
  evalEvery?: number;        // default ceil(steps / 5)
  evalBatches?: number;      // default 8
  optimizer?: 'adam' | 'adamw' | 'rmsprop' | 'sgd';  // default 'adam'
  weightDecay?: number;      // default 0
  clip?: number;             // default 1 (max gradient norm; 0 = off)
  warmupSteps?: number;      // default 0
  cosine?: boolean;          // default false
  seed?: number;             // default 1
  keepPartial?: boolean;     // default false: a cancelled or failed run restores the weights from before it
  onProgress?: (progress: FineTuneProgress) => void;
  signal?: AbortSignal;
}

export type CreateOptions = Partial<CreateConfig>;

// Defaults per family: DESIGN.md's C1 shape for recurrent models, C3 for GPT.
const createDefaults = {
  recurrent: { layers: 2, embed: 64 },
  gpt: { layers: 4, embed: 128 },
};

let sharedClient: EngineClient | undefined;
const engineClient = () => (sharedClient ??= new EngineClient());

export class TinyLM {
  readonly info: ModelInfo;
  private readonly modelId: number;
  private readonly epoch: number;
  private disposed = false;

  private constructor(handle: { modelId: number; info: ModelInfo }, epoch: number) {
    this.modelId = handle.modelId;
    this.info = handle.info;
    this.epoch = epoch;
  }

  // ---- making models -------------------------------------------------------------------------------------------

  // With no source: the shipped default model (a character-level LSTM trained on Moby Dick, 0.9 MB).
  static async load(source?: ModelSource, options: LoadOptions = {}): Promise<TinyLM> {
    const bytes = await readSource(source, options.store);
    const buffer = bytes.buffer as ArrayBuffer;  // a private copy: transferring it detaches nothing of the caller's
    const client = engineClient();
    const handle = await client.request('load', { bytes: buffer }, { transfer: [buffer] });
    return new TinyLM(handle, client.epoch);
  }

  // A new, untrained model whose tokenizer is fitted on `text` (train it with fineTune).
  static async create(config: CreateOptions, text: string): Promise<TinyLM> {
    requireText(text, 'TinyLM.create (the tokenizer is fitted on it)');
    const arch = config.arch ?? 'lstm';
    const defaults = arch === 'gpt' ? createDefaults.gpt : createDefaults.recurrent;
    const full: CreateConfig = {
      arch,
      layers: resolvedNumber('layers', config.layers, defaults.layers, { min: 1, max: 64, integer: true }),
      hidden: resolvedNumber('hidden', config.hidden, 256, { min: 1, max: 16384, integer: true }),
      embed: resolvedNumber('embed', config.embed, defaults.embed, { min: 1, max: 16384, integer: true }),
      heads: resolvedNumber('heads', config.heads, 4, { min: 1, max: 256, integer: true }),
      context: resolvedNumber('context', config.context, 128, { min: 1, max: 65536, integer: true }),
      dropout: resolvedNumber('dropout', config.dropout, 0, { min: 0, max: 0.99 }),
      seed: resolvedNumber('seed', config.seed, 1, { min: 0, integer: true }),
      tokenizer: config.tokenizer ?? 'char',
      lowercase: config.lowercase ?? false,
      maxVocab: resolvedNumber('maxVocab', config.maxVocab, 0, { min: 0, integer: true }),
    };
    const client = engineClient();
    return new TinyLM(await client.request('create', { config: full, text }), client.epoch);
  }

  // The engine's wasm heap: size, bytes in use, cap. Disposed models give their memory back.
  static memory(): Promise<EngineMemory> {
    return engineClient().request('memory', {});
  }

  // Ends the engine worker (every model with it). The next call starts a fresh one.
  static async shutdown(): Promise<void> {
    await sharedClient?.terminate();
  }

  static async storedModels(store?: ModelStore): Promise<string[]> {
    return (store ?? (await defaultStore())).list();
  }

  static async removeStored(name: string, store?: ModelStore): Promise<void> {
    await (store ?? (await defaultStore())).remove(name);
  }

  // ---- using a model -------------------------------------------------------------------------------------------

  // Streams text pieces; a piece never splits a character or shows part of a stop sequence.
  async *generate(prompt: string, options: GenerateOptions = {}): AsyncGenerator<string, void, undefined> {
    for await (const step of this.stream(prompt, options, 0)) yield step.piece;
  }

  // Like generate(), with each token's id and the most probable alternatives it was drawn against.
  generateSteps(prompt: string, options: GenerateOptions = {}): AsyncGenerator<GeneratedToken, void, undefined> {
    return this.stream(prompt, options, resolvedNumber('alternatives', options.alternatives, 5, { min: 0, max: 100, integer: true }));
  }

  async fineTune(text: string, options: FineTuneOptions = {}): Promise<FineTuneReport> {
    this.checkUsable();
    requireText(text, 'fineTune');
    const steps = resolvedNumber('steps', options.steps, 100, { min: 1, integer: true });
    const wire: WireFineTuneOptions = {
      steps,
      learningRate: resolvedNumber('learningRate', options.learningRate, 1e-3, { min: 0, exclusiveMin: true }),
      batchSize: resolvedNumber('batchSize', options.batchSize, 16, { min: 1, max: 4096, integer: true }),
      seqLen: resolvedNumber('seqLen', options.seqLen, 64, { min: 1, max: 65536, integer: true }),
      validationSplit: resolvedNumber('validationSplit', options.validationSplit, 0.1, { min: 0, max: 0.9 }),
      evalEvery: resolvedNumber('evalEvery', options.evalEvery, Math.ceil(steps / 5), { min: 1, integer: true }),
      evalBatches: resolvedNumber('evalBatches', options.evalBatches, 8, { min: 1, integer: true }),
      optimizer: options.optimizer ?? 'adam',
      weightDecay: resolvedNumber('weightDecay', options.weightDecay, 0, { min: 0 }),
      clip: resolvedNumber('clip', options.clip, 1, { min: 0 }),
      warmupSteps: resolvedNumber('warmupSteps', options.warmupSteps, 0, { min: 0, integer: true }),
      cosine: options.cosine ?? false,
      seed: resolvedNumber('seed', options.seed, 1, { min: 0, integer: true }),
      keepPartial: options.keepPartial ?? false,
    };
    const onProgress = options.onProgress;
    return this.request(
      'fineTune',
      { modelId: this.modelId, text, options: wire },
      {
        signal: options.signal,
        onEvent: onProgress ? (event) => event.type === 'progress' && onProgress(event.payload) : undefined,
      },
    );
  }

  async evaluate(text: string): Promise<EvaluationReport> {
    this.checkUsable();
    requireText(text, 'evaluate');
    return this.request('evaluate', { modelId: this.modelId, text });
  }

  // The model as safetensors bytes (config and tokenizer in the metadata).
  async export(): Promise<Uint8Array> {
    this.checkUsable();
    return new Uint8Array((await this.request('export', { modelId: this.modelId })).bytes);
  }

  async save(name: string, options: LoadOptions = {}): Promise<void> {
    this.checkUsable();
    if (!isStoredModelName(name)) {
      throw new TinyLMError('INVALID_ARGUMENT', `'${name}' is not a valid model name: use letters, digits, '.', '_' or '-'`);
    }
    const bytes = await this.export();
    await (options.store ?? (await defaultStore())).write(name, bytes);
  }

  // For visualisations: gate activations and hidden states per token (recurrent models, kind 'gates'), or every
  // head's attention weights (GPT, kind 'attention'; the text must fit the model's context).
  async inspect(text: string): Promise<Inspection> {
    this.checkUsable();
    requireText(text, 'inspect');
    return this.request('inspect', { modelId: this.modelId, text });
  }

  async encode(text: string): Promise<Int32Array> {
    this.checkUsable();
    return (await this.request('encode', { modelId: this.modelId, text })).tokens;
  }

  async decode(tokens: ArrayLike<number>): Promise<string> {
    this.checkUsable();
    return (await this.request('decode', { modelId: this.modelId, tokens: Int32Array.from(tokens) })).text;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  // Frees the model's engine memory after the operations already queued on it end (they are cancelled). Later
  // calls fail with code 'DISPOSED'. Calling it twice is harmless.
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const controller of this.running) controller.abort();
    const client = engineClient();
    if (client.epoch !== this.epoch) return;  // the engine restarted: the model is already gone
    await client.request('dispose', { modelId: this.modelId });
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  private readonly running = new Set<AbortController>();

  private checkUsable(): void {
    if (this.disposed) throw new TinyLMError('DISPOSED', 'this model was disposed: load or create it again to use it');
    if (engineClient().epoch !== this.epoch) {
      throw new TinyLMError('WORKER_FAILED', 'the engine restarted since this model was loaded: load it again');
    }
  }

  // Every model operation goes through here, so dispose() can cancel what is still queued or running.
  private async request<K extends OperationType>(
    type: K,
    payload: Operations[K]['payload'],
    options: { signal?: AbortSignal; onEvent?: (event: WorkerEvent) => void } = {},
  ): Promise<Operations[K]['result']> {
    this.checkUsable();
    const controller = new AbortController();
    const forward = () => controller.abort();
    if (options.signal?.aborted) throw new AbortError('the operation was cancelled before it started');
    options.signal?.addEventListener('abort', forward, { once: true });
    this.running.add(controller);
    try {
      return await engineClient().request(type, payload, { signal: controller.signal, onEvent: options.onEvent });
    } catch (error) {
      if (error instanceof AbortError && this.disposed && !options.signal?.aborted) {
        throw new TinyLMError('DISPOSED', 'the model was disposed while this operation was queued or running');
      }
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', forward);
      this.running.delete(controller);
    }
  }

  private async *stream(prompt: string, options: GenerateOptions, alternatives: number): AsyncGenerator<GeneratedToken, void, undefined> {
    this.checkUsable();
    const stop = options.stop === undefined ? [] : Array.isArray(options.stop) ? options.stop : [options.stop];
    if (stop.some((sequence) => typeof sequence !== 'string' || sequence.length === 0)) {
      throw new TinyLMError('INVALID_ARGUMENT', 'stop sequences must be non-empty strings');
    }
    const wire: WireGenerateOptions = {
      maxTokens: resolvedNumber('maxTokens', options.maxTokens, 200, { min: 0, integer: true }),
      temperature: resolvedNumber('temperature', options.temperature, 0.8, { min: 0 }),
      topK: resolvedNumber('topK', options.topK, 0, { min: 0, integer: true }),
      topP: resolvedNumber('topP', options.topP, 1, { min: 0, max: 1, exclusiveMin: true }),
      repetitionPenalty: resolvedNumber('repetitionPenalty', options.repetitionPenalty, 1, { min: 0, exclusiveMin: true }),
      repetitionWindow: resolvedNumber('repetitionWindow', options.repetitionWindow, 0, { min: 0, integer: true }),
      seed: resolvedNumber('seed', options.seed, Math.floor(Math.random() * 2 ** 32), { min: 0, integer: true }),
      stop,
      stopAtEos: options.stopAtEos ?? false,
      alternatives,
      truncatePrompt: options.truncatePrompt ?? false,
    };
    // The stream has its own controller: the caller's signal aborts it, and so does leaving the loop early.
    const controller = new AbortController();
    const forward = () => controller.abort();
    options.signal?.addEventListener('abort', forward, { once: true });
    if (options.signal?.aborted) controller.abort();

    const buffered: GeneratedToken[] = [];
    let wake: (() => void) | undefined;
    let finished = false;
    let failure: unknown;
    const done = this.request(
      'generate',
      { modelId: this.modelId, prompt, options: wire },
      {
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type !== 'token') return;
          buffered.push(event.payload);
          wake?.();
        },
      },
    ).then(
      () => {
        finished = true;
        wake?.();
      },
      (error: unknown) => {
        failure = error;
        finished = true;
        wake?.();
      },
    );
    try {
      for (;;) {
        if (options.signal?.aborted) throw new AbortError('generation was cancelled');
        const next = buffered.shift();
        if (next) {
          yield next;
          continue;
        }
        if (finished) {
          if (failure) throw failure;
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      if (!finished) controller.abort();  // the caller stopped early (break, return, or an exception)
      options.signal?.removeEventListener('abort', forward);
      await done;  // the model is free again before the caller continues
    }
  }
}

function requireText(text: string, purpose: string): void {
  if (typeof text !== 'string') throw new TinyLMError('INVALID_ARGUMENT', `${purpose}: the text must be a string`);
  if (text.length === 0) throw new TinyLMError('EMPTY_TEXT', `${purpose}: the text is empty`);
}
