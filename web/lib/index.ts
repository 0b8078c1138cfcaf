// tinylm-js — load a small language model, stream text from it, fine-tune it on the user's own text, in the tab.
//
//   import { TinyLM } from 'tinylm-js';
//   const lm = await TinyLM.load();     // the shipped default model; or a URL, path, Uint8Array, Blob or stored name
//   const smol = await TinyLM.load('hf:HuggingFaceTB/SmolLM2-135M-Instruct', { onProgress: (p) => show(p.loaded / p.total) });
//   for await (const piece of smol.chat([{ role: 'user', content: 'Hi!' }])) process.stdout.write(piece);
//   for await (const piece of lm.generate('Call me', { maxTokens: 40, seed: 1 })) process.stdout.write(piece);
//   const report = await lm.fineTune(myText, { steps: 50, onProgress: (p) => console.log(p.step, p.loss) });
//   //  → { steps: 50, loss: 1.52, validationLoss: 1.61, initialValidationLoss: 1.94, tokensPerSecond: 21000, … }
//   await lm.evaluate(otherText);       // → { loss: 1.63, perplexity: 5.1, accuracy: 0.52, tokens: 4095 }
//   await lm.save('my-model');          // IndexedDB (browsers) or a directory (Node); TinyLM.load('my-model')
//   const bytes = await lm.export();    // safetensors, loadable by the CLI and by PyTorch tooling
//   await lm.fineTune(myText, { lora: { rank: 8 } });  // a LoRA adapter instead (adapters.ts): saveAdapter(name),
//                                       // exportAdapter(), loadAdapter(), generate(p, { adapter }), mergeAdapter()
//   lm.dispose();
//
// Every engine call runs in one shared worker (a module Web Worker, or worker_threads in Node), so the main thread
// never blocks. Calls on one model are queued and run one at a time, first come first served; calls on different
// models may interleave. Failures are TinyLMError with a `code`; cancellation through an AbortSignal is an
// AbortError that arrives within one training step or one generation slice and leaves the model as it was.
//
// This file is the API both entry points (browser.ts, node.ts) export; what differs between them is platform.ts.
// Fine-tuning, adapters and chat load on first use (import(): a page that only generates never downloads them).
import { adapterChoice } from './adapter_names.js';
import type * as adapters from './adapters.js';
import { CallOrder } from './call_order.js';
import { firstUse } from './first_use.js';
import type { ChatMessage, ChatOptions } from './chat.js';
import { capabilities, type Capabilities } from './threads.js';
import { EngineClient } from './client.js';
import { configure } from './configure.js';
import type { FineTuneRequester } from './fine_tune.js';
import { AbortError, TinyLMError } from './errors.js';
import {
  checkOptionNames, createConfig, dtypes, generateWire, requireText, resolvedChoice, resolvedNumber, type AbortSignalLike,
  type ConfigureOptions, type CreateOptions, type ExportOptions, type FineTuneOptions, type GenerateOptions, type LoadOptions,
  type SaveOptions,
} from './options.js';
import type { CheckpointSource } from './hf/source.js';
import { loadModel } from './load_model.js';
import { platform } from './platform.js';
import type {
  ChatStats,
  EngineMemory,
  EvaluationReport,
  FineTuneReport,
  GeneratedToken,
  Inspection,
  ModelInfo,
  OperationType,
  Operations,
  WorkerEvent,
} from './protocol.js';
import { Session, type SessionPort } from './session.js';
import { tokenStream } from './token_stream.js';
import type { ModelSource } from './sources.js';
import { isStoredModelName, type ModelStore } from './storage.js';

export { AbortError, TinyLMError } from './errors.js';
export type { AdapterList, ExportAdapterOptions, LoadAdapterOptions, LoraOptions } from './adapters.js';
export type { ChatMessage, ChatOptions } from './chat.js';
export type { Session } from './session.js';
export type { SessionStats } from './protocol_session.js';
export type { DownloadProgress } from './hf/fetch_files.js';
export type { CheckpointSource, NamedBlob } from './hf/source.js';
export type { FileMap, FileMapValue } from './hf/local_files.js';
export { indexedDbStore, type ModelStore } from './storage.js';
export type { Capabilities, EngineBuild } from './threads.js';
export type { AbortSignalLike, ConfigureOptions, CreateOptions, EngineWorker, ExportOptions, FineTuneOptions, GenerateOptions, LoadOptions,
  SaveOptions } from './options.js';
