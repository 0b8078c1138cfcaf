// The worker's loadCheckpoint operation: a Hugging Face checkpoint folder's files (hf/load.ts gathered them) become
// a model through the engine's native loader (Model.loadHf: io/hf_checkpoint and tokenizer/hf_tokenizer, the same
// code the CLI's --model DIR runs), which checks every file and tensor. Before that, the weights' safetensors
// headers give the memory the model will need, so a model too large for the engine's cap is refused before any of
// it is copied in, and the stored precision that info.source reports.
import { ok } from './engine.js';
import type { EngineModel, WeightsForm } from './engine.js';
import { TinyLMError } from './errors.js';
import type { CheckpointInfo, ModelHandle } from './protocol.js';
import { adopt, engine, heldBytes, models, relabel } from './worker_state.js';

interface WeightsSummary {
  parameterBytes: number;  // the float32 bytes of every tensor
  largestTensor: number;   // float32 bytes of the largest tensor (the loader holds one at a time)
  dtype: CheckpointInfo['dtype'];
}

// From the headers only; files whose header is unreadable are left to the engine to explain.
function summarize(files: Record<string, Uint8Array>): WeightsSummary {
  const summary: WeightsSummary = { parameterBytes: 0, largestTensor: 0, dtype: 'f32' };
  const dtypes = new Set<string>();
  for (const [name, bytes] of Object.entries(files)) {
    if (!name.endsWith('.safetensors') || bytes.byteLength < 8) continue;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const headerLength = Number(view.getBigUint64(0, true));
    if (headerLength <= 0 || headerLength > bytes.byteLength - 8 || headerLength > 100 << 20) continue;
    try {
      const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, { shape?: unknown; dtype?: unknown }>;
      for (const [tensor, entry] of Object.entries(header)) {
        if (tensor === '__metadata__' || !Array.isArray(entry?.shape)) continue;
        if (entry.dtype !== 'F32' && entry.dtype !== 'F16' && entry.dtype !== 'BF16') continue;  // mask buffers (U8, BOOL)
        const tensorBytes = entry.shape.reduce((product: number, dim) => product * Number(dim), 1) * 4;
        summary.parameterBytes += tensorBytes;
        summary.largestTensor = Math.max(summary.largestTensor, tensorBytes);
        dtypes.add(entry.dtype);
      }
    } catch {
      continue;
    }
  }
  summary.dtype = dtypes.has('F32') ? 'f32' : dtypes.has('BF16') ? 'bf16' : dtypes.has('F16') ? 'f16' : 'f32';
  return summary;
}

function megabytes(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

// The engine names an unsupported architecture "… is not supported — tinylm reads …"; everything else about the
// files is a bad file.
function relabelCheckpointError(error: unknown): never {
  const message = error instanceof Error ? error.message : String(error);
  if (/architecture .* is not supported/.test(message)) relabel(error, 'UNSUPPORTED_MODEL', '', 'MODEL_TOO_LARGE');
  if (/ has no (config\.json|tokenizer\.json)|has neither model\.safetensors|which is not in /.test(message)) {
    relabel(error, 'NOT_FOUND', '', 'MODEL_TOO_LARGE');
  }
  relabel(error, 'INVALID_MODEL_FILE', 'not a usable Hugging Face checkpoint: ', 'MODEL_TOO_LARGE');
}

export async function loadCheckpoint({ files, label, maxContext, weights }: {
  files: Record<string, ArrayBuffer>;
  label: string;
  maxContext: number;
  weights: WeightsForm;
}): Promise<ModelHandle> {
  const wasm = await engine();
  const views = Object.fromEntries(Object.entries(files).map(([name, buffer]) => [name, new Uint8Array(buffer)]));
  const summary = summarize(views);
  // The weights as held plus the tensor being read as floats (gradients come with the first fine-tune).
  const needed = heldBytes(summary.parameterBytes, weights) + summary.largestTensor;
  const { maximum, inUse } = wasm.engineMemory();
  if (needed > maximum - inUse) {
    throw new TinyLMError(
      'MODEL_TOO_LARGE',
      `${label} needs at least ${megabytes(needed)} (its weights held as ${weights}) but the ` +
        `engine's memory is capped at ${megabytes(maximum)}, ${megabytes(inUse)} of it in use` +
        (models.size > 0 ? ` by ${models.size} loaded model(s): dispose() those you no longer need` : '') +
        '; use a smaller model',
    );
  }
  let engineModel: EngineModel;
  try {
    engineModel = ok(wasm.Model.loadHf(views, label, maxContext, weights));
  } catch (error) {
    relabelCheckpointError(error);
  }
  const checkpoint = engineModel.checkpointInfo();
  if (!checkpoint) throw new TinyLMError('ENGINE_ERROR', 'the engine loaded a checkpoint but reports none');
  const bytes = Object.values(views).reduce((sum, view) => sum + view.byteLength, 0);
  return adopt(engineModel, summary.dtype === 'f16' ? 'f16' : 'f32', {
    format: 'huggingface',
    location: label,
    dtype: summary.dtype,
    bytes,
    ...checkpoint,
  });
}
