# The WebAssembly engines: the same core sources as the native build plus the Embind bindings (wasm/bindings*.cpp,
# one file per area they bind; bindings.cpp holds the seam's contract), linked into one ES module factory and its
# .wasm each, twice:
#
#   build-wasm/wasm/tinylm_wasm.js     glue: `export default createTinyLMEngine(moduleOverrides) → Promise<module>`
#   build-wasm/wasm/tinylm_wasm.wasm   the engine (SIMD128), one thread: runs on every page. Each engine's .wasm is
#                                      what running a model calls; its <engine>.deferred.wasm beside it, the rest
#                                      ("the engines, split" below)
#   build-wasm/wasm/tinylm_wasm.js.symbols   function index → name of the whole engine (<engine>.wasm.orig), for
#                                            tests/js/wasm_simd.test.mjs and npm run size
#
#   build-wasm/wasm/threads/tinylm_wasm_threads.mjs        the same factory for the threaded engine (pthreads)
#   build-wasm/wasm/threads/tinylm_wasm_threads.wasm       the engine over a shared memory: needs SharedArrayBuffer,
#                                                          i.e. a cross-origin isolated page, a worker of one, or Node
#   build-wasm/wasm/threads/tinylm_wasm_threads.worker.js  the script each pthread Worker runs (a classic script;
#                                                          Node's, with wasm/pthread_deferred.js appended)
#
#   build-wasm/wasm/tinylm_wasm_relaxed.wasm                  each engine again, its kernels' multiply-adds relaxed
#   build-wasm/wasm/threads/tinylm_wasm_threads_relaxed.wasm  SIMD's f32x4.relaxed_madd (fused where the machine has
#                                                             FMA): loaded instead where WebAssembly.validate accepts
#                                                             relaxed SIMD (web/lib/relaxed_simd.ts). Only the .wasm
#                                                             ships: the glue is byte for byte the standard one (the
#                                                             build checks it), which fetches whichever .wasm its
#                                                             locateFile names.
#
# `npm run build:lib` copies the .js and .wasm into dist/wasm/, next to the package's worker that loads them.
#
# Why these flags:
#   -O3 -msimd128 -msse4.1   speed; xsimd 8.1 has no wasm architecture: its SSE path becomes SIMD128
#   -Oz on cold sources      size (TINYLM_WASM_SIZE_FLAGS, below): io/, tokenizer/, the n-gram model, model
#                            configs, training checkpoints, LoRA adapter files, saved sessions, memory limits and
#                            the bindings run once per call or per file. Measured (gzip -9, bench/wasm/run.sh):
#                            .wasm 213 → 168 KB together with error.hpp's stream-free messages, no change in
#                            training or generation tokens/s; configs to memory limits, 301.7 → 292.9 KB more.
#                            Linking with -Oz instead of -O3 saves 7 KB more but costs ~6% of tokens/s;
#                            --closure 1 needs a closure-compiler Emscripten 3.1.6 on Debian does not ship.
#   -fwasm-exceptions        tinylm::Error must be catchable at the Embind seam (seam.hpp turns it into a JS
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
#                            that reads the rest. instantiateWasm: browsers' engine workers instantiate the module
#                            the page compiled while the worker started (web/lib/engine_module.ts)
#   --emit-symbol-map        keeps function names out of the shipped .wasm yet lets the SIMD test find kernels
#   DYNAMIC_EXECUTION=0      no eval or new Function in the glue (Embind's invokers become plain closures), so a
#                            page with a strict Content-Security-Policy (no 'unsafe-eval') can run the engine;
#                            tests/js/csp.test.mjs checks the glue and runs it with code generation disallowed
#
# The threaded engine adds:
#   -pthread                 atomics and a shared memory; std::thread is an Emscripten pthread on a Web Worker
#                            (Node: a worker_threads Worker) running tinylm_wasm_threads.worker.js
#   PTHREAD_POOL_SIZE        the pthread Workers started, and loaded, before the factory's promise resolves:
#                            createTinyLMEngine({ tinylmThreads: n }) starts n − 1, at least 1 (with none,
#                            Emscripten 3.1.6's loader waits forever for a Worker to report in). A pthread can only
#                            start on a Worker loaded beforehand (starting one later needs the caller to return to
#                            the event loop, which a blocking engine call never does), so these are the most
#                            setThreadCount() can use. Browsers' engine worker does not wait for them to load
#                            (web/lib/pool_start.ts): it computes on 1 thread until they have.
#   PTHREAD_POOL_SIZE_STRICT=2  a thread asked for beyond those Workers fails to start (EAGAIN) instead of waiting
#                            forever; the thread pool then runs with the threads that did start (thread_pool.hpp)
#   mainScriptUrlOrBlob      (Module override) where each pthread Worker imports the glue from; without it, the
#                            glue next to the worker script
#   USE_ES6_IMPORT_META=0    the glue names no file by `new URL(…, import.meta.url)`: every loader passes
#                            locateFile, and a bundler would otherwise try to emit Emscripten's pthread script, which
#                            browsers never run (the package's own worker_pthread.ts runs each thread there)
#   --extern-pre-js          wasm/threads_prelude.js: keeps webpack from breaking the glue's `__filename` test
set(TINYLM_WASM_MAXIMUM_MEMORY 4294967296)  # 4 GiB: wasm32's limit
find_program(TINYLM_NODE node REQUIRED)  # the build steps after linking (pthread script, relaxed_madd, split) run in it
set(TINYLM_WASM_SIZE_FLAGS -Oz CACHE STRING "Optimisation flags for the wasm build's cold sources (io, tokenizers, bindings)")

