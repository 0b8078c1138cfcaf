// Limits in the wasm engine, where size_t has 32 bits: a config or an option whose sizes pass 2^32 or the heap cap
// is refused with MODEL_TOO_LARGE or OUT_OF_MEMORY before any buffer is sized, a model already loaded is left
// exactly as it was, and the engine stays usable. Long prompts and evaluations stop at an abort between chunks,
// and a failed fine-tune with keepPartial keeps finite weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, collect, corpus, heldOut, smallTrainedModel, tinylmError } from './helpers.mjs';

// A model file whose config declares `config` with a char tokenizer of `alphabet`, holding one small tensor.
function craftedFile(config, alphabet) {
  const tokenizer = { eos: false, kind: 'char', lowercase: false, tokens: ['<unk>', ...alphabet], version: 1 };
  const header = {
    __metadata__: {
      format: 'tinylm',
      format_version: '1',
      config: JSON.stringify({ ...config, vocab_size: tokenizer.tokens.length }),
      tokenizer: JSON.stringify(tokenizer),
    },
    'head.bias': { dtype: 'F32', shape: [4], data_offsets: [0, 16] },
  };
  let text = JSON.stringify(header);
  text += ' '.repeat((8 - (text.length % 8)) % 8);
  const bytes = new Uint8Array(8 + text.length + 16);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
  bytes.set(new TextEncoder().encode(text), 8);
  return bytes;
}

// The bystander: a small trained model whose greedy output and held-out loss must not change.
const bystander = await smallTrainedModel();
test.after(() => bystander.dispose());
const sample = () => collect(bystander.generate('Call me', { maxTokens: 40, temperature: 0, seed: 1 }));
const expectedSample = await sample();
const expectedLoss = (await bystander.evaluate(heldOut)).loss;
async function assertBystanderIntact() {
  assert.equal(await sample(), expectedSample, 'the model loaded before was changed');
  assert.equal((await bystander.evaluate(heldOut)).loss, expectedLoss);
  assert.ok((await TinyLM.memory()).heapSize > 0, 'the engine still answers');
}

test('a config whose parameter count wraps 32 bits is MODEL_TOO_LARGE, from create and from a file', async () => {
  // 40 layers of RNN(7372): 4.35e9 parameters, 2^32 + 55e6 — inside every documented option range.
  await assert.rejects(
    TinyLM.create({ arch: 'rnn_tanh', layers: 40, embed: 112, hidden: 7372 }, corpus),
    tinylmError('MODEL_TOO_LARGE', 'more than the 4.0 GiB'),
  );
  await assertBystanderIntact();
  const config = { arch: 'rnn_tanh', embed_size: 112, hidden_size: 7372, num_layers: 40, dropout: 0 };
  await assert.rejects(TinyLM.load(craftedFile(config, 'abc')), (error) => {
    assert.ok(['MODEL_TOO_LARGE', 'INVALID_MODEL_FILE'].includes(error.code), `${error.code}: ${error.message}`);
    return true;
  });
  await assertBystanderIntact();
});

test('a file declaring a model larger than the heap is refused before the engine allocates for it', async () => {
  const config = { arch: 'gpt', context_size: 65536, embed_size: 4096, num_layers: 8, num_heads: 8, bias: true,
                   dropout: 0, gelu: 'exact' };
  await assert.rejects(TinyLM.load(craftedFile(config, 'abc')), (error) => {
    assert.ok(['MODEL_TOO_LARGE', 'INVALID_MODEL_FILE'].includes(error.code), `${error.code}: ${error.message}`);
    return true;
  });
  await assertBystanderIntact();
});

test('training batches larger than the heap are OUT_OF_MEMORY with the bytes and the cap, and the engine goes on', async () => {
  const lstm = await TinyLM.create({ arch: 'lstm', layers: 2, hidden: 2048, embed: 64 }, corpus);
  try {
    await assert.rejects(lstm.fineTune(corpus, { steps: 1, batchSize: 4096, seqLen: 512 }),
      tinylmError('OUT_OF_MEMORY', 'more than the 4.0 GiB this engine may use'));
  } finally {
    await lstm.dispose();
  }
  for (const [batchSize, seqLen] of [[4096, 4096], [1024, 4096]]) {
    await assert.rejects(bystander.fineTune(corpus, { steps: 1, batchSize, seqLen, validationSplit: 0 }),
      tinylmError('OUT_OF_MEMORY', `batch ${batchSize} × seqLen ${seqLen}`));
  }
  await assertBystanderIntact();
  const fresh = await TinyLM.load();
  assert.ok((await collect(fresh.generate('Call', { maxTokens: 5, seed: 1 }))).length > 0);
  await fresh.dispose();
});

test('keepPartial after divergence keeps the last weights whose loss was finite', async () => {
  const lm = await TinyLM.create({ arch: 'rnn_relu', layers: 1, hidden: 32, embed: 8, seed: 2 }, corpus);
  try {
    await assert.rejects(
      lm.fineTune(corpus, { steps: 50, batchSize: 4, seqLen: 16, learningRate: 1e30, optimizer: 'sgd', clip: 0,
                            keepPartial: true, validationSplit: 0 }),
      tinylmError('TRAINING_DIVERGED'),
    );
    assert.ok(Number.isFinite((await lm.evaluate(heldOut)).loss), 'the kept weights score a finite loss');
    assert.ok((await collect(lm.generate('Call', { maxTokens: 20, seed: 1 }))).length > 0, 'and still generate');
  } finally {
    await lm.dispose();
  }
});

test('a long prompt and a long evaluation stop at an abort, and other models are served meanwhile', async () => {
  const long = corpus.repeat(Math.ceil(102_000 / corpus.length)).slice(0, 102_000);
  const other = await TinyLM.load();
  try {
    for (const start of [
      (signal) => collect(bystander.generate(long, { maxTokens: 5, signal })),
      (signal) => bystander.evaluate(long.repeat(50), { signal }),
    ]) {
      const controller = new AbortController();
      let otherDone = false, longDone = false;
      const running = start(controller.signal).finally(() => { longDone = true; });
      // Another model's request completes while the long call runs: the worker interleaves them.
      await collect(other.generate('The', { maxTokens: 3, seed: 1 }));
      otherDone = true;
      assert.equal(longDone, false, 'the long call finished before the other model was served');
      controller.abort();
      await assert.rejects(running, tinylmError('ABORTED'));
      assert.ok(otherDone);
    }
    await assertBystanderIntact();
  } finally {
    await other.dispose();
  }
});
