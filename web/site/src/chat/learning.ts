// "Learn from this conversation": the model is fine-tuned, in the worker, on the conversation written in its own
// turn format (both sides, so it learns the exchange, not just the user's lines), briefly and gently so it leans
// towards the user's words without forgetting how to answer. The page's echo guard (format.ts) still refuses a
// reply that only repeats the user. The tuned model is saved in this browser (store.ts).
//
// This is where a parameter-efficient adapter (LoRA) takes over for the models that support it: the page calls
// only learnFromConversation and reads its report.
import type { TinyLM } from 'tinylm-js';
import type { Turn } from './format.js';

export interface LearningReport { steps: number; loss: number; turns: number }

export async function learnFromConversation(lm: TinyLM, turns: Turn[], onProgress: (step: number, steps: number, loss: number) => void,
  signal?: AbortSignal): Promise<LearningReport> {
  const lines = turns.filter((turn) => !turn.empty).map((turn) => `${turn.text}\n`).join('');
  // A chat is short: repeat it to fill the training windows (32 characters × 8), separated like conversations.
  const text = `${lines}\n`.repeat(Math.max(2, Math.ceil(2048 / (lines.length + 1))));
  const steps = 24;
  const report = await lm.fineTune(text, {
    steps, batchSize: 8, seqLen: 32, learningRate: 1e-3, validationSplit: 0, signal,
    onProgress: (progress) => onProgress(progress.step, progress.steps, progress.loss),
  });
  return { steps: report.steps, loss: report.loss, turns: turns.filter((turn) => turn.speaker === 'user').length };
}