export type { Alternative, Arch, AttentionInspection, ChatStats, CheckpointInfo, CreateConfig, Dtype, EngineMemory, ErrorCode,
  EvaluationReport, FineTuneProgress, FineTuneReport, GateInspection, GeneratedToken, Inspection, ModelInfo, RecurrentArch,
  TrainableArch } from './protocol.js';
export type { BlobLike, ModelSource, URLLike } from './sources.js';

// Node: a store in `directory` (one <name>.safetensors file per model). Browsers: not available (IndexedDB).
export function directoryStore(directory: string): ModelStore {
  return platform().directoryStore(directory);
}

let sharedClient: EngineClient | undefined;
const engineClient = () => (sharedClient ??= new EngineClient());

export class TinyLM {
  readonly info: ModelInfo;
  private readonly modelId: number;
  private readonly epoch: number;
  private disposed = false;
  private chatStats: ChatStats | null = null;

  private constructor(handle: { modelId: number; info: ModelInfo }, epoch: number) {
    this.modelId = handle.modelId;
    this.info = handle.info;
    this.epoch = epoch;
  }

  // ---- making models -------------------------------------------------------------------------------------------

  // Settings for engines started afterwards (configure.ts), before the first call: where the package's files are
  // ({ assetBase: '/tinylm/' }, for setups that copy them), how many threads the engine computes with
  // ({ threads: 4 }), an engine worker the page started early ({ worker }, browsers), the Hub's host and revision.
  static configure(options: ConfigureOptions): void {
    configure(options, sharedClient?.started ?? false);
  }

  // What the engine runs on: { threads, maxThreads, simd, relaxedSimd, crossOriginIsolated,
  // build: 'threads' | 'single' } (threads.ts). Before the first call, what the next engine will run on; relaxedSimd
  // then becomes what the started engine says it runs.
  static capabilities(): Capabilities {
    return capabilities(platform().threadEnvironment(), sharedClient?.engineReport);
  }

  // With no source: the shipped default model (a character-level LSTM trained on Moby Dick, 0.9 MB), fetched once
  // per page or process however often it is loaded. Bytes are copied (exactly the view's range); the caller's
  // buffer is neither read past its view nor detached.
  //
  // A Hugging Face checkpoint folder (config.json, model.safetensors or its shards, tokenizer.json, …; GPT-2 and
  // Llama-family models) loads from 'hf:owner/name[@revision]' (the Hub, or options.hubHost), { baseUrl } (any
  // folder URL), a FileList or File[] (a dropped folder), or { files: { 'config.json': bytes, … } }. Downloads are
  // cached (browsers: OPFS for weights where it can be written as a stream, else the Cache API; Node:
  // options.cacheDirectory), report onProgress({ loaded, total, file }) and stop
  // at options.signal.
  static async load(source?: ModelSource | CheckpointSource, options: LoadOptions = {}): Promise<TinyLM> {
    checkOptionNames('load', options, 'TinyLM.load()');
    const client = engineClient();
    const handle = await loadModel(client, source, options);
    return new TinyLM(handle, client.epoch);
  }

  // A new, untrained model whose tokenizer is fitted on `text` (train it with fineTune).
  static async create(config: CreateOptions, text: string): Promise<TinyLM> {
    const full = createConfig(config ?? {});
    requireText(text, 'TinyLM.create (the tokenizer is fitted on it)');
    const client = engineClient();
    return new TinyLM(await client.request('create', { config: full, text }), client.epoch);
  }

  // The engine's wasm heap: size, bytes in use, cap. Disposed models give their memory back.
  static memory(): Promise<EngineMemory> {
    return engineClient().request('memory', {});
  }

  // Ends the engine worker (every model with it). The next call starts a fresh one.
  static async shutdown(): Promise<void> {
    await sharedClient?.terminate();
  }

