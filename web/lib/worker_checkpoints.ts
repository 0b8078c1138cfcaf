// The worker's side of fine-tune checkpoints (fine_tune_checkpoints.ts is the main thread's): what makes a run the
// same run, checking a stored checkpoint against it before anything changes, and the checkpoint bytes to store.
//
// A checkpoint is the core's training checkpoint (train/checkpoint.hpp: the trained weights or adapter, optimizer
// moments, step, schedule position, RNG states, data cursor) with a "tinylm_run" record in its metadata:
//   identity  base   fingerprint of the weights the run started from, as held (train/fingerprint.hpp), with
//                    their config and tokenizer
//             text   fingerprint of the training text
//             options  every training option that shapes the arithmetic (the wire options without keepPartial and
//                    the checkpoint options themselves), LoRA's included
//   figures   what the progress events and the report carry over: the first loss (divergence rule), the recent
//             losses, tokens, validation losses, elapsed time
// A resume whose identity differs is refused (CHECKPOINT_MISMATCH) naming the first difference; bytes that are not
// a whole checkpoint are refused (CHECKPOINT_CORRUPT). Either way the model and the stored checkpoint are untouched.
import { ok, type Engine, type EngineModel, type EngineTrainer } from './engine.js';
import { TinyLMError } from './errors.js';
import type { WireFineTuneOptions } from './protocol.js';

const RUN_VERSION = 1;

export interface RunIdentity {
  base: string;
  text: string;
  options: Record<string, unknown>;
}

// The loop's running figures after `step` steps (worker_fine_tune.ts).
export interface RunFigures {
  step: number;
  tokens: number;
  firstLoss: number;
  stepsAboveLimit: number;
  recentLosses: number[];
  validationLoss: number | null;
  initialValidationLoss: number | null;
  elapsedSeconds: number;
}

interface RunRecord {
  version: number;
  identity: RunIdentity;
  figures: RunFigures;
}

// Taken before training changes anything: `model`'s weights are then the ones the run starts from.
export function runIdentity(wasm: Engine, model: EngineModel, text: string, options: WireFineTuneOptions): RunIdentity {
  const { keepPartial: _keepPartial, checkpoint: _checkpoint, ...shaping } = options;
  return { base: ok(model.fingerprint()), text: wasm.textFingerprint(text), options: shaping as Record<string, unknown> };
}

// The stored run's figures, after checking that `bytes` hold a checkpoint of this very run; then the trainer
// continues from it. Refuses (and changes nothing) otherwise.
export function resumeRun(
  wasm: Engine,
  trainer: EngineTrainer,
  bytes: Uint8Array,
  identity: RunIdentity,
  name: string,
): RunFigures {
  const corrupt = (what: string) =>
    new TinyLMError(
      'CHECKPOINT_CORRUPT',
      `the stored checkpoint '${name}' cannot be resumed: ${what}. It is left as it is: delete it, or fine-tune with ` +
        'resume: false to start over (the next checkpoint replaces it)',
    );
  let record: RunRecord;
  try {
    record = JSON.parse(ok(wasm.checkpointRun(bytes)) || 'null') as RunRecord;
  } catch (error) {
    throw corrupt((error as Error).message);
  }
  if (!record || record.version !== RUN_VERSION || !record.identity || !record.figures) {
    throw corrupt(`it has no fine-tune record of version ${RUN_VERSION} (was it written by fineTune()?)`);
  }
  const difference = firstDifference(record.identity, identity);
  if (difference) {
    throw new TinyLMError(
      'CHECKPOINT_MISMATCH',
      `the stored checkpoint '${name}' is of another run: ${difference}. Resume with the checkpointed run's model, ` +
        'text and options, or fine-tune with resume: false to start over (the next checkpoint replaces it), or ' +
        'give this run another checkpointName',
    );
  }
  try {
    ok(trainer.resume(bytes));
  } catch (error) {
    throw corrupt((error as Error).message);
  }
  return record.figures;
}

export function checkpointBytes(trainer: EngineTrainer, identity: RunIdentity, figures: RunFigures): Uint8Array {
  const record: RunRecord = { version: RUN_VERSION, identity, figures };
  return ok(trainer.checkpoint(JSON.stringify(record)));
}

function firstDifference(stored: RunIdentity, current: RunIdentity): string | undefined {
  if (stored.base !== current.base) {
    return 'the model differs from the one that run started from (another model, or weights changed since — a ' +
      'run resumes on the weights it started from, not on its partial result)';
  }
  if (stored.text !== current.text) return 'the training text differs';
  const names = [...new Set([...Object.keys(stored.options ?? {}), ...Object.keys(current.options)])];
  for (const option of names) {
    const then = JSON.stringify(stored.options?.[option]);
    const now = JSON.stringify(current.options[option]);
    if (then !== now) return `option ${option} was ${then ?? '(not set)'}, this call has ${now ?? '(not set)'}`;
  }
  return undefined;
}
