// Prepended to the threaded engine's glue (wasm/wasm.cmake: --extern-pre-js). The glue reads `__filename` when
// it is defined (CommonJS); declared here, in the module's own scope, it is a plain undefined variable, so no
// bundler rewrites `typeof __filename` to "string" and leaves a bare `__filename` that throws in browsers
// (webpack 5). Every loader passes locateFile (and Node mainScriptUrlOrBlob), so the glue never needs its own path.
var __filename;
