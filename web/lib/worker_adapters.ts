// The worker's side of LoRA adapters (wasm/bindings_lora.cpp): the adapters resident beside each model, the
// 'adapter' operation (list, export, save, load, remove, merge), fineTune's LoRA trainer, and generate()'s
// per-call adapter. A model gets its adapter set on first use; dispose() frees it before the model.
import { UNSAVED, type AdapterList, type AdapterRequest, type AdapterResult, type WireLoraOptions } from './adapter_protocol.js';
import { ok, type Engine, type EngineModel, type EngineTrainer, type Result, type TrainerOptions } from './engine.js';
import { TinyLMError } from './errors.js';
import { nearestName } from './options.js';
import type { Context } from './worker_state.js';
import { engine, modelOf, relabel } from './worker_state.js';

interface EngineAdapters {
  names(): Result<string[]>;
  active(): string;  // '' for none
  activate(name: string): Result<undefined>;
  moduleNames(): Result<string[]>;
  load(name: string, bytes: Uint8Array, configJson: string): Result<undefined>;
  serialize(name: string, dtype: 'f32' | 'f16'): Result<Uint8Array>;
  copy(from: string, to: string): Result<undefined>;
  remove(name: string): Result<undefined>;
  merge(name: string): Result<undefined>;
  delete(): void;
}

interface EngineLoraTrainer extends EngineTrainer {
  keep(name: string): Result<undefined>;
}

interface LoraEngine {
  Adapters: { create(model: EngineModel): Result<EngineAdapters> };
  LoraTrainer: {
    create(
      adapters: EngineAdapters,
      text: string,
      lora: { rank: number; alpha: number; dropout: number; targets: string; baseModel: string; seed: number },
      options: TrainerOptions,
    ): Result<EngineLoraTrainer>;
  };
}

const adapterSets = new Map<number, EngineAdapters>();

// The model's adapters; made on first use when `create`, else undefined while it has none.
async function adaptersOf(modelId: number, create: boolean): Promise<EngineAdapters | undefined> {
  const wasm = (await engine()) as Engine & LoraEngine;
  const model = modelOf(modelId);
  let set = adapterSets.get(modelId);
  if (!set && create) {
    try {
      set = ok(wasm.Adapters.create(model));
    } catch (error) {
      relabel(error, 'NOT_TRAINABLE');
    }
    adapterSets.set(modelId, set);
  }
  return set;
}

export function disposeAdapters(modelId: number): void {
  adapterSets.get(modelId)?.delete();
  adapterSets.delete(modelId);
}

function listOf(set: EngineAdapters | undefined): AdapterList {
  if (!set) return { names: [], active: null };
  return { names: ok(set.names()), active: set.active() || null };
}

// `name` when it is resident; else NOT_FOUND naming the nearest resident one and all of them.
function resident(set: EngineAdapters | undefined, name: string | null): string {
  const names = set ? ok(set.names()) : [];
  if (name === null) {
    const active = set?.active();
    if (!active) throw new TinyLMError('NOT_FOUND', 'no adapter is active: fineTune() with { lora } or loadAdapter() first, or name one');
    return active;
  }
  if (names.includes(name)) return name;
  const nearest = nearestName(name, names);
  throw new TinyLMError(
    'NOT_FOUND',
    `no adapter named '${name}'` + (nearest ? ` — did you mean '${nearest}'?` : '') +
      ` (resident: ${names.length ? names.map((each) => `'${each}'`).join(', ') : 'none'})`,
  );
}

export async function adapter({ modelId, request }: { modelId: number; request: AdapterRequest }): Promise<AdapterResult> {
  const set = await adaptersOf(modelId, request.action === 'load');
  switch (request.action) {
    case 'list':
      break;
    case 'export':
      return { adapters: listOf(set), bytes: ok(set!.serialize(resident(set, request.name), request.dtype)).buffer as ArrayBuffer };
    case 'save': {
      const from = resident(set, null);
      if (from !== request.name) {
        ok(set!.copy(from, request.name));
        if (from === UNSAVED) ok(set!.remove(UNSAVED));
        ok(set!.activate(request.name));
      }
      break;
    }
    case 'load':
      try {
        ok(set!.load(request.name, new Uint8Array(request.bytes), request.config ?? ''));
      } catch (error) {
        relabel(error, 'INVALID_MODEL_FILE', 'not a usable LoRA adapter for this model: ');
      }
      ok(set!.activate(request.name));
      break;
    case 'remove':
      ok(set!.remove(resident(set, request.name)));
      break;
    case 'merge':
      try {
        ok(set!.merge(resident(set, request.name)));
      } catch (error) {
        relabel(error, 'INVALID_ARGUMENT');
      }
      break;
  }
  return { adapters: listOf(set) };
}

// generate() with options.adapter: that adapter (null: none) for this call, the active one again afterwards.
export function withAdapter<P extends { modelId: number; options: { adapter?: string | null } }, R>(
  handler: (payload: P, context: Context) => Promise<R>,
): (payload: P, context: Context) => Promise<R> {
  return async (payload, context) => {
    const { adapter: chosen, ...options } = payload.options;
    const bare = { ...payload, options } as P;
    const set = chosen === undefined ? undefined : await adaptersOf(payload.modelId, chosen !== null);
    if (!set) return handler(bare, context);  // no choice, or the bare base of a model without adapters
    const previous = set.active();
    ok(set.activate(chosen == null ? '' : resident(set, chosen)));
    try {
      return await handler(bare, context);
    } finally {
      ok(set.activate(previous));
    }
  };
}

// The architecture's default targets, as PEFT chooses them.
const defaultTargets: Record<string, string[]> = { gpt: ['c_attn'], llama: ['q_proj', 'v_proj'] };

// Each target must adapt at least one linear (PEFT's suffix match); a typo names the nearest module name.
function checkedTargets(targets: string[] | null, arch: string, modulePaths: string[]): string[] {
  const chosen = targets ?? defaultTargets[arch] ?? [];
  const moduleNames = [...new Set(modulePaths.map((path) => path.slice(path.lastIndexOf('.') + 1)))];
  for (const target of chosen) {
    if (modulePaths.some((path) => path === target || path.endsWith(`.${target}`))) continue;
    const nearest = nearestName(target, moduleNames);
    throw new TinyLMError(
      'INVALID_ARGUMENT',
      `LoRA target '${target}' matches no linear layer of this ${arch} model` +
        (nearest ? ` — did you mean '${nearest}'?` : '') + ` Its linears are ${moduleNames.join(', ')}`,
    );
  }
  return chosen;
}

// fineTune's trainer for options.lora: a fresh adapter beside the frozen model. keep() makes it resident (as
// UNSAVED) and active once training succeeded; deleting the trainer without keep() drops it.
export async function startLoraTraining(
  modelId: number,
  text: string,
  lora: WireLoraOptions,
  options: TrainerOptions,
): Promise<{ trainer: EngineTrainer; keep(): void }> {
  const wasm = (await engine()) as Engine & LoraEngine;
  const set = (await adaptersOf(modelId, true))!;
  const arch = ok(modelOf(modelId).info()).arch;
  const targets = checkedTargets(lora.targets, arch, ok(set.moduleNames()));
  let trainer: EngineLoraTrainer;
  try {
    const engineLora = { ...lora, targets: targets.join(','), seed: options.seed };
    trainer = ok(wasm.LoraTrainer.create(set, text, engineLora, options));
  } catch (error) {
    relabel(error, 'INVALID_ARGUMENT');
  }
  return { trainer, keep: () => ok(trainer.keep(UNSAVED)) };
}