set(TINYLM_SIMD_FLAGS -msimd128 -msse4.1)

# Size: code on the per-step and per-token paths (kernels, layers, models, sampler, trainer, optimizer) keeps
# -O3; code that runs once per call or per file (model files and JSON, configs, checkpoints, adapter files, saved
# sessions, tokenizers, the Embind seam) is compiled for size, where it weighs most and costs nothing measurable.
set(TINYLM_WASM_SPEED_SOURCES)
set(TINYLM_WASM_SIZE_SOURCES)
foreach(core_source ${TINYLM_CORE_SOURCES})
  if(core_source MATCHES "/native/src/(io|tokenizer)/|/models/(ngram|ngram_file|model_common|gpt_config|llama_config|recurrent_config)[.]cpp$"
     OR core_source MATCHES "/(train/checkpoint|lora/adapter_(file|set)|generate/session|memory_limits)[.]cpp$")
    list(APPEND TINYLM_WASM_SIZE_SOURCES ${core_source})
  else()
    list(APPEND TINYLM_WASM_SPEED_SOURCES ${core_source})
  endif()
endforeach()
# The SIMD kernels (native/src/kernels/, not their scalar references) are the only sources relaxed SIMD changes:
# simd::multiply_add (simd.hpp) is its one use. The relaxed engines' cores compile these again and share every other
# object with their standard cores.
set(TINYLM_WASM_KERNEL_SOURCES ${TINYLM_WASM_SPEED_SOURCES})
list(FILTER TINYLM_WASM_KERNEL_SOURCES INCLUDE REGEX "/native/src/kernels/[a-z_]+[.]cpp$")
list(FILTER TINYLM_WASM_KERNEL_SOURCES EXCLUDE REGEX "_ref[.]cpp$")
set(TINYLM_WASM_OTHER_SPEED_SOURCES ${TINYLM_WASM_SPEED_SOURCES})
list(REMOVE_ITEM TINYLM_WASM_OTHER_SPEED_SOURCES ${TINYLM_WASM_KERNEL_SOURCES})
set(TINYLM_WASM_BINDING_SOURCES wasm/bindings.cpp wasm/bindings_hf.cpp wasm/bindings_inspect.cpp wasm/bindings_train.cpp
    wasm/bindings_generate.cpp wasm/bindings_session.cpp wasm/bindings_lora.cpp)

# Compile time: the standard headers, nlohmann/json and xsimd (through kernels/simd.hpp, which must precede it) are
# parsed once per part of each core rather than once per source, and Embind's headers once per engine's bindings.
# A precompiled header only serves sources compiled with its own optimisation flags (clang refuses an -O3 header in
# an -Oz source), hence a part per flag group: each core is its -O3 sources plus an object library of its -Oz ones.
# The native Release build precompiles nothing in the core, so a source that misses an #include still fails there.
set(TINYLM_WASM_CORE_PRECOMPILED <algorithm> <cmath> <cstdint> <cstring> <functional> <map> <memory> <string>
    <unordered_map> <vector> <nlohmann/json.hpp> "${CMAKE_SOURCE_DIR}/native/src/kernels/simd.hpp")
