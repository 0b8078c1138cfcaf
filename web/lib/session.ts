// Session: generation that continues where it left off. The worker keeps the session's token history and the
// model's state after it (a recurrent model's hidden state, a GPT's or Llama's KV cache), so each s.generate() reads
// only its own prompt — never the history again — and samples exactly what one lm.generate() over the whole text
// would with the same options and seed.
//
//   const s = lm.session();
//   await collect(s.generate('User: hi\nBot:', { maxTokens: 40, stop: '\nUser:' }));
//   await collect(s.generate('\nUser: and then?\nBot:', { maxTokens: 40 }));  // costs only the new tokens
//   const branch = s.fork();               // an independent copy: its turns leave s as it was
//   const bytes = await s.save();          // history + state, versioned; lm.restoreSession(bytes) continues it
//   s.dispose();
//
// What the history holds: every prompt's tokens and every sampled token, a stop sequence's too (the text a turn
// returns ends before its stop sequence, the model has read it). A GPT or Llama reads at most its context: once the
// history outgrows it, the window slides as in one long generation — the model then sees the last context/2 to
// context tokens. A session belongs to its model: it stops working (code 'INVALID_ARGUMENT' naming what changed)
// once the model is fine-tuned, or changed otherwise, after the session was made, and with the model's dispose().
// Turns of one session run one at a time, in call order, like every operation on a model.
import { TinyLMError } from './errors.js';
import type { GenerateOptions } from './options.js';
import type { GeneratedToken, Operations, OperationType } from './protocol.js';
import type { SessionHandle, SessionStats } from './protocol_session.js';

// What a Session needs from its TinyLM (index.ts hands it over; the model's requests stay private to it).
export interface SessionPort {
  modelId: number;
  request<K extends OperationType>(type: K, payload: Operations[K]['payload']): Promise<Operations[K]['result']>;
  stream(prompt: string, options: GenerateOptions, sessionId: number): AsyncGenerator<GeneratedToken, void, undefined>;
}

export class Session {
  private disposed = false;

  constructor(private readonly port: SessionPort, private readonly handle: Promise<SessionHandle>) {
    handle.catch(() => {});  // a failed creation is reported by the first call that needs the session
  }

  // Streams the continuation of the session's text after `prompt` (may be '': continue the text as it is). Takes
  // generate()'s sampling options; beams and fuse apply to lm.generate() only.
  async *generate(prompt: string, options: GenerateOptions = {}): AsyncGenerator<string, void, undefined> {
    for await (const step of this.generateSteps(prompt, options)) yield step.piece;
  }

  // Like generate(), with each token's id.
  async *generateSteps(prompt: string, options: GenerateOptions = {}): AsyncGenerator<GeneratedToken, void, undefined> {
    if (typeof prompt !== 'string') throw new TinyLMError('INVALID_ARGUMENT', `session.generate(): the prompt must be a string, got ${typeof prompt}`);
    for (const name of ['beams', 'lengthPenalty', 'fuse', 'fuseWeight'] as const) {
      if (options?.[name] !== undefined) {
        throw new TinyLMError('INVALID_ARGUMENT', `session.generate(): option ${name} applies to lm.generate(); a session samples one continuation`);
      }
    }
    const sessionId = await this.id();
    yield* this.port.stream(prompt, options, sessionId);
  }

  // An independent copy of the session as it is now (after the turns already called): turns of either leave the
  // other as it was.
  fork(): Session {
    return new Session(this.port, this.id().then((sessionId) => this.port.request('sessionFork', { modelId: this.port.modelId, sessionId })));
  }

  // The session as bytes: token history, model state and a format version, tied to the model's config and
  // tokenizer. lm.restoreSession(bytes) continues it exactly, also in another engine or after a reload.
  async save(): Promise<Uint8Array> {
    const sessionId = await this.id();
    return new Uint8Array((await this.port.request('sessionSave', { modelId: this.port.modelId, sessionId })).bytes);
  }

  // { historyTokens, lastTurnTokensRead }: how long the history is, and how many tokens the last turn fed the model.
  async stats(): Promise<SessionStats> {
    const sessionId = await this.id();
    return this.port.request('sessionStats', { modelId: this.port.modelId, sessionId });
  }

  // Frees the session's state in the worker. Later calls fail with code 'DISPOSED'. Calling it twice is harmless.
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const sessionId = await this.handle.then((handle) => handle.sessionId, () => undefined);
    if (sessionId !== undefined) await this.port.request('sessionDispose', { modelId: this.port.modelId, sessionId }).catch(() => {});
  }

  private async id(): Promise<number> {
    if (this.disposed) throw new TinyLMError('DISPOSED', 'this session was disposed: start another with lm.session()');
    return (await this.handle).sessionId;
  }
}
