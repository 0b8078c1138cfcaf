// The TensorFlow.js peer of `npm run bench:wasm`: configurations C1/C2 of DESIGN.md as tf.layers models on the
// backend given (`wasm` with SIMD, or `cpu`), measured the way tinylm_bench.mjs measures tinylm; C3 (GPT) is
// trained only (tfjs_gpt.mjs): its generation peer is onnxruntime-web (ort_bench.mjs).
//
//   benchTFJS(tf, text, { configs, trainSteps, generateTokens, repeats, warmUp }) → rows like tinylm_bench.mjs's
//
// TF.js's wasm backend cannot train an Embedding layer (no UnsortedSegmentSum kernel), so the input is one-hot and
// the embedding is a bias-free Dense(64): the same lookup, as a (V, 64) matrix product. Training is one
// optimizer.minimize() per step on a fresh random batch (B 32, T 64) with softmax cross-entropy on the logits and
// Adam 2e-3; generation runs a stateful copy of the model with batch input shape (1, 1, V), one predict() per
// token, and samples from the softmax in JS at temperature 1. The caller picks and initialises the backend.
// warmUp (default true) runs one untimed step first; the cpu backend skips it: its steps take minutes, compile
// nothing, and one of them is the whole measurement.

import { gptTrainer } from './tfjs_gpt.mjs';

export const configs = {
  C1: { cell: 'lstm' },
  C2: { cell: 'gru' },
  C3: { gpt: true },
};

const now = () => performance.now() / 1000;

function buildModel(tf, cell, vocab, inputShape, stateful) {
  const rnn = (options) => (cell === 'lstm' ? tf.layers.lstm(options) : tf.layers.gru(options));
  return tf.sequential({
    layers: [
      tf.layers.dense({ ...inputShape, units: 64, useBias: false }),  // the embedding, on one-hot input
      rnn({ units: 256, returnSequences: true, stateful }),
      rnn({ units: 256, returnSequences: true, stateful }),
      tf.layers.dense({ units: vocab }),
    ],
  });
}

export async function benchTFJS(tf, text, { configs: names = ['C1', 'C2'], trainSteps = 3, generateTokens = 300, repeats = 2, warmUp = true } = {}) {
  const alphabet = [...new Set(text)].sort();
  const index = new Map(alphabet.map((c, i) => [c, i]));
  const ids = Int32Array.from(text, (c) => index.get(c));
  const vocab = alphabet.length;
  const [B, T] = [32, 64];
  let seed = 1;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);

  const rows = [];
  const windows = (B, T) => {
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; ++b) {
      const start = Math.floor(random() * (ids.length - T - 1));
      inputs.set(ids.subarray(start, start + T), b * T);
      targets.set(ids.subarray(start + 1, start + T + 1), b * T);
    }
    return { inputs, targets };
  };
  for (const name of names) {
    if (configs[name].gpt) {
      const trainer = gptTrainer(tf, vocab);
      const step = () => { const { inputs, targets } = windows(trainer.batch, trainer.seq); return trainer.step(inputs, targets); };
      if (warmUp) await step();
      let best = 0;
      for (let r = 0; r < repeats; ++r) {
        const start = now();
        for (let i = 0; i < trainSteps; ++i) await step();
        best = Math.max(best, (trainSteps * trainer.batch * trainer.seq) / (now() - start));
      }
      rows.push({ name: `${name}_train`, tokens_per_second: +best.toFixed(1), steps: trainSteps, vocab });
      trainer.dispose();
      continue;
    }
    const model = buildModel(tf, configs[name].cell, vocab, { inputShape: [T, vocab] }, false);
    const optimizer = tf.train.adam(2e-3);
    const step = async () => {
      const { inputs, targets } = windows(B, T);
      const loss = tf.tidy(() => {
        const x = tf.oneHot(tf.tensor2d(inputs, [B, T], 'int32'), vocab);
        const y = tf.oneHot(tf.tensor2d(targets, [B, T], 'int32'), vocab);
        return optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, model.apply(x, { training: true })), true);
      });
      await loss.data();
      loss.dispose();
    };
    if (warmUp) await step();  // kernels compiled, buffers allocated
    let best = 0;
    for (let r = 0; r < repeats; ++r) {
      const start = now();
      for (let i = 0; i < trainSteps; ++i) await step();
      best = Math.max(best, (trainSteps * B * T) / (now() - start));
    }
    rows.push({ name: `${name}_train`, tokens_per_second: +best.toFixed(1), steps: trainSteps, vocab });

    const generator = buildModel(tf, configs[name].cell, vocab, { batchInputShape: [1, 1, vocab] }, true);
    generator.setWeights(model.getWeights());
    let token = ids[0];
    const next = () => {
      const logits = tf.tidy(() => generator.predict(tf.oneHot(tf.tensor2d([token], [1, 1], 'int32'), vocab)).reshape([vocab]));
      const values = logits.dataSync();
      logits.dispose();
      let max = -Infinity;
      for (const v of values) max = Math.max(max, v);
      let total = 0;
      const weights = Float64Array.from(values, (v) => Math.exp(v - max));
      for (const w of weights) total += w;
      let coin = random() * total;
      token = 0;
      while (token < vocab - 1 && (coin -= weights[token]) > 0) ++token;
    };
    for (let i = 0; i < 5; ++i) next();
    best = 0;
    for (let r = 0; r < repeats; ++r) {
      const start = now();
      for (let i = 0; i < generateTokens; ++i) next();
      best = Math.max(best, generateTokens / (now() - start));
    }
    rows.push({ name: `${name}_generate`, tokens_per_second: +best.toFixed(1), tokens: generateTokens });
    model.dispose();
    generator.dispose();
    optimizer.dispose();
  }
  return rows;
}
