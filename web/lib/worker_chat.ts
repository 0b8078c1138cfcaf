// The worker's chat operation: generate() over a conversation's rendered prompt, keeping the model's generation
// state between turns as llama.cpp's server keeps a cached prompt. After a chat the worker remembers the tokens the
// model's state is after (the prompt and every generated token it read); the next chat's prompt — the template
// rendered again over one more exchange — usually starts with exactly those tokens, and then only the rest is fed
// (Generator::begin_reusing). Feeding the same tokens from the same state is what a fresh read does, so the reply
// is the one a full read gives, also when a decoder's window slides — exactly for a recurrent model, to rounding
// for a GPT or Llama, whose batched prefill then splits the prompt into other batches.
//
// The kept tokens are valid only while nothing else touched the model: every operation on it but another chat and
// a few that read nothing (stateNeutral) forgets them as it is dispatched (worker_core.ts), and so does a chat under
// another adapter choice, with beams or fusion. A reply re-encoded to other tokens than those sampled, or an edited
// history, is simply not a prefix: the prompt is read whole, as before.
import { ok, type EngineGenerator } from './engine.js';
import { AbortError } from './errors.js';
import type { ChatStats, OperationRequest, OperationType, Operations } from './protocol.js';
import { withAdapter } from './worker_adapters.js';
import { checkPromptLength, generate, streamTokens } from './worker_generate.js';
import { engine, modelOf, relabel, type Context } from './worker_state.js';

interface HeldTokens {
  tokens: Int32Array;                  // the model's state is the one after these
  adapter: string | null | undefined;  // the chat's adapter choice (undefined: the active one)
}

const held = new Map<number, HeldTokens>();

// Operations that neither step, reset nor change a model: they keep its chat state.
const stateNeutral = new Set<OperationType>(['chat', 'encode', 'decode', 'export', 'memory', 'sessionFork',
  'sessionSave', 'sessionStats', 'sessionDispose']);

// Called for every model operation as it starts (the model's and a fusion partner's).
export function forgetChatState(request: OperationRequest, modelIds: number[]): void {
  if (stateNeutral.has(request.type)) return;
  for (const modelId of modelIds) held.delete(modelId);
}

type ChatPayload = Operations['chat']['payload'];

async function chatTurn(payload: ChatPayload, context: Context, adapter: string | null | undefined): Promise<ChatStats> {
  const { modelId, prompt, options, reusePrompt } = payload;
  const kept = held.get(modelId);
  held.delete(modelId);
  if (options.beams > 1 || options.fuse) {
    if (options.fuse) held.delete(options.fuse.modelId);
    const promptTokens = ok(modelOf(modelId).encode(prompt)).length;
    const summary = await generate({ modelId, prompt, options }, context);
    return { ...summary, promptTokens, promptTokensReused: 0, promptTokensRead: promptTokens };
  }
  const wasm = await engine();
  context.throwIfCancelled('generation was cancelled before it started');
  const model = modelOf(modelId);
  const { stop, alternatives, truncatePrompt, beams, lengthPenalty, fuse, ...generatorOptions } = options;
  checkPromptLength(model, prompt, truncatePrompt);
  let generator: EngineGenerator;
  try {
    generator = ok(wasm.Generator.create(model, generatorOptions, stop));
  } catch (error) {
    relabel(error, 'INVALID_ARGUMENT');
  }
  try {
    const reusable = reusePrompt && kept && kept.adapter === adapter ? kept.tokens : new Int32Array(0);
    const { promptTokens, reused: promptTokensReused } = ok(generator.beginReusing(prompt, reusable));
    // From here the model's state follows the generator's tokens; kept again when the turn ends or is cancelled
    // (an engine failure midway keeps nothing: the next chat reads its prompt whole).
    const keep = () => held.set(modelId, { tokens: ok(generator.tokensInState()), adapter });
    try {
      const summary = await streamTokens(generator, alternatives, context);
      keep();
      return { ...summary, promptTokens, promptTokensReused, promptTokensRead: promptTokens - promptTokensReused };
    } catch (error) {
      if (error instanceof AbortError) keep();
      throw error;
    }
  } finally {
    generator.delete();
  }
}

export function chat(payload: ChatPayload, context: Context): Promise<ChatStats> {
  return withAdapter((bare: ChatPayload, inner: Context) => chatTurn(bare, inner, payload.options.adapter))(payload, context);
}
