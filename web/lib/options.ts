// The options each API call takes, and checking them on the main thread before anything is sent to the engine,
// so a mistake is reported with the option's name and value (code 'INVALID_ARGUMENT') instead of being ignored
// or surfacing as an engine failure: unknown keys are named with the nearest valid one, numbers are range-checked,
// and the wire options (protocol.ts) carry every default filled in. fineTune()'s own are checked in fine_tune.ts.
import { TinyLMError } from './errors.js';
import type {
  CreateConfig,
  Dtype,
  FineTuneProgress,
  WireGenerateOptions,
} from './protocol.js';
import type { LoraOptions } from './adapters.js';
import type { DownloadProgress } from './hf/fetch_files.js';
import type { TinyLM } from './index.js';
import type { ModelStore } from './storage.js';

// An AbortSignal, structurally (the declarations need neither the DOM library nor @types/node).
export interface AbortSignalLike {
  readonly aborted: boolean;
  addEventListener(type: 'abort', listener: () => void, options?: { once?: boolean }): void;
  removeEventListener(type: 'abort', listener: () => void): void;
}

export type WeightsForm = 'f32' | 'f16' | 'int8';

export interface LoadOptions {
  store?: ModelStore;  // where stored names are looked up (default: IndexedDB / $TINYLM_MODEL_DIR)
  // Hugging Face checkpoint folders only ('hf:owner/name', { baseUrl }, files; see hf/load.ts):
  hubHost?: string;         // default https://huggingface.co (or TinyLM.configure's)
  revision?: string;        // default 'main' (or TinyLM.configure's)
  cache?: boolean;          // browsers: keep downloaded files in OPFS (weights) and the Cache API (default true)
  cacheDirectory?: string;  // Node: keep downloaded files in this directory (default: not kept)
  maxContext?: number;      // the most positions a Llama attends over (default 2048; the KV cache grows with it)
  // How a GPT or Llama holds its weight matrices (default 'f32'): 'f16' or 'int8' takes a half or a quarter of the
  // memory and generates and evaluates from them directly; such a model cannot be fine-tuned or exported.
  weights?: WeightsForm;
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignalLike;
}

export interface ExportOptions {
  dtype?: Dtype;       // stored precision; default: the one the model was loaded with (info.dtype)
}

export interface SaveOptions extends LoadOptions, ExportOptions {}

export interface ConfigureOptions {
  assetBase?: string | { readonly href: string };  // a folder holding a copy of the package's dist/ (see README)
  // Threads the engine computes with, 1 … 16 (default: the machine's cores, at most 4; Node: $TINYLM_THREADS if
  // set). More than 1 needs shared memory: a cross-origin isolated page, or Node (see threads.ts).
  threads?: number;
  // false: the standard .wasm even where relaxed SIMD's fused multiply-adds would run (default true: where
  // WebAssembly.validate accepts relaxed SIMD; TinyLM.capabilities().relaxedSimd says which). Fused or not is the
  // CPU's choice, so the relaxed build's results may differ across machines in the last bits (relaxed_simd.ts).
  relaxedSimd?: boolean;
  hubHost?: string;   // where 'hf:owner/name' resolves (default https://huggingface.co): a mirror or local server
  revision?: string;  // the default revision of 'hf:' ids (default 'main')
  // Browsers: an engine worker the app started itself, early (given_worker.ts), for the next engine start to adopt:
  // a Worker running the package's worker_browser_threads.js or worker_browser.js, whichever build it will choose.
  worker?: EngineWorker;
  // Browsers: the engine's .wasm already compiled by the app (a WebAssembly.Module, or a promise of one), e.g. with
  // WebAssembly.compileStreaming(fetch(url)) started beside that worker; the next engine start hands it to its
  // worker instead of compiling the .wasm on the page (engine_module.ts). It must be the chosen build's .wasm.
  engineModule?: object | PromiseLike<object>;
}

// A browser's Worker, described by what the package calls on it (the declarations need no DOM types).
export interface EngineWorker {
  postMessage(message: unknown, transfer?: unknown[]): void;
  terminate(): void;
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
  // Beam search instead of sampling: the most probable continuation among `beams` kept side by side (2–64; default
  // 1 = sample), scored Σ log p / length^lengthPenalty (default 1) as Hugging Face's generate(num_beams) scores it.
  // Deterministic, so the sampling options (temperature, topK, topP, repetitionPenalty, repetitionWindow, seed) do
  // not apply; the text arrives in one piece when the search ends.
  beams?: number;
  lengthPenalty?: number;
  // Fusion: sample from fuseWeight · p_this + (1 − fuseWeight) · p_fuse, the next-token distributions of this model
  // and another loaded one with the same tokenizer (default fuseWeight 0.5), e.g. a user's fine-tuned copy and the base.
  fuse?: TinyLM;
  fuseWeight?: number;
  adapter?: string | null;     // the LoRA adapter for this call (adapters.ts); null: the bare base; default: the active one
  signal?: AbortSignalLike;
}

