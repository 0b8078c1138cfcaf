// The tinylm half of `npm run bench:wasm`, shared by the Node runner (node.mjs) and the browser page (page.html):
// configurations C1/C2/C3 of DESIGN.md driven straight through the Embind engine (wasm/bindings.cpp), one call per
// optimizer step and one per generated token, as the package's worker drives it.
//
//   benchTinyLM(engine, text, { configs, trainSteps, generateTokens, repeats, clock, gptBytes }) → rows
//   rows: [{ name: 'C1_train' | 'C1_generate' | …, tokens_per_second, … }]
//
// Training tokens/s = B·T per optimizer step, after 3 warm-up steps; generation tokens/s = batch 1, one token at
// a time with the recurrent state or the KV cache kept, sampled at temperature 1. C3 generates from `gptBytes`
// when given (the shipped char-GPT, whose weights the onnxruntime-web peer runs), else from the fresh model. Each figure is the best of `repeats` timed
// windows: the machine is shared, and a neighbour's burst only ever slows a window down. `clock` (seconds) is
// wall time by default; node.mjs --cpu-clock passes the process's CPU time, steadier for A/B builds on a busy machine.

export const configs = {
  C1: { create: { arch: 'lstm', layers: 2, hidden: 256, embed: 64 }, B: 32, T: 64, optimizer: 'adam', learningRate: 2e-3, weightDecay: 0 },
  C2: { create: { arch: 'gru', layers: 2, hidden: 256, embed: 64 }, B: 32, T: 64, optimizer: 'adam', learningRate: 2e-3, weightDecay: 0 },
  C3: { create: { arch: 'gpt', layers: 4, heads: 4, embed: 128, context: 128 }, B: 16, T: 128, optimizer: 'adamw', learningRate: 1e-3, weightDecay: 0.1 },
};

const wallClock = () => performance.now() / 1000;

// The engine returns a JS Error instead of throwing one (see "the seam" in bindings.cpp).
function ok(result) {
  if (result instanceof Error) throw result;
  return result;
}

export async function benchTinyLM(engine, text, { configs: names = ['C1', 'C2'], trainSteps = 10, generateTokens = 2000, repeats = 3, clock: now = wallClock, gptBytes } = {}) {
  const rows = [];
  for (const name of names) {
    const config = configs[name];
    let model = ok(engine.Model.create({
      hidden: 256, heads: 4, context: 128, ...config.create, dropout: 0, seed: 1, tokenizer: 'char', lowercase: false, maxVocab: 0,
    }, text));
    const vocab = ok(model.info()).vocabSize;
    const { B, T } = config;
    const trainer = ok(engine.Trainer.create(model, text, {
      steps: 3 + trainSteps * repeats, batchSize: B, seqLen: T, learningRate: config.learningRate, optimizer: config.optimizer,
      weightDecay: config.weightDecay, clip: 1, warmupSteps: 0, cosine: false, validationSplit: 0, evalBatches: 1, seed: 1,
    }));
    try {
      for (let i = 0; i < 3; ++i) ok(trainer.step());  // warm caches and buffers
      let best = 0;
      for (let r = 0; r < repeats; ++r) {
        const start = now();
        for (let i = 0; i < trainSteps; ++i) ok(trainer.step());
        best = Math.max(best, (trainSteps * B * T) / (now() - start));
      }
      rows.push({ name: `${name}_train`, tokens_per_second: +best.toFixed(1), steps: trainSteps, vocab });
    } finally {
      trainer.delete();
    }

    if (name === 'C3' && gptBytes) {
      model.delete();
      model = ok(engine.Model.load(gptBytes));
    }
    const generator = ok(engine.Generator.create(model, {
      maxTokens: generateTokens * repeats + 1, temperature: 1, topK: 0, topP: 1, repetitionPenalty: 1,
      repetitionWindow: 0, seed: 1, stopAtEos: false,
    }, []));
    try {
      ok(generator.start(text.slice(0, 1)));
      ok(generator.next());
      let best = 0;
      for (let r = 0; r < repeats; ++r) {
        const start = now();
        for (let i = 0; i < generateTokens; ++i) ok(generator.next());
        best = Math.max(best, generateTokens / (now() - start));
      }
      rows.push({ name: `${name}_generate`, tokens_per_second: +best.toFixed(1), tokens: generateTokens });
    } finally {
      generator.delete();
      model.delete();
    }
  }
  return rows;
}
