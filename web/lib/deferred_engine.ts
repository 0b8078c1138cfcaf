// Each engine comes in two modules (wasm/split_engine.mjs): <engine>.wasm, what loading and running a tinylm model
// file calls, and <engine>.deferred.wasm, the rest — training, LoRA adapters, Hugging Face checkpoints, models
// created from scratch, beam search, exporting a model (each relaxed SIMD engine has its own pair). A page that only
// runs a model never downloads the second.
//
// The first time the engine calls a function of the deferred module on a thread, the glue (built with
// -sSPLIT_MODULE) calls Module.loadSplitModule, given here: it gets that module synchronously — the call is waiting,
// inside the engine — and instantiates it over that thread's instance of the primary module (its memory and table),
// which puts its functions in their table slots; the call then goes on. Later calls go straight to them. The glue
// keeps calling loadSplitModule for the few functions JS holds from before (Embind's bound methods): it returns at
// once then.
//
// The engine's thread reads the file (its worker may block; the page does not). Which one: the pair whose primary
// module runs, as the engine itself says (relaxedSimd()), whichever .wasm the worker was handed. In a browser, the
// threaded engine's pthreads take the bytes from the engine's thread instead, through the heap
// (tinylm_deferred_module_slot, wasm/bindings.cpp): a pthread's own request would wait on the engine's thread, which
// waits for it. Every thread of a parallel region runs the same task, so the engine's thread reads the module as its
// pthreads first need it, if it had not before. A deferred module that failed to arrive fails the call that needed it
// with a message naming the file, and the next such call tries again; the primary module keeps working meanwhile.
export type ReadDeferred = (relaxed: boolean) =>
  | { bytes: BufferSource }
  | { module: WebAssembly.Module }  // compiled already (a page's main thread may not compile synchronously)
  | { problem: string; file: string };

interface GlueModule {
  relaxedSimd?: () => boolean;  // the engine's binding, once it runs (its thread only)
  loadSplitModule?: (file: string, imports: WebAssembly.Imports) => void;
  printErr?: (text: string) => void;
  wasmMemory?: WebAssembly.Memory;  // the threaded engine's shared memory
  _malloc?: (bytes: number) => number;
  _tinylm_deferred_module_slot?: () => number;
}

export interface DeferredOptions {
  relaxed?: () => boolean;  // which pair, asked when the module is first needed; default: the engine's answer
  shareWithThreads?: boolean;  // the threaded engine in a browser: leave the bytes where its pthreads take them
}

// The glue's messages around each such call, meant for debugging the toolchain's splitting: not for a page's console.
const splitNotices = /^(placeholder function called: |instantiated deferred module, continuing$)/;
const kThreadPatienceMs = 60_000;  // how long a pthread waits for the engine's thread to read the module

// Module overrides for an engine's factory: the returned object must be the one passed to it (the glue adopts it as
// its Module).
export function withDeferredEngine<T extends object>(overrides: T, read: ReadDeferred, options: DeferredOptions = {}): T {
  const module = overrides as GlueModule;
  let loaded = false;
  let loading = false;
  module.loadSplitModule = (_file: string, imports: WebAssembly.Imports) => {
    if (loaded) return;
    if (loading || (!options.relaxed && typeof module.relaxedSimd !== 'function')) {
      throw new Error('tinylm-js: the engine called into its deferred module before it could say which one it needs');
    }
    loading = true;
    try {
      const result = read(options.relaxed ? options.relaxed() : module.relaxedSimd!());
      if ('problem' in result) {
        const message = `tinylm-js: the engine's deferred module ${result.file} could not be read (${result.problem}); it holds ` +
          'training, LoRA adapters, Hugging Face checkpoints, model files loaded with f16 or int8 weights, beam search and model ' +
          'export: serve it beside the engine\'s .wasm';
        console.error(message);  // also where an engine frame catching every exception hides it
        throw new Error(message);
      }
      new WebAssembly.Instance('module' in result ? result.module : new WebAssembly.Module(result.bytes), imports);
      if (options.shareWithThreads && 'bytes' in result) share(module, result.bytes);
      loaded = true;
    } finally {
      loading = false;
    }
  };
  module.printErr = (text: string) => {
    if (!splitNotices.test(text)) console.warn(text);
  };
  return overrides;
}

function slotOf(module: GlueModule): { words: Int32Array; at: number } {
  return { words: new Int32Array(module.wasmMemory!.buffer), at: module._tinylm_deferred_module_slot!() >>> 2 };
}

// The engine's thread: the bytes copied into the (shared) heap, their address and length stored, the waiting woken.
function share(module: GlueModule, bytes: BufferSource): void {
  const source = bytes instanceof ArrayBuffer ? new Uint8Array(bytes) : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const address = module._malloc!(source.length);
  new Uint8Array(module.wasmMemory!.buffer).set(source, address >>> 0);
  const { words, at } = slotOf(module);
  Atomics.store(words, at, address);
  Atomics.store(words, at + 1, source.length);
  Atomics.notify(words, at + 1);
}

// A browser pthread's read: the bytes the engine's thread left in the heap, waiting for them if it is reading them.
export function readFromEngineThread(module: object): ReadDeferred {
  const glue = module as GlueModule;
  return () => {
    const { words, at } = slotOf(glue);
    if (Atomics.load(words, at + 1) === 0) Atomics.wait(words, at + 1, 0, kThreadPatienceMs);
    const length = Atomics.load(words, at + 1);
    if (length === 0) return { problem: `the engine's thread did not read it in ${kThreadPatienceMs / 1000} s`, file: 'the deferred module' };
    const address = Atomics.load(words, at) >>> 0;
    return { bytes: new Uint8Array(glue.wasmMemory!.buffer).slice(address, address + length) };
  };
}

// A browser worker's read of one of the two files: a synchronous request (a worker may block; the page does not).
export function readInWorker(urls: { standard: URL; relaxed: URL }): ReadDeferred {
  return (relaxed) => {
    const file = (relaxed ? urls.relaxed : urls.standard).href;
    try {
      const request = new XMLHttpRequest();
      request.open('GET', file, false);
      request.responseType = 'arraybuffer';
      request.send();
      if (request.status !== 200) return { problem: `HTTP ${request.status}`, file };
      return { bytes: request.response as ArrayBuffer };
    } catch (error) {
      return { problem: String(error), file };
    }
  };
}
