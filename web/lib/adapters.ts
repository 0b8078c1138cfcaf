// LoRA adapters in the API (the TinyLM methods in index.ts call these): fineTune's lora option, and the adapters
// resident beside a model — exported as PEFT safetensors, named, loaded, chosen per generate() call, removed, merged.
//
//   await lm.fineTune(text, { lora: { rank: 8, alpha: 16, targets: ['q_proj', 'v_proj'] }, steps: 200 });
//   await lm.saveAdapter('alice');             // the new adapter, resident as 'alice' (and still active)
//   const bytes = await lm.exportAdapter();    // adapter_model.safetensors: PEFT names, adapter_config in metadata
//   await lm.loadAdapter(bytes, { name: 'bob' });          // resident and active
//   lm.generate(prompt, { adapter: 'alice' });             // per call; adapter: null for the bare base
//   await lm.mergeAdapter('alice');                        // folded into the weights (what export() writes)
// Loaded on first use (index.ts imports it on the first adapter call, fine_tune.ts with it); the names generate()
// checks are adapter_names.ts's.
import { checkAdapterName } from './adapter_names.js';
import { UNSAVED, type AdapterList, type AdapterRequest, type AdapterResult, type WireLoraOptions } from './adapter_protocol.js';
import { TinyLMError } from './errors.js';
import { checkOptionNames, resolvedChoice, resolvedNumber } from './options.js';
import { readSource, type ModelSource } from './sources.js';

export type { AdapterList } from './adapter_protocol.js';

export interface LoraOptions {
  rank?: number;               // r, default 8
  alpha?: number;              // default 8 (PEFT's): the update is scaled by alpha / rank
  dropout?: number;            // on each adapted linear's input while training, default 0
  targets?: string | string[]; // PEFT target_modules: module names ('q_proj') or paths; default: GPT ['c_attn'],
                               // Llama ['q_proj', 'v_proj']
}

export interface ExportAdapterOptions {
  dtype?: 'f32' | 'f16';  // default 'f32'; 'f16' halves the file (PEFT and tinylm read both)
}

export interface LoadAdapterOptions {
  name?: string;  // resident under this name (default: as an unsaved adapter, like a fresh fine-tune's)
  // adapter_config.json (its text or the parsed object) for a file that lacks it in its metadata: PEFT's own
  // adapter_model.safetensors keeps it beside the file
  config?: string | Record<string, unknown>;
}

// Sends one adapter request for the model (index.ts binds it to the model and its queue).
export type AdapterRequester = (request: AdapterRequest, transfer?: ArrayBuffer[]) => Promise<AdapterResult>;

export function loraWire(lora: LoraOptions | undefined, baseModel: string): WireLoraOptions | undefined {
  if (lora === undefined) return undefined;
  checkOptionNames('lora', lora, 'fineTune() option lora');
  const rank = resolvedNumber('lora.rank', lora.rank, 8, { min: 1, max: 4096, integer: true });
  const targets = lora.targets === undefined ? null : Array.isArray(lora.targets) ? lora.targets : [lora.targets];
  if (targets && (targets.length === 0 || targets.some((target) => typeof target !== 'string' || target.length === 0))) {
    throw new TinyLMError('INVALID_ARGUMENT', "option lora.targets must be a module name such as 'q_proj' or a non-empty array of them");
  }
  return {
    rank,
    alpha: resolvedNumber('lora.alpha', lora.alpha, 8, { min: 0, exclusiveMin: true }),
    dropout: resolvedNumber('lora.dropout', lora.dropout, 0, { min: 0, max: 0.99 }),
    targets,
    baseModel,
  };
}

// exportAdapter(name?, { dtype }) or exportAdapter({ dtype }) for the active adapter. dtype 'f32' (default) or 'f16':
// half the bytes, each value rounded to the nearest half (a value beyond F16's ±65504 is refused).
export async function exportAdapter(
  send: AdapterRequester,
  nameOrOptions: string | ExportAdapterOptions | undefined,
  options: ExportAdapterOptions = {},
): Promise<Uint8Array> {
  const named = typeof nameOrOptions === 'string' || nameOrOptions === undefined;
  const name = named ? (nameOrOptions as string | undefined) : undefined;
  const chosen = named ? options : (nameOrOptions as ExportAdapterOptions);
  if (typeof chosen !== 'object' || chosen === null) {
    throw new TinyLMError('INVALID_ARGUMENT', 'exportAdapter() takes an adapter name and/or options such as { dtype: \'f16\' }');
  }
  checkOptionNames('exportAdapter', chosen);
  const dtype = resolvedChoice('dtype', chosen.dtype, 'f32', ['f32', 'f16'] as const);
  const request = { action: 'export' as const, name: name === undefined ? null : checkAdapterName(name, 'exportAdapter()'), dtype };
  return new Uint8Array((await send(request)).bytes!);
}

export async function saveAdapter(send: AdapterRequester, name: string): Promise<AdapterList> {
  return (await send({ action: 'save', name: checkAdapterName(name, 'saveAdapter()') })).adapters;
}

// source: bytes, a Blob, a URL, or a path (Node); a string is never a stored model's name here.
export async function loadAdapter(send: AdapterRequester, source: ModelSource, options: LoadAdapterOptions): Promise<AdapterList> {
  checkOptionNames('loadAdapter', options);
  const name = options.name === undefined ? UNSAVED : checkAdapterName(options.name, 'loadAdapter()');
  const { config } = options;
  if (config !== undefined && typeof config !== 'string' && (typeof config !== 'object' || config === null)) {
    throw new TinyLMError('INVALID_ARGUMENT', 'option config must be adapter_config.json as text or as an object');
  }
  if (source === undefined || source === null || (typeof source === 'string' && source.length === 0)) {
    throw new TinyLMError('INVALID_ARGUMENT', 'loadAdapter() needs the adapter: bytes, a Blob, a URL or a path');
  }
  const asPath = typeof source === 'string' && !/^[a-z][a-z0-9+.-]*:/i.test(source) && !/[\\/]/.test(source) ? `./${source}` : source;
  const bytes = await readSource(asPath, undefined);
  // readSource's own copy, so moving it to the worker detaches nothing of the caller's.
  const buffer = (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice()).buffer as ArrayBuffer;
  const configText = config === undefined ? null : typeof config === 'string' ? config : JSON.stringify(config);
  return (await send({ action: 'load', name, bytes: buffer, config: configText }, [buffer])).adapters;
}

export async function removeAdapter(send: AdapterRequester, name: string): Promise<AdapterList> {
  return (await send({ action: 'remove', name: checkAdapterName(name, 'removeAdapter()') })).adapters;
}

export async function mergeAdapter(send: AdapterRequester, name: string | undefined): Promise<AdapterList> {
  return (await send({ action: 'merge', name: name === undefined ? null : checkAdapterName(name, 'mergeAdapter()') })).adapters;
}

export async function listAdapters(send: AdapterRequester): Promise<AdapterList> {
  return (await send({ action: 'list' })).adapters;
}
