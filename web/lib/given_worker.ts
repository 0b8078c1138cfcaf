// An engine worker the app started itself, handed over with TinyLM.configure({ worker }) (browsers only). A module
// worker takes a few hundred milliseconds to start (a thread, its script, the glue); an app that starts it from an
// inline script in its <head>, before its own modules have loaded, overlaps that start with the page's loading:
//
//   <script>window.engineWorker = new Worker('/tinylm-js/worker_browser_threads.js', { type: 'module' });</script>
//   TinyLM.configure({ worker: window.engineWorker });  // later, in the app's module, before the first call
//
// The next engine start adopts it instead of starting its own (once: after TinyLM.shutdown() or a crash the package
// starts its own again). It must run the build the package chooses (threads.ts; TinyLM.capabilities().build):
// worker_browser_threads.js for 'threads', worker_browser.js for 'single'. The package asks the worker which one it
// runs, first thing after adopting it, without waiting for the answer: the worker answers before it handles
// anything else, and a wrong one (or a worker that answers something else, i.e. not tinylm's) is terminated and
// fails the calls made so far with INVALID_ARGUMENT, saying what to start instead.
//
// TinyLM.configure({ engineModule }) is the same for the engine's .wasm: the app's head script may compile it too,
// beside starting the worker, and the next engine start hands that module to its worker instead of compiling the
// .wasm on the page once the app's modules have run (engine_module.ts).
import { TinyLMError } from './errors.js';
import type { EngineBuild, EngineChoice } from './threads.js';

let given: Worker | undefined;

export function setGivenWorker(worker: unknown, engineRunning: boolean): void {
  if (worker === undefined) {
    given = undefined;
    return;
  }
  if (typeof Worker !== 'function') {
    throw new TinyLMError('INVALID_ARGUMENT',
      'option worker takes a Web Worker, which only browsers have: in Node the package starts its engine worker itself; leave the option out');
  }
  // A brand check rather than instanceof, which a page that wraps the Worker constructor would defeat.
  if (Object.prototype.toString.call(worker) !== '[object Worker]') {
    const kind = typeof worker === 'object' && worker !== null ? worker.constructor?.name : undefined;
    const got = worker === null ? 'null'
      : typeof worker !== 'object' ? `${typeof worker} ${String(worker)}`
      : kind && kind !== 'Object' ? `a ${kind}` : 'a plain object';
    throw new TinyLMError('INVALID_ARGUMENT',
      "option worker must be a Worker started from the package's worker_browser.js or worker_browser_threads.js " +
        `(new Worker(url, { type: 'module' })), got ${got}`);
  }
  if (engineRunning) {
    throw new TinyLMError('INVALID_ARGUMENT',
      'option worker: an engine is already running (the first call started it), so this worker would never be used: ' +
        'configure it before the first call, or call TinyLM.shutdown() first');
  }
  given = worker as Worker;
}

// The given worker, once: the engine about to start adopts it.
export function takeGivenWorker(): Worker | undefined {
  const worker = given;
  given = undefined;
  return worker;
}

let givenModule: Promise<WebAssembly.Module> | undefined;

export function setGivenModule(module: unknown, engineRunning: boolean): void {
  if (module === undefined) {
    givenModule = undefined;
    return;
  }
  const isModule = Object.prototype.toString.call(module) === '[object WebAssembly.Module]';
  if (!isModule && typeof (module as { then?: unknown } | null)?.then !== 'function') {
    throw new TinyLMError('INVALID_ARGUMENT',
      `option engineModule must be a WebAssembly.Module or a promise of one (WebAssembly.compileStreaming(fetch(url))), got ${module === null ? 'null' : typeof module}`);
  }
  if (engineRunning) {
    throw new TinyLMError('INVALID_ARGUMENT',
      'option engineModule: an engine is already running (the first call started it), so this module would never be used: ' +
        'configure it before the first call, or call TinyLM.shutdown() first');
  }
  givenModule = Promise.resolve(module as WebAssembly.Module | PromiseLike<WebAssembly.Module>);
  givenModule.catch(() => {});  // a failed compile is handled when the engine starts (it compiles its own)
}

export function takeGivenModule(): Promise<WebAssembly.Module> | undefined {
  const module = givenModule;
  givenModule = undefined;
  return module;
}

// ---- which build a worker runs ----------------------------------------------------------------------------------

export interface BuildQuery {
  tinylmBuildQuery: true;
}
export interface BuildAnswer {
  tinylmBuild: EngineBuild;
}

export const buildQuery: BuildQuery = { tinylmBuildQuery: true };

export function isBuildQuery(message: unknown): message is BuildQuery {
  return typeof message === 'object' && message !== null && 'tinylmBuildQuery' in message;
}

export function isBuildAnswer(message: unknown): message is BuildAnswer {
  return typeof message === 'object' && message !== null && 'tinylmBuild' in message;
}

const workerFiles: Record<EngineBuild, string> = { threads: 'worker_browser_threads.js', single: 'worker_browser.js' };

// Undefined when the adopted worker's first message says it runs the chosen build; else why it cannot be used.
export function adoptionProblem(firstMessage: unknown, choice: EngineChoice): string | undefined {
  const wanted = choice.build === 'threads'
    ? `the threaded build on ${choice.threads} threads (${workerFiles.threads})`
    : `the single-thread build (${workerFiles.single})`;
  if (!isBuildAnswer(firstMessage)) {
    return "the Worker given to TinyLM.configure({ worker }) is not tinylm's engine worker (it did not answer as one): " +
      `start ${wanted} from the package's files`;
  }
  if (firstMessage.tinylmBuild === choice.build) return undefined;
  return `the Worker given to TinyLM.configure({ worker }) runs ${workerFiles[firstMessage.tinylmBuild]}, but this engine is ${wanted}: ` +
    `start that file instead (TinyLM.capabilities().build says which), or configure the threads to match`;
}
