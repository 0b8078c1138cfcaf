// TinyLM.load(source, { weights: 'f16' | 'int8' }): a GPT's or Llama's matrices held only in that form (half or a
// quarter of their float32 bytes), generating and evaluating from them. Checked on a SmolLM2-layout checkpoint
// (Llama, BF16, grouped-query attention; hf/checkpoints.mjs) and a tinylm GPT model file: the loss against the same
// weights loaded as float32 and against PyTorch, what info reports, and that fine-tuning and export are refused with
// the reason while the model stays usable.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';

import { checkpoints, TEXT } from './hf/checkpoints.mjs';
import { TinyLM, collect, corpus, heldOut, tinylmError } from './helpers.mjs';

let made;

before(() => {
  made = checkpoints();
});

after(async () => {
  await TinyLM.shutdown();
});

function folderFiles(name) {
  const folder = made.folders[name];
  return { files: Object.fromEntries(readdirSync(folder).map((file) => [file, new Uint8Array(readFileSync(join(folder, file)))])) };
}

function relativeError(actual, expected) {
  return Math.abs(actual - expected) / Math.abs(expected);
}

test('a BF16 Llama checkpoint held as f16 scores as PyTorch does; held as int8, within rounding', async () => {
  const floats = await TinyLM.load(folderFiles('smollm2-sharded'));
  const halves = await TinyLM.load(folderFiles('smollm2-sharded'), { weights: 'f16' });
  const bytes = await TinyLM.load(folderFiles('smollm2-sharded'), { weights: 'int8' });
  try {
    assert.equal(floats.info.weights, 'f32');
    assert.equal(halves.info.weights, 'f16');
    assert.equal(bytes.info.weights, 'int8');
    assert.equal(floats.info.trainable, true);
    assert.equal(halves.info.trainable, false);
    assert.equal(halves.info.parameterCount, floats.info.parameterCount);
    assert.equal(bytes.info.parameterCount, floats.info.parameterCount);

    const reference = (await floats.evaluate(TEXT)).loss;
    assert.ok(relativeError(reference, made.expected.smollm2) < 1e-5);
    // BF16's 8 significant bits fit F16's 11, and these weights are in F16's range: the same values, other kernels.
    const half = await halves.evaluate(TEXT);
    assert.ok(relativeError(half.loss, made.expected.smollm2) < 1e-5, `f16 loss ${half.loss} vs ${made.expected.smollm2}`);
    const int8 = await bytes.evaluate(TEXT);
    assert.ok(relativeError(int8.loss, reference) < 2e-2, `int8 loss ${int8.loss} vs ${reference}`);
    assert.notEqual(int8.loss, reference, 'int8 rounding changes the weights');

    // Generation steps read the compact matrices directly; a seeded sample is reproducible.
    const first = await collect(halves.generate('Call me', { maxTokens: 12, seed: 3 }));
    const again = await collect(halves.generate('Call me', { maxTokens: 12, seed: 3 }));
    assert.deepEqual(again, first);
    assert.ok(first.length > 0);
  } finally {
    await floats.dispose();
    await halves.dispose();
    await bytes.dispose();
  }
});

test('a model held compactly refuses fine-tuning and export with the reason, and stays usable', async () => {
  const base = await TinyLM.create({ arch: 'gpt', layers: 2, embed: 48, heads: 4, context: 32, seed: 2 }, corpus);
  await base.fineTune(corpus.slice(0, 20000), { steps: 8, batchSize: 4, seqLen: 32 });
  const file = await base.export();
  const compact = await TinyLM.load(file, { weights: 'int8' });
  try {
    const floatLoss = (await base.evaluate(heldOut)).loss;
    const before = await compact.evaluate(heldOut);
    assert.ok(relativeError(before.loss, floatLoss) < 2e-2, `int8 ${before.loss} vs f32 ${floatLoss}`);
    await assert.rejects(compact.fineTune(corpus.slice(0, 5000), { steps: 1 }), tinylmError('NOT_TRAINABLE', "weights: 'f32'"));
    await assert.rejects(compact.export(), /int8/);
    assert.deepEqual(await compact.evaluate(heldOut), before);
  } finally {
    await base.dispose();
    await compact.dispose();
  }
});

test('the weights option is checked by name and value before anything loads', async () => {
  await assert.rejects(TinyLM.load(folderFiles('smollm2'), { weights: 'fp16' }), tinylmError('INVALID_ARGUMENT', "'f16'"));
  await assert.rejects(TinyLM.load(folderFiles('smollm2'), { weight: 'f16' }), tinylmError('INVALID_ARGUMENT', 'weights'));
});