  static async storedModels(store?: ModelStore): Promise<string[]> {
    return (store ?? (await platform().defaultStore())).list();
  }

  static async removeStored(name: string, store?: ModelStore): Promise<void> {
    await (store ?? (await platform().defaultStore())).remove(name);
  }

  // ---- using a model -------------------------------------------------------------------------------------------

  // Streams text pieces; a piece never splits a character or shows part of a stop sequence.
  async *generate(prompt: string, options: GenerateOptions = {}): AsyncGenerator<string, void, undefined> {
    for await (const step of this.stream(prompt, options, 'generate()')) yield step.piece;
  }

  // A reply to a conversation, streamed: the messages are rendered by the checkpoint's chat template (see chat.ts)
  // and generation stops at the end of the assistant's turn (info.source.endTokens, e.g. <|im_end|>). Takes
  // generate()'s options (`stop` adds to the end-of-turn tokens) and reusePrompt (default true: read only the
  // tokens new since the last chat(); lastChatStats() says how many). Needs a checkpoint with a chat_template.
  async *chat(messages: ChatMessage[], options: ChatOptions = {}): AsyncGenerator<string, void, undefined> {
    const prompt = await this.chatPrompt(messages);
    const { generateOptions, reusePrompt } = (await firstUse(import('./chat.js'), 'chat')).chatGenerateOptions(options, this.info.source);
    this.chatStats = null;
    const onStats = (stats: ChatStats) => (this.chatStats = stats);
    for await (const step of this.stream(prompt, generateOptions, 'chat()', { reusePrompt, onStats })) yield step.piece;
  }

  // The last finished chat()'s prompt tokens (reused from the kept state, and read) and generated tokens; null
  // before the first and after one that was cancelled or failed.
  lastChatStats(): ChatStats | null {
    return this.chatStats;
  }

  // The text chat() feeds the model for these messages: the chat template rendered with add_generation_prompt.
  async chatPrompt(messages: ChatMessage[]): Promise<string> {
    this.checkUsable();
    const chat = await firstUse(import('./chat.js'), 'chat');
    chat.checkMessages(messages);
    return chat.renderChatPrompt(this.info.source, messages);
  }

  // A generation session (session.ts): each s.generate() continues from the state the last one left, in the worker,
  // reading only its new tokens; s.fork(), s.save() and lm.restoreSession(bytes) branch and keep it.
  session(): Session {
    this.checkUsable();
    return new Session(this.sessionPort(), this.request('sessionCreate', { modelId: this.modelId }));
  }

  // A session from session.save()'s bytes, continuing exactly where it was saved. The bytes must come from this
  // model (the same config and tokenizer; checked, INVALID_ARGUMENT otherwise).
  restoreSession(bytes: Uint8Array): Session {
    this.checkUsable();
    if (!(bytes instanceof Uint8Array)) throw new TinyLMError('INVALID_ARGUMENT', 'restoreSession() takes the Uint8Array session.save() returned');
    const buffer = bytes.slice().buffer as ArrayBuffer;
    return new Session(this.sessionPort(), this.request('sessionRestore', { modelId: this.modelId, bytes: buffer }));
  }

  // Like generate(), with each token's id and the most probable alternatives it was drawn against.
  generateSteps(prompt: string, options: GenerateOptions = {}): AsyncGenerator<GeneratedToken, void, undefined> {
    return this.stream(prompt, options, 'generateSteps()');
  }

  // Training checkpoints and resume: fine_tune.ts.
  async fineTune(text: string, options: FineTuneOptions = {}): Promise<FineTuneReport> {
    this.checkUsable();
    requireText(text, 'fineTune');
    const send: FineTuneRequester = (wire, request) =>
      this.request('fineTune', { modelId: this.modelId, text, options: wire }, { ...request, placed: true });
    return this.order.afterLoading(firstUse(import('./fine_tune.js'), 'fine-tuning'),
      (module) => module.fineTune(send, options, this.info.source?.location ?? ''));
  }

