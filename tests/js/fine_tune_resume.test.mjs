// Training checkpoints through the package (web/lib/fine_tune.ts): a fine-tune stopped after some steps and resumed
// from its stored checkpoint ends with the same bytes — weights for a full fine-tune, adapter for a LoRA one — and
// samples the same text as one never interrupted; a resume refuses another run's checkpoint by naming what differs,
// refuses a corrupt one, and either way changes neither the model nor the stored checkpoint; a write that fails
// stops the run and keeps the checkpoint stored before it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TinyLM, collect, corpus, temporaryDirectory, tinylmError } from './helpers.mjs';

const shape = { arch: 'gpt', layers: 2, heads: 2, embed: 32, context: 32, seed: 5, dropout: 0.1 };
const training = { steps: 12, batchSize: 4, seqLen: 32, learningRate: 3e-3, evalEvery: 4, seed: 2 };
const sampling = { maxTokens: 40, seed: 9, temperature: 0.8 };
const lora = { rank: 4, alpha: 8, dropout: 0.1, targets: ['c_attn', 'c_fc'] };

let baseBytes;
async function freshBase() {
  baseBytes ??= await (async () => {
    const lm = await TinyLM.create(shape, corpus);
    try {
      return await lm.export({ dtype: 'f32' });
    } finally {
      lm.dispose();
    }
  })();
  return TinyLM.load(baseBytes);
}

// Runs a fine-tune that checkpoints and cancels it once step `abortAt` is reported; returns the AbortError.
async function interruptedRun(lm, options, abortAt) {
  const controller = new AbortController();
  return assert.rejects(
    lm.fineTune(corpus, { ...options, signal: controller.signal, onProgress: (p) => p.step >= abortAt && controller.abort() }),
    tinylmError('ABORTED'),
  );
}

function memoryStore({ failOnWrite } = {}) {
  const records = new Map();
  let writes = 0;
  return {
    records,
    read: async (name) => records.get(name)?.slice(),
    async write(name, bytes) {
      writes += 1;
      if (writes === failOnWrite) throw new Error('quota exceeded');
      records.set(name, bytes.slice());
    },
    remove: async (name) => void records.delete(name),
    list: async () => [...records.keys()],
  };
}

test('resume: a full GPT fine-tune stopped after k steps and resumed ends bit-identical to an uninterrupted one', async (t) => {
  const directory = temporaryDirectory(t);
  const reference = await freshBase();
  t.after(() => reference.dispose());
  const uninterrupted = await reference.fineTune(corpus, training);
  const expectedBytes = await reference.export({ dtype: 'f32' });
  const expectedSample = await collect(reference.generate('The whale', sampling));

  const lm = await freshBase();
  t.after(() => lm.dispose());
  const options = { ...training, checkpointEvery: 3, checkpointDir: directory };
  await interruptedRun(lm, options, 7);
  const file = join(directory, 'fine-tune.safetensors');
  assert.ok(existsSync(file), 'the aborted run leaves its last checkpoint');
  assert.deepEqual(readdirSync(directory), ['fine-tune.safetensors'], 'no temporary file is left beside it');
  assert.deepEqual(await lm.export({ dtype: 'f32' }), baseBytes, 'the cancelled run restored the weights from before it');

  const steps = [];
  const resumed = await lm.fineTune(corpus, { ...options, resume: true, onProgress: (p) => steps.push(p.step) });
  assert.ok([6, 9].includes(resumed.resumedFromStep), `resumed from step ${resumed.resumedFromStep}`);
  assert.deepEqual(steps, Array.from({ length: 12 - resumed.resumedFromStep }, (_, i) => resumed.resumedFromStep + 1 + i));
  assert.deepEqual(await lm.export({ dtype: 'f32' }), expectedBytes, 'the same weights, bit for bit');
  assert.equal(await collect(lm.generate('The whale', sampling)), expectedSample);
  assert.equal(resumed.validationLoss, uninterrupted.validationLoss);
  assert.equal(resumed.initialValidationLoss, uninterrupted.initialValidationLoss, 'the first validation is carried over');
  assert.equal(resumed.loss, uninterrupted.loss, 'the recent losses are carried over');
  assert.equal(uninterrupted.resumedFromStep, null);
  assert.ok(!existsSync(file), 'a completed run deletes its checkpoint');
});

test('resume: a LoRA fine-tune stopped and resumed gives the same adapter bytes and samples; the base stays as it was', async (t) => {
  const directory = temporaryDirectory(t);
  const reference = await freshBase();
  t.after(() => reference.dispose());
  await reference.fineTune(corpus, { ...training, lora });
  const expectedAdapter = await reference.exportAdapter();
  const expectedSample = await collect(reference.generate('The whale', sampling));

  const lm = await freshBase();
  t.after(() => lm.dispose());
  const options = { ...training, lora, checkpointEvery: 2, checkpointDir: directory, checkpointName: 'alice' };
  await interruptedRun(lm, options, 5);
  assert.ok(existsSync(join(directory, 'alice.safetensors')));
  const resumed = await lm.fineTune(corpus, { ...options, resume: true });
  assert.ok(resumed.resumedFromStep >= 4 && resumed.resumedFromStep % 2 === 0, `resumed from ${resumed.resumedFromStep}`);
  assert.deepEqual(await lm.exportAdapter(), expectedAdapter, 'the same adapter, bit for bit');
  assert.equal(await collect(lm.generate('The whale', sampling)), expectedSample);
  assert.deepEqual(await lm.export({ dtype: 'f32' }), baseBytes, 'the base weights are untouched');
  assert.deepEqual(readdirSync(directory), []);
});