set(TINYLM_WASM_BINDINGS_PRECOMPILED <emscripten/bind.h> <emscripten/val.h> <nlohmann/json.hpp> <algorithm> <memory>
    <string> <vector>)
function(tinylm_add_wasm_core target)  # ARGN: the engine's compile options, passed on to whatever links the core
  tinylm_add_core(${target}_size OBJECT ${TINYLM_WASM_SIZE_SOURCES})
  tinylm_add_core(${target}_speed OBJECT ${TINYLM_WASM_OTHER_SPEED_SOURCES})
  tinylm_add_core(${target} STATIC ${TINYLM_WASM_KERNEL_SOURCES} $<TARGET_OBJECTS:${target}_speed>
                  $<TARGET_OBJECTS:${target}_size>)
  foreach(part ${target} ${target}_speed ${target}_size)
    target_compile_options(${part} PUBLIC ${ARGN})
    # The core sizes every request against the cap (native/src/memory_limits.hpp), the bindings name it in errors.
    target_compile_definitions(${part} PUBLIC TINYLM_MAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY})
    target_precompile_headers(${part} PRIVATE ${TINYLM_WASM_CORE_PRECOMPILED})
  endforeach()
  target_compile_options(${target}_size PRIVATE ${TINYLM_WASM_SIZE_FLAGS})
endfunction()
# A relaxed engine's core: its standard core's SIMD kernels compiled again with relaxed SIMD, linked with the
# standard core's other objects (the same code with or without -mrelaxed-simd, as nothing else uses it).
function(tinylm_add_wasm_relaxed_core target standard)  # ARGN: the standard core's compile options
  tinylm_add_core(${target} STATIC ${TINYLM_WASM_KERNEL_SOURCES} $<TARGET_OBJECTS:${standard}_speed>
                  $<TARGET_OBJECTS:${standard}_size>)
  target_compile_options(${target} PUBLIC ${ARGN} -mrelaxed-simd)
  target_compile_definitions(${target} PUBLIC TINYLM_MAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY})
  target_precompile_headers(${target} PRIVATE ${TINYLM_WASM_CORE_PRECOMPILED})
endfunction()
tinylm_add_wasm_core(tinylm_core ${TINYLM_SIMD_FLAGS} -fwasm-exceptions)
tinylm_add_wasm_core(tinylm_core_threads ${TINYLM_SIMD_FLAGS} -fwasm-exceptions -pthread)
tinylm_add_wasm_relaxed_core(tinylm_core_relaxed tinylm_core ${TINYLM_SIMD_FLAGS} -fwasm-exceptions)
tinylm_add_wasm_relaxed_core(tinylm_core_threads_relaxed tinylm_core_threads ${TINYLM_SIMD_FLAGS} -fwasm-exceptions -pthread)

set(TINYLM_WASM_LINK_OPTIONS
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
  -sDYNAMIC_EXECUTION=0
  --emit-symbol-map)

