// What differs between the two runtimes the package runs in, behind one interface: how the engine worker starts,
// where the default model and local files come from, and where saved models go. The package's entry points
// install one implementation each before anything else runs:
//   browser.ts → platform_browser.ts   (module Web Worker, fetch, IndexedDB)
//   node.ts    → platform_node.ts      (worker_threads, node:fs, a directory)
// so no browser bundle ever contains a `node:` import (package.json's `exports` conditions pick the entry).
import type { FileCache } from './hf/cache.js';
import type { ErrorCode, WorkerEvent } from './protocol.js';
import type { ModelStore } from './storage.js';
import type { ThreadEnvironment } from './threads.js';

export interface WorkerLike {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  terminate(): unknown;
  ref?(): void;    // Node only: keep the process alive while requests are pending
  unref?(): void;  // Node only
}

export interface Platform {
  // Starts the engine build, on the thread count, that threads.ts chooses for threadEnvironment(). onFailure: the
  // worker is gone (WORKER_FAILED unless another code is given).
  startWorker(onEvent: (event: WorkerEvent) => void, onFailure: (message: string, code?: ErrorCode) => void): WorkerLike;
  threadEnvironment(): ThreadEnvironment;
  defaultModelUrl(): URL;
  // Node: the bytes of a path or file: URL; undefined where there is no file system (browsers fetch instead).
  readLocalFile?(source: string | URL): Promise<Uint8Array>;
  defaultStore(): Promise<ModelStore>;
  directoryStore(directory: string): ModelStore;
  // Where fineTune() keeps training checkpoints (fine_tune.ts): browsers IndexedDB ('tinylm-checkpoints'), Node
  // `directory` or the default directory.
  checkpointStore(directory: string | undefined): ModelStore;
  // Where downloaded checkpoint files are kept (hf/cache.ts): browsers OPFS and the Cache API, Node `directory` if
  // given. A promise: browsers load that code with the checkpoint loader, on first use.
  fileCache(directory?: string): Promise<FileCache | undefined>;
  // Whether the engine's worker reads a posted Blob range by range itself (FileReaderSync: browsers' workers).
  workerReadsBlobs: boolean;
}

let installed: Platform | undefined;

export function installPlatform(platform: Platform): void {
  installed = platform;
}

export function platform(): Platform {
  if (!installed) {
    throw new Error("tinylm-js: import the package by its name ('tinylm-js'), not one of its internal files");
  }
  return installed;
}
