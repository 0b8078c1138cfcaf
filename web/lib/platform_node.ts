// The Node side of platform.ts: the engine in a worker_threads Worker (worker_node.js beside this file), files
// read with node:fs, saved models in a directory ($TINYLM_MODEL_DIR, else ~/.cache/tinylm/models). The worker
// is unref'd while no request is pending (client.ts), so an idle engine never keeps the process alive.
import { readFile } from 'node:fs/promises';
import { availableParallelism, cpus, homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { configuredAssetBase } from './assets.js';
import { TinyLMError } from './errors.js';
import { directoryFileCache } from './hf/cache_node.js';
import type { Platform, WorkerLike } from './platform.js';
import { directoryStore } from './storage_node.js';
import { chooseEngine } from './threads.js';

function fileUrl(source: string | URL): URL {
  return source instanceof URL ? source : pathToFileURL(source);
}

export const nodePlatform: Platform = {
  startWorker(onEvent, onFailure) {
    const base = configuredAssetBase();
    const workerData = chooseEngine(nodePlatform.threadEnvironment());
    const worker = new Worker(base ? new URL('worker_node.js', base) : new URL('./worker_node.js', import.meta.url), { workerData });
    worker.on('message', onEvent);
    worker.on('error', (error) => onFailure(error.message));
    worker.on('exit', (code) => onFailure(`the engine worker exited (code ${code})`));
    return worker as unknown as WorkerLike;
  },
  threadEnvironment: () => ({
    hardwareThreads: (typeof availableParallelism === 'function' ? availableParallelism() : cpus().length) || 1,
    environmentThreads: process.env.TINYLM_THREADS,
  }),
  defaultModelUrl() {
    const base = configuredAssetBase();
    return base ? new URL('models/moby-char-lstm.safetensors', base) : new URL('./models/moby-char-lstm.safetensors', import.meta.url);
  },
  async readLocalFile(source) {
    const url = fileUrl(source);
    try {
      return new Uint8Array(await readFile(fileURLToPath(url)));
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw new TinyLMError(code === 'ENOENT' ? 'NOT_FOUND' : 'INVALID_ARGUMENT', `cannot read ${url.href}: ${(error as Error).message}`);
    }
  },
  defaultStore: async () => directoryStore(process.env.TINYLM_MODEL_DIR ?? join(homedir(), '.cache', 'tinylm', 'models')),
  directoryStore,
  checkpointStore: (directory) =>
    directoryStore(directory ?? process.env.TINYLM_CHECKPOINT_DIR ?? join(homedir(), '.cache', 'tinylm', 'checkpoints')),
  fileCache: async (directory) => (directory === undefined ? undefined : directoryFileCache(directory)),
  workerReadsBlobs: false,  // no FileReaderSync in worker threads: the calling thread serves Blobs (shared memory)
};
