// The package's public API through the real worker and wasm engine: create, generate (streaming, seeds, stop
// sequences, alternatives), fineTune (progress, report, loss goes down), evaluate, export/load round trips from
// every kind of source, save/load by name, inspect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  TinyLM, collect, corpus, directoryStore, heldOut, smallTrainedModel, temporaryDirectory,
} from './helpers.mjs';

const lm = await smallTrainedModel();
test.after(() => lm.dispose());

test('info describes the model', () => {
  assert.equal(lm.info.arch, 'lstm');
  assert.equal(lm.info.tokenizerKind, 'char');
  assert.equal(lm.info.trainable, true);
  assert.equal(lm.info.config.hidden_size, 48);
  assert.ok(lm.info.vocabSize > 40 && lm.info.parameterCount > 10000);
});

test('generate streams pieces; the same seed repeats the text, another seed changes it', async () => {
  const pieces = [];
  for await (const piece of lm.generate('Call me', { maxTokens: 50, seed: 11 })) pieces.push(piece);
  assert.ok(pieces.length >= 40, `expected about one piece per token, got ${pieces.length}`);
  const text = pieces.join('');
  assert.equal([...text].length, 50);
  assert.equal(await collect(lm.generate('Call me', { maxTokens: 50, seed: 11 })), text);
  assert.notEqual(await collect(lm.generate('Call me', { maxTokens: 50, seed: 12 })), text);
});

test('generate stops before a stop sequence and never shows part of it', async () => {
  const free = await collect(lm.generate('The', { maxTokens: 200, seed: 4, temperature: 0.9 }));
  const stop = free.slice(20, 22);  // a sequence this seed is known to produce
  const stopped = await collect(lm.generate('The', { maxTokens: 200, seed: 4, temperature: 0.9, stop }));
  assert.equal(stopped, free.slice(0, free.indexOf(stop)));
});

test('generateSteps gives token ids and up to 5 alternatives with probabilities', async () => {
  const steps = [];
  for await (const step of lm.generateSteps('whale', { maxTokens: 5, seed: 2, topK: 3 })) steps.push(step);
  assert.equal(steps.length, 5);
  for (const step of steps) {
    assert.ok(step.token >= 0);
    assert.ok(step.alternatives.length >= 1 && step.alternatives.length <= 3, 'top-k 3 keeps at most 3');
    const total = step.alternatives.reduce((sum, alternative) => sum + alternative.probability, 0);
    assert.ok(Math.abs(total - 1) < 1e-4, `top-k 3 alternatives hold the whole distribution, got ${total}`);
    assert.ok(step.alternatives.some((alternative) => alternative.token === step.token));
  }
});

test('fineTune reports progress and lowers the validation loss', async () => {
  const student = await TinyLM.create({ arch: 'gru', layers: 1, hidden: 32, embed: 16 }, corpus);
  try {
    const progress = [];
    const report = await student.fineTune(corpus, {
      steps: 25, batchSize: 8, seqLen: 32, learningRate: 1e-2, evalEvery: 5, onProgress: (p) => progress.push(p),
    });
    assert.deepEqual(progress.map((p) => p.step), Array.from({ length: 25 }, (_, i) => i + 1));
    const last = progress.at(-1);
    assert.equal(last.steps, 25);
    assert.equal(last.etaSeconds, 0);
    assert.ok(last.tokensPerSecond > 0 && Number.isFinite(last.gradNorm) && last.learningRate > 0);
    assert.equal(progress[3].validationLoss, null, 'no validation before step 5');
    assert.ok(progress[4].validationLoss > 0);
    assert.equal(report.steps, 25);
    assert.ok(report.validationLoss < report.initialValidationLoss - 0.3,
      `validation loss ${report.initialValidationLoss} → ${report.validationLoss}`);
    assert.ok(report.tokensPerSecond > 0 && report.trainTokens > report.validationTokens);
  } finally {
    await student.dispose();
  }
});

