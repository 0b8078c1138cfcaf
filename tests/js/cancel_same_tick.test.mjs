// Cancellation and disposal are never lost, however early they come: a signal aborted in the same tick as the
// call, while the call waits in the model's queue, or while the worker is still starting, rejects with an
// AbortError and changes nothing (the exported bytes stay bit-identical); dispose() in the same tick as a call
// ends that call with DISPOSED.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { TinyLM, corpus, root, smallTrainedModel, tinylmError } from './helpers.mjs';

const lm = await smallTrainedModel();
test.after(() => lm.dispose());
const fineTuneOptions = { steps: 40, batchSize: 8, seqLen: 32, learningRate: 1e-2 };

test('fineTune aborted in the same tick: AbortError, no step runs, weights bit-identical', async () => {
  const before = await lm.export();
  const controller = new AbortController();
  const steps = [];
  const running = lm.fineTune(corpus, { ...fineTuneOptions, signal: controller.signal, onProgress: (p) => steps.push(p.step) });
  controller.abort();
  await assert.rejects(running, tinylmError('ABORTED'));
  assert.deepEqual(steps, [], 'no step ran');
  assert.deepEqual(await lm.export(), before);
});

test('generate aborted in the same tick as its first next(): AbortError, no piece', async () => {
  const controller = new AbortController();
  const stream = lm.generate('Call me', { maxTokens: 1_000_000, seed: 1, signal: controller.signal });
  const first = stream.next();
  controller.abort();
  const started = performance.now();
  await assert.rejects(first, tinylmError('ABORTED'));
  assert.ok(performance.now() - started < 5000, 'the million-token generation did not run to its end first');
  assert.equal((await stream.next()).done, true);
});

test('fineTune aborted in the same tick while queued behind another fine-tune: it never runs', async () => {
  const before = await lm.export();
  const controller = new AbortController();
  const queuedSteps = [];
  const first = lm.fineTune(corpus, { ...fineTuneOptions, steps: 15, keepPartial: true });
  const queued = lm.fineTune(corpus, { ...fineTuneOptions, signal: controller.signal, onProgress: (p) => queuedSteps.push(p.step) });
  controller.abort();
  await assert.rejects(queued, tinylmError('ABORTED'));
  assert.equal((await first).steps, 15);
  assert.deepEqual(queuedSteps, []);
  // The weights are exactly those of the first fine-tune alone, run again on a copy.
  const copy = await TinyLM.load(before);
  await copy.fineTune(corpus, { ...fineTuneOptions, steps: 15, keepPartial: true });
  assert.deepEqual(await lm.export(), await copy.export());
  await copy.dispose();
});

test('generate aborted while queued behind a fine-tune: AbortError, and the fine-tune is unaffected', async () => {
  const controller = new AbortController();
  const running = lm.fineTune(corpus, { ...fineTuneOptions, steps: 10, keepPartial: true });
  const pieces = [];
  const queued = (async () => {
    for await (const piece of lm.generate('x', { maxTokens: 50, signal: controller.signal })) pieces.push(piece);
  })();
  setTimeout(() => controller.abort(), 0);
  await assert.rejects(queued, tinylmError('ABORTED'));
  assert.deepEqual(pieces, []);
  assert.equal((await running).steps, 10);
});

test('a request aborted while the worker starts is never sent', async () => {
  await TinyLM.shutdown();  // the next request starts a fresh worker
  const { EngineClient } = await import(pathToFileURL(join(root, 'dist', 'client.js')).href);
  const client = new EngineClient();
  const controller = new AbortController();
  const request = client.request('memory', {}, { signal: controller.signal });
  controller.abort();
  await assert.rejects(request, tinylmError('ABORTED'));
  assert.equal(client.pending.size, 0, 'nothing was posted to the worker');
  assert.ok((await client.request('memory', {})).maximum > 0, 'the worker serves the next request');
  await client.terminate();
});

test('dispose() in the same tick as a fineTune or a generation ends them with DISPOSED', async () => {
  const doomed = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 16, embed: 8 }, corpus);
  const steps = [];
  const running = doomed.fineTune(corpus, { steps: 40, batchSize: 4, seqLen: 16, onProgress: (p) => steps.push(p.step) });
  const stream = doomed.generate('x', { maxTokens: 100_000 });
  const first = stream.next();
  const disposed = doomed.dispose();
  await assert.rejects(running, tinylmError('DISPOSED'));
  await assert.rejects(first, tinylmError('DISPOSED'));
  await disposed;
  assert.deepEqual(steps, []);
  await assert.rejects(doomed.evaluate(corpus), tinylmError('DISPOSED'));
});
