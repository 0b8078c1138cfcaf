// LoRA adapters through the package: fineTune({ lora }) trains an adapter beside the frozen weights, which stay
// bit for bit; the adapter exported as PEFT safetensors and loaded onto a fresh copy of the base samples exactly what
// the tuned model did; several adapters stay resident and are chosen per generate() call (null: the bare base);
// merging folds one into the weights with the same results; bad input is refused by name and leaves the model usable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { checkpoints } from './hf/checkpoints.mjs';
import { TinyLM, collect, corpus, heldOut, tinylmError } from './helpers.mjs';

const shape = { arch: 'gpt', layers: 2, heads: 2, embed: 32, context: 48, seed: 5 };
const training = { steps: 25, batchSize: 8, seqLen: 48, learningRate: 1e-2, seed: 2 };
const allLinears = ['c_attn', 'c_proj', 'c_fc'];
const sampling = { maxTokens: 40, seed: 9, temperature: 0.8 };

// A GPT trained a little in full, so that an adapter's change shows in its samples; its bytes for fresh copies.
async function trainedBase() {
  const lm = await TinyLM.create(shape, corpus);
  await lm.fineTune(corpus, { ...training, steps: 20, learningRate: 3e-3 });
  return { lm, bytes: await lm.export({ dtype: 'f32' }) };
}

// An IEEE half's value (bits as stored in an F16 tensor).
function halfToFloat(bits) {
  const sign = bits & 0x8000 ? -1 : 1, exponent = (bits >> 10) & 0x1f, mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 31) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

// The safetensors header of a file: { tensors: { name: { dtype, shape } }, metadata }.
function safetensorsHeader(bytes) {
  const length = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  const { __metadata__: metadata, ...tensors } = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + length)));
  return { tensors, metadata, length };
}

// The same file with its header's metadata replaced (tensor offsets are relative to the data, so they stay).
function withMetadata(bytes, metadata) {
  const { tensors, length } = safetensorsHeader(bytes);
  let header = JSON.stringify({ ...tensors, __metadata__: metadata });
  header += ' '.repeat((8 - (header.length % 8)) % 8);
  const encoded = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + encoded.length + bytes.length - 8 - length);
  new DataView(out.buffer).setBigUint64(0, BigInt(encoded.length), true);
  out.set(encoded, 8);
  out.set(bytes.subarray(8 + length), 8 + encoded.length);
  return out;
}

test('lora: the weights stay as they were; a fresh base with the exported adapter samples what the tuned model did', async (t) => {
  const { lm, bytes: baseBytes } = await trainedBase();
  t.after(() => lm.dispose());
  const before = await collect(lm.generate('The whale', sampling));
  const baseLoss = (await lm.evaluate(heldOut)).loss;

  const report = await lm.fineTune(corpus, { ...training, lora: { rank: 4, alpha: 8, targets: allLinears } });
  assert.ok(report.validationLoss < report.initialValidationLoss,
    `validation loss ${report.initialValidationLoss} → ${report.validationLoss}`);
  assert.deepEqual(await lm.listAdapters(), { names: ['(unsaved)'], active: '(unsaved)' });
  const tuned = await collect(lm.generate('The whale', sampling));
  assert.notEqual(tuned, before, 'the adapter changes what the model samples');
  assert.equal(await collect(lm.generate('The whale', { ...sampling, adapter: null })), before, 'adapter: null is the bare base');
  assert.deepEqual(await lm.export({ dtype: 'f32' }), baseBytes, 'the base weights are unchanged, bit for bit');

  const adapter = await lm.exportAdapter();
  const { tensors, metadata } = safetensorsHeader(adapter);
  assert.deepEqual(tensors['base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight'], {
    dtype: 'F32', shape: [4, 32], data_offsets: tensors['base_model.model.transformer.h.1.mlp.c_fc.lora_A.weight'].data_offsets,
  });
  assert.deepEqual(tensors['base_model.model.transformer.h.0.attn.c_attn.lora_B.weight'].shape, [96, 4]);
  assert.equal(Object.keys(tensors).length, 2 * 2 * 4, 'lora_A and lora_B for 4 linears in each of 2 blocks');
  const config = JSON.parse(metadata.adapter_config);
  assert.equal(config.peft_type, 'LORA');
  assert.equal(config.r, 4);
  assert.equal(config.lora_alpha, 8);
  assert.deepEqual(config.target_modules, allLinears);
  assert.ok(adapter.length < 40_000, `adapter ${adapter.length} bytes`);

  const fresh = await TinyLM.load(baseBytes);
  t.after(() => fresh.dispose());
  assert.equal(await collect(fresh.generate('The whale', sampling)), before);
  assert.deepEqual(await fresh.loadAdapter(adapter, { name: 'alice' }), { names: ['alice'], active: 'alice' });
  assert.equal(await collect(fresh.generate('The whale', sampling)), tuned, 'same seed, same sample');
  const tunedLoss = (await lm.evaluate(heldOut)).loss;
  assert.equal((await fresh.evaluate(heldOut)).loss, tunedLoss);
  assert.notEqual(tunedLoss, baseLoss);
  // export → load → export: the same tensors, bytes and config (target_modules as a set, as PEFT treats them).
  const again = await fresh.exportAdapter('alice');
  const reread = safetensorsHeader(again);
  assert.deepEqual(reread.tensors, tensors);
  assert.deepEqual(again.subarray(8 + reread.length), adapter.subarray(8 + safetensorsHeader(adapter).length));
  const sorted = (json) => ({ ...json, target_modules: [...json.target_modules].sort() });
  assert.deepEqual(sorted(JSON.parse(reread.metadata.adapter_config)), sorted(config));
});