export interface FineTuneOptions {
  steps?: number;            // default 100
  learningRate?: number;     // default 1e-3
  batchSize?: number;        // default 16
  seqLen?: number;           // default 64
  validationSplit?: number;  // default 0.1: the text's last 10% is held out (0 = no validation); when the held-out
                             // part is shorter than one window (seqLen + 1 tokens) validation is skipped and the
                             // report's validationSkipped says why
  evalEvery?: number;        // default ceil(steps / 5)
  evalBatches?: number;      // default 8
  optimizer?: 'adam' | 'adamw' | 'rmsprop' | 'sgd';  // default 'adam'
  weightDecay?: number;      // default 0
  clip?: number;             // default 1 (max gradient norm; 0 = off)
  warmupSteps?: number;      // default 0
  cosine?: boolean;          // default false
  seed?: number;             // default 1
  keepPartial?: boolean;     // default false: a cancelled, failed or diverged run restores the weights from before
                             // it. Diverged (TRAINING_DIVERGED): a loss or gradient norm that is not finite, or a
                             // training loss above 4× the first step's for 5 consecutive steps
  lora?: LoraOptions;        // train a LoRA adapter beside the frozen weights instead (adapters.ts); it becomes the
                             // active adapter
  // Training checkpoints (fine_tune.ts has the contract): a run that checkpoints and resumes survives reloads.
  checkpointEvery?: number;  // store the run so far after every this many steps (default 0: never)
  resume?: boolean;          // default false: true continues the stored run of this checkpointName if there is one
                             // (CHECKPOINT_MISMATCH if it is another run's), else starts afresh
  checkpointName?: string;   // default 'fine-tune': one stored checkpoint per name (letters, digits, '.', '_', '-')
  checkpointDir?: string;    // Node: where checkpoints are files (default $TINYLM_CHECKPOINT_DIR or
                             // ~/.cache/tinylm/checkpoints); browsers keep them in IndexedDB ('tinylm-checkpoints')
  checkpointStore?: ModelStore;  // any other place (indexedDbStore(), directoryStore(), or your own)
  onProgress?: (progress: FineTuneProgress) => void;
  signal?: AbortSignalLike;
}

export type CreateOptions = Partial<CreateConfig>;

// ---- option names -------------------------------------------------------------------------------------------------

const names = {
  load: ['store', 'hubHost', 'revision', 'cache', 'cacheDirectory', 'maxContext', 'weights', 'onProgress', 'signal'],
  save: ['store', 'dtype'],
  export: ['dtype'],
  configure: ['assetBase', 'threads', 'relaxedSimd', 'hubHost', 'revision', 'worker', 'engineModule'],
  create: ['arch', 'layers', 'hidden', 'embed', 'heads', 'context', 'dropout', 'seed', 'tokenizer', 'lowercase', 'maxVocab'],
  generate: ['maxTokens', 'temperature', 'topK', 'topP', 'repetitionPenalty', 'repetitionWindow', 'seed', 'stop',
    'stopAtEos', 'alternatives', 'truncatePrompt', 'beams', 'lengthPenalty', 'fuse', 'fuseWeight', 'adapter', 'signal'],
  chat: ['maxTokens', 'temperature', 'topK', 'topP', 'repetitionPenalty', 'repetitionWindow', 'seed', 'stop',
    'stopAtEos', 'alternatives', 'truncatePrompt', 'beams', 'lengthPenalty', 'fuse', 'fuseWeight', 'adapter', 'signal',
    'reusePrompt'],
  fineTune: ['steps', 'learningRate', 'batchSize', 'seqLen', 'validationSplit', 'evalEvery', 'evalBatches', 'optimizer',
    'weightDecay', 'clip', 'warmupSteps', 'cosine', 'seed', 'keepPartial', 'lora', 'checkpointEvery', 'resume',
    'checkpointName', 'checkpointDir', 'checkpointStore', 'onProgress', 'signal'],
  lora: ['rank', 'alpha', 'dropout', 'targets'],
  loadAdapter: ['name', 'config'],
  exportAdapter: ['dtype'],
} as const;