test('evaluate scores held-out text', async () => {
  const result = await lm.evaluate(heldOut);
  assert.equal(result.tokens, [...heldOut].length - 1);
  assert.ok(result.loss > 0.5 && result.loss < Math.log(lm.info.vocabSize));
  assert.ok(Math.abs(result.perplexity - Math.exp(result.loss)) < 1e-9 * result.perplexity);
  assert.ok(result.accuracy > 0.1 && result.accuracy < 1);
});

test('export → load from Uint8Array, ArrayBuffer, Blob, path and file URL give the same model', async (t) => {
  const bytes = await lm.export();
  assert.equal(new TextDecoder().decode(bytes.subarray(8, 9)), '{', 'safetensors: JSON header after 8 bytes');
  const directory = temporaryDirectory(t);
  const file = join(directory, 'model.safetensors');
  writeFileSync(file, bytes);
  const expected = await lm.evaluate(heldOut);
  for (const source of [bytes, bytes.slice().buffer, new Blob([bytes]), file, pathToFileURL(file), pathToFileURL(file).href]) {
    const copy = await TinyLM.load(source);
    try {
      assert.deepEqual(await copy.evaluate(heldOut), expected);
    } finally {
      await copy.dispose();
    }
  }
  assert.equal(bytes[0] + bytes[1] > 0, true, 'the caller\'s bytes are not detached by load()');
});

test('save(name) → load(name) through a directory store, written atomically', async (t) => {
  const directory = temporaryDirectory(t);
  const store = directoryStore(directory);
  await lm.save('moby-small', { store });
  await lm.save('moby-small', { store });  // overwrite: replaced by rename, no temporary files left behind
  assert.deepEqual(readdirSync(directory), ['moby-small.safetensors']);
  assert.deepEqual(await TinyLM.storedModels(store), ['moby-small']);
  const copy = await TinyLM.load('moby-small', { store });
  try {
    assert.deepEqual(await copy.evaluate(heldOut), await lm.evaluate(heldOut));
  } finally {
    await copy.dispose();
  }
  await TinyLM.removeStored('moby-small', store);
  assert.deepEqual(await TinyLM.storedModels(store), []);
});

test('the default store is $TINYLM_MODEL_DIR in Node', async (t) => {
  const directory = temporaryDirectory(t);
  process.env.TINYLM_MODEL_DIR = directory;
  t.after(() => delete process.env.TINYLM_MODEL_DIR);
  await lm.save('default-store');
  assert.deepEqual(readdirSync(directory), ['default-store.safetensors']);
  const copy = await TinyLM.load('default-store');
  await copy.dispose();
});

test('inspect returns per-token gates and hidden states as typed arrays', async () => {
  const inspection = await lm.inspect('whale');
  const { layers, gateCount, hiddenSize } = inspection;
  assert.deepEqual([layers, gateCount, hiddenSize], [1, 4, 48]);
  assert.deepEqual(inspection.gateNames, ['i', 'f', 'g', 'o']);
  assert.deepEqual(inspection.pieces, ['w', 'h', 'a', 'l', 'e']);
  assert.ok(inspection.gates instanceof Float32Array && inspection.hidden instanceof Float32Array);
  assert.equal(inspection.gates.length, 5 * layers * gateCount * hiddenSize);
  assert.equal(inspection.hidden.length, 5 * layers * hiddenSize);
  // i, f, o are sigmoids in (0, 1); g is a tanh in (−1, 1); h = o·tanh(c) in (−1, 1).
  const H = hiddenSize;
  for (let n = 0; n < 5; n++) {
    const gates = inspection.gates.subarray(n * 4 * H, (n + 1) * 4 * H);
    for (const [from, to] of [[0, H], [H, 2 * H], [3 * H, 4 * H]]) {
      assert.ok(gates.subarray(from, to).every((value) => value >= 0 && value <= 1));
    }
    assert.ok(gates.subarray(2 * H, 3 * H).every((value) => value >= -1 && value <= 1));
  }
  assert.ok(inspection.hidden.every((value) => value > -1 && value < 1));
});

test('encode and decode round-trip text', async () => {
  const ids = await lm.encode('Ishmael');
  assert.ok(ids instanceof Int32Array && ids.length === 7);
  assert.equal(await lm.decode(ids), 'Ishmael');
});
