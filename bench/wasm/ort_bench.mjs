// The onnxruntime-web peer of `npm run bench:wasm` for C3 generation: the shipped char-GPT's weights exported to
// ONNX with a KV cache (export_gpt_onnx.py), run by onnxruntime-web's wasm backend (SIMD, one thread), batch 1,
// one token per run with the cache fed back, sampled in JS at temperature 1 — what tinylm_bench.mjs measures for
// tinylm. When the 128 positions are full the window slides to the one tinylm's slides to, the last 64 tokens at
// positions 0–63: here re-encoded in one run with an empty cache (tinylm computes them alongside, gpt.hpp).
//
//   benchOrt(ort, onnxBytes, shape, { generateTokens, repeats, threads }) → [{ name: 'C3_generate', tokens_per_second, … }]
//   threads: onnxruntime-web's numThreads (default 1; more needs SharedArrayBuffer: Node, or an isolated page)
//   shape: { layers, heads, headSize, vocab, context } as export_gpt_onnx.py prints them

const now = () => performance.now() / 1000;

export async function benchOrt(ort, onnxBytes, shape, { generateTokens = 500, repeats = 3, threads = 1 } = {}) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const session = await ort.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const { layers: L, heads: NH, headSize: D, vocab: V, context } = shape;
  let seed = 1;
  const random = () => ((seed = (seed * 1664525 + 1013904223) >>> 0) / 2 ** 32);
  const empty = () => new ort.Tensor('float32', new Float32Array(0), [L, NH, 0, D]);

  let keys = empty(), values = empty();
  let window = [];
  const run = async (tokens) => {
    const feeds = {
      tokens: new ort.Tensor('int64', BigInt64Array.from(tokens, BigInt), [1, tokens.length]),
      past_keys: keys,
      past_values: values,
    };
    const result = await session.run(feeds);
    keys = result.present_keys;
    values = result.present_values;
    const logits = result.logits.data;
    return logits.subarray((tokens.length - 1) * V, tokens.length * V);
  };
  const sample = (logits) => {
    let max = -Infinity;
    for (const v of logits) max = Math.max(max, v);
    const weights = Float64Array.from(logits, (v) => Math.exp(v - max));
    let total = 0;
    for (const w of weights) total += w;
    let coin = random() * total, token = 0;
    while (token < V - 1 && (coin -= weights[token]) > 0) ++token;
    return token;
  };
  const next = async (token) => {
    if (window.length === context) {  // full: re-encode the newest half, then the new token follows
      window = window.slice(context / 2);
      keys = empty();
      values = empty();
      await run(window);
    }
    window.push(token);
    return sample(await run([token]));
  };

  let token = await next(0);
  for (let i = 0; i < 5; ++i) token = await next(token);
  let best = 0;
  for (let r = 0; r < repeats; ++r) {
    const start = now();
    for (let i = 0; i < generateTokens; ++i) token = await next(token);
    best = Math.max(best, generateTokens / (now() - start));
  }
  await session.release();
  return [{ name: 'C3_generate', tokens_per_second: +best.toFixed(1), tokens: generateTokens }];
}
