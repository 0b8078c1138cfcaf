// Beam search and fusion through the package. Beam search in the wasm engine finds what the native CLI's
// --beams finds on the same model file (the same text, for a GPT and an LSTM); a fusion's next-token distribution is
// weight · p_this + (1 − weight) · p_other of the two models' own distributions, and its ends (weight 1 and 0)
// sample what each model samples alone; bad options are refused by name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TinyLM, collect, corpus, heldOut, nativeCli, smallTrainedModel, temporaryDirectory, tinylmError } from './helpers.mjs';

const lstm = await smallTrainedModel('lstm');
const gpt = await TinyLM.create({ arch: 'gpt', layers: 2, heads: 2, embed: 32, context: 32, seed: 5 }, corpus);
await gpt.fineTune(corpus, { steps: 30, batchSize: 8, seqLen: 32, learningRate: 3e-3, seed: 2 });
// The same tokenizer as lstm, other weights: lstm's bytes fine-tuned on other text.
const tuned = await TinyLM.load(await lstm.export());
await tuned.fineTune(heldOut, { steps: 20, batchSize: 8, seqLen: 32, learningRate: 1e-2, seed: 4 });

test.after(async () => {
  for (const lm of [lstm, gpt, tuned]) await lm.dispose();
  await TinyLM.shutdown();
});

function nativeGenerate(t, lm, bytes, args) {
  const file = join(temporaryDirectory(t), 'model.safetensors');
  writeFileSync(file, bytes);
  return execFileSync(nativeCli, ['generate', '--model', file, '--step-precision', 'float', '--threads', '1', ...args], { encoding: 'utf8' });
}

test('beam search finds what the native CLI finds, for a GPT (through its sliding window) and an LSTM', async (t) => {
  for (const [lm, prompt, maxTokens] of [[gpt, 'The whale', 40], [lstm, 'Call me', 25]]) {
    const bytes = await lm.export();
    for (const [beams, lengthPenalty] of [[2, 1], [4, 0.5], [3, -1]]) {
      const text = await collect(lm.generate(prompt, { beams, lengthPenalty, maxTokens }));
      const native = nativeGenerate(t, lm, bytes, ['--prompt', prompt, '--max-tokens', String(maxTokens), '--beams',
        String(beams), '--length-penalty', String(lengthPenalty)]);
      assert.equal(prompt + text + '\n', native, `${lm.info.arch}, beams ${beams}, length penalty ${lengthPenalty}`);
    }
  }
});

test('beam search: one piece from generate(), its tokens from generateSteps(); the same search twice is the same', async () => {
  const pieces = [];
  for await (const piece of gpt.generate('The whale', { beams: 3, maxTokens: 12 })) pieces.push(piece);
  assert.equal(pieces.length, 1);
  const steps = [];
  for await (const step of gpt.generateSteps('The whale', { beams: 3, maxTokens: 12 })) steps.push(step);
  assert.equal(steps.length, 12);
  assert.equal(steps.at(-1).piece, pieces[0]);
  assert.equal(await gpt.decode(steps.map((step) => step.token)), pieces[0]);
  assert.equal(await collect(gpt.generate('The whale', { beams: 3, maxTokens: 12 })), pieces[0]);
});

// First-token distributions: generateSteps' alternatives (the whole vocabulary at temperature 1) of one step.
async function firstDistribution(lm, options) {
  const probabilities = new Map();
  for await (const step of lm.generateSteps('The sea', { maxTokens: 1, temperature: 1, seed: 3, alternatives: 100, ...options })) {
    for (const { token, probability } of step.alternatives) probabilities.set(token, probability);
  }
  return probabilities;
}

test('fusion: the next-token distribution is weight · p_this + (1 − weight) · p_other', async () => {
  assert.ok(lstm.info.vocabSize <= 100, 'alternatives cover the vocabulary');
  const own = await firstDistribution(lstm, {});
  const other = await firstDistribution(tuned, {});
  for (const weight of [0.3, 0.8]) {
    const fused = await firstDistribution(lstm, { fuse: tuned, fuseWeight: weight });
    let total = 0;
    for (const [token, probability] of fused) {
      total += probability;
      const expected = weight * (own.get(token) ?? 0) + (1 - weight) * (other.get(token) ?? 0);
      assert.ok(Math.abs(probability - expected) < 1e-5, `token ${token}: ${probability} vs ${expected}`);
    }
    assert.ok(Math.abs(total - 1) < 1e-4);
  }
});

test('fusion: weight 1 samples this model, weight 0 the other; beams work over a fusion', async () => {
  const options = { maxTokens: 30, seed: 8 };
  assert.equal(await collect(lstm.generate('Call me', { ...options, fuse: tuned, fuseWeight: 1 })), await collect(lstm.generate('Call me', options)));
  assert.equal(await collect(lstm.generate('Call me', { ...options, fuse: tuned, fuseWeight: 0 })), await collect(tuned.generate('Call me', options)));
  const fusedBeams = await collect(lstm.generate('Call me', { maxTokens: 20, beams: 3, fuse: tuned, fuseWeight: 1 }));
  assert.equal(fusedBeams, await collect(lstm.generate('Call me', { maxTokens: 20, beams: 3 })));
});

test('fusion needs another usable model with the same tokenizer', async () => {
  const lowercase = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 16, embed: 8, lowercase: true }, corpus);
  await assert.rejects(collect(lstm.generate('a', { fuse: lowercase })), tinylmError('INVALID_ARGUMENT', 'the same tokenizer'));
  await lowercase.dispose();
  await assert.rejects(collect(lstm.generate('a', { fuse: lstm })), tinylmError('INVALID_ARGUMENT', 'this model itself'));
  await assert.rejects(collect(lstm.generate('a', { fuse: 'base' })), tinylmError('INVALID_ARGUMENT', 'option fuse must be a loaded TinyLM model'));
  const gone = await TinyLM.load(await lstm.export());
  await gone.dispose();
  await assert.rejects(collect(lstm.generate('a', { fuse: gone })), tinylmError('DISPOSED'));
  assert.equal([...(await collect(lstm.generate('a', { maxTokens: 3, seed: 1 })))].length, 3, 'the model still works');
});

test('beam and fusion options are checked by name and range', async () => {
  const cases = [
    [{ beam: 4 }, "unknown option 'beam' — did you mean 'beams'?"],
    [{ lenghtPenalty: 1 }, "did you mean 'lengthPenalty'?"],
    [{ fuseWieght: 0.5 }, "did you mean 'fuseWeight'?"],
    [{ beams: 0 }, 'option beams must be ≥ 1, got 0'],
    [{ beams: 2.5 }, 'option beams must be an integer, got 2.5'],
    [{ beams: 65 }, 'option beams must be ≤ 64, got 65'],
    [{ beams: 2, lengthPenalty: Infinity }, 'option lengthPenalty must be a finite number, got Infinity'],
    [{ lengthPenalty: 2 }, 'option lengthPenalty applies to beam search'],
    [{ beams: 2, temperature: 0.5 }, 'option temperature samples, but beams: 2 searches deterministically'],
    [{ beams: 2, seed: 1 }, 'option seed samples'],
    [{ fuseWeight: 0.5 }, 'option fuseWeight needs fuse'],
    [{ fuse: tuned, fuseWeight: 1.5 }, 'option fuseWeight must be ≤ 1, got 1.5'],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(collect(lstm.generate('a', options)), tinylmError('INVALID_ARGUMENT', message), JSON.stringify(options));
  }
});
