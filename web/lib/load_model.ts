// TinyLM.load()'s work below the API: a model source (a tinylm file's bytes, a URL, a stored name: sources.ts; or a
// Hugging Face checkpoint folder: hf/load.ts) read on the main thread and moved into the engine worker, which
// answers with the model's id and info. The bytes are private by then (downloaded, or copied by sources.ts and
// hf/load.ts), so they move to the worker (transferred, not copied); a view on part of a buffer is copied first.
// A checkpoint folder the caller holds is not copied where shared memory is usable: this thread serves the
// worker's reads from the caller's own files while the load runs (ranged_files.ts).
import { sizeCheckAsHeadersArrive } from './checkpoint_size.js';
import type { EngineClient } from './client.js';
import { isCheckpointSource, readCheckpoint, type CheckpointSource } from './hf/load.js';
import { RangeServer } from './hf/range_server.js';
import { resolvedChoice, resolvedNumber, type LoadOptions, type WeightsForm } from './options.js';
import type { ModelInfo } from './protocol.js';
import { rangeServingUsable } from './ranged_files.js';
import { readSource, type ModelSource } from './sources.js';

export interface ModelHandle {
  modelId: number;
  info: ModelInfo;
}

function movableBuffer(bytes: Uint8Array): ArrayBuffer {
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return (whole ? bytes.buffer : bytes.slice().buffer) as ArrayBuffer;
}

export async function loadModel(client: EngineClient, source: ModelSource | CheckpointSource | undefined, options: LoadOptions): Promise<ModelHandle> {
  const weights = resolvedChoice('weights', options.weights, 'f32', ['f32', 'f16', 'int8'] as const);
  if (isCheckpointSource(source)) return loadCheckpoint(client, source, options, weights);
  const buffer = movableBuffer(await readSource(source, options.store));
  return client.request('load', { bytes: buffer, weights }, { transfer: [buffer] });
}

async function loadCheckpoint(client: EngineClient, source: CheckpointSource, options: LoadOptions, weights: WeightsForm): Promise<ModelHandle> {
  const maxContext = resolvedNumber('maxContext', options.maxContext, 2048, { min: 1, max: 1 << 20, integer: true });
  const onWeightsHeader = sizeCheckAsHeadersArrive(weights, () => client.request('memory', {}));
  const { files, local, label } = await readCheckpoint(source, { ...options, onWeightsHeader }, rangeServingUsable());
  const signal = options.signal as AbortSignal | undefined;
  if (local) {
    const server = new RangeServer(local, options.onProgress);
    const onAbort = () => server.close(true);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const handle = await client.request('loadCheckpoint', { files: {}, ranged: server.wire, label, maxContext, weights }, {
        signal,
        onEvent: (event) => {
          if (event.type === 'readRange') void server.serve(event.payload);
        },
      });
      server.complete();
      return handle;
    } finally {
      signal?.removeEventListener('abort', onAbort);
      server.close();
    }
  }
  const buffers: Record<string, ArrayBuffer> = {};
  for (const [name, bytes] of Object.entries(files!)) buffers[name] = movableBuffer(bytes);
  return client.request('loadCheckpoint', { files: buffers, label, maxContext, weights }, {
    transfer: [...new Set(Object.values(buffers))],
    signal,
  });
}
