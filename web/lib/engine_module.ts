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

// given: a module the app compiled (TinyLM.configure({ engineModule })), used instead of compiling here; if its
// compile failed the .wasm is compiled here after all, and if it is the other build's, onWrongModule says so.
export function sendCompiledEngine(
  worker: Worker,
  url: URL,
  build: EngineBuild,
  given?: Promise<WebAssembly.Module>,
  onWrongModule?: (problem: string) => void,
): void {
  const module = !given ? compileEngine(url) : given.then(
    (module) => {
      const actual = buildOf(module);
      if (actual === build) return module;
      const names = { threads: 'the threaded build (tinylm_wasm_threads.wasm)', single: 'the single-thread build (tinylm_wasm.wasm)' };
      onWrongModule?.(actual
        ? `option engineModule is ${names[actual]}'s .wasm, but this engine is ${names[build]} (TinyLM.capabilities().build says which): compile that file instead`
        : `option engineModule resolved to ${Object.prototype.toString.call(module)}, not a WebAssembly.Module: give a promise of WebAssembly.compileStreaming(fetch(url))`);
      return null;
    },
    () => compileEngine(url),
  );
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
