// The engine worker in browsers (a module Web Worker started by assets.ts). The glue is imported statically, so
// a bundler bundles it into the worker; the .wasm is located with a literal URL the bundler emits as an asset
// (see assets.ts for the scheme).
import type { Engine } from './engine.js';
import type { Request, WorkerEvent } from './protocol.js';
import createTinyLMEngine from './wasm/tinylm_wasm.js';
import { serve } from './worker_core.js';

const engineWasmUrl = new URL('./wasm/tinylm_wasm.wasm', import.meta.url);

const scope = globalThis as unknown as {
  postMessage(message: unknown, transfer: ArrayBuffer[]): void;
  addEventListener(type: 'message', listener: (event: { data: Request }) => void): void;
};

serve(
  {
    post: (event: WorkerEvent, transfer: ArrayBuffer[]) => scope.postMessage(event, transfer),
    listen: (handler) => scope.addEventListener('message', (event) => handler(event.data)),
  },
  async () => (await createTinyLMEngine({ locateFile: () => engineWasmUrl.href })) as Engine,
);
