// The API's edge cases: option names are checked (an unknown key names the nearest valid one), a diverging
// fine-tune is caught and undone, validation that cannot run says why, export/save keep the precision the model
// was loaded with (or take another), and load() reads exactly a view's bytes and leaves the caller's memory alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { TinyLM, collect, corpus, directoryStore, root, temporaryDirectory, tinylmError } from './helpers.mjs';

const defaultModelFile = join(root, 'models', 'moby-char-lstm.safetensors');
const lm = await TinyLM.load();
test.after(() => lm.dispose());

test('unknown option names fail with INVALID_ARGUMENT naming the nearest valid one', async () => {
  await assert.rejects(collect(lm.generate('x', { max_tokens: 5, temp: 0 })),
    tinylmError('INVALID_ARGUMENT', "unknown option 'max_tokens' — did you mean 'maxTokens'?"));
  await assert.rejects(collect(lm.generate('x', { temp: 0 })), tinylmError('INVALID_ARGUMENT', "did you mean 'temperature'?"));
  await assert.rejects(collect(lm.generateSteps('x', { topk: 3 })), tinylmError('INVALID_ARGUMENT', "did you mean 'topK'?"));
  await assert.rejects(TinyLM.create({ n_layer: 2 }, corpus), tinylmError('INVALID_ARGUMENT', "unknown option 'n_layer' — did you mean 'layers'?"));
  await assert.rejects(TinyLM.create({ embed_size: 32 }, corpus), tinylmError('INVALID_ARGUMENT', "did you mean 'embed'?"));
  await assert.rejects(lm.fineTune(corpus, { lr: 1e-3 }), tinylmError('INVALID_ARGUMENT', "unknown option 'lr' — did you mean 'learningRate'?"));
  await assert.rejects(lm.fineTune(corpus, { batch_size: 4 }), tinylmError('INVALID_ARGUMENT', "did you mean 'batchSize'?"));
  await assert.rejects(lm.export({ precision: 'f16' }), tinylmError('INVALID_ARGUMENT', "did you mean 'dtype'?"));
  await assert.rejects(lm.save('m', { dtyp: 'f16' }), tinylmError('INVALID_ARGUMENT', "did you mean 'dtype'?"));
  await assert.rejects(TinyLM.load(undefined, { stor: null }), tinylmError('INVALID_ARGUMENT', "did you mean 'store'?"));
  await assert.rejects(lm.fineTune(corpus, { optimizer: 'adamm' }), tinylmError('INVALID_ARGUMENT', "did you mean 'adam'?"));
  await assert.rejects(collect(lm.generate('x', { wobble: 1 })), tinylmError('INVALID_ARGUMENT', "the options are 'maxTokens'"));
  assert.throws(() => TinyLM.configure({ assetbase: '/x/' }), tinylmError('INVALID_ARGUMENT', "did you mean 'assetBase'?"));
});

test("engine messages use the API's names", async () => {
  await assert.rejects(TinyLM.create({ arch: 'gpt', embed: 30, heads: 4 }, corpus),
    (error) => error.code === 'INVALID_ARGUMENT' && /\bembed\b/.test(error.message) && !/embed_size|num_heads/.test(error.message));
});

test('a diverging fine-tune ends in TRAINING_DIVERGED with the weights bit-identical to before', async () => {
  const before = await lm.export();
  const seen = [];
  await assert.rejects(
    lm.fineTune(corpus, { learningRate: 1e9, clip: 0, steps: 40, batchSize: 8, seqLen: 32, onProgress: (p) => seen.push(p.loss) }),
    tinylmError('TRAINING_DIVERGED', 'training diverged'),
  );
  assert.ok(seen.length < 40, `stopped after ${seen.length} of 40 steps`);
  assert.deepEqual(await lm.export(), before);
  assert.ok(Number.isFinite((await lm.evaluate(corpus.slice(0, 2000))).perplexity));
});

