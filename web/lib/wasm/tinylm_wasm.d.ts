// The Emscripten glue built by wasm/wasm.cmake and copied to dist/wasm/ by `npm run build:lib`: an ES module whose
// default export creates one engine instance. Only `wasmBinary` and `locateFile` are read from the overrides.
declare const createTinyLMEngine: (overrides: Record<string, unknown>) => Promise<unknown>;
export default createTinyLMEngine;
