// C3 of DESIGN.md in TensorFlow.js, for the training figure of `npm run bench:wasm`: nanoGPT's decoder (4 pre-LN
// blocks, 4 heads, d_model 128, MLP 4×, learned positions, tied head) written with tf ops, since tf.layers has no
// causal self-attention. As in tfjs_bench.mjs the token embedding is a matrix product with one-hot input (the wasm
// backend cannot train a gather), and the tied head multiplies by the same matrix transposed. GELU is the tanh
// form (the wasm backend has no erf); TF.js has no AdamW, so Adam 1e-3 updates every tensor — the same arithmetic
// per step but for the decay term.
//
//   gptTrainer(tf, vocab) → { step(inputs: Int32Array(B·T), targets: Int32Array(B·T)) → Promise<loss>, dispose() }

export const C3 = { layers: 4, heads: 4, embed: 128, context: 128, batch: 16 };

export function gptTrainer(tf, vocab) {
  const { layers: L, heads: NH, embed: C, context: T, batch: B } = C3;
  const D = C / NH;
  const normal = (shape, std) => tf.variable(tf.randomNormal(shape, 0, std));
  const zeros = (shape) => tf.variable(tf.zeros(shape));
  const ones = (shape) => tf.variable(tf.ones(shape));
  const wte = normal([vocab, C], 0.02);
  const wpe = normal([T, C], 0.02);
  const blocks = Array.from({ length: L }, () => ({
    ln1: [ones([C]), zeros([C])],
    attn: [normal([C, 3 * C], 0.02), zeros([3 * C])],
    proj: [normal([C, C], 0.02 / Math.sqrt(2 * L)), zeros([C])],
    ln2: [ones([C]), zeros([C])],
    fc: [normal([C, 4 * C], 0.02), zeros([4 * C])],
    mlpProj: [normal([4 * C, C], 0.02 / Math.sqrt(2 * L)), zeros([C])],
  }));
  const lnF = [ones([C]), zeros([C])];
  // −1e9 above the diagonal: position t never sees t' > t.
  const mask = tf.tidy(() => tf.sub(1, tf.linalg.bandPart(tf.ones([T, T]), -1, 0)).mul(-1e9));
  const optimizer = tf.train.adam(1e-3);

  const layerNorm = (x, [gain, bias]) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return x.sub(mean).mul(tf.rsqrt(variance.add(1e-5))).mul(gain).add(bias);
  };
  const linear = (x, [weight, bias]) => tf.matMul(x, weight).add(bias);
  const gelu = (x) => x.mul(0.5).mul(tf.tanh(x.add(x.mul(x).mul(x).mul(0.044715)).mul(Math.sqrt(2 / Math.PI))).add(1));
  const heads = (x) => x.reshape([B, T, NH, D]).transpose([0, 2, 1, 3]);  // (B, NH, T, D)

  const loss = (inputs, targets) => {
    let x = tf.matMul(tf.oneHot(inputs, vocab).toFloat(), wte).reshape([B, T, C]).add(wpe).reshape([B * T, C]);
    for (const block of blocks) {
      const [q, k, v] = tf.split(linear(layerNorm(x, block.ln1), block.attn), 3, 1).map(heads);
      const weights = tf.softmax(tf.matMul(q, k, false, true).mul(1 / Math.sqrt(D)).add(mask));
      const mixed = tf.matMul(weights, v).transpose([0, 2, 1, 3]).reshape([B * T, C]);
      x = x.add(linear(mixed, block.proj));
      x = x.add(linear(gelu(linear(layerNorm(x, block.ln2), block.fc)), block.mlpProj));
    }
    const logits = tf.matMul(layerNorm(x, lnF), wte, false, true);
    return tf.losses.softmaxCrossEntropy(tf.oneHot(targets, vocab), logits);
  };

  return {
    batch: B,
    seq: T,
    async step(inputs, targets) {
      const value = tf.tidy(() => optimizer.minimize(
        () => loss(tf.tensor1d(inputs, 'int32'), tf.tensor1d(targets, 'int32')), true));
      const [result] = await value.data();
      value.dispose();
      return result;
    },
    dispose() {
      optimizer.dispose();
      mask.dispose();
      for (const variable of [wte, wpe, ...lnF, ...blocks.flatMap((block) => Object.values(block).flat())]) variable.dispose();
    },
  };
}
