// For benchmarks that start the single-thread engine from its glue in Node, as the package's worker does
// (web/lib/deferred_engine.ts): the engine's deferred module (training, LoRA, Hugging Face checkpoints, beam search,
// export) read from the folder of its .wasm the first time the engine needs it, standard or relaxed SIMD's as the
// engine says it runs. The threaded engine is not split: these overrides change nothing there.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { withDeferredEngine } from '../../dist/deferred_engine.js';

export function withDeferredFrom(folder, overrides) {
  return withDeferredEngine(overrides, (relaxed) => {
    const file = join(folder, relaxed ? 'tinylm_wasm_relaxed.deferred.wasm' : 'tinylm_wasm.deferred.wasm');
    try {
      return { bytes: new Uint8Array(readFileSync(file)) };
    } catch (error) {
      return { problem: error.message, file };
    }
  });
}
