// Where TinyLM.load() gets a model's bytes: nothing (the shipped default model), bytes (a Uint8Array or any other
// ArrayBuffer view, or an ArrayBuffer), a Blob or File, a URL (fetch; file: URLs and plain paths read from disk in
// Node), or the name of a model saved with lm.save(name). A string with a scheme is a URL; a valid model name
// without '/' or '.safetensors' is a stored name; anything else is a path (Node) or a URL relative to the page.
//
// The result is always a fresh copy holding exactly the source's bytes: a view reads only its own byteOffset …
// byteOffset + byteLength (a Node Buffer is usually a view on a larger shared pool), and the copy, not the
// caller's memory, is what moves to the worker.
import { TinyLMError } from './errors.js';
import { platform } from './platform.js';
import { isStoredModelName, type ModelStore } from './storage.js';

// The structural types the API accepts, so the declarations need neither the DOM library nor @types/node.
export interface BlobLike {
  arrayBuffer(): Promise<ArrayBuffer>;
  readonly size: number;
  readonly type: string;
}
export interface URLLike {
  readonly href: string;
  readonly protocol: string;
}
export type ModelSource = string | URLLike | ArrayBufferView | ArrayBuffer | BlobLike;

let defaultModelBytes: Promise<ArrayBuffer> | undefined;  // fetched once per page or process

export async function readSource(source: ModelSource | undefined, store: ModelStore | undefined): Promise<Uint8Array> {
  if (source === undefined) return copyOf(await defaultModel());
  if (ArrayBuffer.isView(source)) return copyOf(source);
  if (source instanceof ArrayBuffer) return copyOf(source);
  if (isBlob(source)) return new Uint8Array(await source.arrayBuffer());
  if (isUrl(source)) return readUrl(new URL(source.href));
  if (typeof source !== 'string' || source.length === 0) {
    throw new TinyLMError('INVALID_ARGUMENT', 'TinyLM.load needs a URL, a path, a Uint8Array, a Blob or a stored model name');
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source);  // not a Windows drive
  if (hasScheme) return readUrl(new URL(source));
  if (isStoredModelName(source) && !source.endsWith('.safetensors')) {
    const bytes = await (store ?? (await platform().defaultStore())).read(source);
    if (!bytes) {
      throw new TinyLMError(
        'NOT_FOUND',
        `no stored model is named '${source}'; to load a file or URL, write it as a path ('./${source}') or a full URL`,
      );
    }
    return bytes;
  }
  const readLocalFile = platform().readLocalFile;
  if (readLocalFile) return readLocalFile(source);
  return readUrl(new URL(source, (globalThis as { location?: { href: string } }).location?.href));
}

function defaultModel(): Promise<ArrayBuffer> {
  defaultModelBytes ??= readUrl(platform().defaultModelUrl()).then((bytes) => bytes.buffer as ArrayBuffer);
  defaultModelBytes.catch(() => (defaultModelBytes = undefined));  // a failed fetch is tried again next time
  return defaultModelBytes;
}

function copyOf(source: ArrayBufferView | ArrayBuffer): Uint8Array {
  const view = ArrayBuffer.isView(source)
    ? new Uint8Array(source.buffer, source.byteOffset, source.byteLength)
    : new Uint8Array(source);
  const copy = new Uint8Array(view.byteLength);
  copy.set(view);
  return copy;
}

function isBlob(source: unknown): source is BlobLike {
  return typeof Blob !== 'undefined' && source instanceof Blob;
}

function isUrl(source: unknown): source is URLLike {
  return source instanceof URL;
}

async function readUrl(url: URL): Promise<Uint8Array> {
  const readLocalFile = platform().readLocalFile;
  if (url.protocol === 'file:' && readLocalFile) return readLocalFile(url);
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new TinyLMError('NOT_FOUND', `cannot fetch ${url.href}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new TinyLMError('NOT_FOUND', `cannot fetch ${url.href}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}
