// A weights file downloaded straight into the cache (cache.ts writeStream): the response's body passes through a
// stream this module pulls, one chunk at a time, as the cache asks for it, so no more than a chunk of it is held on
// the page at once; each chunk is shown to the download (progress, the safetensors header check) before it goes on.
// The download's own failures (a cancel, a refused header, a body that breaks off or ends short) error the stream,
// so the cache stores nothing and the load fails with that error; a cache that refuses the file itself (full, or an
// internal error) is told apart, so the load can go on without it. Where the cache stores each chunk before it asks
// for the next (cache.ts storesChunkByChunk: OPFS), every chunk is read into one buffer, in place, so a download
// leaves no chunks behind for the collector (hundreds of MB of them for a large file, freed only when it runs).
const CHUNK_BYTES = 1 << 20;

export interface CacheFeedWatch {
  // Each chunk before the cache gets it. Throwing ends the download with that error.
  onChunk(chunk: Uint8Array): void | Promise<void>;
  // The body ended. Throwing (a body shorter than declared) ends the download with that error.
  onEnd(): void;
  // The body failed to arrive (a network error, a cancel): the error to end the download with.
  onReadError(error: unknown): unknown;
}

// The stored file as a Blob; undefined when the cache refused it (then the body may be partly consumed: the caller
// must download the file again if it still wants it). Rejects with the download's own error.
// reuseChunks: the cache stores each chunk before it asks for the next (a chunk shown to `watch` is valid only until
// then).
export async function streamIntoCache(writeStream: (url: string, body: ReadableStream<Uint8Array>) => Promise<Blob>, url: string,
  body: ReadableStream<Uint8Array>, watch: CacheFeedWatch, reuseChunks = false): Promise<Blob | undefined> {
  const reader = chunkReader(body, reuseChunks);
  let failure: { error: unknown } | undefined;
  let cacheStopped = false;  // the cache cancelled the feed: whatever the body does next is not the download's failure
  const feed = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        let result: ReadableStreamReadResult<Uint8Array>;
        try {
          result = await reader.read();
        } catch (error) {
          throw watch.onReadError(error);
        }
        if (cacheStopped) return;
        if (result.done) {
          watch.onEnd();
          controller.close();
          return;
        }
        await watch.onChunk(result.value);
        controller.enqueue(result.value);
      } catch (error) {
        if (cacheStopped) return;
        failure ??= { error };
        controller.error(error);
        await reader.cancel(error).catch(() => {});
      }
    },
    async cancel(reason) {
      cacheStopped = true;
      await reader.cancel(reason).catch(() => {});
    },
  }, { highWaterMark: 0 });  // pull only when the cache reads: chunks are not queued on the page
  try {
    return await writeStream(url, feed);
  } catch (error) {
    if (failure) throw failure.error;
    cacheStopped = true;
    await reader.cancel(error).catch(() => {});
    return undefined;
  }
}

// The body's chunks: each read into the buffer the last one was read into where `reuse` allows it and the body is a
// byte stream (a response's body is), else as the body gives them.
function chunkReader(body: ReadableStream<Uint8Array>, reuse: boolean): {
  read(): Promise<ReadableStreamReadResult<Uint8Array>>; cancel(reason?: unknown): Promise<void>;
} {
  let byob: ReadableStreamBYOBReader | undefined;
  try {
    byob = reuse ? body.getReader({ mode: 'byob' }) : undefined;
  } catch {
    byob = undefined;  // not a byte stream
  }
  if (!byob) return body.getReader();
  const reader = byob;
  let buffer = new ArrayBuffer(CHUNK_BYTES);
  return {
    async read() {
      const result = await reader.read(new Uint8Array(buffer));
      if (result.value) buffer = result.value.buffer as ArrayBuffer;  // the read moved the buffer: take it back
      return result as ReadableStreamReadResult<Uint8Array>;
    },
    cancel: (reason) => reader.cancel(reason),
  };
}
