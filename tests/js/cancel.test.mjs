// Cancellation and queuing: an AbortSignal stops a fine-tune within a step and a generation within a token, with
// an AbortError; the model stays usable; a cancelled fine-tune restores the weights from before it unless
// keepPartial is set. Operations on one model run one at a time, first come first served.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, collect, corpus, heldOut, smallTrainedModel, tinylmError } from './helpers.mjs';

const lm = await smallTrainedModel();
test.after(() => lm.dispose());
const longFineTune = { steps: 5000, batchSize: 8, seqLen: 32, learningRate: 1e-2, evalEvery: 5000 };

test('cancelling a fine-tune stops it within a step and restores the weights', async (t) => {
  const before = await lm.evaluate(heldOut);
  const controller = new AbortController();
  const seen = [];
  await assert.rejects(
    lm.fineTune(corpus, { ...longFineTune, signal: controller.signal, onProgress: (p) => {
      seen.push(p.step);
      if (p.step === 3) controller.abort();
    } }),
    tinylmError('ABORTED', 'fine-tuning was cancelled'),
  );
  t.diagnostic(`aborted at step 3, the last step reported was ${seen.at(-1)}`);
  assert.ok(seen.at(-1) <= 3 + 5, `the worker ran on to step ${seen.at(-1)} after the abort at step 3`);
  assert.deepEqual(await lm.evaluate(heldOut), before, 'the weights are the ones from before the fine-tune');
  assert.equal((await collect(lm.generate('Call', { maxTokens: 10, seed: 1 }))).length > 0, true);
});

test('keepPartial keeps the steps completed before the cancel', async () => {
  const before = await lm.evaluate(heldOut);
  const controller = new AbortController();
  await assert.rejects(
    lm.fineTune(corpus, { ...longFineTune, keepPartial: true, signal: controller.signal, onProgress: (p) => {
      if (p.step === 3) controller.abort();
    } }),
    tinylmError('ABORTED'),
  );
  const after = await lm.evaluate(heldOut);
  assert.notEqual(after.loss, before.loss);
  assert.ok(Number.isFinite(after.loss));
});

test('a fine-tune that fails (diverges) restores the weights', async () => {
  const victim = await TinyLM.create({ arch: 'rnn_relu', layers: 1, hidden: 32, embed: 8 }, corpus);
  try {
    const before = await victim.evaluate(heldOut);
    await assert.rejects(
      victim.fineTune(corpus, { steps: 50, learningRate: 1e30, clip: 0, optimizer: 'sgd', batchSize: 4, seqLen: 16 }),
      tinylmError('TRAINING_DIVERGED', 'became'),
    );
    assert.deepEqual(await victim.evaluate(heldOut), before);
  } finally {
    await victim.dispose();
  }
});

test('cancelling a generation stops it within a token; the model stays usable', async () => {
  const controller = new AbortController();
  const pieces = [];
  await assert.rejects(async () => {
    for await (const piece of lm.generate('The whale', { maxTokens: 100000, seed: 3, signal: controller.signal })) {
      pieces.push(piece);
      if (pieces.length === 5) controller.abort();
    }
  }, tinylmError('ABORTED'));
  assert.equal(pieces.length, 5, 'no piece is delivered after the abort');
  const again = await collect(lm.generate('The whale', { maxTokens: 20, seed: 3 }));
  assert.ok(again.startsWith(pieces.join('')), 'the same seed starts with the same pieces');
});

test('leaving a generation loop early cancels it quietly', async () => {
  const started = performance.now();
  let count = 0;
  for await (const piece of lm.generate('Ahab', { maxTokens: 1_000_000, seed: 1 })) {
    if (++count === 3) break;
  }
  assert.ok(performance.now() - started < 5000, 'the million-token generation did not run to its end');
  assert.ok((await lm.evaluate(heldOut)).loss > 0, 'the model is free for the next call');
});

test('an already aborted signal rejects before anything starts', async () => {
  const signal = AbortSignal.abort();
  await assert.rejects(lm.fineTune(corpus, { steps: 5, signal }), tinylmError('ABORTED'));
  await assert.rejects(collect(lm.generate('x', { signal })), tinylmError('ABORTED'));
});

test('two operations at once on one model are queued first come, first served', async () => {
  const order = [];
  const fineTune = lm.fineTune(corpus, { steps: 20, batchSize: 8, seqLen: 32, keepPartial: true })
    .then((report) => { order.push('fineTune'); return report; });
  const evaluation = lm.evaluate(heldOut).then((result) => { order.push('evaluate'); return result; });
  const generation = collect(lm.generate('Call me', { maxTokens: 10, seed: 9 })).then((text) => { order.push('generate'); return text; });
  const [report, queuedResult] = await Promise.all([fineTune, evaluation, generation]);
  assert.deepEqual(order, ['fineTune', 'evaluate', 'generate']);
  assert.equal(report.steps, 20);
  assert.deepEqual(queuedResult, await lm.evaluate(heldOut), 'evaluate ran on the fine-tuned weights');
});

test('a queued operation can be cancelled before it starts; the running one is unaffected', async () => {
  const controller = new AbortController();
  const running = lm.fineTune(corpus, { steps: 15, batchSize: 8, seqLen: 32 });
  const queued = collect(lm.generate('x', { maxTokens: 5, signal: controller.signal }));
  controller.abort();
  await assert.rejects(queued, tinylmError('ABORTED'));
  assert.equal((await running).steps, 15);
});

test('dispose() cancels what is running on the model and later calls fail with DISPOSED', async () => {
  const doomed = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 16, embed: 8 }, corpus);
  let disposed;
  const running = doomed.fineTune(corpus, { steps: 100000, batchSize: 4, seqLen: 16, onProgress: (p) => {
    if (p.step === 2) disposed ??= doomed.dispose();
  } });
  await assert.rejects(running, tinylmError('DISPOSED'));
  await disposed;
  assert.equal(doomed.isDisposed, true);
});