test('lora: several adapters resident and chosen per call; saved names, removal, merge equal to the attached adapter', async (t) => {
  const { lm, bytes: baseBytes } = await trainedBase();
  t.after(() => lm.dispose());
  const bare = await collect(lm.generate('Call me', sampling));
  await lm.fineTune(corpus, { ...training, lora: { rank: 2, targets: 'c_attn' } });
  assert.deepEqual(await lm.saveAdapter('alice'), { names: ['alice'], active: 'alice' });
  const alice = await collect(lm.generate('Call me', sampling));
  await lm.fineTune(corpus, { ...training, seed: 3, learningRate: 2e-2, lora: { rank: 4, targets: ['c_fc', 'c_proj'] } });
  await lm.saveAdapter('bob');
  assert.deepEqual(await lm.listAdapters(), { names: ['alice', 'bob'], active: 'bob' });
  const bob = await collect(lm.generate('Call me', sampling));
  assert.notEqual(bob, alice);
  assert.equal(await collect(lm.generate('Call me', { ...sampling, adapter: 'alice' })), alice);
  assert.equal(await collect(lm.generate('Call me', { ...sampling, adapter: null })), bare);
  assert.equal(await collect(lm.generate('Call me', sampling)), bob, 'a per-call choice leaves the active adapter active');
  await assert.rejects(collect(lm.generate('Call me', { ...sampling, adapter: 'bobb' })),
    tinylmError('NOT_FOUND', "no adapter named 'bobb' — did you mean 'bob'?"));

  // Merged, 'alice' is part of the weights: the bare model scores and samples as the attached adapter did.
  const attached = (await lm.evaluate(heldOut)).loss;  // bob is active: compare alice through a fresh copy
  const fresh = await TinyLM.load(baseBytes);
  t.after(() => fresh.dispose());
  await fresh.loadAdapter(await lm.exportAdapter('alice'), { name: 'alice' });
  const aliceLoss = (await fresh.evaluate(heldOut)).loss;
  const greedy = { maxTokens: 40, temperature: 0 };
  const aliceGreedy = await collect(fresh.generate('Call me', greedy));
  assert.deepEqual(await fresh.mergeAdapter('alice'), { names: [], active: null });
  assert.ok(Math.abs((await fresh.evaluate(heldOut)).loss - aliceLoss) < 1e-5 * aliceLoss);
  assert.equal(await collect(fresh.generate('Call me', greedy)), aliceGreedy);
  assert.notDeepEqual(await fresh.export({ dtype: 'f32' }), baseBytes, 'the merged weights are what export() writes');

  assert.deepEqual(await lm.removeAdapter('alice'), { names: ['bob'], active: 'bob' });
  assert.equal((await lm.evaluate(heldOut)).loss, attached);
  await assert.rejects(lm.exportAdapter('alice'), tinylmError('NOT_FOUND', "no adapter named 'alice'"));
  await lm.removeAdapter('bob');
  assert.deepEqual(await lm.listAdapters(), { names: [], active: null });
  assert.equal(await collect(lm.generate('Call me', sampling)), bare);
});

