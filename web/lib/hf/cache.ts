// Where downloaded checkpoint files are kept, by URL, so a second load reads them locally and an interrupted
// download re-uses every file that finished. Browsers: the Cache API (cache 'tinylm-hf-files'), persistent like
// other site data. Node: nothing is kept unless the load names a directory (cache_node.ts). A file is written to
// the cache only after all of its bytes arrived, so the cache never holds half a file.
export interface FileCache {
  read(url: string): Promise<Uint8Array | undefined>;
  write(url: string, bytes: Uint8Array): Promise<void>;
}

export const BROWSER_CACHE_NAME = 'tinylm-hf-files';

interface CacheStorageLike {
  open(name: string): Promise<{
    match(url: string): Promise<{ arrayBuffer(): Promise<ArrayBuffer> } | undefined>;
    put(url: string, response: unknown): Promise<void>;
  }>;
}

// undefined where the Cache API is missing (an insecure origin, an opaque one, old runtimes): files then download
// each time.
export function browserFileCache(): FileCache | undefined {
  const storage = (globalThis as { caches?: CacheStorageLike }).caches;
  if (!storage || typeof Response === 'undefined') return undefined;
  return {
    async read(url) {
      try {
        const response = await (await storage.open(BROWSER_CACHE_NAME)).match(url);
        return response ? new Uint8Array(await response.arrayBuffer()) : undefined;
      } catch {
        return undefined;  // a cache that cannot be read is a cache miss
      }
    },
    async write(url, bytes) {
      try {
        const headers = { 'content-type': 'application/octet-stream', 'content-length': String(bytes.byteLength) };
        await (await storage.open(BROWSER_CACHE_NAME)).put(url, new Response(bytes as unknown as BodyInit, { headers }));
      } catch {
        // Storage full or denied: the model still loads, it just downloads again next time.
      }
    },
  };
}
