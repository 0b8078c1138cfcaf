// Beam search in the worker (generate with beams > 1; the core's generate/beam_search.hpp): the prompt in chunks,
// then search steps in time slices, a cancel seen between them. The result exists only when the search ends, so
// the text arrives as one 'tokens' event: for generateSteps (alternatives > 0) one entry per token of the best
// hypothesis (no alternatives: nothing was drawn) and the text on the last; otherwise the text alone.
import { ok, type Engine, type EngineBeamSearch, type EngineGenerating } from './engine.js';
import type { GenerateSummary, GeneratedToken, WireGenerateOptions } from './protocol.js';
import { GENERATE_SLICE_MS, PREFILL_CHUNK_TOKENS } from './worker_generate.js';
import { yieldToEventLoop } from './worker_port.js';
import { relabel, type Context } from './worker_state.js';

export async function beamSearch(
  wasm: Engine,
  generating: EngineGenerating,
  prompt: string,
  options: WireGenerateOptions,
  context: Context,
): Promise<GenerateSummary> {
  const { beams, lengthPenalty, maxTokens, stopAtEos, stop, alternatives } = options;
  let search: EngineBeamSearch;
  try {
    search = ok(wasm.BeamSearch.create(generating, { beams, lengthPenalty, maxTokens, stopAtEos }, stop));
  } catch (error) {
    relabel(error, 'INVALID_ARGUMENT');
  }
  try {
    ok(search.begin(prompt));
    while (!ok(search.prefill(PREFILL_CHUNK_TOKENS))) {
      await yieldToEventLoop();
      context.throwIfCancelled('beam search was cancelled while the prompt was read');
    }
    let sliceEnd = performance.now() + GENERATE_SLICE_MS;
    for (let steps = 1; ok(search.advance()); steps += 1) {
      if (performance.now() < sliceEnd) continue;
      await yieldToEventLoop();
      context.throwIfCancelled(`beam search was cancelled after ${steps} step(s)`);
      sliceEnd = performance.now() + GENERATE_SLICE_MS;
    }
    const [best] = ok(search.results());
    const events: GeneratedToken[] = alternatives > 0
      ? Array.from(best.tokens, (token) => ({ piece: '', token, alternatives: [] }))
      : [];
    if (events.length > 0) events[events.length - 1].piece = best.text;
    else events.push({ piece: best.text, token: -1, alternatives: [] });
    context.emit({ id: context.id, type: 'tokens', payload: events });
    return { tokens: best.tokens.length, stopReason: best.stopReason };
  } finally {
    search.delete();
  }
}
