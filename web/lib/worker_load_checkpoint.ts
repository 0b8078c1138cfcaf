// The worker's loadCheckpoint operation: a Hugging Face checkpoint folder's files (hf/load.ts gathered them) become
// a model through the engine's native loader (Model.loadHf: io/hf_checkpoint and tokenizer/hf_tokenizer, the same
// code the CLI's --model DIR runs), which checks every file and tensor. Before that, the weights' safetensors
// headers give the memory the model will need, so a model too large for the engine's cap is refused before any of
// it is copied in, and the stored precision that info.source reports. The files are bytes the worker owns, or the
// caller's files read range by range from the thread that holds them (worker_ranged_files.ts), or the caller's Blobs,
// posted here and read by this worker (worker_blob_files.ts), or the handles of weights files a browser stored in its
// origin private file system, which this worker opens for synchronous reads (worker_stored_files.ts).
import { addHeader, emptySummary, headerEnd, tooLargeMessage, type WeightsSummary } from './checkpoint_size.js';
import { ok } from './engine.js';
import type { EngineModel, WeightsForm } from './engine.js';
import { AbortError, TinyLMError } from './errors.js';
import type { CheckpointInfo, ModelHandle } from './protocol.js';
import type { RangedFilesWire } from './ranged_files.js';
import { blobFiles, type WorkerBlob } from './worker_blob_files.js';
import { heldFile, type RangedFile } from './worker_files.js';
import { isStoredFileHandle, storedFiles, type StoredFileHandle } from './worker_stored_files.js';
import { RangedFiles } from './worker_ranged_files.js';
import { adopt, engine, models, relabel, type Context } from './worker_state.js';

// A weight file's header bytes (the first 8 and the length they declare), or undefined when unreadable.
function headerOf(file: RangedFile): Uint8Array | undefined {
  const prefix = new Uint8Array(Math.min(8, file.size));
  if (file.read(0, prefix)) return undefined;
  const end = headerEnd(prefix);
  if (end === undefined || end > file.size) return undefined;
  const header = new Uint8Array(end);
  return file.read(0, header) ? undefined : header;
}

// From the headers only; files whose header is unreadable are left to the engine to explain.
function summarize(files: Record<string, RangedFile>): WeightsSummary {
  const summary = emptySummary();
  for (const [name, file] of Object.entries(files)) {
    if (!name.endsWith('.safetensors')) continue;
    const header = headerOf(file);
    if (header) addHeader(summary, header);
  }
  return summary;
}

function storedDtype(summary: WeightsSummary): CheckpointInfo['dtype'] {
  const { dtypes } = summary;
  return dtypes.has('F32') ? 'f32' : dtypes.has('BF16') ? 'bf16' : dtypes.has('F16') ? 'f16' : 'f32';
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

export async function loadCheckpoint({ files, ranged, blobs, blobsCancelled, label, maxContext, weights }: {
  files: Record<string, ArrayBuffer>;
  ranged?: RangedFilesWire;
  blobs?: Record<string, WorkerBlob | StoredFileHandle>;
  blobsCancelled?: SharedArrayBuffer;
  label: string;
  maxContext: number;
  weights: WeightsForm;
}, context: Context): Promise<ModelHandle> {
  const wasm = await engine();
  const served = ranged && new RangedFiles(ranged, (request) => context.emit({ id: context.id, type: 'readRange', payload: request }));
  const flag = blobsCancelled && new Int32Array(blobsCancelled);
  const blobsStopped = () => flag !== undefined && Atomics.load(flag, 0) !== 0;
  const reads = {
    onRead: (file: string, end: number) => context.emit({ id: context.id, type: 'blobRead', payload: { file, end } }),
    cancelled: blobsStopped,
  };
  const entries = Object.entries(blobs ?? {});
  const handles = Object.fromEntries(entries.filter(([, value]) => isStoredFileHandle(value))) as Record<string, StoredFileHandle>;
  const stored = await storedFiles(handles, reads);
  try {
    const posted = blobs && await blobFiles(Object.fromEntries(entries.filter(([, value]) => !isStoredFileHandle(value))) as
      Record<string, WorkerBlob>, reads);
    // Every file as a ranged file, the engine's strided reads then loop in JavaScript, not across the seam.
    const views: Record<string, RangedFile> = {
      ...Object.fromEntries(Object.entries(files).map(([name, buffer]) => [name, heldFile(new Uint8Array(buffer))])),
      ...served?.files(),
      ...posted,
      ...stored.files,
    };
    return await loadViews(wasm, views, Boolean(blobs), { label, maxContext, weights }, context, () => served?.cancelled || blobsStopped());
  } finally {
    stored.close();  // the stored files are free for other loads (or a new download) once the engine has read them
  }
}

async function loadViews(wasm: Awaited<ReturnType<typeof engine>>, views: Record<string, RangedFile>, posted: boolean,
  { label, maxContext, weights }: { label: string; maxContext: number; weights: WeightsForm }, context: Context,
  stopped: () => boolean | undefined): Promise<ModelHandle> {
  const summary = summarize(views);
  if (stopped()) throw new AbortError('the load was cancelled');
  const tooLarge = tooLargeMessage(label, summary, weights, wasm.engineMemory(), { loadedModels: models.size, complete: true });
  if (tooLarge) throw new TinyLMError('MODEL_TOO_LARGE', tooLarge);
  let engineModel: EngineModel;
  try {
    engineModel = ok(wasm.Model.loadHf(views, label, maxContext, weights));
  } catch (error) {
    if (stopped()) throw new AbortError('the load was cancelled');
    relabelCheckpointError(error);
  }
  if (posted) {
    // Without shared memory, a cancel posted while the loader read the Blobs (this thread blocked in it) is seen once
    // the queue is read.
    await new Promise((resolve) => setTimeout(resolve, 0));
    try {
      context.throwIfCancelled('the load was cancelled');
    } catch (error) {
      engineModel.delete();
      throw error;
    }
  }
  const checkpoint = engineModel.checkpointInfo();
  if (!checkpoint) throw new TinyLMError('ENGINE_ERROR', 'the engine loaded a checkpoint but reports none');
  const bytes = Object.values(views).reduce((sum, file) => sum + file.size, 0);
  return adopt(engineModel, storedDtype(summary) === 'f16' ? 'f16' : 'f32', {
    format: 'huggingface',
    location: label,
    dtype: storedDtype(summary),
    bytes,
    ...checkpoint,
  });
}
