// The worker's fineTune operation: one optimizer step at a time, a progress event after each, a look at the
// message queue (cancel requests) between steps, and the weights from before it put back when it is cancelled,
// fails or diverges (unless keepPartial). With options.lora a fresh LoRA adapter trains beside the frozen model
// (worker_adapters.ts): the weights never change, and the adapter becomes the active one when training ends (or,
// with keepPartial, when it stops).
//
// Divergence (TRAINING_DIVERGED), the rule the docs state:
//   - a step's loss or gradient norm, or a validation loss, is not finite; or
//   - the training loss stays above DIVERGENCE_FACTOR (4) × the first step's loss (measured on the weights from
//     before the fine-tune) for DIVERGENCE_STEPS (5) consecutive steps.
// A healthy run never comes near either: its loss falls, or at worst wobbles around where it started.
//
// With options.checkpoint (worker_checkpoints.ts) a 'checkpoint' event carries the run so far every `every` steps
// (before that step's progress event), and a run given resumeFrom continues the stored run from its step, its
// figures included, after checking it is the same run.
import { ok } from './engine.js';
import type { EngineTrainer, ParameterSnapshot } from './engine.js';
import { TinyLMError } from './errors.js';
import type { FineTuneReport, WireFineTuneOptions } from './protocol.js';
import { startLoraTraining } from './worker_adapters.js';
import { checkpointBytes, resumeRun, runIdentity, type RunFigures } from './worker_checkpoints.js';
import { yieldToEventLoop } from './worker_port.js';
import { engine, modelOf, relabel, requireText, type Context } from './worker_state.js';

export const DIVERGENCE_FACTOR = 4;
export const DIVERGENCE_STEPS = 5;

