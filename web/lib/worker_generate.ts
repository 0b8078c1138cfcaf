// The worker's generate operation: samples tokens in time slices and posts each slice's pieces as one 'tokens'
// event. A message per token and a trip through the event loop per token cost more than the token itself on
// small models; a slice of GENERATE_SLICE_MS keeps the engine busy while the main thread still receives pieces
// every few milliseconds, and a cancel is seen between two slices, so it lands within one of them.
// With beams it runs beam search instead (worker_search.ts); with fuse, either one over a fusion of two models.
import { ok } from './engine.js';
import type { EngineFusion, EngineGenerator, EngineModel, EngineTokenSource } from './engine.js';
import { TinyLMError } from './errors.js';
import type { GenerateSummary, GeneratedToken, WireGenerateOptions } from './protocol.js';
import { beamSearch } from './worker_search.js';
import { yieldToEventLoop } from './worker_port.js';
import { engine, modelOf, relabel, type Context } from './worker_state.js';

// Prompt tokens per engine call: between calls a cancel is seen and other models' requests run (about 50–100 ms
// of prefill each for the shipped models in wasm).
export const PREFILL_CHUNK_TOKENS = 128;

export const GENERATE_SLICE_MS = 8;

// A GPT reads at most contextSize tokens. A longer prompt would silently lose its beginning as the window slides,
// so that only happens when the caller asks for it.
export function checkPromptLength(model: EngineModel, prompt: string, truncatePrompt: boolean): void {
  const { contextSize } = ok(model.info());
  if (contextSize > 0 && !truncatePrompt) {
    const length = ok(model.encode(prompt)).length;
    if (length > contextSize) {
      throw new TinyLMError('PROMPT_TOO_LONG', `the prompt is ${length} tokens but this model reads at most ${contextSize}: ` +
        'shorten it, or pass truncatePrompt: true to let the window slide past its beginning');
    }
  }
}

export async function generate(
  { modelId, prompt, options }: { modelId: number; prompt: string; options: WireGenerateOptions },
  context: Context,
): Promise<GenerateSummary> {
  const wasm = await engine();
  context.throwIfCancelled('generation was cancelled before it started');
  const model = modelOf(modelId);
  const { stop, alternatives, truncatePrompt, beams, lengthPenalty, fuse, ...generatorOptions } = options;
  checkPromptLength(model, prompt, truncatePrompt);
  let fusion: EngineFusion | undefined;
  if (fuse) {
    const partner = modelOf(fuse.modelId);
    checkPromptLength(partner, prompt, truncatePrompt);
    try {
      fusion = ok(wasm.Fusion.create(model, partner, fuse.weight));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
  }
  try {
    const generating = fusion ?? model;
    if (beams > 1) {
      return await beamSearch(wasm, generating, prompt, options, context);
    }
    let generator: EngineGenerator;
    try {
      generator = ok(wasm.Generator.create(generating, generatorOptions, stop));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
    try {
      ok(generator.begin(prompt));
      return await streamTokens(generator, alternatives, context);
    } finally {
      generator.delete();
    }
  } finally {
    fusion?.delete();
  }
}

// Feeds the rest of the prompt, then samples slice by slice until the source says it is done.
export async function streamTokens(source: EngineTokenSource, alternatives: number, context: Context): Promise<GenerateSummary> {
  // The prompt goes in chunks: a long one (a 100k-character paste) can be cancelled, and other models' requests
  // run in between, instead of waiting for the whole prompt.
  while (!ok(source.prefill(PREFILL_CHUNK_TOKENS))) {
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
      const step = ok(source.next());
      if (step.token >= 0) tokens += 1;
      if (step.token >= 0 || step.piece.length > 0) {
        batch.push({
          piece: step.piece,
          token: step.token,
          alternatives: step.token >= 0 && alternatives > 0 ? ok(source.alternatives(alternatives)) : [],
        });
      }
      done = step.done;
      stopReason = step.stopReason;
    } while (!done && !(firstSlice && batch.length > 0) && performance.now() < sliceEnd);
    if (batch.length > 0) context.emit({ id: context.id, type: 'tokens', payload: batch });
    if (done) return { tokens, stopReason: stopReason as GenerateSummary['stopReason'] };
    await yieldToEventLoop();
  }
}
