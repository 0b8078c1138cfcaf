// TinyLM.load()'s work below the API: a model source (a tinylm file's bytes, a URL, a stored name: sources.ts; or a
// Hugging Face checkpoint folder: hf/load.ts) read on the main thread and moved into the engine worker, which
// answers with the model's id and info. The bytes are private by then (downloaded, or copied by sources.ts and
// hf/load.ts), so they move to the worker (transferred, not copied); a view on part of a buffer is copied first.
// Weights files a browser downloaded into its storage come as the stored files: those in the origin private file
// system are posted as their file handles, which the worker opens for synchronous reads (worker_stored_files.ts);
// those in the Cache API as Blobs, which the worker reads window by window as it reads the caller's Blobs.
// A checkpoint folder the caller holds is not copied where it need not be (load_checkpoint.ts's loadLocal): the worker
// reads the caller's Blobs and Files itself (worker_blob_files.ts), and this thread serves it ranges of the caller's
// byte arrays while the load runs where memory can be shared (ranged_files.ts).
// The checkpoint half (load_checkpoint.ts, with hf/*) loads on first use: a page that loads tinylm files never
// downloads it.
import type { EngineClient } from './client.js';
import { firstUse } from './first_use.js';
import { isCheckpointSource, type CheckpointSource } from './hf/source.js';
import { resolvedChoice, type LoadOptions } from './options.js';
import type { ModelInfo } from './protocol.js';
import { readSource, type ModelSource } from './sources.js';

export interface ModelHandle {
  modelId: number;
  info: ModelInfo;
}

export function movableBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
}

export async function loadModel(client: EngineClient, source: ModelSource | CheckpointSource | undefined, options: LoadOptions): Promise<ModelHandle> {
  const weights = resolvedChoice('weights', options.weights, 'f32', ['f32', 'f16', 'int8'] as const);
  if (isCheckpointSource(source)) {
    const { loadCheckpoint } = await firstUse(import('./load_checkpoint.js'), 'Hugging Face checkpoints');
    return loadCheckpoint(client, source, options, weights);
  }
  const buffer = movableBuffer(await readSource(source, options.store));
  return client.request('load', { bytes: buffer, weights }, { transfer: [buffer] });
}

