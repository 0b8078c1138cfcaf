// The engine start's side of TinyLM.configure({ worker }) (given_worker.ts): the engine runs in the worker the app
// started once that worker has answered as the chosen build; until then the engine start's messages wait here.
//   - The thread count and the compiled module go to the given worker at once (a live one has them as soon as its
//     script runs), and so do requests that transfer nothing. A request that transfers buffers (a model's bytes)
//     goes at once as a copy when they are small (kCopyAheadBytes), its original kept for a worker started in its
//     place: the page's main thread, busy loading the page, may take hundreds of milliseconds to see the answer,
//     which the worker sent long before, and the load waited for it. Larger buffers wait for the answer, so that
//     nothing is lost to a worker that never runs and no large copy is made.
//   - It answers as the chosen build: the waiting messages follow, and the engine's events are its messages.
//   - It answers as another build, or as something else: it is terminated and the calls made so far fail with
//     INVALID_ARGUMENT (a mistake in the app to fix, as with a wrong option), and the next call starts the
//     package's own worker.
//   - It fails ('error' event) or has not answered by its deadline: the head start is lost, not the engine. It is
//     terminated, a console warning says what failed, and the package's own worker starts and receives every
//     message sent so far, as when no worker is given (as a given module whose compile fails: engine_module.ts).
//   - The engine is shut down meanwhile: the given worker is terminated and nothing else starts.
import { adoptionProblem, kGivenPatienceMs, type GivenWorker } from './given_worker.js';
import type { WorkerLike } from './platform.js';
import type { ErrorCode, WorkerEvent } from './protocol.js';
import type { EngineChoice } from './threads.js';

export interface Adoption {
  given: GivenWorker;
  choice: EngineChoice;
  setup(worker: Worker): void;  // posts the thread count and the module (assets.ts: postEngineSetup)
  startOwn(): Worker;           // the package's own worker, set up and listened to
  onEvent(event: WorkerEvent): void;
  onFailure(message: string, code?: ErrorCode): void;
}

type Message = [message: unknown, transfer: ArrayBuffer[]];

// The playground's default model is 0.9 MB: its copy costs about a millisecond and is dropped once the worker answers.
export const kCopyAheadBytes = 16 * 1024 * 1024;

function copiedAhead(transfer: ArrayBuffer[]): boolean {
  return transfer.reduce((sum, buffer) => sum + buffer.byteLength, 0) <= kCopyAheadBytes;
}

export function adoptWorker({ given, choice, setup, startOwn, onEvent, onFailure }: Adoption): WorkerLike {
  let target: Worker | undefined;  // where messages go once the given worker has answered or failed
  let ended = false;
  const sent: Message[] = [];      // posted to the given worker before it answered: a fallback worker gets them too
  const held: Message[] = [];      // waiting for the answer
  let overdue: ReturnType<typeof setTimeout> | undefined;

  const drop = () => {
    given.release();
    given.worker.terminate();
  };

  function settle(): void {
    clearTimeout(overdue);
    if (ended) return;
    if (given.failure !== undefined) {
      drop();
      console.warn(`tinylm-js: the Worker given to TinyLM.configure({ worker }) failed: ${given.failure}. The package starts its own ` +
        'engine worker instead. Check that the URL it was started from serves the package\'s worker file (the browser\'s network ' +
        'panel shows the request); a head script that sets the worker\'s onerror can hand over nothing when it fires (README: ' +
        '"Starting the engine early").');
      target = startOwn();
      for (const [message, transfer] of [...sent, ...held]) target.postMessage(message, transfer);
    } else {
      const problem = adoptionProblem(given.firstMessage, choice);
      if (problem) {
        drop();
        ended = true;
        return onFailure(problem, 'INVALID_ARGUMENT');
      }
      given.route((data) => onEvent(data as WorkerEvent), (message) => onFailure(message));
      target = given.worker;
      for (const [message, transfer] of held) target.postMessage(message, transfer);
    }
    sent.length = 0;
    held.length = 0;
  }

  setup(given.worker);
  if (given.answered || given.failure !== undefined) {
    settle();
  } else {
    given.whenSettled(settle);
    overdue = setTimeout(() => given.fail(
      `it has not answered in ${kGivenPatienceMs / 1000} s since it was configured (a Worker drops the events that come ` +
        'before anyone listens, so a failure before TinyLM.configure() goes unseen)',
    ), Math.max(0, given.deadline - performance.now()));
  }

  return {
    postMessage(message, transfer) {
      if (ended) return;
      if (target) return target.postMessage(message, transfer);
      if (held.length > 0 || (transfer.length > 0 && !copiedAhead(transfer))) return void held.push([message, transfer]);
      given.worker.postMessage(message);  // structured clone: transferred buffers stay here for a fallback worker
      sent.push([message, transfer]);
    },
    terminate() {
      ended = true;
      clearTimeout(overdue);
      sent.length = 0;
      held.length = 0;
      if (target) target.terminate();
      else drop();
    },
  };
}
