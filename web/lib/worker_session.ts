// The worker's session operations (protocol_session.ts; the core's generate/session.hpp). Each session is an engine
// Session beside its model, stamped with the model's version when made: an operation that may change the weights
// (worker_core.ts) moves the version on, and a session of an older version is refused, since its state was computed
// by weights that are gone.
import { ok, type EngineSession } from './engine.js';
import { TinyLMError } from './errors.js';
import type { SessionOperations } from './protocol_session.js';
import { checkPromptLength, streamTokens } from './worker_generate.js';
import { engine, loadedModel, relabel, type Context } from './worker_state.js';

interface SessionEntry {
  modelId: number;
  version: number;
  engineSession: EngineSession;
}

const sessions = new Map<number, SessionEntry>();
let nextSessionId = 1;

type SessionHandler<K extends keyof SessionOperations> = (
  payload: SessionOperations[K]['payload'],
  context: Context,
) => Promise<SessionOperations[K]['result']>;

function adoptSession(modelId: number, engineSession: EngineSession) {
  const sessionId = nextSessionId++;
  sessions.set(sessionId, { modelId, version: loadedModel(modelId).version, engineSession });
  return { sessionId };
}

function sessionOf(modelId: number, sessionId: number): SessionEntry {
  const entry = sessions.get(sessionId);
  if (!entry || entry.modelId !== modelId) {
    throw new TinyLMError('DISPOSED', 'this session was disposed (or its model was): start another with lm.session()');
  }
  if (entry.version !== loadedModel(modelId).version) {
    throw new TinyLMError('INVALID_ARGUMENT', 'this session was made before the model was fine-tuned or changed: its state ' +
      'belongs to the old weights; start another with lm.session()');
  }
  return entry;
}

// The model's sessions go with it (before its engine model, which they refer to).
export function disposeSessionsOf(modelId: number): void {
  for (const [sessionId, entry] of sessions) {
    if (entry.modelId !== modelId) continue;
    sessions.delete(sessionId);
    entry.engineSession.delete();
  }
}

export const sessionHandlers: { [K in keyof SessionOperations]: SessionHandler<K> } = {
  async sessionCreate({ modelId }) {
    const wasm = await engine();
    return adoptSession(modelId, ok(wasm.Session.create(loadedModel(modelId).engineModel)));
  },

  async sessionRestore({ modelId, bytes }) {
    const wasm = await engine();
    try {
      return adoptSession(modelId, ok(wasm.Session.restore(loadedModel(modelId).engineModel, new Uint8Array(bytes))));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
  },

  // A turn cancelled or failed midway keeps what it read and generated: the next turn continues after it.
  async sessionGenerate({ modelId, sessionId, prompt, options }, context) {
    await engine();
    context.throwIfCancelled('generation was cancelled before it started');
    const { engineSession } = sessionOf(modelId, sessionId);
    const { stop, alternatives, truncatePrompt, beams, lengthPenalty, fuse, ...generatorOptions } = options;
    checkPromptLength(loadedModel(modelId).engineModel, prompt, truncatePrompt);
    try {
      ok(engineSession.beginTurn(prompt, generatorOptions, stop));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
    try {
      const summary = await streamTokens(engineSession, alternatives, context);
      ok(engineSession.endTurn());
      return { ...summary, ...engineSession.stats() };
    } finally {
      engineSession.endTurn();
    }
  },

  async sessionFork({ modelId, sessionId }) {
    await engine();
    return adoptSession(modelId, ok(sessionOf(modelId, sessionId).engineSession.fork()));
  },

  async sessionSave({ modelId, sessionId }) {
    await engine();
    const bytes = ok(sessionOf(modelId, sessionId).engineSession.save());
    return { bytes: bytes.buffer as ArrayBuffer };
  },

  async sessionStats({ modelId, sessionId }) {
    await engine();
    return sessionOf(modelId, sessionId).engineSession.stats();
  },

  async sessionDispose({ sessionId }) {
    const entry = sessions.get(sessionId);
    if (entry) {
      sessions.delete(sessionId);
      entry.engineSession.delete();
    }
    return null;
  },
};
