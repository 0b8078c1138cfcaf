// Downloads a checkpoint folder's files (resolve.ts says from where): config.json, tokenizer.json, the optional
// tokenizer_config.json and generation_config.json, then the weights — model.safetensors, or, when the folder has
// none, model.safetensors.index.json and every shard its weight_map names. Files in the cache (cache.ts) are
// read from it; each downloaded file goes into it once complete. Reading and checking the files is the engine's
// work (the native loader, through the worker): only the index's list of shard names is read here, to know what
// to fetch.
//
// Progress: onProgress({ loaded, total, file }) after every chunk received (and once per file read from the
// cache): loaded counts the bytes of the whole folder so far, total the sizes known so far (each file's size is
// added when its response arrives, so total grows file by file and equals loaded at the end).
import { AbortError, TinyLMError } from '../errors.js';
import type { AbortSignalLike } from '../options.js';
import { headerEnd } from '../checkpoint_size.js';
import { platform } from '../platform.js';
import type { FileCache } from './cache.js';
import type { RemoteFolder } from './resolve.js';

export interface DownloadProgress {
  loaded: number;  // bytes of the folder received or read from the cache so far
  total: number;   // bytes of the files whose sizes are known so far
  file: string;    // the file the bytes belong to ('config.json', 'model-00001-of-00002.safetensors', …)
}

export interface FetchOptions {
  cache?: FileCache;
  signal?: AbortSignalLike;
  onProgress?: (progress: DownloadProgress) => void;
  // Called once per weights file (*.safetensors) with bytes that hold at least its header — as soon as they have
  // arrived, for a download — so a caller can refuse a model too large for it (by throwing) before the rest of it
  // is fetched. Not called for a file whose first bytes declare no readable header (the engine explains those).
  onWeightsHeader?: (file: string, prefix: Uint8Array, label: string) => void | Promise<void>;
}

export type CheckpointFiles = Record<string, Uint8Array>;

const REQUIRED = ['config.json', 'tokenizer.json'];
const OPTIONAL = ['tokenizer_config.json', 'generation_config.json'];
const SINGLE_WEIGHTS = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

export async function fetchCheckpointFiles(folder: RemoteFolder, options: FetchOptions): Promise<CheckpointFiles> {
  const fetcher = new Fetcher(folder, options);
  const files: CheckpointFiles = {};
  for (const name of REQUIRED) files[name] = await fetcher.required(name);
  for (const name of OPTIONAL) {
    const bytes = await fetcher.optional(name);
    if (bytes) files[name] = bytes;
  }
  const single = await fetcher.optional(SINGLE_WEIGHTS);
  if (single) {
    files[SINGLE_WEIGHTS] = single;
    return files;
  }
  const index = await fetcher.optional(INDEX);
  if (!index) {
    throw new TinyLMError('NOT_FOUND', `${folder.label} has neither ${SINGLE_WEIGHTS} nor ${INDEX} ` +
      `(looked at ${folder.fileUrl(SINGLE_WEIGHTS)}): tinylm reads safetensors weights only`);
  }
  files[INDEX] = index;
  for (const shard of shardNames(index, folder.label)) files[shard] = await fetcher.required(shard);
  return files;
}

// The distinct shard files the index's weight_map names, in name order (the engine checks the rest).
function shardNames(index: Uint8Array, label: string): string[] {
  let weightMap: unknown;
  try {
    weightMap = (JSON.parse(new TextDecoder().decode(index)) as { weight_map?: unknown }).weight_map;
  } catch {
    weightMap = undefined;
  }
  const names = weightMap && typeof weightMap === 'object' ? Object.values(weightMap as Record<string, unknown>) : [];
  const valid = names.filter((name): name is string => typeof name === 'string' && /^[^/\\]+\.safetensors$/.test(name));
  if (valid.length === 0 || valid.length !== names.length) {
    throw new TinyLMError('INVALID_MODEL_FILE', `${label}: ${INDEX} has no "weight_map" of tensor → shard file names`);
  }
  return [...new Set(valid)].sort();
}

class Fetcher {
  private loaded = 0;
  private total = 0;

  constructor(private readonly folder: RemoteFolder, private readonly options: FetchOptions) {}

  async required(name: string): Promise<Uint8Array> {
    const bytes = await this.get(name);
    if (!bytes) {
      throw new TinyLMError('NOT_FOUND', `${this.folder.label} has no ${name} (${this.folder.fileUrl(name)} was not ` +
        `found)${name === 'tokenizer.json' ? ': tinylm needs the model\'s tokenizer.json to turn text into token ids' : ''}`);
    }
    return bytes;
  }

