// The worker's generate operation: samples tokens in time slices and posts each slice's pieces as one 'tokens'
// event. A message per token and a trip through the event loop per token cost more than the token itself on
// small models; a slice of GENERATE_SLICE_MS keeps the engine busy while the main thread still receives pieces
// every few milliseconds, and a cancel is seen between two slices, so it lands within one of them.
import { ok } from './engine.js';
import type { EngineGenerator } from './engine.js';
import { TinyLMError } from './errors.js';
import type { GenerateSummary, GeneratedToken, WireGenerateOptions } from './protocol.js';
import { yieldToEventLoop } from './worker_port.js';
import { engine, modelOf, relabel, type Context } from './worker_state.js';

// Prompt tokens per engine call: between calls a cancel is seen and other models' requests run (about 50–100 ms
// of prefill each for the shipped models in wasm).
const PREFILL_CHUNK_TOKENS = 128;

export const GENERATE_SLICE_MS = 8;

export async function generate(
  { modelId, prompt, options }: { modelId: number; prompt: string; options: WireGenerateOptions },
  context: Context,
): Promise<GenerateSummary> {
  const wasm = await engine();
  context.throwIfCancelled('generation was cancelled before it started');
  const model = modelOf(modelId);
  const { stop, alternatives, truncatePrompt, ...generatorOptions } = options;
  // A GPT reads at most contextSize tokens. A longer prompt would silently lose its beginning as the window
  // slides, so that only happens when the caller asks for it.
  const { contextSize } = ok(model.info());
  if (contextSize > 0 && !truncatePrompt) {
    const length = ok(model.encode(prompt)).length;
    if (length > contextSize) {
      throw new TinyLMError('PROMPT_TOO_LONG', `the prompt is ${length} tokens but this model reads at most ${contextSize}: ` +
        'shorten it, or pass truncatePrompt: true to let the window slide past its beginning');
    }
  }
  let generator: EngineGenerator;
  try {
    generator = ok(wasm.Generator.create(model, generatorOptions, stop));
  } catch (error) {
    relabel(error, 'INVALID_ARGUMENT');
  }
  try {
    // The prompt goes in chunks: a long one (a 100k-character paste) can be cancelled, and other models' requests
    // run in between, instead of waiting for the whole prompt.
    ok(generator.begin(prompt));
    while (!ok(generator.prefill(PREFILL_CHUNK_TOKENS))) {
      await yieldToEventLoop();
      context.throwIfCancelled('generation was cancelled while the prompt was read');
    }
    let tokens = 0;
    for (let firstSlice = true; ; firstSlice = false) {
      context.throwIfCancelled(`generation was cancelled after ${tokens} token(s)`);
      const batch: GeneratedToken[] = [];
      const sliceEnd = performance.now() + GENERATE_SLICE_MS;
      let done = false;
      let stopReason = '';
      // The first slice posts its first token at once: what the user waits for is the first piece.
      do {
        const step = ok(generator.next());
        if (step.token >= 0) tokens += 1;
        if (step.token >= 0 || step.piece.length > 0) {
          batch.push({
            piece: step.piece,
            token: step.token,
            alternatives: step.token >= 0 && alternatives > 0 ? ok(generator.alternatives(alternatives)) : [],
          });
        }
        done = step.done;
        stopReason = step.stopReason;
      } while (!done && !(firstSlice && batch.length > 0) && performance.now() < sliceEnd);
      if (batch.length > 0) context.emit({ id: context.id, type: 'tokens', payload: batch });
      if (done) return { tokens, stopReason: stopReason as GenerateSummary['stopReason'] };
      await yieldToEventLoop();
    }
  } finally {
    generator.delete();
  }
}
