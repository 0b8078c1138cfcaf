// The engine worker in Node (a worker_threads Worker started by platform_node.ts). Emscripten 3.1.6's ES-module
// glue expects, under Node, `require` and `__dirname` as globals when its factory runs, and gets the .wasm bytes
// passed in (Node's fetch cannot read file: URLs).
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { parentPort } from 'node:worker_threads';
import type { Engine } from './engine.js';
import createTinyLMEngine from './wasm/tinylm_wasm.js';
import { serve } from './worker_core.js';

const glueUrl = new URL('./wasm/tinylm_wasm.js', import.meta.url);
const engineWasmUrl = new URL('./wasm/tinylm_wasm.wasm', import.meta.url);

if (!parentPort) throw new Error('tinylm-js worker_node.js must run inside a worker thread');
const port = parentPort;

serve(
  {
    post: (event, transfer) => port.postMessage(event, transfer),
    listen: (handler) => port.on('message', handler),
  },
  async () => {
    const globals = globalThis as Record<string, unknown>;
    globals.require ??= createRequire(glueUrl);
    globals.__dirname ??= fileURLToPath(new URL('.', glueUrl));
    return (await createTinyLMEngine({ wasmBinary: await readFile(engineWasmUrl) })) as Engine;
  },
);
