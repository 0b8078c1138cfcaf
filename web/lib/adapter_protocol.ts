// The wire types of LoRA adapters (protocol.ts's 'adapter' operation and fineTune's lora option): what the API
// (adapters.ts) sends and the worker (worker_adapters.ts) answers.

// The name a fine-tuned or loaded adapter is resident under until saveAdapter() names it. Not a valid adapter
// name (adapters.ts), so it never collides with one.
export const UNSAVED = '(unsaved)';

export interface WireLoraOptions {
  rank: number;             // r
  alpha: number;            // scale = alpha / r
  dropout: number;          // on each adapted linear's input, training only
  targets: string[] | null; // PEFT target_modules; null: the architecture's default (worker_adapters.ts)
  baseModel: string;        // recorded in the adapter's config: the model's source location, or ''
}

// One request on a model's adapters. name null: the active adapter.
export type AdapterRequest =
  | { action: 'list' }
  | { action: 'export'; name: string | null; dtype: 'f32' | 'f16' }
  | { action: 'save'; name: string }
  | { action: 'load'; name: string; bytes: ArrayBuffer; config: string | null }  // config: adapter_config.json text
  | { action: 'remove'; name: string }
  | { action: 'merge'; name: string | null };

export interface AdapterList {
  names: string[];        // resident adapters, by name ('(unsaved)' for a fine-tuned one not saved yet)
  active: string | null;  // the adapter generate() applies when it names none; null: the bare base
}

export interface AdapterResult {
  adapters: AdapterList;  // after the request
  bytes?: ArrayBuffer;    // export: the adapter as safetensors
}
