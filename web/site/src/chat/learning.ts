// "Learn from this conversation": the model is fine-tuned, in the worker, on the conversation — both sides, so it
// learns the exchange, not just the user's lines — briefly and gently so it leans towards the user's words without
// forgetting how to answer. The page's echo guard (format.ts) still refuses a reply that only repeats the user.
//   - The shipped chat models (under 1 M parameters) are tuned whole, and the page saves the tuned model.
//   - A model from the Hugging Face Hub (135 M parameters and up) trains a LoRA adapter instead (rank 8 on the
//     attention's query and value projections, the base frozen): a few hundred KB to keep instead of the whole
//     model, and a fraction of the memory and time. The conversation is written in the model's own chat template.
import type { TinyLM } from 'tinylm-js';
import type { Turn } from './format.js';

export interface LearningReport {
  steps: number;
  loss: number;
  turns: number;
  adapterBytes?: Uint8Array;  // a Hub model's adapter (PEFT safetensors); absent when the model itself was tuned
}

type Progress = (step: number, steps: number, loss: number) => void;

// The name the learned adapter is resident under, beside the base model.
export const learnedAdapter = 'learned';

export function learnsAnAdapter(lm: TinyLM): boolean {
  return lm.info.source !== undefined;
}

// A chat is short: repeat it to fill the training windows, separated like conversations.
function repeated(text: string, atLeast: number): string {
  return `${text}\n`.repeat(Math.max(2, Math.ceil(atLeast / (text.length + 1))));
}

export async function learnFromConversation(lm: TinyLM, turns: Turn[], onProgress: Progress, signal?: AbortSignal): Promise<LearningReport> {
  const spoken = turns.filter((turn) => !turn.empty);
  const userTurns = turns.filter((turn) => turn.speaker === 'user').length;
  const progress = (report: { step: number; steps: number; loss: number }) => onProgress(report.step, report.steps, report.loss);
  if (learnsAnAdapter(lm)) {
    const conversation = lm.info.source?.chatTemplate
      ? await lm.chatPrompt(spoken.map((turn) => ({ role: turn.speaker === 'user' ? 'user' : 'assistant', content: turn.text })))
      : spoken.map((turn) => `${turn.text}\n`).join('');
    const steps = 12;
    // A fresh adapter each time: one learned before is replaced, not stacked.
    if ((await lm.listAdapters()).names.includes(learnedAdapter)) await lm.removeAdapter(learnedAdapter);
    const report = await lm.fineTune(repeated(conversation, 1024), {
      lora: { rank: 8, alpha: 16 }, steps, batchSize: 1, seqLen: 64, learningRate: 1e-3, validationSplit: 0, signal, onProgress: progress,
    });
    await lm.saveAdapter(learnedAdapter);
    return { steps: report.steps, loss: report.loss, turns: userTurns, adapterBytes: await lm.exportAdapter(learnedAdapter) };
  }
  const lines = spoken.map((turn) => `${turn.text}\n`).join('');
  const steps = 24;
  const report = await lm.fineTune(repeated(lines, 2048), {
    steps, batchSize: 8, seqLen: 32, learningRate: 1e-3, validationSplit: 0, signal, onProgress: progress,
  });
  return { steps: report.steps, loss: report.loss, turns: userTurns };
}
