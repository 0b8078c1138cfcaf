// TinyLM.configure(): settings for engines started afterwards (the first call starts one; TinyLM.shutdown() ends
// it). A key left out keeps its setting; a key given as undefined restores its default.
//   assetBase  where the package's files are, for setups that copy them instead of letting a bundler emit them
//              (assets.ts, README)
//   threads    how many threads the engine computes with (threads.ts)
//   relaxedSimd  false: the standard .wasm even where relaxed SIMD's would run (relaxed_simd.ts)
//   worker     an engine worker the app started itself, early, for the next engine start to adopt (given_worker.ts)
//   engineModule  the engine's .wasm compiled by the app, early, for the next engine start (given_worker.ts)
//   hubHost, revision   defaults of 'hf:' loads (hf/resolve.ts)
import { setAssetBase } from './assets.js';
import { TinyLMError } from './errors.js';
import { setGivenModule, setGivenWorker } from './given_worker.js';
import { setHubDefaults } from './hf/resolve.js';
import { checkOptionNames, type ConfigureOptions } from './options.js';
import { setRelaxedSimdAllowed } from './relaxed_simd.js';
import { setRequestedThreads } from './threads.js';

export function configure(options: ConfigureOptions, engineRunning: boolean): void {
  checkOptionNames('configure', options, 'TinyLM.configure()');
  if ('worker' in options) setGivenWorker(options.worker, engineRunning);
  if ('engineModule' in options) setGivenModule(options.engineModule, engineRunning);
  if ('threads' in options) setRequestedThreads(options.threads);
  if ('relaxedSimd' in options) setRelaxedSimdAllowed(options.relaxedSimd);
  setHubDefaults(options.hubHost, options.revision);
  if (!('assetBase' in options)) return;
  const base = options.assetBase;
  if (base !== undefined && typeof base !== 'string' && typeof base?.href !== 'string') {
    throw new TinyLMError('INVALID_ARGUMENT', 'option assetBase must be a URL or a string');
  }
  setAssetBase(base === undefined ? undefined : typeof base === 'string' ? base : base.href);
}
