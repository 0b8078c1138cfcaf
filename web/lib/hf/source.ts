// Which TinyLM.load() sources are Hugging Face checkpoint folders. Kept apart from hf/load.ts so that telling a
// checkpoint from a tinylm file costs a page little: the checkpoint loader itself (load_checkpoint.ts, hf/*) loads on
// first use.
import type { BlobLike } from '../sources.js';
import { isHubId } from './resolve.js';
import type { FileMap } from './local_files.js';

export interface NamedBlob extends BlobLike {
  readonly name: string;
  readonly webkitRelativePath?: string;
}

export type CheckpointSource =
  | string                                      // 'hf:owner/name' or 'hf:owner/name@revision'
  | { baseUrl: string | { readonly href: string } }
  | { files: FileMap }
  | ArrayLike<NamedBlob>;                       // a FileList or File[] of one folder

export function isCheckpointSource(source: unknown): source is CheckpointSource {
  if (isHubId(source) || isNamedBlobList(source)) return true;
  if (typeof source !== 'object' || source === null || ArrayBuffer.isView(source) || source instanceof ArrayBuffer) return false;
  return 'baseUrl' in source || 'files' in source;
}

export function isNamedBlobList(source: unknown): source is ArrayLike<NamedBlob> {
  if (typeof source !== 'object' || source === null) return false;
  const list = source as ArrayLike<unknown>;
  if (!Array.isArray(source) && !(typeof FileList !== 'undefined' && source instanceof FileList)) return false;
  return list.length > 0 && Array.from(list).every((item) => isBlob(item) && typeof (item as NamedBlob).name === 'string');
}

export function isBlob(value: unknown): value is BlobLike {
  return typeof Blob !== 'undefined' && value instanceof Blob;
}
