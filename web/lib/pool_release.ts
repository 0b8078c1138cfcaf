// When the threaded engine's pthread Workers start in browsers (deferred_pthread_workers.ts): once the engine has
// done its first piece of work, i.e. it has posted something for its first request that computes — the first
// tokens of a generation, the first progress of a fine-tune, or the end of any of them. A page's first token
// waits for the engine's start, the model's load and that first piece; the Workers then boot on the other cores
// while the engine goes on, on 1 thread, and the pool grows between two of its calls once they have all loaded
// (pool_start.ts). The setup before it (memory, a model's load or creation, an encode, …) does not release them,
// as the first token still waits behind it.
//
// So that the pool also comes up when no such request comes (a page that loads a model and waits for its user),
// the engine's first idle spell of kIdleMs — every request it received answered, none since — releases it too.
// Idle, not since some start: a timer from the start would fire in the middle of a slow first load, on the path
// of the very token it is meant to keep clear.
import type { WorkerEvent } from './protocol.js';

export const kIdleMs = 2000;

const kComputeOperations = new Set(['generate', 'chat', 'sessionGenerate', 'fineTune', 'evaluate']);

export interface PoolReleaseWatch {
  request(message: unknown): void;  // each message the engine worker receives for its requests, before it is handled
  event(event: WorkerEvent): void;  // each event it posts, after it is posted
}

// Calls release() once, at the first of the two moments above.
export function watchForPoolRelease(release: () => void, idleMs = kIdleMs): PoolReleaseWatch {
  const computing = new Set<number>();  // ids of the compute requests received so far
  const open = new Set<number>();       // ids of the requests not answered yet (a 'result' or 'error' ends each)
  let idle: ReturnType<typeof setTimeout> | undefined;
  let released = false;
  const fire = () => {
    if (released) return;
    released = true;
    clearTimeout(idle);
    computing.clear();
    open.clear();
    release();
  };
  return {
    request(message) {
      if (released || typeof message !== 'object' || message === null) return;
      const { id, type } = message as { id?: unknown; type?: unknown };
      if (typeof id !== 'number' || typeof type !== 'string' || type === 'cancel') return;
      clearTimeout(idle);
      open.add(id);
      if (kComputeOperations.has(type)) computing.add(id);
    },
    event(event) {
      if (released) return;
      if (computing.has(event.id)) return fire();
      if (event.type !== 'result' && event.type !== 'error') return;
      open.delete(event.id);
      if (open.size === 0) {
        clearTimeout(idle);
        idle = setTimeout(fire, idleMs);
      }
    },
  };
}
