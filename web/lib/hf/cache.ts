// Where downloaded checkpoint files are kept, by URL, so a second load reads them locally and an interrupted
// download re-uses every file that finished. Browsers: weights files in the origin private file system where the page
// can write it as a stream (opfs_store.ts: folder 'tinylm-hf-files'), else, and every other file, in the Cache API
// (cache 'tinylm-hf-files'), persistent like other site data. Node: nothing is kept unless the load names a directory (cache_node.ts). The cache never holds
// half a file: a file is written once all of its bytes arrived, or, streamed, by a put that stores nothing when its
// body ends in an error.
export interface FileCache {
  read(url: string): Promise<Uint8Array | undefined>;
  write(url: string, bytes: Uint8Array): Promise<void>;
  // Browsers: a weights file is kept and handed on as a Blob backed on disk (an OPFS file, or the Cache API's
  // stored body), so it is never held whole in the page (the engine's worker reads it range by range).
  // readBlob: the kept file, undefined when there is none (or the cache cannot be read).
  readBlob?(url: string): Promise<KeptFile | undefined>;
  // writeStream: stores `body` under url as it arrives and resolves with the stored file. Rejects, storing nothing,
  // when `body` errors (a cancel, a short download) or when storage fails (full, or an internal error).
  writeStream?(url: string, body: KeptBody): Promise<KeptFile>;
  // true when writeStream reads its body's next chunk only once the last one is stored, so the download can read
  // every chunk into the same buffer (OPFS's writes; the Cache API's put reads ahead).
  storesChunkByChunk?: boolean;
}

// A kept file is a Blob and the body to keep a ReadableStream<Uint8Array>; they are named here by what the package's
// declarations need of them, so those type-check without the DOM library (an app's tsconfig may leave it out:
// tests/js/package.test.mjs).
export interface KeptFile extends BlobLike {
  slice(start?: number, end?: number): KeptFile;
}
export interface KeptBody {
  getReader(): unknown;
}

import type { BlobLike } from '../sources.js';
import { opfsWeightsStore } from './opfs_store.js';

export const BROWSER_CACHE_NAME = 'tinylm-hf-files';

interface CachedResponse {
  arrayBuffer(): Promise<ArrayBuffer>;
  blob(): Promise<Blob>;
}

interface CacheStorageLike {
  open(name: string): Promise<{
    match(url: string): Promise<CachedResponse | undefined>;
    put(url: string, response: unknown): Promise<void>;
  }>;
}

// undefined where the Cache API is missing (an insecure origin, an opaque one, old runtimes): files then download
// each time.
export function browserFileCache(): FileCache | undefined {
  const storage = (globalThis as { caches?: CacheStorageLike }).caches;
  if (!storage || typeof Response === 'undefined') return undefined;
  const open = () => storage.open(BROWSER_CACHE_NAME);
  const weights = opfsWeightsStore();
  return {
    storesChunkByChunk: weights !== undefined,
    async read(url) {
      try {
        const response = await (await open()).match(url);
        return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
      } catch {
        return undefined;  // a cache that cannot be read is a cache miss
      }
    },
    async write(url, bytes) {
      try {
        const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) };
        await (await open()).put(url, new Response(bytes as unknown as BodyInit, { headers }));
      } catch {
        // Storage full or denied: the model still loads, it just downloads again next time.
      }
    },
    async readBlob(url) {
      // A weights file an earlier version kept in the Cache API is still read from there (as a Blob) rather than
      // downloaded again.
      const stored = await weights?.readBlob(url);
      if (stored) return stored;
      try {
        const response = await (await open()).match(url);
        return response ? await response.blob() : undefined;  // a handle on the stored body, not its bytes
      } catch {
        return undefined;
      }
    },
    async writeStream(url, body) {
      if (weights) return weights.writeStream(url, body as ReadableStream<Uint8Array>);
      const cache = await open();
      // No content-length: the body's own length is what is stored (a compressed download declares another).
      await cache.put(url, new Response(body as unknown as BodyInit, { headers: { 'content-type': 'application/octet-stream' } }));
      const stored = await cache.match(url);
      if (!stored) throw new Error('the cache did not keep the file it was given');
      return stored.blob();
    },
  };
}