add_executable(tinylm_wasm ${TINYLM_WASM_BINDING_SOURCES})
target_link_libraries(tinylm_wasm PRIVATE tinylm_core)
target_compile_options(tinylm_wasm PRIVATE ${TINYLM_WASM_SIZE_FLAGS})
target_precompile_headers(tinylm_wasm PRIVATE ${TINYLM_WASM_BINDINGS_PRECOMPILED})
set_target_properties(tinylm_wasm PROPERTIES
  SUFFIX ".js"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm")
target_link_options(tinylm_wasm PRIVATE ${TINYLM_WASM_LINK_OPTIONS} -sSPLIT_MODULE=1
  "-sINCOMING_MODULE_JS_API=[wasmBinary,locateFile,instantiateWasm,loadSplitModule,printErr]")

# Wasm exceptions under pthreads: clang 14's landing pads address __wasm_lpad_context, the record through which
# they and the personality function agree on which catch clause matched, as a plain global, while Emscripten
# 3.1.6's threaded libunwind defines it thread_local (clang learned to match in LLVM 15). The two then read and
# write different memory, and every typed catch (the bindings' seam, the model-file readers) misses: errors reach
# JS as "unknown". So the threaded engine links its own build of Emscripten's Unwind-wasm.c, compiled in place from
# the toolchain with thread_local removed; the library's copy is then never pulled in. One context for all threads
# is safe here: catch (...) pads (the thread pool's) never touch it, and typed catches run on the calling thread only.
enable_language(C)
set(TINYLM_UNWIND_SOURCE "${EMSCRIPTEN_ROOT_PATH}/system/lib/libunwind/src/Unwind-wasm.c")
add_library(tinylm_unwind_threads OBJECT "${TINYLM_UNWIND_SOURCE}")
target_include_directories(tinylm_unwind_threads PRIVATE "${EMSCRIPTEN_ROOT_PATH}/system/lib/libunwind/include")
target_compile_definitions(tinylm_unwind_threads PRIVATE _Thread_local= __USING_WASM_EXCEPTIONS__ NDEBUG
                           _LIBUNWIND_DISABLE_VISIBILITY_ANNOTATIONS)
target_compile_options(tinylm_unwind_threads PRIVATE -Oz -fwasm-exceptions -pthread)

add_executable(tinylm_wasm_threads ${TINYLM_WASM_BINDING_SOURCES} $<TARGET_OBJECTS:tinylm_unwind_threads>)
target_link_libraries(tinylm_wasm_threads PRIVATE tinylm_core_threads)
target_compile_options(tinylm_wasm_threads PRIVATE -pthread ${TINYLM_WASM_SIZE_FLAGS})
target_precompile_headers(tinylm_wasm_threads PRIVATE ${TINYLM_WASM_BINDINGS_PRECOMPILED})
set_target_properties(tinylm_wasm_threads PROPERTIES
  SUFFIX ".mjs"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm/threads")
# The pthread worker script is CommonJS under Node (it calls require), and Node reads a .js file by the nearest
# package.json, which for this repository says "type": "module": a folder of its own says "commonjs", and the glue,
# an ES module either way, is .mjs. No loader then needs to rename or locate anything.
file(WRITE "${CMAKE_BINARY_DIR}/wasm/threads/package.json" "{ \"type\": \"commonjs\" }\n")
target_link_options(tinylm_wasm_threads PRIVATE ${TINYLM_WASM_LINK_OPTIONS} -pthread
  "-sPTHREAD_POOL_SIZE=Math.max(1,(Module.tinylmThreads|0)-1)"
  -sPTHREAD_POOL_SIZE_STRICT=2
  -sUSE_ES6_IMPORT_META=0
  "--extern-pre-js=${CMAKE_SOURCE_DIR}/wasm/threads_prelude.js"
  -sSPLIT_MODULE=1 -sGLOBAL_BASE=4096
  "-sINCOMING_MODULE_JS_API=[wasmBinary,locateFile,mainScriptUrlOrBlob,instantiateWasm,tinylmThreads,loadSplitModule,printErr]")
# Emscripten's pthread script (the one Node's pthreads run) gets the deferred module's loader its glue calls
# (wasm/pthread_deferred.js; the package's own pthread worker in browsers gives its own, web/lib/worker_pthread.ts).
set_property(TARGET tinylm_wasm_threads APPEND PROPERTY LINK_DEPENDS "${CMAKE_SOURCE_DIR}/wasm/pthread_deferred.js")
add_custom_command(TARGET tinylm_wasm_threads POST_BUILD
  COMMAND "${TINYLM_NODE}" -e "require('fs').appendFileSync(process.argv[1], require('fs').readFileSync(process.argv[2]))"
          "${CMAKE_BINARY_DIR}/wasm/threads/tinylm_wasm_threads.worker.js" "${CMAKE_SOURCE_DIR}/wasm/pthread_deferred.js"
  VERBATIM)

# ---- the relaxed engines ----------------------------------------------------------------------------------------
# Each is linked as its standard engine is, from its relaxed core, under the standard engine's file names in a
# folder relaxed/ next to them, so that its glue names the same .wasm and can be compared with the standard glue
# byte for byte (and the threaded engine's pthread script with the standard one): the build fails if they differ,
# since the package loads either .wasm with the standard glue. wasm/relaxed_madd.mjs then re-encodes the prototype
# opcode clang 14 emits as the standard relaxed_madd into the shipped file, <engine>_relaxed.wasm beside the
# standard .wasm. Only the cores' SIMD kernels compile again (tinylm_add_wasm_relaxed_core); the bindings compile
# with relaxed SIMD too (the core's options are public), so they precompile their own headers. When this layout came
# in, the shipped .wasm were byte for byte those of relaxed cores compiled whole, and a clean `npm run build:wasm`
# (-j2) took 311 s of CPU (2 min 39 s wall), against 509 s when the relaxed cores compiled every source.
find_program(TINYLM_WASM_DIS wasm-dis REQUIRED)
function(tinylm_add_relaxed_engine target standard core)  # ARGN: further outputs whose bytes must match too
  foreach(property SOURCES COMPILE_OPTIONS LINK_OPTIONS SUFFIX RUNTIME_OUTPUT_DIRECTORY)
    get_target_property(${property} ${standard} ${property})
  endforeach()
  add_executable(${target} ${SOURCES})
  target_link_libraries(${target} PRIVATE ${core})
  target_compile_options(${target} PRIVATE ${COMPILE_OPTIONS})
  target_precompile_headers(${target} PRIVATE ${TINYLM_WASM_BINDINGS_PRECOMPILED})
  set_target_properties(${target} PROPERTIES
    OUTPUT_NAME ${standard}
    SUFFIX ${SUFFIX}
    RUNTIME_OUTPUT_DIRECTORY "${RUNTIME_OUTPUT_DIRECTORY}/relaxed")
  target_link_options(${target} PRIVATE ${LINK_OPTIONS})
  set(compare)
  foreach(output ${standard}${SUFFIX} ${ARGN})
    list(APPEND compare COMMAND "${CMAKE_COMMAND}" -E compare_files "${RUNTIME_OUTPUT_DIRECTORY}/relaxed/${output}"
         "${RUNTIME_OUTPUT_DIRECTORY}/${output}")
  endforeach()
  set(compared "${RUNTIME_OUTPUT_DIRECTORY}/relaxed/${standard}.glue-compared")
  add_custom_command(OUTPUT "${compared}"
    ${compare}
    COMMAND "${CMAKE_COMMAND}" -E touch "${compared}"
    DEPENDS ${target} ${standard}
    COMMENT "Comparing ${target}'s glue with ${standard}'s")
  add_custom_target(${target}_compared ALL DEPENDS "${compared}")
endfunction()
tinylm_add_relaxed_engine(tinylm_wasm_relaxed tinylm_wasm tinylm_core_relaxed)
tinylm_add_relaxed_engine(tinylm_wasm_threads_relaxed tinylm_wasm_threads tinylm_core_threads_relaxed
                          tinylm_wasm_threads.worker.js)
set_property(TARGET tinylm_wasm_threads_relaxed APPEND PROPERTY LINK_DEPENDS "${CMAKE_SOURCE_DIR}/wasm/pthread_deferred.js")
add_custom_command(TARGET tinylm_wasm_threads_relaxed POST_BUILD
  COMMAND "${TINYLM_NODE}" -e "require('fs').appendFileSync(process.argv[1], require('fs').readFileSync(process.argv[2]))"
          "${CMAKE_BINARY_DIR}/wasm/threads/relaxed/tinylm_wasm_threads.worker.js" "${CMAKE_SOURCE_DIR}/wasm/pthread_deferred.js"
  VERBATIM)

# ---- the engines, split ------------------------------------------------------------------------------------------
# wasm/split_engine.mjs splits each engine in two, in place: <engine>.wasm becomes what loading and running a tinylm
# model file calls (recorded by running the engine on the shipped models, wasm/split_profile.mjs), and
# <engine>.deferred.wasm beside it the rest (training, LoRA, Hugging Face checkpoints, beam search, export), which the
# package instantiates the first time the engine calls into it (web/lib/deferred_engine.ts). -sSPLIT_MODULE (above)
# makes the glue route such calls to Module.loadSplitModule, and leaves the whole engine in <engine>.wasm.orig, which
# the symbol maps describe. A relaxed engine is split from its relaxed/ link and both its parts re-encoded
# (wasm/relaxed_madd.mjs): <engine>_relaxed.wasm and <engine>_relaxed.deferred.wasm. The threaded engines record
# their profile in memory below their data (-sGLOBAL_BASE=4096, above), so that their pthreads' calls count.
find_program(TINYLM_WASM_SPLIT wasm-split REQUIRED)  # binaryen's, as wasm-dis: split_engine.mjs runs both from PATH
file(GLOB TINYLM_SHIPPED_MODELS "${CMAKE_SOURCE_DIR}/models/*.safetensors")
function(tinylm_split_engine name glue whole linked)  # ARGN: split_engine.mjs's flags
  get_filename_component(folder "${glue}" DIRECTORY)
  add_custom_command(OUTPUT "${folder}/${name}.deferred.wasm"
    BYPRODUCTS "${folder}/${name}.wasm"
    COMMAND "${TINYLM_NODE}" "${CMAKE_SOURCE_DIR}/wasm/split_engine.mjs" "${glue}" "${whole}" "${CMAKE_SOURCE_DIR}/models"
            "${folder}/${name}.wasm" ${ARGN}
    DEPENDS ${linked} "${CMAKE_SOURCE_DIR}/wasm/split_engine.mjs" "${CMAKE_SOURCE_DIR}/wasm/split_profile.mjs"
            "${CMAKE_SOURCE_DIR}/wasm/relaxed_madd.mjs" ${TINYLM_SHIPPED_MODELS}
    COMMENT "Splitting ${name} into what running a model calls and the rest")
  add_custom_target(${name}_split ALL DEPENDS "${folder}/${name}.deferred.wasm")
endfunction()
set(single "${CMAKE_BINARY_DIR}/wasm")
set(threads "${CMAKE_BINARY_DIR}/wasm/threads")
tinylm_split_engine(tinylm_wasm "${single}/tinylm_wasm.js" "${single}/tinylm_wasm.wasm.orig" tinylm_wasm)
tinylm_split_engine(tinylm_wasm_relaxed "${single}/tinylm_wasm.js" "${single}/relaxed/tinylm_wasm.wasm.orig"
                    "${single}/relaxed/tinylm_wasm.glue-compared" --relaxed)
tinylm_split_engine(tinylm_wasm_threads "${threads}/tinylm_wasm_threads.mjs" "${threads}/tinylm_wasm_threads.wasm.orig"
                    tinylm_wasm_threads --threads "${threads}/tinylm_wasm_threads.worker.js")
tinylm_split_engine(tinylm_wasm_threads_relaxed "${threads}/tinylm_wasm_threads.mjs"
                    "${threads}/relaxed/tinylm_wasm_threads.wasm.orig" "${threads}/relaxed/tinylm_wasm_threads.glue-compared"
                    --relaxed --threads "${threads}/tinylm_wasm_threads.worker.js")

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

# ---- benchmark (not shipped): bench/native/bench_q8.cpp in Node -----------------------------------------------
# `node --no-experimental-fetch build-wasm/wasm/bench_q8_wasm.cjs [tokens]`: the int8 products over packed panels in
# each register tile, alternated in one process (the rows bench_q8 prints natively).
add_executable(bench_q8_wasm EXCLUDE_FROM_ALL bench/native/bench_q8.cpp)
target_link_libraries(bench_q8_wasm PRIVATE tinylm_core)
set_target_properties(bench_q8_wasm PROPERTIES
  SUFFIX ".cjs"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm")
target_link_options(bench_q8_wasm PRIVATE
  -O3 -msimd128 -fwasm-exceptions -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY})

# ---- benchmark (not shipped): bench/native/bench_threads.cpp on the threaded engine's pool -----------------------
# build-*/wasm/threads/bench_threads_wasm.cjs prints the native bench_threads' rows for WebAssembly threads: an empty
# parallel region's round trip while the workers spin and after they fell asleep (Atomics.wait/notify underneath),
# and split matrix products against one thread. Run it as
# `node --no-experimental-fetch build-wasm/wasm/threads/bench_threads_wasm.cjs [--threads N] [--json]`; its pthread
# Workers are started before main() (PTHREAD_POOL_SIZE), so main() may block while they compute, and are ended when
# it returns (EXIT_RUNTIME: Node would otherwise wait for them).
add_executable(bench_threads_wasm EXCLUDE_FROM_ALL bench/native/bench_threads.cpp $<TARGET_OBJECTS:tinylm_unwind_threads>)
target_link_libraries(bench_threads_wasm PRIVATE tinylm_core_threads)
target_compile_options(bench_threads_wasm PRIVATE -pthread)
set_target_properties(bench_threads_wasm PROPERTIES
  SUFFIX ".cjs"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm/threads")
target_link_options(bench_threads_wasm PRIVATE
  -O3 -msimd128 -fwasm-exceptions -pthread -sPTHREAD_POOL_SIZE=4 -sEXIT_RUNTIME=1 --profiling-funcs -sENVIRONMENT=node,worker
  -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY})

# ---- test (npm test, tests/js/wasm_kernels.test.mjs): the kernel tests on the shipped kernels' code path ----------
# The engines run xsimd's 4-float path lowered to SIMD128, which a native build on an AVX2 or AVX-512 host never
# compiles (sgemv reads rows one at a time there, eight-row tiles on wider registers), so the native suite alone
# would not check the code browsers run. The kernel tests (every kernel against its scalar reference, at every tile
# edge) are built again with the single-thread engine's core and run under Node. -O1 for the test sources, as the
# native suite compiles them: doctest's expanded assertions are slow to optimize and the kernels keep their -O3.
add_executable(tinylm_kernel_tests_wasm tests/native/main.cpp tests/native/test_matrix_product_kernels.cpp
    tests/native/test_elementwise_kernels.cpp tests/native/test_gemm_few_rows.cpp tests/native/test_quantized_panels.cpp
    tests/native/test_transformer_kernels.cpp tests/native/test_llama_kernels.cpp)
target_link_libraries(tinylm_kernel_tests_wasm PRIVATE tinylm_core)
target_compile_options(tinylm_kernel_tests_wasm PRIVATE -O1)
set_target_properties(tinylm_kernel_tests_wasm PROPERTIES
  SUFFIX ".cjs"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm")
target_link_options(tinylm_kernel_tests_wasm PRIVATE
  -O1 -msimd128 -fwasm-exceptions -sENVIRONMENT=node -sALLOW_MEMORY_GROWTH=1 -sMAXIMUM_MEMORY=${TINYLM_WASM_MAXIMUM_MEMORY}
  -sEXIT_RUNTIME=1)
# The same tests on the relaxed engines' kernels (the relaxed core), their multiply-adds re-encoded in place after
# each link; tests/js/wasm_kernels.test.mjs runs them where Node validates relaxed SIMD.
add_executable(tinylm_kernel_tests_wasm_relaxed $<TARGET_PROPERTY:tinylm_kernel_tests_wasm,SOURCES>)
target_link_libraries(tinylm_kernel_tests_wasm_relaxed PRIVATE tinylm_core_relaxed)
target_compile_options(tinylm_kernel_tests_wasm_relaxed PRIVATE -O1)
set_target_properties(tinylm_kernel_tests_wasm_relaxed PROPERTIES
  SUFFIX ".cjs"
  RUNTIME_OUTPUT_DIRECTORY "${CMAKE_BINARY_DIR}/wasm")
target_link_options(tinylm_kernel_tests_wasm_relaxed PRIVATE $<TARGET_PROPERTY:tinylm_kernel_tests_wasm,LINK_OPTIONS>)
add_custom_command(TARGET tinylm_kernel_tests_wasm_relaxed POST_BUILD
  COMMAND "${TINYLM_NODE}" "${CMAKE_SOURCE_DIR}/wasm/relaxed_madd.mjs" "${CMAKE_BINARY_DIR}/wasm/tinylm_kernel_tests_wasm_relaxed.wasm"
          "${CMAKE_BINARY_DIR}/wasm/tinylm_kernel_tests_wasm_relaxed.wasm" "${TINYLM_WASM_DIS}")
