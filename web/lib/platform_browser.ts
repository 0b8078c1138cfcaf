// The browser side of platform.ts: the engine in a module Web Worker (located by assets.ts, or started by the app:
// given_worker.ts, adopt_worker.ts), models fetched over HTTP, saved models in IndexedDB. Nothing here may import
// a Node built-in.
import { adoptWorker } from './adopt_worker.js';
import { defaultModelUrl, engineWasmUrl, newEngineWorker, postEngineSetup } from './assets.js';
import { compiledEngine } from './engine_module.js';
import { TinyLMError } from './errors.js';
import { firstUse } from './first_use.js';
import { takeGivenModule, takeGivenWorker } from './given_worker.js';
import type { Platform, WorkerLike } from './platform.js';
import type { WorkerEvent } from './protocol.js';
import { chooseEngine } from './threads.js';
import { indexedDbStore } from './storage.js';

export const browserPlatform: Platform = {
  startWorker(onEvent, onFailure) {
    const choice = chooseEngine(browserPlatform.threadEnvironment());
    const given = takeGivenWorker();
    // The module the app compiled, or one compiled here; the other build's fails the calls made so far.
    const module = compiledEngine(engineWasmUrl(choice.build, choice.relaxedSimd), choice.build, takeGivenModule(), (problem) => {
      worker.terminate();
      onFailure(problem, 'INVALID_ARGUMENT');
    });
    const startOwn = () => {
      const own = newEngineWorker(choice.build);
      own.onmessage = (event: MessageEvent<WorkerEvent>) => onEvent(event.data);
      own.onerror = (event: ErrorEvent) => onFailure(event.message || 'the engine worker failed to start');
      postEngineSetup(own, choice, module);
      return own;
    };
    const setup = (adopted: Worker) => postEngineSetup(adopted, choice, module);
    const worker: WorkerLike = given ? adoptWorker({ given, choice, setup, startOwn, onEvent, onFailure }) : startOwn();
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
  fileCache: async () => (await firstUse(import('./hf/cache.js'), 'Hugging Face checkpoints')).browserFileCache(),  // only checkpoint loads use it
  workerReadsBlobs: true,
};