// Names other libraries use for the same thing (PyTorch, llama.cpp, Hugging Face), where spelling alone is no clue.
const aliases: Record<string, string> = {
  lr: 'learningRate', nembd: 'embed', nhead: 'heads', nlayer: 'layers', blocksize: 'context', ctx: 'context',
  nctx: 'context', maxnewtokens: 'maxTokens', ntokens: 'maxTokens', temp: 'temperature', epochs: 'steps',
  iterations: 'steps', batch: 'batchSize', seq: 'seqLen', hiddensize: 'hidden', embedsize: 'embed',
  vocabsize: 'maxVocab', gradclip: 'clip', maxgradnorm: 'clip', precision: 'dtype',
};

const normalized = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, '');

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

export function nearestName(unknown: string, valid: readonly string[]): string | undefined {
  const key = normalized(unknown);
  const exact = valid.find((name) => normalized(name) === key);
  if (exact) return exact;
  const alias = aliases[key.replace(/s$/, '')] ?? aliases[key];
  if (alias && valid.includes(alias)) return alias;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const name of valid) {
    const candidate = normalized(name);
    const distance = candidate.startsWith(key) && key.length >= 3 ? 1 : editDistance(key, candidate);
    if (distance < bestDistance) [best, bestDistance] = [name, distance];
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 3)) ? best : undefined;
}

// Throws INVALID_ARGUMENT for the first key `call` does not take, naming the nearest valid one.
export function checkOptionNames(call: keyof typeof names, options: unknown, label = `${call}()`): void {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new TinyLMError('INVALID_ARGUMENT', `${label}: the options must be an object, got ${Array.isArray(options) ? 'an array' : String(options)}`);
  }
  const valid = names[call];
  for (const key of Object.keys(options)) {
    if ((valid as readonly string[]).includes(key)) continue;
    const nearest = nearestName(key, valid);
    throw new TinyLMError(
      'INVALID_ARGUMENT',
      `${label}: unknown option '${key}'` +
        (nearest ? ` — did you mean '${nearest}'?` : `; the options are ${valid.map((name) => `'${name}'`).join(', ')}`),
    );
  }
}

// ---- values -------------------------------------------------------------------------------------------------------

export interface NumberRule {
  min?: number;
  max?: number;
  exclusiveMin?: boolean;  // min itself is not allowed
  integer?: boolean;
}

// resolvedNumber('steps', options.steps, 100, { min: 1, integer: true }) → the value, or the default when undefined.
export function resolvedNumber(name: string, value: number | undefined, fallback: number, rule: NumberRule): number {
  if (value === undefined) return fallback;
  const problem =
    typeof value !== 'number' || !Number.isFinite(value)
      ? 'a finite number'
      : rule.integer && !Number.isInteger(value)
        ? 'an integer'
        : rule.min !== undefined && (rule.exclusiveMin ? value <= rule.min : value < rule.min)
          ? `${rule.exclusiveMin ? '>' : '≥'} ${rule.min}`
          : rule.max !== undefined && value > rule.max
            ? `≤ ${rule.max}`
            : undefined;
  if (problem) throw new TinyLMError('INVALID_ARGUMENT', `option ${name} must be ${problem}, got ${String(value)}`);
  return value;
}

export function resolvedChoice<T extends string>(name: string, value: T | undefined, fallback: T, choices: readonly T[]): T {
  if (value === undefined) return fallback;
  if (!choices.includes(value)) {
    const nearest = typeof value === 'string' ? nearestName(value, choices) : undefined;
    throw new TinyLMError('INVALID_ARGUMENT', `option ${name} must be ${choices.map((choice) => `'${choice}'`).join(', ')}, got ` +
      `${JSON.stringify(value)}${nearest ? ` — did you mean '${nearest}'?` : ''}`);
  }
  return value;
}

export function resolvedBoolean(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new TinyLMError('INVALID_ARGUMENT', `option ${name} must be true or false, got ${String(value)}`);
  return value;
}

export const dtypes: readonly Dtype[] = ['f32', 'f16', 'int8'];

// ---- wire options -------------------------------------------------------------------------------------------------

// Defaults per family: DESIGN.md's C1 shape for recurrent models, C3 for GPT.
const createDefaults = {
  recurrent: { layers: 2, embed: 64 },
  gpt: { layers: 4, embed: 128 },
};

