// An engine worker the app started itself, handed over with TinyLM.configure({ worker }) (browsers only). A module
// worker takes a few hundred milliseconds to start (a thread, its script, the glue); an app that starts it from an
// inline script in its <head>, before its own modules have loaded, overlaps that start with the page's loading:
//
//   <script>window.engineWorker = new Worker('/tinylm-js/worker_browser_threads.js', { type: 'module' });</script>
//   TinyLM.configure({ worker: window.engineWorker });  // later, in the app's module, before the first call
//
// The next engine start adopts it instead of starting its own (once: after TinyLM.shutdown() or a crash the package
// starts its own again; adopt_worker.ts). It must run the build the package chooses (threads.ts;
// TinyLM.capabilities().build): worker_browser_threads.js for 'threads', worker_browser.js for 'single'.
// configure() asks the worker which one it runs and listens to it from then on: the worker answers before it
// handles anything else, and a wrong one (or a worker that answers something else, i.e. not tinylm's) is
// terminated and fails the calls made so far with INVALID_ARGUMENT, saying what to start instead.
//
// A worker that fails to start (its script 404s or throws, CSP refuses it) is only a lost head start: the engine
// start falls back to the package's own worker, with a console warning saying what failed. A Worker drops the
// events that arrive before anyone listens, so a failure before configure() is invisible here: the app's head
// script sees it (README: it sets onerror and hands over nothing), and a worker that has not answered
// kGivenPatienceMs after configure() counts as failed.
//
// TinyLM.configure({ engineModule }) is the same for the engine's .wasm: the app's head script may compile it too,
// beside starting the worker, and the next engine start hands that module to its worker instead of compiling the
// .wasm on the page once the app's modules have run (engine_module.ts).
import { TinyLMError } from './errors.js';
import type { EngineBuild, EngineChoice } from './threads.js';

// How long a given worker may take to answer, or a given module's promise to settle, from configure() on, before
// the package starts its own. Generous: a worker's script (~25 kB gzip) arrives in well under that on a slow link.
export const kGivenPatienceMs = 10_000;

// A given worker as the package has seen it since configure(): not yet answered, answered (its first message), or
// failed (an 'error' event, or no answer within kGivenPatienceMs). After adoption, adopt() routes what follows.
export class GivenWorker {
  firstMessage: unknown;
  failure: string | undefined;
  readonly deadline = performance.now() + kGivenPatienceMs;
  private onChange: (() => void) | undefined;
  private routed: { onMessage(data: unknown): void; onError(message: string): void } | undefined;

  constructor(readonly worker: Worker) {
    worker.addEventListener('message', this.message);
    worker.addEventListener('error', this.error);
    worker.postMessage(buildQuery);
  }

  get answered(): boolean {
    return this.firstMessage !== undefined;
  }

  // Called once, when the worker answers or fails while the engine start waits for it.
  whenSettled(onChange: () => void): void {
    this.onChange = onChange;
  }

  // From now on the worker's messages and failures are the engine's.
  route(onMessage: (data: unknown) => void, onError: (message: string) => void): void {
    this.routed = { onMessage, onError };
  }

  // Stops listening: configure() was given another worker (the app still owns this one).
  release(): void {
    this.worker.removeEventListener('message', this.message);
    this.worker.removeEventListener('error', this.error);
  }

  fail(why: string): void {
    if (this.failure !== undefined) return;
    this.failure = why;
    if (this.routed) return this.routed.onError(why);
    this.settle();
  }

  private readonly message = (event: MessageEvent) => {
    if (this.routed) return this.routed.onMessage(event.data);
    if (this.answered) return;
    this.firstMessage = event.data ?? null;
    this.settle();
  };

  // A failed script load fires a plain Event; an uncaught exception an ErrorEvent with its message.
  private readonly error = (event: Event) => {
    const message = (event as ErrorEvent).message;
    this.fail(message || 'its script failed to load (a wrong URL, a network error, a server error or a Content-Security-Policy refusing it)');
  };

  private settle(): void {
    const onChange = this.onChange;
    this.onChange = undefined;
    onChange?.();
  }
}

let given: GivenWorker | undefined;

export function setGivenWorker(worker: unknown, engineRunning: boolean): void {
  if (worker === undefined) {
    given?.release();
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
  if (given?.worker === worker) return;
  given?.release();
  given = new GivenWorker(worker as Worker);
}

// The given worker, once: the engine about to start adopts it.
export function takeGivenWorker(): GivenWorker | undefined {
  const worker = given;
  given = undefined;
  return worker;
}

// A module the app compiled, and until when the engine start waits for its promise (engine_module.ts).
export interface GivenModule {
  module: Promise<WebAssembly.Module>;
  deadline: number;
}

let givenModule: GivenModule | undefined;

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
  const promise = Promise.resolve(module as WebAssembly.Module | PromiseLike<WebAssembly.Module>);
  promise.catch(() => {});  // a failed compile is handled when the engine starts (it compiles its own)
  givenModule = { module: promise, deadline: performance.now() + kGivenPatienceMs };
}

export function takeGivenModule(): GivenModule | undefined {
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

export const workerFiles: Record<EngineBuild, string> = { threads: 'worker_browser_threads.js', single: 'worker_browser.js' };

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
