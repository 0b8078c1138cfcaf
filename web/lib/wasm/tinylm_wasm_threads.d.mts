// The threaded engine's Emscripten glue (wasm/wasm.cmake, Emscripten pthreads), copied to dist/wasm/ by
// `npm run build:lib`: an ES module whose default export creates one engine instance, on the main side or, given
// a pthread's module object, on one of its threads. Reads wasmBinary, locateFile, mainScriptUrlOrBlob,
// instantiateWasm and tinylmThreads (the threads the engine starts with) from the overrides.
declare const createTinyLMThreadedEngine: (overrides: Record<string, unknown>) => Promise<unknown>;
export default createTinyLMThreadedEngine;
