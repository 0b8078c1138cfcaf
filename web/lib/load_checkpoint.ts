// TinyLM.load() of a Hugging Face checkpoint folder (load_model.ts hands it on): the folder's files read or downloaded
// on the main thread (hf/load.ts) and handed to the engine's worker. Loaded on first use, with hf/*, so a page that
// only loads tinylm files never downloads this code.
import { sizeCheckAsHeadersArrive } from './checkpoint_size.js';
import type { EngineClient } from './client.js';
import { readCheckpoint } from './hf/load.js';
import { copiedEntries, isBlob, sizeOf, type FileMapValue } from './hf/local_files.js';
import { RangeServer } from './hf/range_server.js';
import { storedHandleOf, type StoredFileHandle } from './hf/opfs_store.js';
import { ReadProgress } from './hf/read_progress.js';
import type { CheckpointSource } from './hf/source.js';
import { movableBuffer, type ModelHandle } from './load_model.js';
import { resolvedNumber, type LoadOptions, type WeightsForm } from './options.js';
import { platform } from './platform.js';
import { rangeServingUsable } from './ranged_files.js';

export async function loadCheckpoint(client: EngineClient, source: CheckpointSource, options: LoadOptions, weights: WeightsForm): Promise<ModelHandle> {
  const maxContext = resolvedNumber('maxContext', options.maxContext, 2048, { min: 1, max: 1 << 20, integer: true });
  const onWeightsHeader = sizeCheckAsHeadersArrive(weights, () => client.request('memory', {}));
  const { files, local, label } = await readCheckpoint(source, { ...options, onWeightsHeader });
  const request = { label, maxContext, weights };
  if (local) return loadLocal(client, local, request, options);
  const bytes: Record<string, Uint8Array> = {};
  const blobs: Record<string, Blob | StoredFileHandle> = {};
  for (const [name, file] of Object.entries(files!)) {
    if (file instanceof Uint8Array) bytes[name] = file;
    else blobs[name] = storedHandleOf(file as Blob) ?? (file as Blob);
  }
  const buffers = movableBuffers(bytes);
  const signal = options.signal as AbortSignal | undefined;
  const { posted, cancel } = postedBlobs(blobs, rangeServingUsable());
  signal?.addEventListener('abort', cancel, { once: true });
  try {
    // The download's progress already reached its total: the worker's reads of the Blobs are not reported again.
    return await client.request('loadCheckpoint', { ...request, files: buffers, ...posted },
      { transfer: [...new Set(Object.values(buffers))], signal });
  } finally {
    signal?.removeEventListener('abort', cancel);
  }
}

// Blobs for the worker to read itself (none: nothing to post). Where memory can be shared, cancel() reaches the
// worker while it reads them (it looks before each read).
function postedBlobs(blobs: Record<string, Blob | StoredFileHandle>, shared: boolean): {
  posted: { blobs?: Record<string, Blob | StoredFileHandle>; blobsCancelled?: SharedArrayBuffer }; cancel: () => void;
} {
  if (Object.keys(blobs).length === 0) return { posted: {}, cancel: () => {} };
  const blobsCancelled = shared ? new SharedArrayBuffer(4) : undefined;
  return {
    posted: { blobs, blobsCancelled },
    cancel: () => {
      if (blobsCancelled) Atomics.store(new Int32Array(blobsCancelled), 0, 1);
    },
  };
}

// The caller's own files: Blobs and Files posted for the worker to read (a browser's worker reads them window by
// window; without shared memory, Node's reads them whole), byte arrays served range by range where memory can be
// shared, else copied. In Chromium, the renderer's peak loading GPT-2's shape (int8) from a Blob of its 523 MB weights:
// 377-385 MB with the worker reading it (three runs), 449 and 692 MB with this thread serving it range by range
// (each range read here is a buffer the collector frees when it next runs), 829 MB copying it (not isolated).
async function loadLocal(client: EngineClient, local: Map<string, FileMapValue>, request: { label: string; maxContext: number; weights: WeightsForm },
  options: LoadOptions): Promise<ModelHandle> {
  const signal = options.signal as AbortSignal | undefined;
  const shared = rangeServingUsable();
  const postBlobs = platform().workerReadsBlobs || !shared;
  const progress = new ReadProgress(new Map([...local].map(([name, value]) => [name, sizeOf(value)])), options.onProgress);
  const blobs: Record<string, Blob> = {};
  const rest = new Map<string, FileMapValue>();
  for (const [name, value] of local) {
    if (postBlobs && isBlob(value)) blobs[name] = value as Blob;  // isBlob: an instance of this runtime's Blob
    else rest.set(name, value);
  }
  const server = shared && rest.size > 0 ? new RangeServer(rest, (file, end) => progress.read(file, end)) : undefined;
  // Without a server, rest holds byte arrays only (postBlobs is then true).
  const copies = server ? {} : copiedEntries(rest as Map<string, Uint8Array | ArrayBuffer>);
  for (const [name, bytes] of Object.entries(copies)) progress.read(name, bytes.byteLength);
  const buffers = movableBuffers(copies);
  const { posted, cancel } = postedBlobs(blobs, shared);
  const onAbort = () => {
    server?.close(true);
    cancel();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const handle = await client.request('loadCheckpoint', { ...request, files: buffers, ranged: server?.wire, ...posted }, {
      transfer: [...new Set(Object.values(buffers))],
      signal,
      onEvent: (event) => {
        if (event.type === 'readRange') void server?.serve(event.payload);
        else if (event.type === 'blobRead') progress.read(event.payload.file, event.payload.end);
      },
    });
    progress.complete();
    return handle;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    server?.close();
  }
}

function movableBuffers(files: Record<string, Uint8Array>): Record<string, ArrayBuffer> {
  return Object.fromEntries(Object.entries(files).map(([name, bytes]) => [name, movableBuffer(bytes)]));
}
