// A checkpoint folder the caller already holds: the File objects of a dropped or picked folder (a FileList or an
// array of Files; each is named by its last path component, so webkitRelativePath's folder prefix is dropped), or a
// map of file name → bytes (Uint8Array, ArrayBuffer or Blob) as a Map or a plain object. Checked here; load_model.ts
// decides how the engine's worker reads each (range by range from this thread, posted Blobs, or copies).
import { TinyLMError } from '../errors.js';
import type { BlobLike } from '../sources.js';
import type { CheckpointFiles } from './fetch_files.js';
import { isBlob, type NamedBlob } from './source.js';

export { isBlob, isNamedBlobList, type NamedBlob } from './source.js';

export type FileMapValue = Uint8Array | ArrayBuffer | BlobLike;
export type FileMap = Map<string, FileMapValue> | Record<string, FileMapValue>;

export function namedBlobEntries(list: ArrayLike<NamedBlob>): Map<string, FileMapValue> {
  const blobs = Array.from(list);
  const entries = new Map<string, FileMapValue>();
  for (const blob of blobs) {
    const name = baseName(blob.webkitRelativePath || blob.name);
    if (entries.has(name)) {
      throw new TinyLMError('INVALID_ARGUMENT', `two of the files given are named '${name}': give one checkpoint folder`);
    }
    entries.set(name, blob);
  }
  return entries;
}

export function fileMapEntries(map: FileMap): Map<string, FileMapValue> {
  const entries = map instanceof Map ? [...map.entries()] : Object.entries(map);
  const checked = new Map<string, FileMapValue>();
  for (const [name, value] of entries) {
    if (typeof name !== 'string' || name.length === 0 || /[/\\]/.test(name)) {
      throw new TinyLMError('INVALID_ARGUMENT', `files: '${String(name)}' is not a file name (no folders: 'config.json', 'model.safetensors', …)`);
    }
    if (!(value instanceof Uint8Array || value instanceof ArrayBuffer || isBlob(value))) {
      throw new TinyLMError('INVALID_ARGUMENT', `files['${name}'] must be a Uint8Array, an ArrayBuffer or a Blob`);
    }
    checked.set(name, value);
  }
  return checked;
}

// Private copies of the caller's bytes, which move to the worker, so the caller's buffers stay theirs (where they
// cannot be served range by range).
export function copiedEntries(entries: Map<string, Uint8Array | ArrayBuffer>): CheckpointFiles {
  const files: CheckpointFiles = {};
  for (const [name, value] of entries) files[name] = value instanceof ArrayBuffer ? new Uint8Array(value.slice(0)) : new Uint8Array(value);
  return files;
}

export function sizeOf(value: FileMapValue): number {
  return isBlob(value) ? value.size : value.byteLength;
}

function baseName(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}