  // Scores the text in chunks: an AbortSignal stops it between chunks (an AbortError).
  async evaluate(text: string, options: { signal?: AbortSignalLike } = {}): Promise<EvaluationReport> {
    this.checkUsable();
    requireText(text, 'evaluate');
    return this.request('evaluate', { modelId: this.modelId, text }, { signal: options.signal });
  }

  // The model as safetensors bytes (config and tokenizer in the metadata), its matrices stored as `dtype`:
  // 'f32', 'f16' or 'int8' (per-row scales); by default the precision it was loaded with (info.dtype).
  async export(options: ExportOptions = {}): Promise<Uint8Array> {
    this.checkUsable();
    checkOptionNames('export', options);
    const dtype = options.dtype === undefined ? undefined : resolvedChoice('dtype', options.dtype, 'f32', dtypes);
    return new Uint8Array((await this.request('export', { modelId: this.modelId, dtype })).bytes);
  }

  // Saves under `name`: Node writes $TINYLM_MODEL_DIR/<name>.safetensors (default ~/.cache/tinylm/models/),
  // browsers an IndexedDB record (database 'tinylm'); options.store picks another place.
  async save(name: string, options: SaveOptions = {}): Promise<void> {
    this.checkUsable();
    checkOptionNames('save', options);
    if (!isStoredModelName(name)) {
      throw new TinyLMError('INVALID_ARGUMENT', `'${name}' is not a valid model name: use letters, digits, '.', '_' or '-'`);
    }
    const bytes = await this.export({ dtype: options.dtype });
    await (options.store ?? (await platform().defaultStore())).write(name, bytes);
  }

  // For visualisations: gate activations and hidden states per token (recurrent models, kind 'gates'), or every
  // head's attention weights (GPT, kind 'attention'; the text must fit the model's context).
  async inspect(text: string): Promise<Inspection> {
    this.checkUsable();
    requireText(text, 'inspect');
    return this.request('inspect', { modelId: this.modelId, text });
  }

  async encode(text: string): Promise<Int32Array> {
    this.checkUsable();
    return (await this.request('encode', { modelId: this.modelId, text })).tokens;
  }

  async decode(tokens: ArrayLike<number>): Promise<string> {
    this.checkUsable();
    return (await this.request('decode', { modelId: this.modelId, tokens: Int32Array.from(tokens) })).text;
  }

  // ---- LoRA adapters (adapters.ts): `name` left out means the active adapter ---------------------------------

