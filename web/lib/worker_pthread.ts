// The part of one thread of the threaded engine in browsers: what Emscripten 3.1.6's pthread script
// (tinylm_wasm_threads.worker.js, used in Node) runs. It is not a script of its own: each pthread Worker runs the
// engine worker's script again, worker_browser_threads.js, under the name that gives it this part
// (worker_pthread_start.ts), so a page downloads the threaded glue once and its cache serves the rest. Protocol (the
// glue's PThread, main side): 'load' { wasmModule, wasmMemory } instantiates the module over the shared memory; 'run'
// { start_routine, arg, threadInfoStruct, time } runs one thread to its end; the queue commands run calls
// proxied to this thread. Unknown commands are reported, as Emscripten's script reports them.
import { readFromEngineThread, withDeferredEngine } from './deferred_engine.js';
import createThreadedEngine from './wasm/tinylm_wasm_threads.mjs';

// The glue's module object for this thread: the overrides it reads at 'load', then the instance it resolves to.
type EmscriptenModule = Record<string, any>;

let module: EmscriptenModule = {};
let embindReady = false;

const scope = globalThis as unknown as { onmessage: ((event: MessageEvent) => void) | null };

function runThread(data: EmscriptenModule): void {
  module.__performance_now_clock_drift = performance.now() - data.time;
  module.__emscripten_thread_init(data.threadInfoStruct, 0, 0, 1);
  module.establishStackSpace();
  module.PThread.receiveObjectTransfer(data);
  module.PThread.threadInit();
  if (!embindReady) {
    module.___embind_register_native_and_builtin_types();
    embindReady = true;
  }
  try {
    const result = module.invokeEntryPoint(data.start_routine, data.arg);
    if (module.keepRuntimeAlive()) module.PThread.setExitStatus(result);
    else module.__emscripten_thread_exit(result);
  } catch (error) {
    if (error === 'unwind') return;  // the thread called pthread_exit: already accounted for
    if (!(error instanceof module.ExitStatus)) throw error;
    if (!module.keepRuntimeAlive()) module.__emscripten_thread_exit((error as { status: number }).status);
  }
}

// Answers the glue's messages on this Worker from now on.
export function servePthread(): void {
  scope.onmessage = onPthreadMessage;
}

function onPthreadMessage({ data }: MessageEvent): void {
  switch (data.cmd) {
    case 'load': {
      // The engine's deferred module, if this thread calls into it: the bytes the engine's thread read
      // (deferred_engine.ts; which pair is the engine thread's choice, so `relaxed` is not asked here).
      withDeferredEngine(module, readFromEngineThread(module), { relaxed: () => false });
      module.wasmModule = data.wasmModule;
      module.wasmMemory = data.wasmMemory;
      module.buffer = data.wasmMemory.buffer;
      module.ENVIRONMENT_IS_PTHREAD = true;
      module.instantiateWasm = (imports: WebAssembly.Imports, receive: (instance: WebAssembly.Instance) => void) => {
        const instance = new WebAssembly.Instance(module.wasmModule, imports);
        receive(instance);
        module.wasmModule = null;
        return instance.exports;
      };
      void createThreadedEngine(module).then((instance) => (module = instance as EmscriptenModule));
      return;
    }
    case 'run':
      return runThread(data);
    case 'cancel':
      if (module._pthread_self()) module.__emscripten_thread_exit(-1);
      return;
    case 'processThreadQueue':
      if (module._pthread_self()) module._emscripten_current_thread_process_queued_calls();
      return;
    case 'processProxyingQueue':
      if (module._pthread_self()) module._emscripten_proxy_execute_queue(data.queue);
      return;
    default:
      if (data.target === 'setimmediate') return;
      console.error('tinylm-js pthread worker: unknown command', data.cmd);
  }
}
