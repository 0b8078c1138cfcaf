# The WebAssembly engine: the same core sources as the native build plus wasm/bindings.cpp (Embind), linked into
# one ES module factory and its .wasm:
#
#   build-wasm/wasm/tinylm_wasm.js     glue: `export default createTinyLMEngine(moduleOverrides) → Promise<module>`
#   build-wasm/wasm/tinylm_wasm.wasm   the engine (SIMD128)
#   build-wasm/wasm/tinylm_wasm.js.symbols   function index → name, for tests/js/wasm_simd.test.mjs only
#
# `npm run build:lib` copies the .js and .wasm into dist/wasm/, next to the package's worker that loads them.
#
# Why these flags:
#   -O3 -msimd128 -msse4.1   speed; xsimd's SSE path becomes SIMD128 (set on tinylm_core by CMakeLists.txt)
#   -Oz on cold sources      size (TINYLM_WASM_SIZE_FLAGS, below): io/, tokenizer/, the n-gram model and the
#                            bindings run once per call or per file. Measured (gzip -9, bench/wasm/run.sh):
#                            .wasm 213 → 168 KB together with error.hpp's stream-free messages, no change in
#                            training or generation tokens/s. Linking with -Oz instead of -O3 saves 7 KB more but
#                            costs ~6% of tokens/s; --closure 1 needs a closure-compiler Emscripten 3.1.6 on
#                            Debian does not ship.
#   -fwasm-exceptions        tinylm::Error must be catchable at the Embind seam (bindings.cpp turns it into a JS
#                            Error). Native Wasm EH costs nothing on the non-throwing path, unlike -fexceptions'
#                            JS invoke wrappers around every call that may throw. Needs Chrome 95, Firefox 100,
#                            Safari 15.2, Node 17 or newer.
#   ALLOW_MEMORY_GROWTH + MAXIMUM_MEMORY=4GB
#                            models and training buffers grow the heap on demand, up to wasm32's whole address
#                            space, so a 360M-parameter checkpoint fits (0.7 GB held as F16, with its KV cache
#                            and evaluation buffers). Growth reserves nothing up front: a page that never loads a
#                            large model never grows past what it uses. Above 2 GB, pointers no longer fit JS's
#                            signed 32-bit integers: Emscripten then compiles the glue with unsigned pointers
#                            (CAN_ADDRESS_2GB, automatic), and the core caps requests at what wasm's 32-bit size_t
#                            counts (memory_limits.cpp). The package checks a model against this cap before
#                            loading it (TINYLM_MAXIMUM_MEMORY is exported to the bindings as well).
#   MODULARIZE + EXPORT_ES6  one factory per engine instance, importable from a module worker and from Node
#   FILESYSTEM=0             model bytes arrive as typed arrays; no virtual file system is needed
#   INCOMING_MODULE_JS_API   the only Module overrides anyone passes (engine.ts, bench): the glue drops the code
#                            that reads the rest
#   --emit-symbol-map        keeps function names out of the shipped .wasm yet lets the SIMD test find kernels
#   DYNAMIC_EXECUTION=0      no eval or new Function in the glue (Embind's invokers become plain closures), so a
#                            page with a strict Content-Security-Policy (no 'unsafe-eval') can run the engine;
#                            tests/js/csp.test.mjs checks the glue and runs it with code generation disallowed
set(TINYLM_WASM_MAXIMUM_MEMORY 4294967296)  # 4 GiB: wasm32's limit
set(TINYLM_WASM_SIZE_FLAGS -Oz CACHE STRING "Optimisation flags for the wasm build's cold sources (io, tokenizers, bindings)")

target_compile_options(tinylm_core PUBLIC -fwasm-exceptions)

# Size: code on the per-step and per-token paths (kernels, layers, models, sampler, trainer, optimizer) keeps
# -O3; code that runs once per call or per file (model files and JSON, tokenizers, the Embind seam) is compiled
# for size, where it weighs most and costs nothing measurable.
foreach(core_source ${TINYLM_CORE_SOURCES} wasm/bindings.cpp)
  if(core_source MATCHES "/native/src/(io|tokenizer)/|/models/(ngram|model_common)[.]cpp$|bindings[.]cpp$")
    set_source_files_properties(${core_source} PROPERTIES COMPILE_OPTIONS "${TINYLM_WASM_SIZE_FLAGS}")
  endif()
endforeach()

add_executable(tinylm_wasm wasm/bindings.cpp)
target_link_libraries(tinylm_wasm PRIVATE tinylm_core)
# The core sizes every request against the cap (native/src/memory_limits.hpp), the bindings name it in errors.
target_compile_definitions(tinylm_core PUBLIC TINYLM_MAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY})
set_target_properties(tinylm_wasm PROPERTIES
  SUFFIX ".js"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm")
target_link_options(tinylm_wasm PRIVATE
  -O3
  -msimd128
  -fwasm-exceptions
  --bind
  -sMODULARIZE=1
  -sEXPORT_ES6=1
  -sEXPORT_NAME=createTinyLMEngine
  -sENVIRONMENT=web,worker,node
  -sALLOW_MEMORY_GROWTH=1
  -sMAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY}
  -sFILESYSTEM=0
  "-sINCOMING_MODULE_JS_API=[wasmBinary,locateFile]"
  -sDYNAMIC_EXECUTION=0
  --emit-symbol-map)

# ---- benchmark (not shipped): bench/native/bench_kernels.cpp as a plain Node program -------------------------
# build-*/wasm/bench_kernels_wasm.cjs (CommonJS: package.json says "type": "module") prints the same rows as the
# native bench_kernels: the WASM SIMD peak (mul+add chains on xsimd::batch<float>; wasm has no FMA, xsimd
# emulates it) and SGEMM GFLOP/s.
# Run it as `node --no-experimental-fetch build-wasm/wasm/bench_kernels_wasm.cjs [--json]` (Node's fetch cannot
# read the .wasm from a path). Used by bench/wasm/run.sh; not part of the default build. --profiling-funcs keeps
# function names in stack traces.
add_executable(bench_kernels_wasm EXCLUDE_FROM_ALL bench/native/bench_kernels.cpp)
target_link_libraries(bench_kernels_wasm PRIVATE tinylm_core)
set_target_properties(bench_kernels_wasm PROPERTIES
  SUFFIX ".cjs"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm")
target_link_options(bench_kernels_wasm PRIVATE
  -O3 -msimd128 -fwasm-exceptions --profiling-funcs -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY})
