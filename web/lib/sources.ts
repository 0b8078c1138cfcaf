// Where TinyLM.load() gets a model's bytes: nothing (the shipped default model), a Uint8Array/ArrayBuffer (copied, so transferring it to the worker
// detaches nothing of the caller's), a Blob or File, a URL (fetch; file: URLs and plain paths read from disk in
// Node), or the name of a model saved with lm.save(name). A string with a scheme is a URL; a valid model name
// without '/' or '.safetensors' is a stored name; anything else is a path (Node) or a URL relative to the page.
import { TinyLMError } from './errors.js';
import { defaultStore, isStoredModelName, type ModelStore } from './storage.js';

export type ModelSource = string | URL | Uint8Array | ArrayBuffer | Blob;

const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';

// The default model (models/index.json's "default") ships inside the package at dist/models/. Written as
// `new URL(literal, import.meta.url)` so bundlers (Vite, webpack, esbuild) see it and ship the file as an asset.
export const defaultModelUrl = new URL('./models/moby-char-lstm.safetensors', import.meta.url);

export async function readSource(source: ModelSource | undefined, store: ModelStore | undefined): Promise<Uint8Array> {
  if (source === undefined) return readUrl(defaultModelUrl);
  if (source instanceof Uint8Array) return source.slice();
  if (source instanceof ArrayBuffer) return new Uint8Array(source.slice(0));
  if (typeof Blob !== 'undefined' && source instanceof Blob) return new Uint8Array(await source.arrayBuffer());
  if (source instanceof URL) return readUrl(source);
  if (typeof source !== 'string' || source.length === 0) {
    throw new TinyLMError('INVALID_ARGUMENT', 'TinyLM.load needs a URL, a path, a Uint8Array, a Blob or a stored model name');
  }
  const hasScheme = /^[a-z][a-z0-9+.-]*:/i.test(source) && !/^[a-z]:[\\/]/i.test(source);  // not a Windows drive
  if (hasScheme) return readUrl(new URL(source));
  if (isStoredModelName(source) && !source.endsWith('.safetensors')) {
    const bytes = await (store ?? (await defaultStore())).read(source);
    if (!bytes) {
      throw new TinyLMError(
        'NOT_FOUND',
        `no stored model is named '${source}'; to load a file or URL, write it as a path ('./${source}') or a full URL`,
      );
    }
    return bytes;
  }
  if (isNode) {
    const { pathToFileURL } = (await import(/* @vite-ignore */ 'node:url' as string)) as typeof import('node:url');
    return readUrl(pathToFileURL(source));
  }
  return readUrl(new URL(source, globalThis.location?.href));
}

async function readUrl(url: URL): Promise<Uint8Array> {
  if (url.protocol === 'file:' && isNode) {
    const { readFile } = (await import(/* @vite-ignore */ 'node:fs/promises' as string)) as typeof import('node:fs/promises');
    const { fileURLToPath } = (await import(/* @vite-ignore */ 'node:url' as string)) as typeof import('node:url');
    try {
      return new Uint8Array(await readFile(fileURLToPath(url)));
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new TinyLMError(code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `cannot read ${url.href}: ${(error as Error).message}`);
    }
  }
  let response: Response;
  try {
    response = await fetch(url);
  } catch (error) {
    throw new TinyLMError('NOT_FOUND', `cannot fetch ${url.href}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new TinyLMError('NOT_FOUND', `cannot fetch ${url.href}: HTTP ${response.status} ${response.statusText}`);
  return new Uint8Array(await response.arrayBuffer());
}
