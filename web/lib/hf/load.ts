// TinyLM.load() for Hugging Face checkpoint folders, on the main thread: gathers the folder's files — downloaded
// (fetch_files.ts; in browsers the weights come as the stored files: OPFS files or the Cache API's Blobs) from the Hub
// ('hf:owner/name', resolve.ts) or any URL ({ baseUrl }), read from a dropped folder (a FileList or File[]), or
// taken from a map of name → bytes ({ files }) — and hands them to the engine's worker, where the native loader
// reads and checks them (worker_load_checkpoint.ts). The caller's own files are handed over as they are (`local`),
// and load_model.ts decides how the worker reads them.
import { TinyLMError } from '../errors.js';
import type { AbortSignalLike } from '../options.js';
import { platform } from '../platform.js';
import type { DownloadProgress, FetchedFiles } from './fetch_files.js';
import { fetchCheckpointFiles } from './fetch_files.js';
import { fileMapEntries, namedBlobEntries, type FileMapValue } from './local_files.js';
import { hubFolder, urlFolder } from './resolve.js';
import { isNamedBlobList, type CheckpointSource } from './source.js';

export type { CheckpointSource } from './source.js';

export interface CheckpointLoadOptions {
  hubHost?: string;         // default https://huggingface.co (or TinyLM.configure's)
  revision?: string;        // default 'main' (or TinyLM.configure's)
  cache?: boolean;          // browsers: keep downloaded files in OPFS (weights) and the Cache API (default true)
  cacheDirectory?: string;  // Node: keep downloaded files in this directory (default: not kept)
  onProgress?: (progress: DownloadProgress) => void;
  signal?: AbortSignalLike;
  onWeightsHeader?: (file: string, prefix: Uint8Array, label: string) => void | Promise<void>;  // see fetch_files.ts
}

// Downloads come back as bytes the load owns, or as Blobs of weights files in the cache (`files`); the caller's files
// as they are (`local`, checked, not read).
export async function readCheckpoint(source: CheckpointSource, options: CheckpointLoadOptions): Promise<{
  files?: FetchedFiles; local?: Map<string, FileMapValue>; label: string;
}> {
  if (options.onProgress !== undefined && typeof options.onProgress !== 'function') {
    throw new TinyLMError('INVALID_ARGUMENT', 'option onProgress must be a function');
  }
  if (typeof source === 'string') {
    const folder = hubFolder(source, options);
    return { files: await fetchCheckpointFiles(folder, { ...options, cache: await fileCache(options) }), label: folder.label };
  }
  const label = 'the files given';
  let local: Map<string, FileMapValue> | undefined;
  if (isNamedBlobList(source)) {
    local = namedBlobEntries(source);
  } else if ('files' in source) {
    if (typeof source.files !== 'object' || source.files === null) {
      throw new TinyLMError('INVALID_ARGUMENT', '{ files } must map file names to bytes: { "config.json": Uint8Array, … }');
    }
    local = fileMapEntries(source.files);
  }
  if (local) return { local, label };
  const folder = urlFolder((source as { baseUrl: string | { readonly href: string } }).baseUrl);
  return { files: await fetchCheckpointFiles(folder, { ...options, cache: await fileCache(options) }), label: folder.label };
}

function fileCache(options: CheckpointLoadOptions) {
  if (options.cache !== undefined && typeof options.cache !== 'boolean') {
    throw new TinyLMError('INVALID_ARGUMENT', `option cache must be true or false, got ${String(options.cache)}`);
  }
  if (options.cache === false) return undefined;
  if (options.cacheDirectory !== undefined && typeof options.cacheDirectory !== 'string') {
    throw new TinyLMError('INVALID_ARGUMENT', 'option cacheDirectory must be a path');
  }
  return platform().fileCache(options.cacheDirectory);
}
