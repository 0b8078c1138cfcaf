// The caller's Blobs and Files, posted to the engine's worker (load_model.ts: in browsers, and wherever shared memory
// is not usable): posting a Blob passes a handle to its bytes, not the bytes, and the worker reads each window of them
// itself with FileReaderSync, inside the engine's synchronous loader, so a dropped folder's weights are never copied
// whole into the page or the worker, nor read range by range on the page's thread. A worker without FileReaderSync
// (Node's worker threads, which get Blobs only where shared memory is unusable, i.e. in tests) reads each Blob whole
// before the load instead. Never throws into the engine: a failed read is the text of what went wrong, which the
// engine prefixes with the file's name.
import { TinyLMError } from './errors.js';
import { WINDOW_BYTES } from './ranged_files.js';
import { heldFile, readStrided, type RangedFile } from './worker_files.js';

// The part of a Blob a worker reads: its length, and a range of it as another Blob.
export interface WorkerBlob {
  readonly size: number;
  slice(start: number, end: number): WorkerBlob;
  arrayBuffer(): Promise<ArrayBuffer>;
}

// How far the worker has read one of the posted Blobs: bytes [0, end) of `file` (or the part of it the engine needs).
export interface BlobRead {
  file: string;
  end: number;
}

// A synchronous read of a whole Blob: FileReaderSync's readAsArrayBuffer in a browser's workers.
export type ReadBlobSync = (blob: WorkerBlob) => ArrayBuffer;

// FileReaderSync's read where this worker has one.
export function blobReaderSync(): ReadBlobSync | undefined {
  const Reader = (globalThis as { FileReaderSync?: new () => { readAsArrayBuffer(blob: unknown): ArrayBuffer } }).FileReaderSync;
  if (typeof Reader !== 'function') return undefined;
  const reader = new Reader();
  return (blob) => reader.readAsArrayBuffer(blob);
}

// One Blob as the engine's file object: a read the file's last window holds is copied from it; otherwise the window
// of WINDOW_BYTES starting at the read's offset (or up to the end) is read first, so a transposed tensor's strided
// rows, one short piece per row, cost one read of the Blob per window rather than one per piece. onRead(end) after each
// window read, end being the window's end in the file (for the load's progress); cancelled() before each, true once
// the load was cancelled (then the read fails, and the load with it).
export function blobFile(blob: WorkerBlob, readSync: ReadBlobSync, onRead?: (end: number) => void, cancelled?: () => boolean): RangedFile {
  const size = blob.size;
  let window: { start: number; bytes: Uint8Array } | undefined;
  const fill = (at: number): string => {
    window = undefined;
    if (cancelled?.()) return 'the load was cancelled';
    const count = Math.min(WINDOW_BYTES, size - at);
    let bytes: Uint8Array;
    try {
      bytes = new Uint8Array(readSync(blob.slice(at, at + count)));
    } catch (error) {
      return `reading it failed: ${(error as Error)?.message ?? String(error)}`;
    }
    if (bytes.byteLength !== count) return `reading bytes [${at}, ${at + count}) gave ${bytes.byteLength} bytes (did the file change?)`;
    window = { start: at, bytes };
    onRead?.(at + count);
    return '';
  };
  const read = (offset: number, target: Uint8Array): string => {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size - target.byteLength) {
      return `bytes [${offset}, ${offset + target.byteLength}) are past its end (${size} bytes)`;
    }
    for (let done = 0; done < target.byteLength;) {
      const at = offset + done;
      if (!window || at < window.start || at >= window.start + window.bytes.byteLength) {
        const problem = fill(at);
        if (problem) return problem;
        continue;
      }
      const { start, bytes } = window;
      const n = Math.min(target.byteLength - done, start + bytes.byteLength - at);
      target.set(bytes.subarray(at - start, at - start + n), done);
      done += n;
    }
    return '';
  };
  return { size, read, readStrided: (offset, stride, piece, target) => readStrided(read, offset, stride, piece, target) };
}

// The posted Blobs as the engine's files: read window by window where the worker can read synchronously, else each
// read whole now (a copy the worker owns). A Blob that cannot be read whole is the load's error, naming the file.
// onRead(file, end) as each part of a file is read; cancelled: see blobFile.
export async function blobFiles(blobs: Record<string, WorkerBlob>, { onRead, cancelled, readSync = blobReaderSync() }: {
  onRead?: (file: string, end: number) => void; cancelled?: () => boolean; readSync?: ReadBlobSync;
} = {}): Promise<Record<string, RangedFile>> {
  const files: Record<string, RangedFile> = {};
  for (const [name, blob] of Object.entries(blobs)) {
    if (readSync) {
      files[name] = blobFile(blob, readSync, onRead && ((end) => onRead(name, end)), cancelled);
      continue;
    }
    try {
      files[name] = heldFile(new Uint8Array(await blob.arrayBuffer()));
    } catch (error) {
      throw new TinyLMError('INVALID_MODEL_FILE', `'${name}': reading it failed: ${(error as Error)?.message ?? String(error)}`);
    }
    onRead?.(name, blob.size);
  }
  return files;
}
