// Downloads a checkpoint folder's files (resolve.ts says from where): config.json, tokenizer.json, the optional
// tokenizer_config.json and generation_config.json, then the weights — model.safetensors, or, when the folder has
// none, model.safetensors.index.json and every shard its weight_map names. Files in the cache (cache.ts) are
// read from it; each downloaded file goes into it once complete. Reading and checking the files is the engine's
// work (the native loader, through the worker): only the index's list of shard names is read here, to know what
// to fetch.
//
// Where the cache takes streams (browsers' OPFS or Cache API, cache.ts), the weights files are never held whole on
// the page: each downloads straight into the cache (stream_to_cache.ts) and comes back, as a cached one does, as the
// stored file (an OPFS file, or the Cache API's Blob), which the engine's worker reads range by range. Everything
// else, and every file where the cache is off, missing (Node without a directory) or refuses a file, arrives as
// bytes (body_bytes.ts).
//
// Progress: onProgress({ loaded, total, file }) after every chunk received (and once per file read from the
// cache): loaded counts the bytes of the whole folder so far, total the sizes known so far (each file's size is
// added when its response arrives, so total grows file by file and equals loaded at the end).
import { AbortError, TinyLMError } from '../errors.js';
import type { AbortSignalLike } from '../options.js';
import { headerEnd } from '../checkpoint_size.js';
import { platform } from '../platform.js';
import { BodyBytes, BodyReader, concatenate } from './body_bytes.js';
import type { FileCache, KeptFile } from './cache.js';
import type { RemoteFolder } from './resolve.js';
import { streamIntoCache } from './stream_to_cache.js';

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
// A downloaded file: its bytes, or (a weights file the cache holds) the stored file as a Blob.
export type FetchedFile = Uint8Array | KeptFile;
export type FetchedFiles = Record<string, FetchedFile>;

const REQUIRED = ['config.json', 'tokenizer.json'];
const OPTIONAL = ['tokenizer_config.json', 'generation_config.json'];
const SINGLE_WEIGHTS = 'model.safetensors';
const INDEX = 'model.safetensors.index.json';

