// lm.fineTune() on the main thread (index.ts binds it to a model): its options on the wire, progress to the
// caller, and training checkpoints to storage, so a run interrupted by a reload, a crash or an abort continues
// where it stopped.
//
//   // every 20 steps the run so far is stored (browsers: IndexedDB database 'tinylm-checkpoints'; Node:
//   // checkpointDir, default $TINYLM_CHECKPOINT_DIR or ~/.cache/tinylm/checkpoints) under checkpointName;
//   // resume: true continues the stored run if there is one, else starts afresh — the same call after a reload
//   const report = await lm.fineTune(text, { steps: 300, checkpointEvery: 20, resume: true, checkpointName: 'alice' });
//   report.resumedFromStep  // → 140 (null when it started afresh)
//
// The contract:
//   - A resumed run ends with the same weights (or adapter), bit for bit, as one never interrupted, for full and
//     LoRA fine-tunes alike: the checkpoint holds the weights or adapter, optimizer moments, step, schedule
//     position, RNG states and data cursor (the core's training checkpoint), and the progress figures.
//   - Only the same run resumes: the same base weights (the model as loaded, not a partial result kept with
//     keepPartial), the same text and the same training options (checkpointEvery may change). Otherwise
//     CHECKPOINT_MISMATCH names what differs, and nothing is changed; resume: false starts over instead, and its
//     first checkpoint replaces the stored one. A stored checkpoint that is not a whole one is CHECKPOINT_CORRUPT
//     and is left in place.
//   - Writes are atomic (one IndexedDB transaction; a temporary file renamed over the old one in Node): storage
//     holds the previous checkpoint or the new one, never half of one. fineTune() settles only after its last
//     write. A write that fails stops the run (CHECKPOINT_WRITE_FAILED), keeping the last stored checkpoint.
//   - A run that completes deletes its checkpoint; a cancelled, failed or diverged one leaves its last checkpoint.
// Loaded on first use (index.ts imports it on the first fineTune()), with adapters.ts for the lora option.
import * as adapters from './adapters.js';
import { AbortError, TinyLMError } from './errors.js';
import { checkOptionNames, resolvedBoolean, resolvedChoice, resolvedNumber, type AbortSignalLike, type FineTuneOptions } from './options.js';
import { platform } from './platform.js';
import type { FineTuneReport, Operations, WireCheckpointOptions, WireFineTuneOptions, WorkerEvent } from './protocol.js';
import { checkStoredModelName, type ModelStore } from './storage.js';

export const DEFAULT_CHECKPOINT_NAME = 'fine-tune';

export type FineTuneRequester = (
  options: WireFineTuneOptions,
  request: { signal?: AbortSignalLike; transfer?: ArrayBuffer[]; onEvent?: (event: WorkerEvent) => void },
) => Promise<Operations['fineTune']['result']>;

export async function fineTune(send: FineTuneRequester, options: FineTuneOptions, baseModel: string): Promise<FineTuneReport> {
  const wire: WireFineTuneOptions = { ...fineTuneWire(options), lora: adapters.loraWire(options.lora, baseModel) };
  const checkpoints = checkpointPlan(options);
  if (!checkpoints) return send(wire, { signal: options.signal, onEvent: progressListener(options) });

  const { store, name, every } = checkpoints;
  if (options.signal?.aborted) throw new AbortError('the operation was cancelled before it started');
  const stored = checkpoints.resume ? await store.read(name) : undefined;
  const resumeFrom = stored ? (stored.slice().buffer as ArrayBuffer) : null;
  wire.checkpoint = { every, name, resumeFrom } satisfies WireCheckpointOptions;

  // Writes run one after another in step order; the first failure stops the run.
  const stop = new AbortController();
  const forwardAbort = () => stop.abort();
  options.signal?.addEventListener('abort', forwardAbort, { once: true });
  let writes = Promise.resolve();
  let writeError: TinyLMError | undefined;
  const onProgress = progressListener(options);
  const onEvent = (event: WorkerEvent) => {
    if (event.type !== 'checkpoint') return onProgress?.(event);
    const { step, bytes } = event.payload;
    writes = writes.then(async () => {
      if (writeError) return;
      try {
        await store.write(name, new Uint8Array(bytes));
      } catch (error) {
        writeError = new TinyLMError(
          'CHECKPOINT_WRITE_FAILED',
          `the checkpoint '${name}' after step ${step} could not be stored (${(error as Error)?.message ?? String(error)}): ` +
            'the run stopped; the checkpoint stored before it is kept. Free storage space or choose another checkpointStore',
        );
        stop.abort();
      }
    });
  };
  try {
    const report = await send(wire, { signal: stop.signal, transfer: resumeFrom ? [resumeFrom] : [], onEvent });
    await writes;
    if (writeError) throw writeError;
    await store.remove(name);  // the run is complete: nothing is left to resume
    return report;
  } catch (error) {
    await writes;
    throw writeError ?? error;
  } finally {
    options.signal?.removeEventListener('abort', forwardAbort);
  }
}

