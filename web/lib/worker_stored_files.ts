// Weights files a browser stored in its origin private file system (hf/opfs_store.ts), posted to the engine's worker
// as file handles and read here through a FileSystemSyncAccessHandle: synchronous, so inside the engine's loader, and
// into memory this worker already has — a large read straight into the engine's heap, a small one (a transposed
// tensor's strided rows) from one reused window — so the load allocates nothing per read (FileReaderSync allocates a
// new buffer for each window, which the collector frees only later). Where a sync access handle cannot be opened (a
// runtime without them, or another load holding the file), the stored file is read as a Blob (worker_blob_files.ts).
// Never throws into the engine: a failed read is the text of what went wrong.
import { WINDOW_BYTES } from './ranged_files.js';
import { blobFile, blobReaderSync, type WorkerBlob } from './worker_blob_files.js';
import { readStrided, type RangedFile } from './worker_files.js';

export interface SyncAccessHandle {
  read(buffer: ArrayBufferView, options: { at: number }): number;
  getSize(): number;
  close(): void;
}

// A stored file's handle as the worker receives it (FileSystemFileHandle).
export interface StoredFileHandle {
  readonly kind: 'file';
  getFile(): Promise<WorkerBlob>;
  createSyncAccessHandle?(options?: { mode?: string }): Promise<SyncAccessHandle>;
}

export function isStoredFileHandle(value: unknown): value is StoredFileHandle {
  return typeof value === 'object' && value !== null && (value as StoredFileHandle).kind === 'file' &&
    typeof (value as StoredFileHandle).getFile === 'function';
}

// Reads at least this long go straight into their target; shorter ones are served from the window.
const DIRECT_BYTES = 256 << 10;
const REFUSED = 'refused';

// The file behind a sync access handle as the engine's file object. onRead(end) after each read from the file;
// cancelled() before each (then the read fails, and the load with it).
export function syncHandleFile(handle: SyncAccessHandle, onRead?: (end: number) => void, cancelled?: () => boolean): RangedFile {
  const size = handle.getSize();
  const buffer = new Uint8Array(Math.min(WINDOW_BYTES, size));  // the one window, reused
  let window: { start: number; length: number } | undefined;
  let direct = true;  // false once the handle refused a view of the engine's heap (one on shared memory)
  // Fills `target` from the file at `at`; '' or what went wrong, REFUSED when the handle would not take `target` at all.
  const readInto = (at: number, target: Uint8Array): string => {
    if (cancelled?.()) return 'the load was cancelled';
    let done = 0;
    try {
      while (done < target.byteLength) {
        const n = handle.read(target.subarray(done), { at: at + done });
        if (n <= 0) return `reading bytes [${at}, ${at + target.byteLength}) stopped after ${done} bytes (did the file change?)`;
        done += n;
      }
    } catch (error) {
      if (done === 0 && error instanceof TypeError) return REFUSED;
      return `reading it failed: ${(error as Error)?.message ?? String(error)}`;
    }
    onRead?.(at + target.byteLength);
    return '';
  };
  const read = (offset: number, target: Uint8Array): string => {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size - target.byteLength) {
      return `bytes [${offset}, ${offset + target.byteLength}) are past its end (${size} bytes)`;
    }
    if (direct && target.byteLength >= DIRECT_BYTES) {
      const problem = readInto(offset, target);
      if (problem !== REFUSED) return problem;
      direct = false;
    }
    for (let done = 0; done < target.byteLength;) {
      const at = offset + done;
      if (!window || at < window.start || at >= window.start + window.length) {
        window = undefined;
        const length = Math.min(buffer.byteLength, size - at);
        const problem = readInto(at, buffer.subarray(0, length));
        if (problem) return problem === REFUSED ? 'reading it failed: the file refused a read' : problem;
        window = { start: at, length };
      }
      const n = Math.min(target.byteLength - done, window.start + window.length - at);
      target.set(buffer.subarray(at - window.start, at - window.start + n), done);
      done += n;
    }
    return '';
  };
  return { size, read, readStrided: (offset, stride, piece, target) => readStrided(read, offset, stride, piece, target) };
}

// The posted handles as the engine's files, and close(), which releases the sync access handles (each holds its file
// until closed): call it once the engine has read them, whatever the outcome.
export async function storedFiles(handles: Record<string, StoredFileHandle>, { onRead, cancelled }: {
  onRead?: (file: string, end: number) => void; cancelled?: () => boolean;
} = {}): Promise<{ files: Record<string, RangedFile>; close: () => void }> {
  const files: Record<string, RangedFile> = {};
  const open: SyncAccessHandle[] = [];
  const close = () => {
    for (const handle of open.splice(0)) {
      try {
        handle.close();
      } catch {
        // already closed
      }
    }
  };
  try {
    for (const [name, stored] of Object.entries(handles)) {
      const report = onRead && ((end: number) => onRead(name, end));
      const access = await openSync(stored);
      if (access) {
        open.push(access);
        files[name] = syncHandleFile(access, report, cancelled);
        continue;
      }
      const readSync = blobReaderSync();
      const blob = await stored.getFile();
      if (!readSync) throw new Error(`'${name}': this worker can read the stored file neither synchronously nor as a Blob`);
      files[name] = blobFile(blob, readSync, report, cancelled);
    }
  } catch (error) {
    close();
    throw error;
  }
  return { files, close };
}

// A read-only sync access handle (several loads may read one file at once where the runtime allows it), or one of
// the default, exclusive mode; undefined when neither opens.
async function openSync(stored: StoredFileHandle): Promise<SyncAccessHandle | undefined> {
  if (typeof stored.createSyncAccessHandle !== 'function') return undefined;
  for (const options of [{ mode: 'read-only' }, undefined]) {
    try {
      return await stored.createSyncAccessHandle(options);
    } catch {
      // try the next mode
    }
  }
  return undefined;
}
