// For tests and benchmarks that start an engine from its glue in Node, as the package's worker does
// (web/lib/deferred_engine.ts): the engine's deferred module (training, LoRA, Hugging Face checkpoints, beam search,
// export) read from beside its glue the first time the engine needs it — <engine>.deferred.wasm, or
// <engine>_relaxed.deferred.wasm as the engine says it runs.
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

import { withDeferredEngine } from '../../dist/deferred_engine.js';

export function withDeferredFrom(glue, overrides) {
  const engine = basename(glue).replace(/[.]m?js$/, '');
  return withDeferredEngine(overrides, (relaxed) => {
    const file = join(dirname(glue), `${engine}${relaxed ? '_relaxed' : ''}.deferred.wasm`);
    try {
      return { bytes: new Uint8Array(readFileSync(file)) };
    } catch (error) {
      return { problem: error.message, file };
    }
  });
}
