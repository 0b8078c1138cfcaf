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
#   -fwasm-exceptions        tinylm::Error must be catchable at the Embind seam (bindings.cpp turns it into a JS
#                            Error). Native Wasm EH costs nothing on the non-throwing path, unlike -fexceptions'
#                            JS invoke wrappers around every call that may throw. Needs Chrome 95, Firefox 100,
#                            Safari 15.2, Node 17 or newer.
#   ALLOW_MEMORY_GROWTH + MAXIMUM_MEMORY=1GB
#                            models and training buffers grow the heap on demand, up to a cap that 32-bit
#                            browsers and phones can still reserve. The package checks a model against this cap
#                            before loading it (TINYLM_MAXIMUM_MEMORY is exported to the bindings as well).
#   MODULARIZE + EXPORT_ES6  one factory per engine instance, importable from a module worker and from Node
#   FILESYSTEM=0             model bytes arrive as typed arrays; no virtual file system is needed
#   --emit-symbol-map        keeps function names out of the shipped .wasm yet lets the SIMD test find kernels
set(TINYLM_WASM_MAXIMUM_MEMORY 1073741824)  # 1 GiB

target_compile_options(tinylm_core PUBLIC -fwasm-exceptions)

add_executable(tinylm_wasm wasm/bindings.cpp)
target_link_libraries(tinylm_wasm PRIVATE tinylm_core)
target_compile_definitions(tinylm_wasm PRIVATE TINYLM_MAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY})
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
  --emit-symbol-map)
