// Streaming at engine speed: `generate()` and `fineTune()` through the public API (worker, messages, the main
// side's async iteration) against the engine's own loops on the same model (Embind calls back to back:
// generator.next() per token, trainer.step() per step), alternated back to back, best of `repeats` windows each.
// Shared by node.mjs and page.html (Chromium). The bar: API / raw ≥ 0.8 for every shipped model.
//
//   benchStream({ engine, TinyLM, models: [{ name, bytes }], text, tokens, steps, repeats, clock }) → rows
//   rows: [{ model, what: 'generate' | 'fineTune', raw, api, ratio }]   (tokens per second)
// `clock` (seconds) is wall time by default; node.mjs --cpu-clock passes the process's CPU time (every thread:
// the API's worker and main side together), which a busy machine disturbs far less.

function ok(result) {
  if (result instanceof Error) throw result;
  return result;
}

let now = () => performance.now() / 1000;
const generatorOptions = { temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1, repetitionWindow: 0, stopAtEos: false };

function rawGenerate(engine, bytes, tokens, seed) {
  const model = ok(engine.Model.load(bytes));
  const generator = ok(engine.Generator.create(model, { ...generatorOptions, maxTokens: tokens, seed }, []));
  try {
    const start = now();
    ok(generator.start('Call me'));
    for (let i = 0; i < tokens; ++i) ok(generator.next());
    return tokens / (now() - start);
  } finally {
    generator.delete();
    model.delete();
  }
}

async function apiGenerate(lm, tokens, seed) {
  const start = now();
  let pieces = 0;
  for await (const piece of lm.generate('Call me', { maxTokens: tokens, temperature: 1, seed })) pieces += piece.length > 0 ? 1 : 0;
  if (pieces === 0) throw new Error('generate() yielded nothing');
  return tokens / (now() - start);  // maxTokens with no stop and no <eos> stop: exactly `tokens` tokens
}

const trainShape = { batchSize: 16, seqLen: 64 };

function rawFineTune(engine, bytes, text, steps) {
  const model = ok(engine.Model.load(bytes));
  const trainer = ok(engine.Trainer.create(model, text, {
    steps, ...trainShape, learningRate: 1e-4, optimizer: 'adam', weightDecay: 0, clip: 1, warmupSteps: 0, cosine: false,
    validationSplit: 0, evalBatches: 1, seed: 1,
  }));
  try {
    const start = now();
    for (let i = 0; i < steps; ++i) ok(trainer.step());
    return (steps * trainShape.batchSize * trainShape.seqLen) / (now() - start);
  } finally {
    trainer.delete();
    model.delete();
  }
}

async function apiFineTune(lm, text, steps) {
  const start = now();
  await lm.fineTune(text, { steps, ...trainShape, learningRate: 1e-4, validationSplit: 0, keepPartial: true });
  return (steps * trainShape.batchSize * trainShape.seqLen) / (now() - start);
}

export async function benchStream({ engine, TinyLM, models, text, tokens = 4000, steps = 20, repeats = 3, clock, log = () => {} }) {
  if (clock) now = clock;
  // Both sides on the same build and thread count: the raw loops run the single-thread engine, so the API's worker
  // must too (Node's default is the threaded build on every core, which would compare two engines, not the API).
  await TinyLM.shutdown();
  TinyLM.configure({ threads: 1 });
  const { build, threads } = TinyLM.capabilities();
  if (build !== 'single' || threads !== 1) throw new Error(`the API runs the ${build} build on ${threads} threads, not the raw loops' single thread`);
  const rows = [];
  for (const { name, bytes } of models) {
    const lm = await TinyLM.load(bytes);
    try {
      await apiGenerate(lm, 200, 1);  // warm the worker and the engine
      rawGenerate(engine, bytes, 200, 1);
      let raw = 0;
      let api = 0;
      for (let r = 0; r < repeats; ++r) {
        raw = Math.max(raw, rawGenerate(engine, bytes, tokens, r + 1));
        api = Math.max(api, await apiGenerate(lm, tokens, r + 1));
      }
      rows.push({ model: name, what: 'generate', raw: Math.round(raw), api: Math.round(api), ratio: +(api / raw).toFixed(3) });
      log(rows.at(-1));
      if (!lm.info.trainable) continue;
      raw = 0;
      api = 0;
      for (let r = 0; r < repeats; ++r) {
        raw = Math.max(raw, rawFineTune(engine, bytes, text, steps));
        api = Math.max(api, await apiFineTune(lm, text, steps));
      }
      rows.push({ model: name, what: 'fineTune', raw: Math.round(raw), api: Math.round(api), ratio: +(api / raw).toFixed(3) });
      log(rows.at(-1));
    } finally {
      await lm.dispose();
    }
  }
  return rows;
}
