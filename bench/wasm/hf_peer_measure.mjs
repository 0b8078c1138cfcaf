// One measurement of `npm run bench:hf-wasm` (hf_peer.mjs), the same code in Node and in Chromium: a GPT-2- or
// SmolLM2-shaped checkpoint run batch 1, greedy, on a prompt of known token ids, by tinylm (the package) or by
// onnxruntime-web (wasm backend, the folder's ONNX export). Both are timed the same way:
//   prefill tokens/s    = prompt tokens ÷ the time from the call to the first generated token (the prompt's forward
//                         and the first token's choice; tinylm's stream delivers that token at once)
//   generation tokens/s = (generated − 1) ÷ the time from the first generated token to the last
// after a short warm-up generation, best of `repeats`. Returns { prefill_tokens_per_second,
// generate_tokens_per_second, tokens } (the greedy ids, compared across sides by hf_peer.mjs).

const now = () => performance.now() / 1000;

function best(rows) {
  return {
    prefill_tokens_per_second: +Math.max(...rows.map((row) => row.prefill)).toFixed(2),
    generate_tokens_per_second: +Math.max(...rows.map((row) => row.generate)).toFixed(2),
    tokens: rows[0].tokens,
  };
}

function rates(promptLength, start, times) {
  return { prefill: promptLength / (times[0] - start), generate: (times.length - 1) / (times.at(-1) - times[0]) };
}

// TinyLM: the package's class, configured for `threads` by the caller. source: the folder as TinyLM.load takes it
// ({ files } of name → bytes, or { baseUrl }); cache: the load's cache option.
export async function measureTinyLM(TinyLM, source, { weights, prompt, generate, repeats, maxContext, cache }) {
  const lm = await TinyLM.load(source, { weights, maxContext, cache });
  try {
    const ids = await lm.encode(prompt.text);
    if (ids.length !== prompt.ids.length || ids.some((id, i) => id !== prompt.ids[i])) {
      throw new Error(`tinylm encodes the prompt to ${ids.length} ids, not the ${prompt.ids.length} the bench expects`);
    }
    const options = { maxTokens: generate, temperature: 0, stopAtEos: false };
    for await (const _ of lm.generateSteps(prompt.text, { ...options, maxTokens: 4 })) { /* warm-up */ }
    const rows = [];
    for (let r = 0; r < repeats; ++r) {
      const times = [], tokens = [];
      const start = now();
      for await (const step of lm.generateSteps(prompt.text, options)) {
        times.push(now());
        tokens.push(step.token);
      }
      rows.push({ ...rates(ids.length, start, times), tokens });
    }
    const memory = await TinyLM.memory();
    return { ...best(rows), weights: lm.info.weights, wasm_heap_mb: +(memory.heapSize / 2 ** 20).toFixed(1) };
  } finally {
    await lm.dispose();
  }
}

function argmax(logits) {
  let index = 0;
  for (let i = 1; i < logits.length; ++i) if (logits[i] > logits[index]) index = i;
  return index;
}

function relativeError(ours, reference) {
  let diff = 0, scale = 0;
  for (let i = 0; i < reference.length; ++i) {
    diff = Math.max(diff, Math.abs(ours[i] - reference[i]));
    scale = Math.max(scale, Math.abs(reference[i]));
  }
  return diff / scale;
}

// ort: the onnxruntime-web module; onnx: the graph's bytes or URL; shape: onnx.json; check: check.json's tokens and the
// exporter's logits for this form. The graph's outputs are checked first: a prompt and a cached step against the
// PyTorch logits (relative error returned as check_error).
export async function measureOrt(ort, onnx, { shape, check, form, threads, prompt, generate, repeats }) {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const { layers, kvHeads, headSize } = shape;
  const empty = () => new ort.Tensor('float32', new Float32Array(0), [layers, kvHeads, 0, headSize]);
  const run = async (ids, cache) => {
    const result = await session.run({
      tokens: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      past_keys: cache.keys,
      past_values: cache.values,
    });
    return { logits: result.logits.data, cache: { keys: result.present_keys, values: result.present_values } };
  };
  const generateFrom = async (ids, count) => {
    const times = [], tokens = [];
    let { logits, cache } = await run(ids, { keys: empty(), values: empty() });
    for (;;) {
      tokens.push(argmax(logits));
      times.push(now());
      if (tokens.length === count) return { times, tokens };
      ({ logits, cache } = await run([tokens.at(-1)], cache));
    }
  };
  try {
    const prefix = await run(check.tokens.slice(0, -1), { keys: empty(), values: empty() });
    const step = await run(check.tokens.slice(-1), prefix.cache);
    const checkError = relativeError(step.logits, check[form]);
    await generateFrom(prompt.ids, 4);  // warm-up
    const rows = [];
    for (let r = 0; r < repeats; ++r) {
      const start = now();
      const { times, tokens } = await generateFrom(prompt.ids, generate);
      rows.push({ ...rates(prompt.ids.length, start, times), tokens });
    }
    return { ...best(rows), check_error: +checkError.toExponential(2) };
  } finally {
    await session.release();
  }
}
