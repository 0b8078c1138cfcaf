// A model's calls run in the order they were made, also when one of them loads its module on first use
// (fineTune(), the adapter methods: import()): a call made after it in the same tick waits for it, and one made
// before it is not held back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, corpus, heldOut, smallTrainedModel } from './helpers.mjs';

const base = await (await smallTrainedModel()).export();
const fineTuneOptions = { steps: 12, batchSize: 8, seqLen: 32, learningRate: 1e-2, seed: 3 };

async function inOrder(calls) {
  const lm = await TinyLM.load(base);
  try {
    return await calls(lm);
  } finally {
    await lm.dispose();
  }
}

test('evaluate() called in the same tick after fineTune() scores the fine-tuned weights', async () => {
  const sequential = await inOrder(async (lm) => {
    await lm.fineTune(corpus, fineTuneOptions);
    return lm.evaluate(heldOut);
  });
  const sameTick = await inOrder(async (lm) => (await Promise.all([lm.fineTune(corpus, fineTuneOptions), lm.evaluate(heldOut)]))[1]);
  assert.deepEqual(sameTick, sequential);
  const untrained = await inOrder((lm) => lm.evaluate(heldOut));
  assert.notEqual(sameTick.loss, untrained.loss, 'the fine-tune changed the loss');
});

test('evaluate() called in the same tick before fineTune() scores the weights as loaded', async () => {
  const untrained = await inOrder((lm) => lm.evaluate(heldOut));
  const sameTick = await inOrder(async (lm) => (await Promise.all([lm.evaluate(heldOut), lm.fineTune(corpus, fineTuneOptions)]))[0]);
  assert.deepEqual(sameTick, untrained);
});

test('a fine-tune, an adapter call and a generation made in one tick run in that order', async () => {
  const sequential = await inOrder(async (lm) => {
    await lm.fineTune(corpus, fineTuneOptions);
    const adapters = await lm.listAdapters();
    let text = '';
    for await (const piece of lm.generate('Call me', { maxTokens: 30, seed: 1 })) text += piece;
    return { adapters, text };
  });
  const sameTick = await inOrder(async (lm) => {
    const generated = (async () => {
      let text = '';
      for await (const piece of lm.generate('Call me', { maxTokens: 30, seed: 1 })) text += piece;
      return text;
    });
    const [, adapters, text] = await Promise.all([lm.fineTune(corpus, fineTuneOptions), lm.listAdapters(), generated()]);
    return { adapters, text };
  });
  assert.deepEqual(sameTick, sequential);
});