test('validation that cannot run says why', async () => {
  const paragraph = corpus.slice(0, 600);
  const tooShort = await lm.fineTune(paragraph, { steps: 2, seqLen: 64, batchSize: 2, keepPartial: true });
  assert.equal(tooShort.validationLoss, null);
  assert.match(tooShort.validationSkipped, /^text too short: the held-out 0\.1 of the text is \d+ tokens, but one validation window of seqLen 64 needs 65$/);
  const none = await lm.fineTune(paragraph, { steps: 1, seqLen: 16, batchSize: 2, validationSplit: 0, keepPartial: true });
  assert.equal(none.validationSkipped, 'validationSplit is 0');
  const ran = await lm.fineTune(corpus, { steps: 1, seqLen: 16, batchSize: 2, keepPartial: true });
  assert.equal(ran.validationSkipped, null);
  assert.ok(ran.validationLoss > 0);
});

test('export and save keep the loaded precision by default, or store the dtype asked for', async (t) => {
  const model = await TinyLM.load(readFileSync(defaultModelFile));
  t.after(() => model.dispose());
  assert.equal(model.info.dtype, 'int8');
  const sizes = {};
  for (const dtype of [undefined, 'int8', 'f16', 'f32']) sizes[dtype ?? 'default'] = (await model.export(dtype && { dtype })).byteLength;
  t.diagnostic(`export sizes: ${JSON.stringify(sizes)}`);
  assert.equal(sizes.default, sizes.int8);
  assert.ok(sizes.int8 < 1_000_000 && sizes.int8 > 800_000, `int8 ${sizes.int8} bytes (the shipped file is ${statSync(defaultModelFile).size})`);
  assert.ok(sizes.f16 > 1.5 * sizes.int8 && sizes.f32 > 1.8 * sizes.f16, JSON.stringify(sizes));
  const reloaded = await TinyLM.load(await model.export({ dtype: 'f16' }));
  assert.equal(reloaded.info.dtype, 'f16');
  await reloaded.dispose();
  const directory = temporaryDirectory(t);
  await model.save('default-copy', { store: directoryStore(directory) });
  assert.equal(statSync(join(directory, 'default-copy.safetensors')).size, sizes.int8);
  await model.save('default-f32', { store: directoryStore(directory), dtype: 'f32' });
  assert.equal(statSync(join(directory, 'default-f32.safetensors')).size, sizes.f32);
  await assert.rejects(model.export({ dtype: 'bf16' }), tinylmError('INVALID_ARGUMENT', "option dtype must be 'f32', 'f16', 'int8'"));
  const created = await TinyLM.create({ layers: 1, hidden: 16, embed: 8 }, corpus);
  assert.equal(created.info.dtype, 'f32');
  await created.dispose();
});

test('load(view) reads exactly the view and neither detaches nor keeps the caller\'s memory', async () => {
  const file = readFileSync(defaultModelFile);
  const pool = new ArrayBuffer(file.length + 4096);  // like Node's Buffer pool: the view is a part of a larger buffer
  const view = Buffer.from(pool, 1000, file.length);
  new Uint8Array(pool).fill(0xAB);
  view.set(file);
  const fromView = await TinyLM.load(view);
  assert.equal(view.length, file.length, 'the view is not detached');
  assert.equal(pool.byteLength, file.length + 4096, 'the underlying buffer is not detached');
  assert.equal(view[0], file[0]);
  const fromFile = await TinyLM.load(file);
  assert.equal(await collect(fromView.generate('Call me', { maxTokens: 20, seed: 3 })),
    await collect(fromFile.generate('Call me', { maxTokens: 20, seed: 3 })));
  await Promise.all([fromView.dispose(), fromFile.dispose()]);
  await assert.rejects(TinyLM.load(view.subarray(0, view.length >> 1)), tinylmError('INVALID_MODEL_FILE'),
    'half the view is half a file, whatever lies beyond it');
  const offsetView = new Uint8Array(pool, 1000 - 8, file.length + 8);
  await assert.rejects(TinyLM.load(offsetView), tinylmError('INVALID_MODEL_FILE'), 'the view starts where it says');
});