test('resume: another text, other options or another model are refused by name; the checkpoint and model stay', async (t) => {
  const directory = temporaryDirectory(t);
  const lm = await freshBase();
  t.after(() => lm.dispose());
  const options = { ...training, checkpointEvery: 2, checkpointDir: directory };
  await interruptedRun(lm, options, 3);
  const file = join(directory, 'fine-tune.safetensors');
  const stored = readFileSync(file);

  await assert.rejects(lm.fineTune(corpus.slice(0, 9000), { ...options, resume: true }), tinylmError('CHECKPOINT_MISMATCH', 'text differs'));
  await assert.rejects(lm.fineTune(corpus, { ...options, learningRate: 1e-3, resume: true }),
    tinylmError('CHECKPOINT_MISMATCH', 'option learningRate was 0.003, this call has 0.001'));
  await assert.rejects(lm.fineTune(corpus, { ...options, lora, resume: true }), tinylmError('CHECKPOINT_MISMATCH', 'option lora'));
  const other = await TinyLM.create({ ...shape, seed: 6 }, corpus);
  t.after(() => other.dispose());
  await assert.rejects(other.fineTune(corpus, { ...options, resume: true }), tinylmError('CHECKPOINT_MISMATCH', 'the model differs'));
  assert.deepEqual(readFileSync(file), stored, 'the stored checkpoint is unchanged');
  assert.deepEqual(await lm.export({ dtype: 'f32' }), baseBytes, 'the model is unchanged');

  // checkpointEvery does not shape the arithmetic: it may change on resume.
  const resumed = await lm.fineTune(corpus, { ...options, checkpointEvery: 5, resume: true });
  assert.ok(resumed.resumedFromStep >= 2);
  // resume: false starts over: its first checkpoint replaces the stored one.
  await interruptedRun(lm, options, 1);
  const restarted = await lm.fineTune(corpus, { ...options, resume: false });
  assert.equal(restarted.resumedFromStep, null);
});

test('resume: a corrupt checkpoint is refused with a clear error and left in place; the model stays usable', async (t) => {
  const directory = temporaryDirectory(t);
  const lm = await freshBase();
  t.after(() => lm.dispose());
  const options = { ...training, checkpointEvery: 2, checkpointDir: directory };
  await interruptedRun(lm, options, 3);
  const file = join(directory, 'fine-tune.safetensors');
  const whole = readFileSync(file);
  for (const bytes of [whole.subarray(0, whole.length - 100), Buffer.from('not a checkpoint at all'), Buffer.alloc(0)]) {
    writeFileSync(file, bytes);
    await assert.rejects(lm.fineTune(corpus, { ...options, resume: true }),
      tinylmError('CHECKPOINT_CORRUPT', "the stored checkpoint 'fine-tune' cannot be resumed"));
    assert.deepEqual(readFileSync(file), bytes, 'the corrupt checkpoint is left as it was');
    assert.deepEqual(await lm.export({ dtype: 'f32' }), baseBytes);
  }
  const report = await lm.fineTune(corpus, { ...options, steps: 4 });
  assert.equal(report.steps, 4, 'the model still fine-tunes');
});

test('resume: a checkpoint write that fails stops the run and keeps the checkpoint stored before it', async (t) => {
  const lm = await freshBase();
  t.after(() => lm.dispose());
  const store = memoryStore({ failOnWrite: 2 });
  await assert.rejects(lm.fineTune(corpus, { ...training, checkpointEvery: 2, checkpointStore: store }),
    tinylmError('CHECKPOINT_WRITE_FAILED', 'quota exceeded'));
  assert.deepEqual([...store.records.keys()], ['fine-tune']);
  assert.deepEqual(await lm.export({ dtype: 'f32' }), baseBytes, 'the stopped run restored the weights from before it');
  const resumed = await lm.fineTune(corpus, { ...training, checkpointStore: store, resume: true });
  assert.equal(resumed.resumedFromStep, 2, 'the checkpoint of step 2 resumes');
  assert.equal(store.records.size, 0);
});

test('resume: checkpoint options are checked by name before anything runs', async (t) => {
  const lm = await freshBase();
  t.after(() => lm.dispose());
  const bad = [
    [{ checkpointEvery: 1.5 }, 'checkpointEvery'],
    [{ checkpointEvery: -2 }, 'checkpointEvery'],
    [{ resume: 'yes' }, 'option resume must be true or false'],
    [{ checkpointEvery: 2, checkpointName: '../escape' }, "'../escape' is not a valid model name"],
    [{ checkpointDir: '/tmp' }, 'neither writes them (checkpointEvery) nor resumes one'],
    [{ checkpointEvery: 2, checkpointDir: '/tmp', checkpointStore: memoryStore() }, 'not both'],
    [{ checkpointevery: 2 }, 'checkpointEvery'],
  ];
  for (const [options, message] of bad) {
    await assert.rejects(lm.fineTune(corpus, { ...training, ...options }), tinylmError('INVALID_ARGUMENT', message));
  }
  assert.deepEqual(await lm.export({ dtype: 'f32' }), baseBytes);
});
