// The browser side of platform.ts: the engine in a module Web Worker (located by assets.ts, or started by the app:
// given_worker.ts), models fetched
// over HTTP, saved models in IndexedDB. Nothing here may import a Node built-in.
import { defaultModelUrl, startBrowserWorker } from './assets.js';
import { TinyLMError } from './errors.js';
import { adoptionProblem, takeGivenModule, takeGivenWorker } from './given_worker.js';
import { browserFileCache } from './hf/cache.js';
import type { Platform } from './platform.js';
import type { WorkerEvent } from './protocol.js';
import { chooseEngine } from './threads.js';
import { indexedDbStore } from './storage.js';

export const browserPlatform: Platform = {
  startWorker(onEvent, onFailure) {
    const choice = chooseEngine(browserPlatform.threadEnvironment());
    const given = { worker: takeGivenWorker(), module: takeGivenModule() };
    const refuse = (problem: string) => {
      worker.terminate();
      onFailure(problem, 'INVALID_ARGUMENT');
    };
    const worker = startBrowserWorker(choice, given, refuse);
    let checked = !given.worker;  // an adopted worker's first message says which build it runs (given_worker.ts)
    worker.onmessage = (event: MessageEvent<WorkerEvent>) => {
      if (checked) return onEvent(event.data);
      checked = true;
      const problem = adoptionProblem(event.data, choice);
      if (problem) refuse(problem);
    };
    worker.onerror = (event: ErrorEvent) => onFailure(event.message || 'the engine worker failed to start');
    return worker;
  },
  threadEnvironment: () => ({ hardwareThreads: (typeof navigator === 'object' && navigator.hardwareConcurrency) || 1 }),
  defaultModelUrl,
  defaultStore: async () => indexedDbStore(),
  directoryStore() {
    throw new TinyLMError('INVALID_ARGUMENT', 'directoryStore() saves to a directory and needs Node; browsers save to IndexedDB (indexedDbStore())');
  },
  checkpointStore(directory) {
    if (directory !== undefined) {
      throw new TinyLMError(
        'INVALID_ARGUMENT',
        "option checkpointDir names a directory and needs Node; browsers keep checkpoints in IndexedDB ('tinylm-checkpoints'), or give checkpointStore",
      );
    }
    return indexedDbStore('tinylm-checkpoints', 'checkpoints');
  },
  fileCache: () => browserFileCache(),
};