export async function fineTune(
  { modelId, text, options }: { modelId: number; text: string; options: WireFineTuneOptions },
  context: Context,
): Promise<FineTuneReport> {
  const wasm = await engine();
  context.throwIfCancelled('fine-tuning was cancelled before it started');
  const model = modelOf(modelId);
  requireText(text, 'fine-tuning');
  const info = ok(model.info());
  if (!info.trainable && !(options.lora && info.weights !== 'f32')) {  // LoRA trains beside f16 or int8 matrices
    throw new TinyLMError('NOT_TRAINABLE', info.weights !== 'f32'
      ? `this ${info.arch} model holds its matrices as ${info.weights} (TinyLM.load's weights option), for generation ` +
        "and evaluation only: load it with weights: 'f32' to fine-tune it, or fine-tune a LoRA adapter ({ lora })"
      : `a '${info.arch}' model has no trainable parameters`);
  }
  const tokenCount = ok(model.encode(text)).length;
  const heldOut = Math.floor(tokenCount * options.validationSplit);
  const trainCount = tokenCount - heldOut;
  if (trainCount < options.seqLen + 1) {
    throw new TinyLMError(
      'TEXT_TOO_SHORT',
      `the text is ${tokenCount} tokens; after holding out validationSplit ${options.validationSplit} the ` +
        `training part is ${trainCount}, but one training window of seqLen ${options.seqLen} needs ` +
        `${options.seqLen + 1}: give more text or lower seqLen`,
    );
  }
  const checkpoint = options.checkpoint;
  const identity = checkpoint ? runIdentity(wasm, model, text, options) : undefined;
  const lora = options.lora ? await startLoraTraining(modelId, text, options.lora, options) : undefined;
  const snapshot: ParameterSnapshot | undefined = options.keepPartial || lora ? undefined : ok(wasm.ParameterSnapshot.take(model));
  let trainer: EngineTrainer;
  let resumeRefused = false;
  try {
    trainer = lora?.trainer ?? ok(wasm.Trainer.create(model, text, options));
  } catch (error) {
    snapshot?.delete();
    relabel(error, 'INVALID_ARGUMENT');
  }
  try {
    let resumed: RunFigures | undefined;
    try {
      resumed = checkpoint?.resumeFrom && identity
        ? resumeRun(wasm, trainer, new Uint8Array(checkpoint.resumeFrom), identity, checkpoint.name)
        : undefined;
    } catch (error) {
      resumeRefused = true;  // nothing trained: keepPartial has nothing to keep
      throw error;
    }
    const hasValidation = trainer.hasValidation();
    const validationSkipped = hasValidation
      ? null
      : options.validationSplit === 0
        ? 'validationSplit is 0'
        : `text too short: the held-out ${options.validationSplit} of the text is ${trainer.validationTokens()} tokens, ` +
          `but one validation window of seqLen ${options.seqLen} needs ${options.seqLen + 1}`;
    const validate = () => {
      const loss = ok(trainer.validate()).loss;
      if (!Number.isFinite(loss)) throw diverged(`the validation loss became ${loss}`, options.keepPartial);
      return loss;
    };
    const initialValidationLoss = resumed ? resumed.initialValidationLoss : hasValidation ? validate() : null;
    let validationLoss = resumed?.validationLoss ?? null;
    let tokens = resumed?.tokens ?? 0;
    let firstLoss = resumed?.firstLoss ?? NaN;
    let stepsAboveLimit = resumed?.stepsAboveLimit ?? 0;
    const recentLosses: number[] = resumed?.recentLosses.slice() ?? [];
    // Elapsed time counts the stored run's too, so rates and the ETA read as one run's.
    const started = performance.now() - (resumed?.elapsedSeconds ?? 0) * 1000;
    for (let step = (resumed?.step ?? 0) + 1; step <= options.steps; step++) {
      context.throwIfCancelled(`fine-tuning was cancelled after ${step - 1} of ${options.steps} steps`);
      let report;
      try {
        report = ok(trainer.step());
      } catch (error) {
        relabel(error, 'TRAINING_DIVERGED');
      }
      if (!Number.isFinite(report.loss) || !Number.isFinite(report.gradNorm)) {
        throw diverged(`step ${step}'s loss became ${report.loss} (gradient norm ${report.gradNorm})`, options.keepPartial);
      }
      if (step === 1) firstLoss = report.loss;
      stepsAboveLimit = report.loss > DIVERGENCE_FACTOR * firstLoss ? stepsAboveLimit + 1 : 0;
      if (stepsAboveLimit >= DIVERGENCE_STEPS) {
        throw diverged(
          `the training loss stayed above ${DIVERGENCE_FACTOR}× its starting ${firstLoss.toPrecision(4)} for ` +
            `${DIVERGENCE_STEPS} steps (step ${step}: ${report.loss.toPrecision(4)})`,
          options.keepPartial,
        );
      }
      tokens += report.tokens;
      recentLosses.push(report.loss);
      if (recentLosses.length > 10) recentLosses.shift();
      if (hasValidation && (step % options.evalEvery === 0 || step === options.steps)) validationLoss = validate();
      const elapsedSeconds = (performance.now() - started) / 1000;
      if (checkpoint && identity && checkpoint.every > 0 && step % checkpoint.every === 0 && step < options.steps) {
        const figures: RunFigures = {
          step, tokens, firstLoss, stepsAboveLimit, recentLosses, validationLoss, initialValidationLoss, elapsedSeconds,
        };
        const bytes = checkpointBytes(trainer, identity, figures);
        context.emit({ id: context.id, type: 'checkpoint', payload: { step, bytes: bytes.buffer as ArrayBuffer } }, [bytes.buffer as ArrayBuffer]);
      }
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
    lora?.keep();
    return {
      steps: options.steps,
      loss: recentLosses.length ? recentLosses.reduce((a, b) => a + b, 0) / recentLosses.length : NaN,
      validationLoss,
      initialValidationLoss,
      validationSkipped,
      tokensPerSecond: tokens / Math.max(seconds, 1e-9),
      seconds,
      trainTokens: trainer.trainTokens(),
      validationTokens: trainer.validationTokens(),
      resumedFromStep: resumed ? resumed.step : null,
    };
  } catch (error) {
    if (snapshot) ok(snapshot.restoreInto(model));  // a cancelled or failed fine-tune leaves the weights from before it
    if (lora && options.keepPartial && !resumeRefused) lora.keep();
    throw error;
  } finally {
    trainer.delete();
    snapshot?.delete();
  }
}

function diverged(what: string, keptPartial: boolean): TinyLMError {
  return new TinyLMError(
    'TRAINING_DIVERGED',
    `training diverged: ${what}; lower learningRate or keep clip on. ` +
      (keptPartial ? 'keepPartial: the weights of the last step are kept' : 'The weights from before the fine-tune are restored'),
  );
}