  optional(name: string): Promise<Uint8Array | undefined> {
    return this.get(name);
  }

  // The file's bytes, or undefined when the server says it does not exist (404).
  private async get(name: string): Promise<Uint8Array | undefined> {
    this.throwIfAborted(name);
    const url = new URL(this.folder.fileUrl(name));
    const cached = await this.options.cache?.read(url.href);
    if (cached) {
      this.advance(name, cached.byteLength, cached.byteLength);
      await this.checkHeader(name, cached);
      return cached;
    }
    const bytes = url.protocol === 'file:' ? await this.readLocal(name, url) : await this.download(name, url);
    if (bytes && url.protocol !== 'file:') await this.options.cache?.write(url.href, bytes);
    return bytes;
  }

  private async readLocal(name: string, url: URL): Promise<Uint8Array | undefined> {
    const readLocalFile = platform().readLocalFile;
    if (!readLocalFile) throw new TinyLMError('INVALID_ARGUMENT', `cannot read ${url.href}: file: URLs need Node`);
    try {
      const bytes = await readLocalFile(url);
      this.advance(name, bytes.byteLength, bytes.byteLength);
      await this.checkHeader(name, bytes);
      return bytes;
    } catch (error) {
      if (error instanceof TinyLMError && error.code === 'NOT_FOUND') return undefined;
      throw error;
    }
  }

  private async download(name: string, url: URL): Promise<Uint8Array | undefined> {
    const controller = new AbortController();
    const forward = () => controller.abort();
    this.options.signal?.addEventListener('abort', forward, { once: true });
    try {
      let response: Response;
      try {
        response = await fetch(url, { signal: controller.signal });
      } catch (error) {
        this.throwIfAborted(name);
        throw new TinyLMError('NOT_FOUND', `cannot fetch ${url.href}: ${(error as Error).message}`);
      }
      if (response.status === 404) {
        await response.body?.cancel().catch(() => {});
        return undefined;
      }
      if (!response.ok) {
        throw new TinyLMError('NOT_FOUND', `cannot fetch ${url.href}: HTTP ${response.status} ${response.statusText}` +
          (response.status === 401 || response.status === 403 ? ' (a gated or private model needs a token tinylm does not send)' : ''));
      }
      return await this.readBody(name, url, response);
    } catch (error) {
      this.throwIfAborted(name);
      throw error;
    } finally {
      this.options.signal?.removeEventListener('abort', forward);
    }
  }

  // The body in chunks, so progress moves while a large file arrives.
  private async readBody(name: string, url: URL, response: Response): Promise<Uint8Array> {
    const declared = Number(response.headers.get('content-length') ?? NaN);
    const expected = Number.isFinite(declared) && declared >= 0 ? declared : undefined;
    if (!response.body) {
      const bytes = new Uint8Array(await response.arrayBuffer());
      this.advance(name, bytes.byteLength, bytes.byteLength);
      await this.checkHeader(name, bytes);
      return bytes;
    }
    this.advance(name, 0, expected ?? 0);
    const body = new BodyBytes(response.headers.get('content-encoding') ? undefined : expected);
    const reader = new BodyReader(response.body, body);
    let headerChecked = !this.wantsHeader(name);
    for (;;) {
      const value = await reader.read();
      if (!value) break;
      const received = body.received;
      // A server that sent no length (or a compressed body) grows the total as the bytes arrive.
      this.advance(name, value.byteLength, expected === undefined || received > expected ? value.byteLength : 0);
      if (!headerChecked && received >= 8) {
        const end = headerEnd(body.first(8));
        if (end === undefined || received >= end) {
          headerChecked = true;
          try {
            if (end !== undefined) await this.checkHeader(name, body.first(end));
          } catch (error) {
            await reader.cancel().catch(() => {});
            throw error;
          }
        }
      }
    }
    if (expected !== undefined && body.received < expected && !response.headers.get('content-encoding')) {
      throw new TinyLMError('NOT_FOUND', `the download of ${url.href} ended after ${body.received} of ${expected} bytes: try again`);
    }
    return body.all();
  }

  private wantsHeader(name: string): boolean {
    return this.options.onWeightsHeader !== undefined && name.endsWith('.safetensors');
  }

  private async checkHeader(name: string, bytes: Uint8Array): Promise<void> {
    if (this.wantsHeader(name) && headerEnd(bytes) !== undefined) await this.options.onWeightsHeader?.(name, bytes, this.folder.label);
  }