test('lora: a PEFT file with its config beside it (not in the metadata) loads with the config option', async (t) => {
  const { lm, bytes: baseBytes } = await trainedBase();
  t.after(() => lm.dispose());
  await lm.fineTune(corpus, { ...training, lora: { rank: 3, alpha: 6, targets: allLinears } });
  const adapter = await lm.exportAdapter();
  const tuned = await collect(lm.generate('Ahab', sampling));
  const { metadata } = safetensorsHeader(adapter);
  const peftFile = withMetadata(adapter, { format: 'pt' });  // what PEFT's save_pretrained writes

  const fresh = await TinyLM.load(baseBytes);
  t.after(() => fresh.dispose());
  await assert.rejects(fresh.loadAdapter(peftFile), tinylmError('INVALID_MODEL_FILE', 'adapter_config'));
  await fresh.loadAdapter(peftFile, { config: JSON.parse(metadata.adapter_config) });
  assert.equal(await collect(fresh.generate('Ahab', sampling)), tuned);
});

test('lora: bad input is refused by name, and the model stays as it was', async (t) => {
  const { lm } = await trainedBase();
  t.after(() => lm.dispose());
  const before = await collect(lm.generate('Ishmael', sampling));
  const lora = (options) => lm.fineTune(corpus, { ...training, steps: 2, lora: options });

  await assert.rejects(lora({ rank: 4, targets: ['c_atn'] }),
    tinylmError('INVALID_ARGUMENT', "LoRA target 'c_atn' matches no linear layer of this gpt model — did you mean 'c_attn'?"));
  await assert.rejects(lora({ rnk: 4 }), tinylmError('INVALID_ARGUMENT', "unknown option 'rnk' — did you mean 'rank'?"));
  await assert.rejects(lora({ rank: 0 }), tinylmError('INVALID_ARGUMENT', 'option lora.rank must be ≥ 1, got 0'));
  await assert.rejects(lora({ dropout: 1 }), tinylmError('INVALID_ARGUMENT', 'option lora.dropout must be ≤ 0.99'));
  await assert.rejects(lora({ targets: [] }), tinylmError('INVALID_ARGUMENT', 'option lora.targets'));
  await assert.rejects(lm.fineTune(corpus, { ...training, batchSize: 1, seqLen: 100, lora: {} }),
    tinylmError('INVALID_ARGUMENT', "seqLen 100 is longer than the model's context of 48"));
  await assert.rejects(lm.exportAdapter(), tinylmError('NOT_FOUND', 'no adapter is active'));
  await assert.rejects(lm.saveAdapter('a b'), tinylmError('INVALID_ARGUMENT', "'a b' is not a valid adapter name"));
  await assert.rejects(collect(lm.generate('x', { adapter: 'nobody' })), tinylmError('NOT_FOUND', "no adapter named 'nobody'"));
  await assert.rejects(lm.loadAdapter(new Uint8Array([1, 2, 3])), tinylmError('INVALID_MODEL_FILE', 'not a usable LoRA adapter'));

  // Adapters of other models: wider (shapes) and deeper (a block this model lacks).
  const wider = await TinyLM.create({ ...shape, embed: 48 }, corpus);
  const deeper = await TinyLM.create({ ...shape, layers: 3 }, corpus);
  t.after(() => Promise.all([wider.dispose(), deeper.dispose()]));
  for (const other of [wider, deeper]) await other.fineTune(corpus, { ...training, steps: 1, lora: { targets: allLinears } });
  await assert.rejects(lm.loadAdapter(await wider.exportAdapter(), { name: 'wide' }),
    tinylmError('INVALID_MODEL_FILE', "has shape [8, 48], expected [8, 32]"));
  await assert.rejects(lm.loadAdapter(await deeper.exportAdapter(), { name: 'deep' }),
    tinylmError('INVALID_MODEL_FILE', "adapts 'transformer.h.2.attn.c_attn', which this model does not have"));

  const lstm = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 16, embed: 8 }, corpus);
  t.after(() => lstm.dispose());
  await assert.rejects(lstm.fineTune(corpus, { ...training, steps: 1, lora: {} }), tinylmError('NOT_TRAINABLE', 'GPT and Llama'));

  assert.deepEqual(await lm.listAdapters(), { names: [], active: null });
  assert.equal(await collect(lm.generate('Ishmael', sampling)), before, 'nothing changed the model');
});