  exportAdapter(name?: string | adapters.ExportAdapterOptions, options?: adapters.ExportAdapterOptions): Promise<Uint8Array> {
    return this.adapterCall((module, send) => module.exportAdapter(send, name, options));
  }
  saveAdapter(name: string): Promise<adapters.AdapterList> {
    return this.adapterCall((module, send) => module.saveAdapter(send, name));
  }
  loadAdapter(source: ModelSource, options: adapters.LoadAdapterOptions = {}): Promise<adapters.AdapterList> {
    return this.adapterCall((module, send) => module.loadAdapter(send, source, options));
  }
  removeAdapter(name: string): Promise<adapters.AdapterList> {
    return this.adapterCall((module, send) => module.removeAdapter(send, name));
  }
  mergeAdapter(name?: string): Promise<adapters.AdapterList> {
    return this.adapterCall((module, send) => module.mergeAdapter(send, name));
  }
  listAdapters(): Promise<adapters.AdapterList> {
    return this.adapterCall((module, send) => module.listAdapters(send));
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  // Frees the model's engine memory after the operations already queued on it end (they are cancelled, even those
  // called in the same tick). Later calls fail with code 'DISPOSED'. Calling it twice is harmless.
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const controller of this.running) controller.abort();
    const client = engineClient();
    if (client.epoch !== this.epoch) return;  // the engine restarted: the model is already gone
    await client.request('dispose', { modelId: this.modelId });
  }

  // ---- internals -----------------------------------------------------------------------------------------------

  private readonly running = new Set<AbortController>();
  private readonly order = new CallOrder();

  private sessionPort(): SessionPort {
    return {
      modelId: this.modelId,
      request: (type, payload) => this.request(type, payload),
      stream: (prompt, options, sessionId) => this.stream(prompt, options, 'session.generate()', sessionId),
    };
  }

  // The model generate({ fuse }) blends with: another usable model of this engine.
  private fusionPartner(other: unknown): number {
    if (!(other instanceof TinyLM)) {
      throw new TinyLMError('INVALID_ARGUMENT', `option fuse must be a loaded TinyLM model, got ${other === null ? 'null' : typeof other}`);
    }
    if (other === this) throw new TinyLMError('INVALID_ARGUMENT', 'option fuse is this model itself: pass another model to blend with');
    other.checkUsable();
    return other.modelId;
  }

  // Throws at once on a model that cannot be used (as it did before adapters.ts loaded on first use).
  private adapterCall<R>(call: (module: typeof adapters, send: adapters.AdapterRequester) => Promise<R>): Promise<R> {
    this.checkUsable();
    const send: adapters.AdapterRequester = (request, transfer) =>
      this.request('adapter', { modelId: this.modelId, request }, { transfer, placed: true });
    return this.order.afterLoading(firstUse(import('./adapters.js'), 'LoRA adapters'), (module) => call(module, send));
  }

  private checkUsable(): void {
    if (this.disposed) throw new TinyLMError('DISPOSED', 'this model was disposed: load or create it again to use it');
    if (engineClient().epoch !== this.epoch) {
      throw new TinyLMError('WORKER_FAILED', 'the engine restarted since this model was loaded: load it again');
    }
  }

  // Every model operation goes through here, so dispose() can cancel what is still queued or running. `placed`: the
  // request of a call that loaded its module first (call_order.ts), queued as of the call.
  private async request<K extends OperationType>(
    type: K,
    payload: Operations[K]['payload'],
    options: { signal?: AbortSignalLike; transfer?: ArrayBuffer[]; onEvent?: (event: WorkerEvent) => void; placed?: boolean } = {},
  ): Promise<Operations[K]['result']> {
    if (options.placed && this.disposed) throw new TinyLMError('DISPOSED', 'the model was disposed while this operation was queued or running');
    this.checkUsable();
    if (options.signal?.aborted) throw new AbortError('the operation was cancelled before it started');
    const controller = new AbortController();
    const forward = () => controller.abort();
    options.signal?.addEventListener('abort', forward, { once: true });
    this.running.add(controller);
    try {
      if (!options.placed && this.order.pending) await this.order.pending;  // a call made earlier loads its module
      return await engineClient().request(type, payload, {
        signal: controller.signal,
        transfer: options.transfer,
        onEvent: options.onEvent,
      });
    } catch (error) {
      if (error instanceof AbortError && this.disposed && !options.signal?.aborted) {
        throw new TinyLMError('DISPOSED', 'the model was disposed while this operation was queued or running');
      }
      throw error;
    } finally {
      options.signal?.removeEventListener('abort', forward);
      this.running.delete(controller);
    }
  }

  // Checks run when iteration starts, so a mistake rejects the first next() like any other failure.
  private async *stream(
    prompt: string,
    options: GenerateOptions,
    call: 'generate()' | 'generateSteps()' | 'chat()' | 'session.generate()',
    via?: number | { reusePrompt: boolean; onStats(stats: ChatStats): void },  // a session's id, or chat()'s
  ): AsyncGenerator<GeneratedToken, void, undefined> {
    this.checkUsable();
    checkOptionNames('generate', options, call);
    const alternatives = call !== 'generateSteps()' ? 0 : resolvedNumber('alternatives', options.alternatives, 5, { min: 0, max: 100, integer: true });
    const wire = { ...generateWire(options, alternatives), ...adapterChoice(options.adapter) };
    if (wire.fuse) wire.fuse.modelId = this.fusionPartner(options.fuse);
    const payload = { modelId: this.modelId, prompt, options: wire };
    yield* tokenStream(
      (handlers) => typeof via === 'number'
        ? this.request('sessionGenerate', { ...payload, sessionId: via }, handlers)
        : via ? this.request('chat', { ...payload, reusePrompt: via.reusePrompt }, handlers).then(via.onStats)
        : this.request('generate', payload, handlers),
      options.signal,
    );
  }
}
