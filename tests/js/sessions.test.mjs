// Generation sessions through the package: a session's second turn samples exactly what one generate() over the
// whole text samples (same seed), on an LSTM and on a GPT whose window slides, and the engine reports that the turn
// read only its new tokens; forks diverge independently and leave their parent as it was; saved bytes restore, in
// another engine too, to the same continuation; fine-tuning, disposal and foreign or corrupt bytes end or refuse
// a session with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, collect, corpus, smallTrainedModel, tinylmError } from './helpers.mjs';

const lstm = await smallTrainedModel('lstm');
// 24 positions: the turns below outgrow them, so the sessions' windows slide.
const gpt = await TinyLM.create({ arch: 'gpt', layers: 2, heads: 2, embed: 32, context: 24, seed: 5 }, corpus);
await gpt.fineTune(corpus, { steps: 20, batchSize: 8, seqLen: 24, learningRate: 3e-3, seed: 2 });

test.after(async () => {
  await lstm.dispose();
  await gpt.dispose();
  await TinyLM.shutdown();
});

const sample = (seed, maxTokens = 15) => ({ maxTokens, seed, temperature: 1 });

test('a second turn is one generation over the whole text, and reads only its new tokens', async () => {
  for (const lm of [lstm, gpt]) {
    const s = lm.session();
    const first = await collect(s.generate('Call me', sample(1)));
    assert.equal((await s.stats()).lastTurnTokensRead, 7 + 14, 'the prompt and every sampled token but the last');
    const second = await collect(s.generate(' Ishmael. Some', sample(2)));
    const oneShot = await collect(lm.generate('Call me' + first + ' Ishmael. Some', { ...sample(2), truncatePrompt: true }));
    assert.equal(second, oneShot, lm.info.arch);
    const newTokens = (await lm.encode(' Ishmael. Some')).length;
    assert.deepEqual(await s.stats(), { historyTokens: 7 + 15 + newTokens + 15, lastTurnTokensRead: 1 + newTokens + 14 });
    const third = await collect(s.generate('', sample(3)));  // no prompt: the text continues
    assert.equal(third, await collect(lm.generate('Call me' + first + ' Ishmael. Some' + second, { ...sample(3), truncatePrompt: true })));
    await s.dispose();
  }
});

test('forks diverge independently; the parent stays as it was', async () => {
  const parent = gpt.session();
  const first = await collect(parent.generate('The whale', sample(4, 10)));
  const left = parent.fork();
  const right = parent.fork();
  const [leftText, rightText] = [await collect(left.generate(' swam', sample(5))), await collect(right.generate(' sank', sample(6)))];
  assert.equal(leftText, await collect(gpt.generate('The whale' + first + ' swam', { ...sample(5), truncatePrompt: true })));
  assert.equal(rightText, await collect(gpt.generate('The whale' + first + ' sank', { ...sample(6), truncatePrompt: true })));
  assert.equal(await collect(parent.generate(' swam', sample(5))), leftText, 'the parent continues as the fork did');
  for (const s of [parent, left, right]) await s.dispose();
});

test('saved bytes restore to the same continuation, also in a fresh engine', async () => {
  const s = lstm.session();
  await collect(s.generate('Call me', sample(7, 30)));
  const bytes = await s.save();
  assert.ok(bytes instanceof Uint8Array && bytes.byteLength > 0);
  const expected = await collect(s.generate(' and', sample(8)));
  const restored = lstm.restoreSession(bytes);
  assert.equal(await collect(restored.generate(' and', sample(8))), expected);

  const modelBytes = await lstm.export();
  await TinyLM.shutdown();  // a new worker: nothing of the old engine survives
  const reloaded = await TinyLM.load(modelBytes);
  assert.equal(await collect(reloaded.restoreSession(bytes).generate(' and', sample(8))), expected);

  await assert.rejects(collect(reloaded.restoreSession(new Uint8Array(64)).generate('x')), tinylmError('INVALID_ARGUMENT', 'not a saved tinylm session'));
  await assert.rejects(collect(reloaded.restoreSession(bytes.subarray(0, bytes.byteLength - 8)).generate('x')), tinylmError('INVALID_ARGUMENT', 'truncated'));
  const other = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 40, embed: 16, seed: 7 }, corpus);
  await assert.rejects(collect(other.restoreSession(bytes).generate('x')), tinylmError('INVALID_ARGUMENT', 'saved from another model'));
  await other.dispose();
  await reloaded.dispose();
});

test('fine-tuning ends the sessions made before it; disposal ends a session; bad options are named', async () => {
  const lm = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 32, embed: 16, seed: 3 }, corpus);
  const before = lm.session();
  await collect(before.generate('Call me', sample(1, 5)));
  await lm.fineTune(corpus, { steps: 2, batchSize: 4, seqLen: 16 });
  await assert.rejects(collect(before.generate(' more', sample(2, 5))), tinylmError('INVALID_ARGUMENT', 'made before the model was fine-tuned'));
  const after = lm.session();
  assert.equal([...(await collect(after.generate('Call me', sample(1, 5))))].length, 5, 'a new session works');
  await after.dispose();
  await assert.rejects(collect(after.generate('x')), tinylmError('DISPOSED', 'session was disposed'));
  const s = lm.session();
  await assert.rejects(collect(s.generate('x', { beams: 2 })), tinylmError('INVALID_ARGUMENT', 'option beams applies to lm.generate()'));
  await assert.rejects(collect(s.generate('x', { maxToken: 2 })), tinylmError('INVALID_ARGUMENT', "did you mean 'maxTokens'?"));
  await lm.dispose();
  await assert.rejects(collect(s.generate('x')), tinylmError('DISPOSED'));
});