test('lora: a cancelled LoRA fine-tune keeps no adapter and leaves the active one active', async (t) => {
  const { lm } = await trainedBase();
  t.after(() => lm.dispose());
  await lm.fineTune(corpus, { ...training, steps: 3, lora: { targets: allLinears } });
  await lm.saveAdapter('kept');
  const kept = await collect(lm.generate('Queequeg', sampling));
  const controller = new AbortController();
  const run = lm.fineTune(corpus, {
    ...training, steps: 1000, lora: { rank: 16 }, signal: controller.signal,
    onProgress: (progress) => progress.step === 2 && controller.abort(),
  });
  await assert.rejects(run, tinylmError('ABORTED'));
  assert.deepEqual(await lm.listAdapters(), { names: ['kept'], active: 'kept' });
  assert.equal(await collect(lm.generate('Queequeg', sampling)), kept);
  // And a full fine-tune still trains the weights afterwards (they hold gradients again).
  const report = await lm.fineTune(corpus, { ...training, steps: 5, learningRate: 3e-3 });
  assert.ok(Number.isFinite(report.loss));
  assert.notEqual(await collect(lm.generate('Queequeg', { ...sampling, adapter: null })), kept);
});

test('lora: a Llama checkpoint (grouped-query, BF16) takes q_proj/v_proj by default; other architectures\' adapters are refused', async (t) => {
  const folder = pathToFileURL(`${checkpoints().folders.smollm2}/`);
  const lm = await TinyLM.load({ baseUrl: folder });
  t.after(() => lm.dispose());
  const text = corpus.slice(0, 6000);
  const baseLoss = (await lm.evaluate(heldOut)).loss;
  await assert.rejects(lm.fineTune(text, { ...training, seqLen: 32, lora: { targets: ['q_prj'] } }),
    tinylmError('INVALID_ARGUMENT', "did you mean 'q_proj'?"));
  const report = await lm.fineTune(text, { ...training, steps: 8, seqLen: 32, lora: { rank: 4 } });
  assert.ok(report.validationLoss < report.initialValidationLoss, `${report.initialValidationLoss} → ${report.validationLoss}`);
  const adapter = await lm.exportAdapter();
  const { tensors, metadata } = safetensorsHeader(adapter);
  const modules = new Set(Object.keys(tensors).map((name) => name.split('.').at(-3)));
  assert.deepEqual([...modules].sort(), ['q_proj', 'v_proj']);
  assert.equal(JSON.parse(metadata.adapter_config).base_model_name_or_path, folder.href);
  assert.equal((await lm.evaluate(heldOut)).loss < baseLoss, true);

  const fresh = await TinyLM.load({ baseUrl: folder });
  t.after(() => fresh.dispose());
  await fresh.loadAdapter(adapter, { name: 'smol' });
  assert.equal((await fresh.evaluate(heldOut)).loss, (await lm.evaluate(heldOut)).loss);
  assert.equal(await collect(fresh.generate('Call me', { ...sampling, adapter: null })),
    await collect(lm.generate('Call me', { ...sampling, adapter: null })));

  const gpt = await TinyLM.create(shape, corpus);
  t.after(() => gpt.dispose());
  await gpt.fineTune(corpus, { ...training, steps: 1, lora: {} });
  await assert.rejects(fresh.loadAdapter(await gpt.exportAdapter(), { name: 'gpt' }),
    tinylmError('INVALID_MODEL_FILE', 'was it trained on another architecture?'));
  assert.deepEqual(await fresh.listAdapters(), { names: ['smol'], active: 'smol' });
});

