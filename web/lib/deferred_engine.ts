// The single-thread engine comes in two modules (wasm/split_engine.mjs): tinylm_wasm.wasm, what loading and running
// a tinylm model file calls, and tinylm_wasm.deferred.wasm, the rest — training, LoRA adapters, Hugging Face
// checkpoints, models created from scratch, beam search, exporting a model (each build's relaxed SIMD engine has its
// own pair). A page that only runs a model never downloads the second.
//
// The first time the engine calls a function of the deferred module, the glue (built with -sSPLIT_MODULE) calls
// Module.loadSplitModule, given here: it reads that module synchronously — the call is waiting, inside the engine —
// and instantiates it over the primary module's memory and table, which puts its functions in their table slots;
// the call then goes on. Later calls go straight to them. The glue keeps calling loadSplitModule for the few
// functions JS holds from before (Embind's bound methods): it returns at once then.
//
// Which pair: the one whose primary module runs, as the engine itself says (relaxedSimd(), primary code), whichever
// .wasm the worker was handed. A deferred module that failed to arrive fails the call that needed it with a message
// naming the file, and the next such call tries again; the primary module keeps working meanwhile.
// The deferred module for the primary that runs (relaxed SIMD's or the standard one): its bytes, or compiled already
// (a page's main thread may not compile a module synchronously), or what went wrong reading which file.
export type ReadDeferred = (relaxed: boolean) =>
  | { bytes: BufferSource }
  | { module: WebAssembly.Module }
  | { problem: string; file: string };

interface GlueModule {
  relaxedSimd?: () => boolean;  // the engine's binding, once it runs
  loadSplitModule?: (file: string, imports: WebAssembly.Imports) => void;
  printErr?: (text: string) => void;
}

// The glue's messages around each such call, meant for debugging the toolchain's splitting: not for a page's console.
const splitNotices = /^(placeholder function called: |instantiated deferred module, continuing$)/;

// Module overrides for the single-thread engine's factory: the returned object must be the one passed to it (the glue
// adopts it as its Module, whose relaxedSimd() the loader asks).
export function withDeferredEngine<T extends object>(overrides: T, read: ReadDeferred): T {
  const module = overrides as GlueModule;
  let loaded = false;
  let loading = false;
  module.loadSplitModule = (_file: string, imports: WebAssembly.Imports) => {
    if (loaded) return;
    if (loading || typeof module.relaxedSimd !== 'function') {
      throw new Error('tinylm-js: the engine called into its deferred module before it could say which one it needs');
    }
    loading = true;
    try {
      const result = read(module.relaxedSimd());
      if ('problem' in result) {
        const message = `tinylm-js: the engine's deferred module ${result.file} could not be read (${result.problem}); it holds ` +
          'training, LoRA adapters, Hugging Face checkpoints, beam search and model export: serve it beside the engine\'s .wasm';
        console.error(message);  // also where an engine frame catching every exception hides it
        throw new Error(message);
      }
      new WebAssembly.Instance('module' in result ? result.module : new WebAssembly.Module(result.bytes), imports);
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
