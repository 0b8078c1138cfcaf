// Fine-tuning that keeps the best validation checkpoint. The package's fineTune() ends at its last step; when the
// held-out loss was lower earlier, this puts the model back there: the weights from before the run are exported
// first, and training is replayed from them to the best step (fineTune is deterministic for a given seed and,
// with a constant learning rate, step s of a shorter run is step s of the longer one). A best "step 0" — the
// run only made things worse — restores the weights from before it.
import { TinyLM, type FineTuneProgress } from 'tinylm-js';
import type { Settings } from './settings.js';

export interface BestRun {
  lm: TinyLM;                         // the model to keep using (the same object, or a restored one)
  initialLoss: number | null;         // validation before training
  finalLoss: number | null;           // at the last step trained
  bestLoss: number | null;            // the kept model's validation
  bestStep: number;                   // 0 = the weights from before the run
  steps: number;
  rose: boolean;                      // validation ended higher than its best
  seconds: number;
  validationSkipped?: string | null;  // the package's reason when there was no validation
}

export async function fineTuneKeepingBest(lm: TinyLM, text: string, settings: Settings, onProgress: (progress: FineTuneProgress) => void,
  onReplay: (step: number) => void, signal: AbortSignal): Promise<BestRun> {
  const started = performance.now();
  // The weights exactly as they are, in full precision (export() alone keeps the precision the model was loaded in).
  const before = await (lm.export as (options?: { dtype?: 'f32' }) => Promise<Uint8Array>).call(lm, { dtype: 'f32' });
  const options = {
    steps: settings.steps, learningRate: settings.learningRate, batchSize: settings.batchSize, seqLen: settings.seqLen,
    evalEvery: settings.evalEvery, seed: 1,
  };
  let best = { step: 0, loss: Infinity };
  let lastValidation: number | null = null;
  const report = await lm.fineTune(text, {
    ...options, signal,
    onProgress: (progress) => {
      if (progress.validationLoss !== null && progress.validationLoss !== lastValidation && progress.validationLoss < best.loss) {
        best = { step: progress.step, loss: progress.validationLoss };
      }
      lastValidation = progress.validationLoss;
      onProgress(progress);
    },
  });
  const initial = report.initialValidationLoss;
  if (initial === null) {  // no validation (report.validationSkipped says why): nothing to choose a checkpoint by
    return { lm, initialLoss: null, finalLoss: null, bestLoss: null, bestStep: report.steps, steps: report.steps, rose: false,
      seconds: elapsed(started), validationSkipped: report.validationSkipped };
  }
  if (initial <= best.loss) best = { step: 0, loss: initial };
  const final = report.validationLoss ?? best.loss;
  if (best.step === report.steps || final <= best.loss) {
    return { lm, initialLoss: initial, finalLoss: final, bestLoss: final, bestStep: report.steps, steps: report.steps, rose: false, seconds: elapsed(started) };
  }
  onReplay(best.step);
  const restored = await TinyLM.load(before);
  await lm.dispose();
  if (best.step > 0) await restored.fineTune(text, { ...options, steps: best.step, signal });
  return { lm: restored, initialLoss: initial, finalLoss: final, bestLoss: best.loss, bestStep: best.step, steps: report.steps, rose: true, seconds: elapsed(started) };
}

const elapsed = (started: number) => (performance.now() - started) / 1000;
