// What tests/js/threads.test.mjs runs on each wasm engine, in Node and in a Chromium worker: train every
// architecture a few steps (dropout and clipping on), evaluate, and generate from models large enough that the
// engine's parallel regions split (several batch rows, multi-chunk products, matrix-vector products of generation
// split by rows, a cached window split by heads). Everything a run produces is returned as plain numbers and
// strings, so two runs compare with deepStrictEqual: equal means bit-identical.

const createDefaults = { layers: 1, hidden: 64, embed: 16, heads: 4, context: 64, dropout: 0, seed: 3, tokenizer: 'char', lowercase: false, maxVocab: 0 };
const trainDefaults = { steps: 3, learningRate: 3e-3, optimizer: 'adam', weightDecay: 0, clip: 0.5, warmupSteps: 0, cosine: false, validationSplit: 0.1, evalBatches: 2, seed: 9 };

export const trainingCases = [
  { name: 'lstm', create: { arch: 'lstm', layers: 2, hidden: 96, dropout: 0.1 }, train: { batchSize: 12, seqLen: 20 } },
  { name: 'gru', create: { arch: 'gru', hidden: 96 }, train: { batchSize: 5, seqLen: 16, optimizer: 'adamw', weightDecay: 0.1 } },
  { name: 'rnn_tanh', create: { arch: 'rnn_tanh', hidden: 96 }, train: { batchSize: 12, seqLen: 20, optimizer: 'sgd' } },
  { name: 'gpt', create: { arch: 'gpt', layers: 2, embed: 64, dropout: 0.1 }, train: { batchSize: 8, seqLen: 64, optimizer: 'adamw', weightDecay: 0.1 } },
];

export const generationCases = [
  { name: 'lstm', create: { arch: 'lstm', hidden: 256, embed: 64 }, prompt: 32, tokens: 24 },
  { name: 'gpt', create: { arch: 'gpt', embed: 256, heads: 8, context: 160 }, prompt: 150, tokens: 20 },
];

function ok(result) {
  if (result instanceof Error) throw result;
  return result;
}

// FNV-1a over bytes, as hex: a model file's fingerprint.
function fingerprint(bytes) {
  let hash = 0x811c9dc5;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash.toString(16).padStart(8, '0') + ':' + bytes.length;
}

export function runScenario(engine, text) {
  const results = {};
  for (const { name, create, train } of trainingCases) {
    const model = ok(engine.Model.create({ ...createDefaults, ...create }, text));
    const trainer = ok(engine.Trainer.create(model, text, { ...trainDefaults, ...train }));
    try {
      const steps = [];
      for (let i = 0; i < trainDefaults.steps; ++i) {
        const { loss, gradNorm } = ok(trainer.step());
        steps.push([loss, gradNorm]);
      }
      const validation = ok(trainer.validate());
      const evaluation = ok(model.evaluate(text.slice(0, 3000)));
      results[`train:${name}`] = { steps, validation, evaluation, model: fingerprint(ok(model.serialize('f32'))) };
    } finally {
      trainer.delete();
      model.delete();
    }
  }
  for (const { name, create, prompt, tokens } of generationCases) {
    const model = ok(engine.Model.create({ ...createDefaults, ...create }, text));
    const generator = ok(engine.Generator.create(model, {
      maxTokens: tokens, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, repetitionWindow: 0, seed: 5, stopAtEos: false,
    }, []));
    try {
      ok(generator.start(text.slice(0, prompt)));
      const sampled = [];
      for (;;) {
        const step = ok(generator.next());
        if (step.token >= 0) sampled.push(step.token);
        if (step.done) break;
      }
      // Every step's logits over the prompt, bit for bit.
      ok(model.resetState());
      const logits = [];
      for (const token of ok(model.encode(text.slice(0, prompt)))) {
        logits.push(...new Uint8Array(ok(model.stepLogits(token)).buffer));
      }
      results[`generate:${name}`] = { sampled, logits: fingerprint(logits) };
    } finally {
      generator.delete();
      model.delete();
    }
  }
  return results;
}
