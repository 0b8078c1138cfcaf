// When the threaded engine's pthread Workers start in browsers (deferred_pthread_workers.ts): once the engine has
// done its first piece of work, i.e. it has posted something for its first request that computes — the first
// tokens of a generation, the first progress of a fine-tune, or the end of any of them. A page's first token
// waits for the engine's start, the model's load and that first piece; the Workers then boot on the other cores
// while the engine goes on, on 1 thread, and the pool grows between two of its calls once they have all loaded
// (pool_start.ts). The setup before it (memory, a model's load or creation, an encode, …) does not release them,
// as the first token still waits behind it.
//
// So that the pool always comes up, also when no such request comes, or when the first one is a long call that
// posts nothing for a while (a large model's load): kFallbackMs after the watch began, whichever comes first.
import type { WorkerEvent } from './protocol.js';

export const kFallbackMs = 3000;

const kComputeOperations = new Set(['generate', 'chat', 'sessionGenerate', 'fineTune', 'evaluate']);

export interface PoolReleaseWatch {
  request(message: unknown): void;  // each message the engine worker receives, before it is handled
  event(event: WorkerEvent): void;  // each event it posts, after it is posted
}

// Calls release() once, at the first of the two moments above; the fallback timer starts now.
export function watchForPoolRelease(release: () => void, fallbackMs = kFallbackMs): PoolReleaseWatch {
  const computing = new Set<number>();  // ids of the compute requests received so far
  let released = false;
  const fire = () => {
    if (released) return;
    released = true;
    clearTimeout(timer);
    computing.clear();
    release();
  };
  const timer = setTimeout(fire, fallbackMs);
  return {
    request(message) {
      if (released || typeof message !== 'object' || message === null) return;
      const { id, type } = message as { id?: unknown; type?: unknown };
      if (typeof id === 'number' && typeof type === 'string' && kComputeOperations.has(type)) computing.add(id);
    },
    event(event) {
      if (!released && computing.has(event.id)) fire();
    },
  };
}