export async function fetchCheckpointFiles(folder: RemoteFolder, options: FetchOptions): Promise<FetchedFiles> {
  const fetcher = new Fetcher(folder, options);
  const files: FetchedFiles = {};
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
  // Only weights files come as Blobs: the index is bytes.
  for (const shard of shardNames(index as Uint8Array, folder.label)) files[shard] = await fetcher.required(shard);
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
  private readonly refused = new Set<string>();  // weights files the cache refused: not offered to it again

  constructor(private readonly folder: RemoteFolder, private readonly options: FetchOptions) {}

  async required(name: string): Promise<FetchedFile> {
    const file = await this.get(name);
    if (!file) {
      throw new TinyLMError('NOT_FOUND', `${this.folder.label} has no ${name} (${this.folder.fileUrl(name)} was not ` +
        `found)${name === 'tokenizer.json' ? ': tinylm needs the model\'s tokenizer.json to turn text into token ids' : ''}`);
    }
    return file;
  }

  optional(name: string): Promise<FetchedFile | undefined> {
    return this.get(name);
  }

  // The file, or undefined when the server says it does not exist (404).
  private async get(name: string): Promise<FetchedFile | undefined> {
    this.throwIfAborted(name);
    const url = new URL(this.folder.fileUrl(name));
    const cache = this.options.cache;
    const asBlob = this.streamsIntoCache(name, url);
    const cached = asBlob ? await cache!.readBlob!(url.href) : await cache?.read(url.href);
    if (cached) {
      this.advance(name, sizeOf(cached), sizeOf(cached));
      await this.checkHeader(name, cached);
      return cached;
    }
    if (url.protocol === 'file:') return this.readLocal(name, url);
    const file = await this.download(name, url, asBlob);
    if (file instanceof Uint8Array && !this.refused.has(name)) await cache?.write(url.href, file);
    return file;
  }

  // Weights files go into a cache that takes streams, and come back from it as Blobs.
  private streamsIntoCache(name: string, url: URL): boolean {
    const cache = this.options.cache;
    return cache?.readBlob !== undefined && cache.writeStream !== undefined && name.endsWith('.safetensors') &&
      url.protocol !== 'file:' && !this.refused.has(name);
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

  private async download(name: string, url: URL, intoCache: boolean): Promise<FetchedFile | undefined> {
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
      if (intoCache && response.body) {
        const stored = await this.streamBody(name, url, response, response.body);
        if (stored) return stored;
        // The cache refused the file (storage full; an in-memory browser profile failed a put of 523 MB with
        // "Unexpected internal error") after taking some or all of its body, which is gone: the rare path
        // downloads the file again, into memory, as where there is no cache.
        this.refused.add(name);
        return await this.download(name, url, false);
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
    const expected = declaredLength(response);
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
      let value: Uint8Array | undefined;
      try {
        value = await reader.read();
      } catch (error) {
        throw this.brokeOff(url, body.received, expected, error);
      }
      if (!value) break;
      const received = body.received;
      // A server that sent no length (or a compressed body) grows the total as the bytes arrive.
      this.advance(name, value.byteLength, expected === undefined || received > expected ? value.byteLength : 0);
      if (!headerChecked) {
        try {
          headerChecked = await this.headerArrived(name, received, (length) => body.first(length));
        } catch (error) {
          await reader.cancel().catch(() => {});
          throw error;
        }
      }
    }
    if (expected !== undefined && body.received < expected && !response.headers.get('content-encoding')) {
      throw this.endedShort(url, body.received, expected);
    }
    return body.all();
  }

  // The body straight into the cache; the stored file, or undefined when the cache refused it.
  private async streamBody(name: string, url: URL, response: Response, stream: ReadableStream<Uint8Array>): Promise<Blob | undefined> {
    const expected = declaredLength(response);
    const encoded = response.headers.get('content-encoding') !== null;
    const before = { loaded: this.loaded, total: this.total };
    this.advance(name, 0, expected ?? 0);
    let received = 0;
    let headerChecked = !this.wantsHeader(name);
    const prefix: Uint8Array[] = [];  // the first chunks, until they hold the header
    const cache = this.options.cache!;
    const stored = await streamIntoCache((key, body) => cache.writeStream!(key, body) as Promise<Blob>, url.href, stream, {
      onChunk: async (chunk) => {
        received += chunk.byteLength;
        this.advance(name, chunk.byteLength, expected === undefined || received > expected ? chunk.byteLength : 0);
        if (headerChecked) return;
        prefix.push(chunk.slice());  // the chunk's buffer may be read into again (reuseChunks)
        headerChecked = await this.headerArrived(name, received, (length) => concatenate(prefix, length));
        if (headerChecked) prefix.length = 0;
      },
      onEnd: () => {
        if (expected !== undefined && received < expected && !encoded) throw this.endedShort(url, received, expected);
      },
      onReadError: (error) => this.brokeOff(url, received, expected, error),
    }, cache.storesChunkByChunk === true);
    if (!stored) {
      // Its bytes will be counted again as it downloads again.
      this.loaded = before.loaded;
      this.total = before.total;
    }
    return stored;
  }

  // Once the first `received` bytes hold a weights file's header (or show it has none readable), checks it; true when
  // there is nothing more to look for. first(length): the first `length` bytes.
  private async headerArrived(name: string, received: number, first: (length: number) => Uint8Array): Promise<boolean> {
    if (received < 8) return false;
    const end = headerEnd(first(8));
    if (end !== undefined && received < end) return false;
    if (end !== undefined) await this.checkHeader(name, first(end));
    return true;
  }

  private endedShort(url: URL, received: number, expected: number): TinyLMError {
    return new TinyLMError('NOT_FOUND', `the download of ${url.href} ended after ${received} of ${expected} bytes: try again`);
  }

  // The body failed to arrive: a cancel is the load's (see download), anything else a broken download.
  private brokeOff(url: URL, received: number, expected: number | undefined, error: unknown): unknown {
    if (this.options.signal?.aborted) return error;
    return new TinyLMError('NOT_FOUND', `the download of ${url.href} broke off after ${received}` +
      `${expected === undefined ? '' : ` of ${expected}`} bytes (${(error as Error)?.message ?? String(error)}): try again`);
  }

  private wantsHeader(name: string): boolean {
    return this.options.onWeightsHeader !== undefined && name.endsWith('.safetensors');
  }

  private async checkHeader(name: string, file: FetchedFile): Promise<void> {
    if (!this.wantsHeader(name)) return;
    let bytes: Uint8Array | undefined = file instanceof Uint8Array ? file : undefined;
    if (!bytes) {
      // A cached Blob: only its header is read.
      const blob = file as Blob;
      const end = headerEnd(new Uint8Array(await blob.slice(0, 8).arrayBuffer()));
      if (end === undefined || end > blob.size) return;
      bytes = new Uint8Array(await blob.slice(0, end).arrayBuffer());
    }
    if (headerEnd(bytes) !== undefined) await this.options.onWeightsHeader?.(name, bytes, this.folder.label);
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

function sizeOf(file: FetchedFile): number {
  return file instanceof Uint8Array ? file.byteLength : file.size;
}

// The length the response declares, if any (of the compressed body, when it is compressed).
function declaredLength(response: Response): number | undefined {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  return Number.isFinite(declared) && declared >= 0 ? declared : undefined;
}
