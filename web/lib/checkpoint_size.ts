// How much engine memory a Hugging Face checkpoint will take, from its safetensors headers alone, and the message
// when it will not fit. Used twice: on the main thread while the weights download (hf/fetch_files.ts reads each
// file's header from the first bytes that arrive, so a model too large is refused before the rest of it is
// fetched), and in the worker before the files are copied into the engine (worker_load_checkpoint.ts). The engine
// checks its exact needs again as it allocates.
import { TinyLMError } from './errors.js';
import type { WeightsForm } from './options.js';
import type { EngineMemory } from './protocol.js';

export interface WeightsSummary {
  parameterBytes: number;  // float32 bytes of every weight tensor
  largestTensor: number;   // float32 bytes of the largest (the loader holds one at a time as floats)
  dtypes: Set<string>;     // the stored dtypes of the weight tensors ('F32', 'F16', 'BF16')
}

const MAX_HEADER = 100 << 20;  // the engine refuses larger safetensors headers

export function emptySummary(): WeightsSummary {
  return { parameterBytes: 0, largestTensor: 0, dtypes: new Set() };
}

// The bytes a file's header ends at (8 + its declared length), from its first 8 bytes; undefined when those do not
// declare a readable header (the engine explains what is wrong with such a file).
export function headerEnd(prefix: Uint8Array): number | undefined {
  if (prefix.byteLength < 8) return undefined;
  const length = Number(new DataView(prefix.buffer, prefix.byteOffset, 8).getBigUint64(0, true));
  return length > 0 && length <= MAX_HEADER ? 8 + length : undefined;
}

// Adds the weight tensors a safetensors file's header declares to `summary`; `bytes` holds at least the header.
// Mask buffers (U8, BOOL) are not weights. Returns false, adding nothing, when the header is unreadable.
export function addHeader(summary: WeightsSummary, bytes: Uint8Array): boolean {
  const end = headerEnd(bytes);
  if (end === undefined || end > bytes.byteLength) return false;
  let header: Record<string, { shape?: unknown; dtype?: unknown }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, end))) as typeof header;
  } catch {
    return false;
  }
  for (const [tensor, entry] of Object.entries(header)) {
    if (tensor === '__metadata__' || !Array.isArray(entry?.shape)) continue;
    if (entry.dtype !== 'F32' && entry.dtype !== 'F16' && entry.dtype !== 'BF16') continue;
    const tensorBytes = entry.shape.reduce((product: number, dim) => product * Number(dim), 1) * 4;
    summary.parameterBytes += tensorBytes;
    summary.largestTensor = Math.max(summary.largestTensor, tensorBytes);
    summary.dtypes.add(entry.dtype);
  }
  return true;
}

// What float32 parameters take when the engine holds the matrices as `weights` (a model's 1-D tensors stay float32
// and are a small share, so this slightly undercounts f16/int8).
export function heldBytes(float32Bytes: number, weights: WeightsForm): number {
  return weights === 'f16' ? float32Bytes / 2 : weights === 'int8' ? float32Bytes / 4 : float32Bytes;
}

// The engine memory loading needs: the weights as held plus the tensor being read as floats (gradients come with
// the first fine-tune).
export function bytesNeeded(summary: WeightsSummary, weights: WeightsForm): number {
  return heldBytes(summary.parameterBytes, weights) + summary.largestTensor;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

// The MODEL_TOO_LARGE message, or undefined when the model fits; `loadedModels` is how many models hold the memory
// in use (when known), `complete` whether every weight file's header was counted.
export function tooLargeMessage(label: string, summary: WeightsSummary, weights: WeightsForm, memory: EngineMemory,
  { loadedModels, complete }: { loadedModels?: number; complete: boolean }): string | undefined {
  const needed = bytesNeeded(summary, weights);
  const free = memory.maximum - memory.inUse;
  if (needed <= free) return undefined;
  const smaller = (['f16', 'int8'] as const).find((form) => heldBytes(summary.parameterBytes, form) < heldBytes(summary.parameterBytes, weights) &&
    bytesNeeded(summary, form) <= free);
  return `${label} needs ${complete ? '' : 'at least '}${megabytes(needed)} (its weights held as ${weights}) but the ` +
    `engine's memory is capped at ${megabytes(memory.maximum)}, ${megabytes(memory.inUse)} of it in use` +
    (loadedModels ? ` by ${loadedModels} loaded model(s): dispose() those you no longer need` : '') +
    (smaller ? `; load it with { weights: '${smaller}' } (${megabytes(bytesNeeded(summary, smaller))}) to generate with it` : '; use a smaller model');
}

// A download's onWeightsHeader (hf/fetch_files.ts): each weights file's header, as soon as it arrives, adds to what
// the model will need, and a model that already needs more than the engine has is refused (MODEL_TOO_LARGE) before
// the rest of it downloads. The worker checks again with every file in hand.
export function sizeCheckAsHeadersArrive(weights: WeightsForm, engineMemory: () => Promise<EngineMemory>) {
  const summary = emptySummary();
  let memory: EngineMemory | undefined;
  return async (_file: string, prefix: Uint8Array, label: string): Promise<void> => {
    addHeader(summary, prefix);
    memory ??= await engineMemory();
    const tooLarge = tooLargeMessage(label, summary, weights, memory, { complete: false });
    if (tooLarge) throw new TinyLMError('MODEL_TOO_LARGE', tooLarge);
  };
}
