// The session operations of the worker protocol (protocol.ts's Operations extends these). A session lives in the
// worker beside its model; the main thread holds its id. Every payload names the model, so session operations queue
// behind the model's other operations (worker_core.ts).
import type { GeneratedToken, WireGenerateOptions } from './protocol.js';

export interface SessionStats {
  historyTokens: number;       // every token of every turn so far
  lastTurnTokensRead: number;  // tokens the model read in the last turn: the previous turn's last sampled token, the
                               // turn's prompt, and every token it generated but the last
}

export interface SessionHandle {
  sessionId: number;
}

export interface SessionOperations {
  sessionCreate: { payload: { modelId: number }; event: never; result: SessionHandle };
  sessionRestore: { payload: { modelId: number; bytes: ArrayBuffer }; event: never; result: SessionHandle };
  sessionGenerate: {
    payload: { modelId: number; sessionId: number; prompt: string; options: WireGenerateOptions };
    event: { type: 'tokens'; payload: GeneratedToken[] };
    result: SessionStats & { tokens: number; stopReason: 'max_tokens' | 'stop' | 'eos' };
  };
  sessionFork: { payload: { modelId: number; sessionId: number }; event: never; result: SessionHandle };
  sessionSave: { payload: { modelId: number; sessionId: number }; event: never; result: { bytes: ArrayBuffer } };
  sessionStats: { payload: { modelId: number; sessionId: number }; event: never; result: SessionStats };
  sessionDispose: { payload: { modelId: number; sessionId: number }; event: never; result: null };
}
