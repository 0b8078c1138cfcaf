// The engine's compiled WebAssembly module, fetched and compiled by the page while its engine worker starts
// (browsers only). Starting a module worker (a thread, its script, its imports) takes about as long as fetching and
// compiling the .wasm, so the two overlap instead of running one after the other: assets.ts compiles as it starts
// the worker and posts the WebAssembly.Module (structured-cloneable to a worker of the same page, no copy); the
// worker instantiates it through the glue's instantiateWasm hook. The .wasm is located as every other file is
// (assets.ts).
//
// The page posts exactly one { tinylmEngineModule } message after the thread count (threads.ts): the module, or
// null when the page could not compile it (a failed fetch, an old browser), in which case the worker fetches the
// .wasm itself as before and reports what fails there. An app that compiled the .wasm itself, earlier
// (TinyLM.configure({ engineModule }), given_worker.ts), has its module posted instead.
import { kGivenPatienceMs, type GivenModule } from './given_worker.js';
import type { EngineBuild } from './threads.js';

export interface EngineModuleMessage {
  tinylmEngineModule: WebAssembly.Module | null;
}

export function isEngineModuleMessage(message: unknown): message is EngineModuleMessage {
  return typeof message === 'object' && message !== null && 'tinylmEngineModule' in message;
}

// Streams the .wasm into the compiler; a server that sends another Content-Type than application/wasm makes
// compileStreaming refuse it, so the bytes are then compiled whole. Never rejects: null means "worker, fetch it".
async function compileEngine(url: URL): Promise<WebAssembly.Module | null> {
  try {
    const response = await fetch(url, { credentials: 'same-origin' });
    if (!response.ok) return null;
    const fallback = response.clone();
    try {
      return await WebAssembly.compileStreaming(response);
    } catch {
      return await WebAssembly.compile(await fallback.arrayBuffer());
    }
  } catch {
    return null;
  }
}

// The threaded build imports its (shared) memory; the single-thread build defines its own. Undefined: not a module.
function buildOf(module: unknown): EngineBuild | undefined {
  if (Object.prototype.toString.call(module) !== '[object WebAssembly.Module]') return undefined;
  return WebAssembly.Module.imports(module as WebAssembly.Module).some((entry) => entry.kind === 'memory') ? 'threads' : 'single';
}

// The engine's module for a worker about to start: compiled here, or, given a module the app compiled
// (TinyLM.configure({ engineModule })), that one. If its compile failed, or its promise has not settled by its
// deadline (given_worker.ts: the app's fetch may hang), the .wasm is compiled here after all; if it is the other
// build's, onWrongModule says so (and the worker gets null).
export function compiledEngine(
  url: URL,
  build: EngineBuild,
  given?: GivenModule,
  onWrongModule?: (problem: string) => void,
): Promise<WebAssembly.Module | null> {
  if (!given) return compileEngine(url);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let overtaken = false;  // the package's own compile went ahead: the given promise no longer matters
  const overdue = new Promise<WebAssembly.Module | null>((resolve) => {
    timer = setTimeout(() => {
      overtaken = true;
      console.warn(`tinylm-js: the promise given to TinyLM.configure({ engineModule }) has not settled in ${kGivenPatienceMs / 1000} s, ` +
        'so the package compiles the .wasm itself: check the fetch and compile the page started for it');
      resolve(compileEngine(url));
    }, Math.max(0, given.deadline - performance.now()));
  });
  const checked = given.module.then(
    (module) => {
      const actual = buildOf(module);
      if (actual === build || overtaken) return module;
      const names = { threads: 'the threaded build (tinylm_wasm_threads.wasm)', single: 'the single-thread build (tinylm_wasm.wasm)' };
      onWrongModule?.(actual
        ? `option engineModule is ${names[actual]}'s .wasm, but this engine is ${names[build]} (TinyLM.capabilities().build says which): compile that file instead`
        : `option engineModule resolved to ${Object.prototype.toString.call(module)}, not a WebAssembly.Module: give a promise of WebAssembly.compileStreaming(fetch(url))`);
      return null;
    },
    () => compileEngine(url),
  );
  void checked.finally(() => clearTimeout(timer));
  return Promise.race([checked, overdue]);
}

export function postCompiledEngine(worker: Worker, module: Promise<WebAssembly.Module | null>): void {
  void module.then((module) => worker.postMessage({ tinylmEngineModule: module } satisfies EngineModuleMessage));
}

// The worker side: the glue's instantiateWasm override for a module compiled by the page. The glue waits for
// receiveInstance (and loads its pthread Workers with the same module there); a failed instantiation goes to
// onFailure, since the glue would wait forever.
export function instantiateCompiled(module: WebAssembly.Module, onFailure: (error: unknown) => void) {
  return (imports: WebAssembly.Imports, receiveInstance: (instance: WebAssembly.Instance, module: WebAssembly.Module) => void) => {
    WebAssembly.instantiate(module, imports).then((instance) => receiveInstance(instance, module)).catch(onFailure);
    return {};  // asynchronous: the glue waits for receiveInstance
  };
}
