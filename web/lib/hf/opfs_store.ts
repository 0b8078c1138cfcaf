// Weights files kept in the origin private file system (OPFS), where a browser has one the page can write: the
// download streams into a file (createWritable), and the engine's worker opens the stored file for synchronous reads
// (worker_stored_files.ts: FileSystemSyncAccessHandle), which fill one reused buffer or the engine's heap directly, so
// a load leaves no garbage of read windows behind (with the Cache API's Blob, every window was a new ArrayBuffer:
// 75-95 MB of them waited for the collector while a GPT-2 loaded).
//
// Storage never holds half a file: the body is written under a temporary name and renamed to the file's own name
// only once all of it arrived; a body that errors (a cancel, a short download, a refused header) or a write that
// fails removes the temporary file. A file's name is the SHA-256 of its URL (OPFS names cannot hold '/').
export const OPFS_DIRECTORY = 'tinylm-hf-files';
const PARTIAL = '.partial';

interface Writable {
  write(chunk: Uint8Array): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
}

export interface StoredFileHandle {
  readonly kind: 'file';
  getFile(): Promise<File>;
  createWritable?(options?: { keepExistingData?: boolean }): Promise<Writable>;
  move?(name: string): Promise<void>;
}

interface Directory {
  getFileHandle(name: string, options?: { create?: boolean }): Promise<StoredFileHandle>;
  getDirectoryHandle(name: string, options?: { create?: boolean }): Promise<Directory>;
  removeEntry(name: string): Promise<void>;
}

// A stored file as the page hands it on: its bytes as a File (size, header check) with the handle the engine's
// worker opens for synchronous reads.
export type StoredFile = File & { readonly storedHandle: StoredFileHandle };

export function storedHandleOf(file: Blob): StoredFileHandle | undefined {
  return (file as Partial<StoredFile>).storedHandle;
}

export interface WeightsStore {
  readBlob(url: string): Promise<Blob | undefined>;
  writeStream(url: string, body: ReadableStream<Uint8Array>): Promise<Blob>;
}

// undefined where the page cannot write OPFS files as streams and rename them (no OPFS: Node, insecure contexts;
// no createWritable or move: Safari versions), or cannot name them (no crypto.subtle).
export function opfsWeightsStore(): WeightsStore | undefined {
  const storage = (globalThis as { navigator?: { storage?: { getDirectory?: () => Promise<Directory> } } }).navigator?.storage;
  const Handle = (globalThis as { FileSystemFileHandle?: { prototype: StoredFileHandle } }).FileSystemFileHandle;
  const subtle = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (typeof storage?.getDirectory !== 'function' || !Handle || !subtle) return undefined;
  if (typeof Handle.prototype.createWritable !== 'function' || typeof Handle.prototype.move !== 'function') return undefined;
  const directory = async () => (await storage.getDirectory!()).getDirectoryHandle(OPFS_DIRECTORY, { create: true });
  const stored = async (handle: StoredFileHandle): Promise<StoredFile> =>
    Object.assign(await handle.getFile(), { storedHandle: handle });
  return {
    async readBlob(url) {
      try {
        return await stored(await (await directory()).getFileHandle(await opfsName(url)));
      } catch {
        return undefined;  // not stored (NotFoundError), or storage that cannot be read: a miss
      }
    },
    async writeStream(url, body) {
      const folder = await directory();
      const name = await opfsName(url);
      const partial = name + PARTIAL;
      const handle = await folder.getFileHandle(partial, { create: true });
      try {
        const writable = await handle.createWritable!({ keepExistingData: false });
        await writeChunkByChunk(body, writable);
        await handle.move!(name);
      } catch (error) {
        await folder.removeEntry(partial).catch(() => {});
        throw error;
      }
      return stored(handle);
    },
  };
}

// The body into the file, each chunk read only once the last one was written (so the download may reuse a chunk's
// buffer: cache.ts storesChunkByChunk). A body that errors aborts the write, which then commits nothing; a write that
// fails cancels the body.
async function writeChunkByChunk(body: ReadableStream<Uint8Array>, writable: Writable): Promise<void> {
  const reader = body.getReader();
  for (;;) {
    let result: ReadableStreamReadResult<Uint8Array>;
    try {
      result = await reader.read();
    } catch (error) {
      await writable.abort(error).catch(() => {});
      throw error;
    }
    if (result.done) break;
    try {
      await writable.write(result.value);
    } catch (error) {
      await reader.cancel(error).catch(() => {});
      await writable.abort(error).catch(() => {});
      throw error;
    }
  }
  await writable.close();
}

// The file name a URL is stored under: its SHA-256 in hex.
export async function opfsName(url: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(url)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
