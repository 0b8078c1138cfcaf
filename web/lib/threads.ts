// Which engine build a page or process runs, and on how many threads (main thread side).
//
//   build 'threads'  the threaded engine (Emscripten pthreads over a SharedArrayBuffer): needs shared memory, i.e. a
//                    cross-origin isolated page (COOP: same-origin + COEP: require-corp or credentialless) or Node
//   build 'single'   the single-thread engine: runs everywhere; used when one thread is asked for, or when shared
//                    memory is unavailable (then, if more threads were asked for, one console warning says how to
//                    get them)
//
// Only the chosen build's files are fetched: each has its own engine worker (assets.ts), whose glue and .wasm are
// loaded from it. Results are the same, bit for bit, on either build and at every thread count. Either build's
// .wasm comes in two variants, standard and relaxed SIMD (relaxed_simd.ts), which may differ in the last bits.
import { TinyLMError } from './errors.js';
import type { EngineReport } from './protocol.js';
import { relaxedSimdChosen } from './relaxed_simd.js';

export type EngineBuild = 'single' | 'threads';

export interface Capabilities {
  threads: number;               // threads the engine is set to compute with (the next engine started, if none
                                 // runs yet). In browsers its pool reaches them once its pthread Workers are up
                                 // and computes on 1 before (pool_start.ts); they start after its first piece of
                                 // work (pool_release.ts). This says the count it is set to throughout.
  maxThreads: number;            // the most configure({ threads }) accepts here: 1 without shared memory
  simd: boolean;                 // WebAssembly SIMD, which both builds need
  relaxedSimd: boolean;          // the build's relaxed SIMD .wasm (fused multiply-adds, relaxed_simd.ts) rather than
                                 // its standard one. Once the engine has started (by the time a call that needed it
                                 // has answered), what that engine says it runs: a module given to
                                 // configure({ engineModule }) is whichever .wasm it was compiled from, and a relaxed
                                 // .wasm that failed to arrive gives way to the standard one. Before that, and after
                                 // shutdown(), the next engine's choice: where relaxed SIMD validates, unless
                                 // configure() turned it off
  crossOriginIsolated: boolean;  // browsers: the page's crossOriginIsolated; Node: true (shared memory always works)
  build: EngineBuild;
}

export interface EngineChoice {
  build: EngineBuild;
  threads: number;
  relaxedSimd: boolean;  // which of the build's two .wasm it loads
}

// Each thread beyond the first is a Worker holding the whole wasm module's instance: 16 bounds that cost.
export const kMaxThreads = 16;
const kDefaultMaxThreads = 4;  // the default's cap: past 4 threads a small model's steps gain little

let requestedThreads: number | undefined;
let warned = false;

export function setRequestedThreads(threads: unknown): void {
  if (threads === undefined) {
    requestedThreads = undefined;
    return;
  }
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > kMaxThreads) {
    throw new TinyLMError('INVALID_ARGUMENT', `option threads must be a whole number from 1 to ${kMaxThreads}, got ${String(threads)}`);
  }
  requestedThreads = threads;
}

function isolated(): boolean {
  const flag = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return typeof flag === 'boolean' ? flag : true;  // Node has no such notion: its shared memory always works
}

function sharedMemoryUsable(): boolean {
  return typeof SharedArrayBuffer === 'function' && isolated();
}

// A module whose one function returns a v128 constant: valid only where WebAssembly SIMD is.
const simdProbe = new Uint8Array([
  0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 22, 1, 20, 0, 253, 12,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 11,
]);

function simdSupported(): boolean {
  try {
    return typeof WebAssembly === 'object' && WebAssembly.validate(simdProbe);
  } catch {
    return false;
  }
}

function defaultThreads(hardwareThreads: number): number {
  return Math.max(1, Math.min(kDefaultMaxThreads, Math.floor(hardwareThreads) || 1));
}

// What the runtime offers: its logical cores and, in Node, $TINYLM_THREADS (the default's override, as for the CLI).
export interface ThreadEnvironment {
  hardwareThreads: number;
  environmentThreads?: string;
}

function environmentDefault(value: string): number {
  const threads = Number(value);
  if (!/^\d+$/.test(value) || threads < 1 || threads > kMaxThreads) {
    throw new TinyLMError('INVALID_ARGUMENT', `TINYLM_THREADS must be a whole number from 1 to ${kMaxThreads}, got '${value}'`);
  }
  return threads;
}

function choose(environment: ThreadEnvironment): EngineChoice & { wanted: number } {
  const { hardwareThreads, environmentThreads } = environment;
  const wanted = requestedThreads ??
    (environmentThreads !== undefined ? environmentDefault(environmentThreads) : defaultThreads(hardwareThreads));
  const relaxedSimd = relaxedSimdChosen();
  if (wanted > 1 && sharedMemoryUsable()) return { build: 'threads', threads: wanted, relaxedSimd, wanted };
  return { build: 'single', threads: 1, relaxedSimd, wanted };
}

// The build and thread count for an engine about to start; warns once when threads were asked for (configure) but
// shared memory is unavailable.
export function chooseEngine(environment: ThreadEnvironment): EngineChoice {
  const { build, threads, relaxedSimd, wanted } = choose(environment);
  if (requestedThreads !== undefined && wanted > 1 && build === 'single' && !warned) {
    warned = true;
    console.warn(
      `tinylm-js: ${wanted} threads were asked for, but this page is not cross-origin isolated, so SharedArrayBuffer ` +
        'is unavailable and the engine runs on 1 thread. To run on threads, serve the page with the headers ' +
        "'Cross-Origin-Opener-Policy: same-origin' and 'Cross-Origin-Embedder-Policy: require-corp' (or " +
        "'credentialless'), or, on a host that cannot set headers, register a service worker that adds them " +
        '(e.g. the npm package coi-serviceworker).',
    );
  }
  return { build, threads, relaxedSimd };
}

// running: what the engine that runs said about itself, if one has started.
export function capabilities(environment: ThreadEnvironment, running?: EngineReport): Capabilities {
  const { build, threads, relaxedSimd } = choose(environment);
  return {
    threads,
    maxThreads: sharedMemoryUsable() ? kMaxThreads : 1,
    simd: simdSupported(),
    relaxedSimd: running?.relaxedSimd ?? relaxedSimd,
    crossOriginIsolated: isolated(),
    build,
  };
}

// The threaded engine worker learns its thread count from workerData (Node) or, in browsers, from the first
// message it receives, posted as it starts, before any request: { tinylmThreads: n }.
export interface ThreadCountMessage {
  tinylmThreads: number;
}

export function threadCountMessage(threads: number): ThreadCountMessage {
  return { tinylmThreads: threads };
}

export function isThreadCountMessage(message: unknown): message is ThreadCountMessage {
  return typeof message === 'object' && message !== null && 'tinylmThreads' in message;
}