test('lora: a model held as f16 (TinyLM.load weights option) trains the adapter its f32 load does; merging is refused', async (t) => {
  const { lm } = await trainedBase();
  const f16File = await lm.export({ dtype: 'f16' });
  await lm.dispose();
  const floats = await TinyLM.load(f16File);
  const halves = await TinyLM.load(f16File, { weights: 'f16' });
  t.after(() => Promise.all([floats.dispose(), halves.dispose()]));
  assert.equal(halves.info.trainable, false);
  await assert.rejects(halves.fineTune(corpus, { ...training, steps: 2 }), tinylmError('NOT_TRAINABLE', 'LoRA adapter'));
  const options = { ...training, steps: 6, lora: { rank: 4, dropout: 0.1, targets: allLinears } };
  const [fromFloats, fromHalves] = [await floats.fineTune(corpus, options), await halves.fineTune(corpus, options)];
  assert.equal(fromHalves.loss, fromFloats.loss);
  assert.equal(fromHalves.validationLoss, fromFloats.validationLoss);
  assert.deepEqual(await halves.exportAdapter(), await floats.exportAdapter());
  await halves.saveAdapter('half');
  await assert.rejects(halves.mergeAdapter('half'), tinylmError('INVALID_ARGUMENT', 'is held as F16'));
  assert.deepEqual(await halves.listAdapters(), { names: ['half'], active: 'half' });
});

test('lora: an adapter exported as F16 is half the file, holds the F32 values rounded to half, and loads back', async (t) => {
  const { lm, bytes: baseBytes } = await trainedBase();
  t.after(() => lm.dispose());
  await lm.fineTune(corpus, { ...training, steps: 6, lora: { rank: 4, targets: allLinears } });
  await lm.saveAdapter('tuned');
  const floats = await lm.exportAdapter('tuned');
  const halves = await lm.exportAdapter('tuned', { dtype: 'f16' });
  assert.deepEqual(await lm.exportAdapter({ dtype: 'f16' }), halves, 'the active adapter when no name is given');
  const floatHeader = safetensorsHeader(floats), halfHeader = safetensorsHeader(halves);
  assert.ok(Object.values(halfHeader.tensors).every((tensor) => tensor.dtype === 'F16'));
  assert.deepEqual(halfHeader.metadata, floatHeader.metadata, 'the same adapter_config');
  const floatData = floats.length - 8 - floatHeader.length, halfData = halves.length - 8 - halfHeader.length;
  assert.equal(halfData * 2, floatData, 'half the tensor bytes');

  // Each stored half is its float rounded to nearest (even): within half an F16 step of it.
  const fresh = await TinyLM.load(baseBytes);
  t.after(() => fresh.dispose());
  await fresh.loadAdapter(halves, { name: 'half' });
  const values = (bytes, header, name) => {
    const { dtype, data_offsets: [begin, end] } = header.tensors[name];
    const data = bytes.slice(8 + header.length + begin, 8 + header.length + end);
    return dtype === 'F32' ? [...new Float32Array(data.buffer)] : [...new Uint16Array(data.buffer)].map(halfToFloat);
  };
  const reexportedBytes = await fresh.exportAdapter('half');
  const reexported = safetensorsHeader(reexportedBytes);
  for (const name of Object.keys(floatHeader.tensors)) {
    const exact = values(floats, floatHeader, name), half = values(halves, halfHeader, name);
    assert.deepEqual(values(reexportedBytes, reexported, name), half, `${name}: loaded as the halves' values`);
    exact.forEach((value, i) => {
      const step = 2 ** Math.max(Math.floor(Math.log2(Math.abs(value) || 2 ** -24)) - 10, -24);  // F16 spacing at value
      assert.ok(Math.abs(half[i] - value) <= step / 2, `${name}[${i}]: ${value} stored as ${half[i]}`);
    });
  }
  assert.deepEqual(await fresh.exportAdapter('half', { dtype: 'f16' }), halves, 'F16 → F32 → F16 is exact');
  const tunedLoss = (await lm.evaluate(heldOut)).loss, halfLoss = (await fresh.evaluate(heldOut)).loss;
  assert.ok(Math.abs(halfLoss - tunedLoss) < 1e-3 * tunedLoss, `loss ${tunedLoss} (F32 adapter) vs ${halfLoss} (F16)`);
  await assert.rejects(lm.exportAdapter('tuned', { dtype: 'int8' }), tinylmError('INVALID_ARGUMENT', "option dtype must be 'f32', 'f16'"));
  await assert.rejects(lm.exportAdapter('tuned', { dtpye: 'f16' }), tinylmError('INVALID_ARGUMENT', "did you mean 'dtype'"));
});