  private advance(file: string, loaded: number, total: number): void {
    this.loaded += loaded;
    this.total += total;
    this.options.onProgress?.({ loaded: this.loaded, total: Math.max(this.total, this.loaded), file });
  }

  private throwIfAborted(name: string): void {
    if (this.options.signal?.aborted) throw new AbortError(`loading ${this.folder.label} was cancelled during ${name}`);
  }
}

// A body's chunks as they arrive, each added to `body`: read in place into its buffer of the declared length (a BYOB
// reader) where the stream allows it, so no chunk of a large file is allocated only to be copied and dropped (in
// Chromium, a 523 MB file read chunk by chunk into one buffer peaked 160-270 MB above it before the chunks were
// collected, read in place 15 MB); else chunk by chunk.
class BodyReader {
  private byob: ReadableStreamBYOBReader | undefined;
  private chunks: ReadableStreamDefaultReader<Uint8Array> | undefined;

  constructor(private readonly stream: ReadableStream<Uint8Array>, private readonly body: BodyBytes) {
    try {
      this.byob = body.spare() ? stream.getReader({ mode: 'byob' }) : undefined;
    } catch {
      this.byob = undefined;  // not a byte stream
    }
    if (!this.byob) this.chunks = stream.getReader();
  }

  // The next chunk, already added to the body; undefined at the end.
  async read(): Promise<Uint8Array | undefined> {
    if (this.byob) {
      const spare = this.body.spare();
      if (spare) {
        const { done, value } = await this.byob.read(spare);
        if (value) this.body.filled(value);  // the read moved the buffer: even an empty answer carries it back
        return done ? undefined : value;
      }
      // Full: whether anything follows (a server sending more than it declared) is read chunk by chunk.
      this.byob.releaseLock();
      this.byob = undefined;
      this.chunks = this.stream.getReader();
    }
    const { done, value } = await this.chunks!.read();
    if (done) return undefined;
    this.body.push(value);
    return value;
  }

  async cancel(): Promise<void> {
    await (this.byob ?? this.chunks)!.cancel().catch(() => {});
  }
}

// A body's bytes as they arrive: straight into one buffer of the declared length, so a large file is never held
// twice (as its chunks and, at the end of its download, their concatenation); as chunks when no length was
// declared, the length is not allocatable, or more arrives than declared.
class BodyBytes {
  received = 0;
  private whole: Uint8Array | undefined;
  private chunks: Uint8Array[] = [];

  // The part of the declared length still to fill, for a reader that fills it in place; undefined once full or when
  // the bytes are kept as chunks.
  spare(): Uint8Array | undefined {
    return this.whole && this.chunks.length === 0 && this.received < this.whole.byteLength ? this.whole.subarray(this.received) : undefined;
  }

  // A read in place filled `view`, the start of spare(), whose buffer the read moved to a new ArrayBuffer.
  filled(view: Uint8Array): void {
    this.whole = new Uint8Array(view.buffer);
    this.received += view.byteLength;
  }

  constructor(declared: number | undefined) {
    try {
      this.whole = declared === undefined ? undefined : new Uint8Array(declared);
    } catch {
      this.whole = undefined;  // a length no buffer can have: the body is the judge of its length
    }
  }

  push(chunk: Uint8Array): void {
    if (this.whole && this.received + chunk.byteLength <= this.whole.byteLength) {
      this.whole.set(chunk, this.received);
    } else {
      if (this.whole) this.chunks = [this.whole.subarray(0, this.received)];
      this.whole = undefined;
      this.chunks.push(chunk);
    }
    this.received += chunk.byteLength;
  }

  first(length: number): Uint8Array {
    return this.whole ? this.whole.subarray(0, length) : concatenate(this.chunks, length);
  }

  all(): Uint8Array {
    if (this.whole) return this.received === this.whole.byteLength ? this.whole : this.whole.slice(0, this.received);
    return concatenate(this.chunks, this.received);
  }
}

// The first `length` bytes of the chunks, in one array (the chunk itself when it holds them all).
function concatenate(chunks: Uint8Array[], length: number): Uint8Array {
  if (chunks.length > 0 && chunks[0].byteLength >= length) return chunks[0].subarray(0, length);
  const bytes = new Uint8Array(length);
  let offset = 0;
  for (const chunk of chunks) {
    if (offset >= length) break;
    const part = chunk.subarray(0, length - offset);
    bytes.set(part, offset);
    offset += part.byteLength;
  }
  return bytes;
}
