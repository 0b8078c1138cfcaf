// The worker's operations, one handler each: payload in, result out (protocol.ts's Operations). generate and
// fineTune, the long ones, live in their own files.
import { heldBytes } from './checkpoint_size.js';
import { ok } from './engine.js';
import type { EngineEvaluation, EngineModel } from './engine.js';
import { TinyLMError } from './errors.js';
import type { Dtype, OperationType, Operations } from './protocol.js';
import { adapter, disposeAdapters, withAdapter } from './worker_adapters.js';
import { chat } from './worker_chat.js';
import { fineTune } from './worker_fine_tune.js';
import { loadCheckpoint } from './worker_load_checkpoint.js';
import { generate } from './worker_generate.js';
import { disposeSessionsOf, sessionHandlers } from './worker_session.js';
import { yieldToEventLoop } from './worker_port.js';
import { adopt, engine, loadedModel, markTimeline, models, modelOf, relabel, requireText, type Context } from './worker_state.js';

// Predictions scored per engine call in evaluate(): between calls a cancel is seen and other requests run.
const EVALUATION_CHUNK_PREDICTIONS = 2048;

export type Handler<K extends OperationType> = (
  payload: Operations[K]['payload'],
  context: Context,
) => Promise<Operations[K]['result']>;

// From a safetensors file's header, without touching the data: the F32 bytes its tensors need once loaded (F16
// and I8 widen to F32) and how its matrices are stored (any I8 → 'int8', else any F16 → 'f16', else 'f32').
// undefined when the header is unreadable (the engine then explains what is wrong).
function readHeader(bytes: Uint8Array): { parameterBytes: number; dtype: Dtype } | undefined {
  if (bytes.byteLength < 8) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  if (headerLength <= 0 || headerLength > bytes.byteLength - 8 || headerLength > 100 << 20) return undefined;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<
      string,
      { shape?: number[]; dtype?: string }
    >;
    let parameterBytes = 0;
    const dtypes = new Set<string>();
    for (const [name, tensor] of Object.entries(header)) {
      if (name === '__metadata__' || !Array.isArray(tensor?.shape)) continue;
      parameterBytes += tensor.shape.reduce((product, dim) => product * Number(dim), 1) * 4;
      dtypes.add(String(tensor.dtype));
    }
    return { parameterBytes, dtype: dtypes.has('I8') ? 'int8' : dtypes.has('F16') ? 'f16' : 'f32' };
  } catch {
    return undefined;
  }
}

function megabytes(bytes: number): string {
  return `${(bytes / (1 << 20)).toFixed(1)} MiB`;
}

export const handlers: { [K in OperationType]: Handler<K> } = {
  async load({ bytes, weights }) {
    const wasm = await engine();
    const data = new Uint8Array(bytes);
    const header = readHeader(data);
    if (header) {
      // The weights as held, plus the file itself while it is parsed (gradients come with the first fine-tune).
      const needed = heldBytes(header.parameterBytes, weights) + data.byteLength;
      const { maximum, inUse } = wasm.engineMemory();
      if (needed > maximum - inUse) {
        throw new TinyLMError(
          'MODEL_TOO_LARGE',
          `the model needs about ${megabytes(needed)} (its weights and the file) but the engine's memory ` +
            `is capped at ${megabytes(maximum)}, ${megabytes(inUse)} of it in use` +
            (models.size > 0 ? ` by ${models.size} loaded model(s): dispose() those you no longer need` : '') +
            '; use a smaller model',
        );
      }
    }
    let engineModel: EngineModel;
    markTimeline('tinylm load start');
    try {
      engineModel = ok(wasm.Model.loadAs(data, weights));
    } catch (error) {
      relabel(error, 'INVALID_MODEL_FILE', 'not a usable tinylm model file: ', 'MODEL_TOO_LARGE');
    } finally {
      markTimeline('tinylm load end');
    }
    return adopt(engineModel, header?.dtype ?? 'f32');
  },

  loadCheckpoint,

  async create({ config, text }) {
    const wasm = await engine();
    requireText(text, 'fitting the tokenizer');
    try {
      return adopt(ok(wasm.Model.create(config, text)), 'f32');
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT', '', 'MODEL_TOO_LARGE');
    }
  },

  generate: withAdapter(generate),
  chat,
  fineTune,
  ...sessionHandlers,
  adapter,

  async evaluate({ modelId, text }, context) {
    await engine();
    const model = modelOf(modelId);
    requireText(text, 'evaluation');
    let evaluation: EngineEvaluation;
    try {
      evaluation = ok(model.startEvaluation(text));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
    try {
      // In chunks of one recurrent batch (32 × 64): cancellable, and other models are served between chunks.
      while (ok(evaluation.advance(EVALUATION_CHUNK_PREDICTIONS))) {
        await yieldToEventLoop();
        context.throwIfCancelled(`evaluation was cancelled after ${Math.round(100 * evaluation.progress())}% of the text`);
      }
      return ok(evaluation.stats());
    } finally {
      evaluation.delete();
    }
  },

  async export({ modelId, dtype }) {
    await engine();
    const model = loadedModel(modelId);
    const bytes = ok(model.engineModel.serialize(dtype ?? model.dtype));
    return { bytes: bytes.buffer as ArrayBuffer };
  },

  async inspect({ modelId, text }) {
    await engine();
    const model = modelOf(modelId);
    requireText(text, 'inspection');
    let inspection;
    try {
      inspection = ok(model.inspect(text));
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
    const pieces = Array.from(inspection.tokens, (token) => ok(model.decode(Int32Array.of(token))));
    if (inspection.kind === 'attention') return { ...inspection, pieces };
    return { ...inspection, pieces, gateNames: inspection.gateNames.split(',') };
  },

  async encode({ modelId, text }) {
    await engine();
    return { tokens: ok(modelOf(modelId).encode(text)) };
  },

  async decode({ modelId, tokens }) {
    await engine();
    try {
      return { text: ok(modelOf(modelId).decode(tokens)) };
    } catch (error) {
      relabel(error, 'INVALID_ARGUMENT');
    }
  },

  async dispose({ modelId }) {
    const model = models.get(modelId);
    if (model) {
      models.delete(modelId);
      disposeSessionsOf(modelId);
      disposeAdapters(modelId);  // they refer to the model
      model.engineModel.delete();
    }
    return null;
  },

  async memory() {
    return (await engine()).engineMemory();
  },
};