export function createConfig(config: CreateOptions): CreateConfig {
  checkOptionNames('create', config, 'TinyLM.create()');
  const arch = resolvedChoice('arch', config.arch, 'lstm', ['lstm', 'gru', 'rnn_tanh', 'rnn_relu', 'gpt']);
  const defaults = arch === 'gpt' ? createDefaults.gpt : createDefaults.recurrent;
  return {
    arch,
    layers: resolvedNumber('layers', config.layers, defaults.layers, { min: 1, max: 64, integer: true }),
    hidden: resolvedNumber('hidden', config.hidden, 256, { min: 1, max: 16384, integer: true }),
    embed: resolvedNumber('embed', config.embed, defaults.embed, { min: 1, max: 16384, integer: true }),
    heads: resolvedNumber('heads', config.heads, 4, { min: 1, max: 256, integer: true }),
    context: resolvedNumber('context', config.context, 128, { min: 1, max: 65536, integer: true }),
    dropout: resolvedNumber('dropout', config.dropout, 0, { min: 0, max: 0.99 }),
    seed: resolvedNumber('seed', config.seed, 1, { min: 0, integer: true }),
    tokenizer: resolvedChoice('tokenizer', config.tokenizer, 'char', ['char', 'word', 'bpe']),
    lowercase: resolvedBoolean('lowercase', config.lowercase, false),
    maxVocab: resolvedNumber('maxVocab', config.maxVocab, 0, { min: 0, integer: true }),
  };
}

// The sampling options beam search has no use for.
const samplingOptionNames = ['temperature', 'topK', 'topP', 'repetitionPenalty', 'repetitionWindow', 'seed'] as const;

// fuse is resolved by the caller (index.ts: it must be a usable model of the same engine); fuseWeight is checked here.
export function generateWire(options: GenerateOptions, alternatives: number): WireGenerateOptions {
  const beams = resolvedNumber('beams', options.beams, 1, { min: 1, max: 64, integer: true });
  if (beams === 1 && options.lengthPenalty !== undefined) {
    throw new TinyLMError('INVALID_ARGUMENT', `option lengthPenalty applies to beam search: pass beams ≥ 2 with it (got beams ${beams})`);
  }
  const sampling = samplingOptionNames.find((name) => options[name] !== undefined);
  if (beams > 1 && sampling) {
    throw new TinyLMError('INVALID_ARGUMENT', `option ${sampling} samples, but beams: ${beams} searches deterministically: ` +
      `drop ${sampling}, or drop beams to sample`);
  }
  if (options.fuse === undefined && options.fuseWeight !== undefined) {
    throw new TinyLMError('INVALID_ARGUMENT', 'option fuseWeight needs fuse: the model to blend with');
  }
  const fuseWeight = resolvedNumber('fuseWeight', options.fuseWeight, 0.5, { min: 0, max: 1 });
  const stop = options.stop === undefined ? [] : Array.isArray(options.stop) ? options.stop : [options.stop];
  if (stop.some((sequence) => typeof sequence !== 'string' || sequence.length === 0)) {
    throw new TinyLMError('INVALID_ARGUMENT', 'option stop must be a non-empty string or an array of them');
  }
  return {
    maxTokens: resolvedNumber('maxTokens', options.maxTokens, 200, { min: 0, integer: true }),
    temperature: resolvedNumber('temperature', options.temperature, 0.8, { min: 0 }),
    topK: resolvedNumber('topK', options.topK, 0, { min: 0, integer: true }),
    topP: resolvedNumber('topP', options.topP, 1, { min: 0, max: 1, exclusiveMin: true }),
    repetitionPenalty: resolvedNumber('repetitionPenalty', options.repetitionPenalty, 1, { min: 0, exclusiveMin: true }),
    repetitionWindow: resolvedNumber('repetitionWindow', options.repetitionWindow, 0, { min: 0, integer: true }),
    seed: resolvedNumber('seed', options.seed, Math.floor(Math.random() * 2 ** 32), { min: 0, integer: true }),
    stop,
    stopAtEos: resolvedBoolean('stopAtEos', options.stopAtEos, false),
    alternatives,
    truncatePrompt: resolvedBoolean('truncatePrompt', options.truncatePrompt, false),
    beams,
    lengthPenalty: resolvedNumber('lengthPenalty', options.lengthPenalty, 1, {}),
    fuse: options.fuse === undefined ? null : { modelId: -1, weight: fuseWeight },
  };
}

// A text argument (create, fineTune, evaluate, inspect): a string, not empty.
export function requireText(text: string, purpose: string): void {
  if (typeof text !== 'string') throw new TinyLMError('INVALID_ARGUMENT', `${purpose}: the text must be a string`);
  if (text.length === 0) throw new TinyLMError('EMPTY_TEXT', `${purpose}: the text is empty`);
}