// The training options on the wire, checked (here rather than in options.ts: this module loads on first use).
function fineTuneWire(options: FineTuneOptions): WireFineTuneOptions {
  checkOptionNames('fineTune', options);
  const steps = resolvedNumber('steps', options.steps, 100, { min: 1, integer: true });
  return {
    steps,
    learningRate: resolvedNumber('learningRate', options.learningRate, 1e-3, { min: 0, exclusiveMin: true }),
    batchSize: resolvedNumber('batchSize', options.batchSize, 16, { min: 1, max: 4096, integer: true }),
    seqLen: resolvedNumber('seqLen', options.seqLen, 64, { min: 1, max: 65536, integer: true }),
    validationSplit: resolvedNumber('validationSplit', options.validationSplit, 0.1, { min: 0, max: 0.9 }),
    evalEvery: resolvedNumber('evalEvery', options.evalEvery, Math.ceil(steps / 5), { min: 1, integer: true }),
    evalBatches: resolvedNumber('evalBatches', options.evalBatches, 8, { min: 1, integer: true }),
    optimizer: resolvedChoice('optimizer', options.optimizer, 'adam', ['adam', 'adamw', 'rmsprop', 'sgd']),
    weightDecay: resolvedNumber('weightDecay', options.weightDecay, 0, { min: 0 }),
    clip: resolvedNumber('clip', options.clip, 1, { min: 0 }),
    warmupSteps: resolvedNumber('warmupSteps', options.warmupSteps, 0, { min: 0, integer: true }),
    cosine: resolvedBoolean('cosine', options.cosine, false),
    seed: resolvedNumber('seed', options.seed, 1, { min: 0, integer: true }),
    keepPartial: resolvedBoolean('keepPartial', options.keepPartial, false),
  };
}

function progressListener(options: FineTuneOptions): ((event: WorkerEvent) => void) | undefined {
  const onProgress = options.onProgress;
  return onProgress ? (event) => event.type === 'progress' && onProgress(event.payload) : undefined;
}

interface CheckpointPlan {
  store: ModelStore;
  name: string;
  every: number;
  resume: boolean;
}

// The checkpoint options, checked; undefined when the run neither checkpoints nor resumes.
function checkpointPlan(options: FineTuneOptions): CheckpointPlan | undefined {
  const every = resolvedNumber('checkpointEvery', options.checkpointEvery, 0, { min: 0, integer: true });
  if (options.resume !== undefined && typeof options.resume !== 'boolean') {
    throw new TinyLMError('INVALID_ARGUMENT', `option resume must be true or false, got ${JSON.stringify(options.resume)}`);
  }
  const resume = options.resume ?? false;
  const name = options.checkpointName ?? DEFAULT_CHECKPOINT_NAME;
  if (typeof name !== 'string') {
    throw new TinyLMError('INVALID_ARGUMENT', `option checkpointName must be a string, got ${typeof name}`);
  }
  checkStoredModelName(name);
  const uses = every > 0 || resume;
  const placement = (['checkpointName', 'checkpointDir', 'checkpointStore'] as const).find((key) => options[key] !== undefined);
  if (!uses) {
    if (placement) {
      throw new TinyLMError(
        'INVALID_ARGUMENT',
        `option ${placement} places training checkpoints, but this run neither writes them (checkpointEvery) nor resumes one (resume: true)`,
      );
    }
    return undefined;
  }
  if (options.checkpointDir !== undefined && options.checkpointStore !== undefined) {
    throw new TinyLMError('INVALID_ARGUMENT', 'give checkpointDir or checkpointStore, not both');
  }
  if (options.checkpointDir !== undefined && (typeof options.checkpointDir !== 'string' || options.checkpointDir === '')) {
    throw new TinyLMError('INVALID_ARGUMENT', `option checkpointDir must be a directory path, got ${JSON.stringify(options.checkpointDir)}`);
  }
  const store = options.checkpointStore ?? platform().checkpointStore(options.checkpointDir);
  return { store, name, every, resume };
}
