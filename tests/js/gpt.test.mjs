// GPT through the package: created and trained from scratch in the wasm engine (char and byte-level BPE
// tokenizers), saved and reloaded, and inspected — every head's attention over the reader's text, which must be a
// causal probability distribution per row and identical to what a reloaded copy computes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, collect, corpus, heldOut, tinylmError } from './helpers.mjs';

const shape = { arch: 'gpt', layers: 2, heads: 2, embed: 32, context: 48, seed: 5 };

test('gpt: create → fineTune lowers the validation loss; the same seed repeats a sample', async (t) => {
  const lm = await TinyLM.create(shape, corpus);
  t.after(() => lm.dispose());
  assert.equal(lm.info.arch, 'gpt');
  assert.equal(lm.info.contextSize, 48);
  assert.equal(lm.info.config.num_heads, 2);
  assert.equal(lm.info.config.embed_size, 32);
  // wte (V,32) + wpe (48,32) + 2 blocks of 12·32² + 13·32 + final LayerNorm (2·32).
  const V = lm.info.vocabSize;
  assert.equal(lm.info.parameterCount, V * 32 + 48 * 32 + 2 * (12 * 32 * 32 + 13 * 32) + 2 * 32);

  const report = await lm.fineTune(corpus, { steps: 60, batchSize: 8, seqLen: 48, learningRate: 3e-3, seed: 2 });
  assert.equal(report.steps, 60);
  assert.ok(report.validationLoss < report.initialValidationLoss - 0.5,
    `validation loss ${report.initialValidationLoss} → ${report.validationLoss}`);
  const first = await collect(lm.generate('The whale', { maxTokens: 30, seed: 9 }));
  const again = await collect(lm.generate('The whale', { maxTokens: 30, seed: 9 }));
  assert.equal([...first].length, 30);
  assert.equal(first, again);
});

test('gpt: longer than the context — training windows and prompts are refused by name; generation slides', async (t) => {
  const lm = await TinyLM.create(shape, corpus);
  t.after(() => lm.dispose());
  await assert.rejects(lm.fineTune(corpus, { steps: 1, seqLen: 49 }), tinylmError('INVALID_ARGUMENT', 'seqLen 49 is longer than the model\'s context of 48'));
  const long = await collect(lm.generate('Ishmael', { maxTokens: 120, seed: 1 }));  // 2.5 windows
  assert.equal([...long].length, 120);

  const prompt = 'x'.repeat(49);
  await assert.rejects(collect(lm.generate(prompt, { maxTokens: 5 })), tinylmError('PROMPT_TOO_LONG', 'the prompt is 49 tokens but this model reads at most 48'));
  assert.equal([...(await collect(lm.generate(prompt.slice(1), { maxTokens: 5, seed: 1 })))].length, 5, 'a prompt that fills the context is fine');
  const slid = await collect(lm.generate(prompt, { maxTokens: 5, seed: 1, truncatePrompt: true }));
  assert.equal([...slid].length, 5);
});

test('gpt: inspect gives causal attention rows that sum to one, the same after export → load', async (t) => {
  const lm = await TinyLM.create(shape, corpus);
  t.after(() => lm.dispose());
  await lm.fineTune(corpus, { steps: 20, batchSize: 8, seqLen: 48, learningRate: 3e-3 });
  const text = 'Call me Ishmael.';
  const inspection = await lm.inspect(text);
  assert.equal(inspection.kind, 'attention');
  const N = [...text].length;
  assert.deepEqual(inspection.pieces, [...text]);
  assert.equal(inspection.layers, 2);
  assert.equal(inspection.heads, 2);
  assert.ok(inspection.attention instanceof Float32Array);
  assert.equal(inspection.attention.length, 2 * 2 * N * N);
  for (let matrix = 0; matrix < 4; matrix++) {
    for (let q = 0; q < N; q++) {
      const row = inspection.attention.subarray((matrix * N + q) * N, (matrix * N + q + 1) * N);
      const sum = row.slice(0, q + 1).reduce((total, weight) => total + weight, 0);
      assert.ok(Math.abs(sum - 1) < 1e-5, `matrix ${matrix} row ${q} sums to ${sum}`);
      assert.ok(row.slice(0, q + 1).every((weight) => weight >= 0));
      assert.ok(row.slice(q + 1).every((weight) => weight === 0), `row ${q} attends to the future`);
    }
  }
  // The heads learned different things: their maps are not identical.
  const head0 = inspection.attention.subarray(0, N * N);
  const head1 = inspection.attention.subarray(N * N, 2 * N * N);
  assert.ok(head0.some((weight, i) => Math.abs(weight - head1[i]) > 1e-3));

  const copy = await TinyLM.load(await lm.export());
  t.after(() => copy.dispose());
  assert.deepEqual((await copy.inspect(text)).attention, inspection.attention);
  // Inspection leaves no state behind: generation after it equals generation on the fresh copy.
  assert.equal(await collect(lm.generate('Call', { maxTokens: 20, seed: 4 })),
    await collect(copy.generate('Call', { maxTokens: 20, seed: 4 })));

  await assert.rejects(lm.inspect('x'.repeat(49)), tinylmError('INVALID_ARGUMENT', 'at most 48'));
});

test('gpt: a byte-level BPE tokenizer learned in the tab round-trips any text', async (t) => {
  const lm = await TinyLM.create({ ...shape, tokenizer: 'bpe', maxVocab: 300 }, corpus);
  t.after(() => lm.dispose());
  assert.equal(lm.info.tokenizerKind, 'bpe');
  assert.equal(lm.info.vocabSize, 300);
  const text = 'Whale — 鯨 🐋 ahoy!';
  const tokens = await lm.encode(text);
  assert.ok(tokens.length < new TextEncoder().encode(text).length, 'merges shorten the byte sequence');
  assert.equal(await lm.decode(tokens), text);
  const report = await lm.fineTune(corpus, { steps: 10, batchSize: 4, seqLen: 32, learningRate: 3e-3 });
  assert.ok(Number.isFinite(report.validationLoss));
  assert.ok((await lm.evaluate(heldOut)).tokens > 0);
});

test('gpt: bad shapes are refused with the engine message', async () => {
  await assert.rejects(TinyLM.create({ ...shape, heads: 3 }, corpus), tinylmError('INVALID_ARGUMENT', 'head'));
  await assert.rejects(TinyLM.create({ ...shape, tokenizer: 'morse' }, corpus), tinylmError('INVALID_ARGUMENT', 'morse'));
});

test('TinyLM.load() with no source loads the shipped default model', async (t) => {
  const lm = await TinyLM.load();
  t.after(() => lm.dispose());
  assert.equal(lm.info.arch, 'lstm');
  assert.equal(lm.info.tokenizerKind, 'char');
  const report = await lm.evaluate(heldOut);
  assert.ok(report.loss < 2.2, `the default model scores ${report.loss} nats/char on held-out text`);
  assert.equal([...(await collect(lm.generate('Call me', { maxTokens: 25, seed: 1 })))].length, 25);
});
