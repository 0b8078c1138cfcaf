// The errors users will hit: each is a TinyLMError with a stable code and a message that says what is wrong, and
// the engine keeps working after every one of them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, TinyLMError, collect, corpus, directoryStore, heldOut, temporaryDirectory, tinylmError } from './helpers.mjs';

const lm = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 24, embed: 8 }, corpus);
test.after(() => lm.dispose());

test('a file that is not a model: INVALID_MODEL_FILE', async () => {
  const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
  await assert.rejects(TinyLM.load(png), tinylmError('INVALID_MODEL_FILE', 'not a usable tinylm model file'));
  await assert.rejects(TinyLM.load(new TextEncoder().encode(corpus)), tinylmError('INVALID_MODEL_FILE'));
  await assert.rejects(TinyLM.load(new Uint8Array(0)), tinylmError('INVALID_MODEL_FILE'));
  const bytes = await lm.export();
  await assert.rejects(TinyLM.load(bytes.subarray(0, bytes.length - 100)), tinylmError('INVALID_MODEL_FILE'));
});

test('a model larger than the memory cap: MODEL_TOO_LARGE, before anything is allocated', async () => {
  // A safetensors header declaring an 8 GiB F32 tensor (the data need not be there: the size check comes first).
  const header = new TextEncoder().encode(JSON.stringify({
    __metadata__: { format: 'tinylm' },
    'embed.weight': { dtype: 'F32', shape: [65536, 32768], data_offsets: [0, 65536 * 32768 * 4] },
  }));
  const file = new Uint8Array(8 + header.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(header.length), true);
  file.set(header, 8);
  const before = await TinyLM.memory();
  await assert.rejects(TinyLM.load(file), tinylmError('MODEL_TOO_LARGE', 'capped at 4096.0 MiB'));
  assert.equal((await TinyLM.memory()).heapSize, before.heapSize, 'the heap did not grow');
});

test('a created model too large for the cap: MODEL_TOO_LARGE, sized before the engine allocates', async () => {
  await assert.rejects(
    TinyLM.create({ arch: 'lstm', layers: 2, hidden: 8000 }, corpus),
    tinylmError('MODEL_TOO_LARGE', 'more than the 4.0 GiB this engine may use'),
  );
  assert.ok((await lm.evaluate(heldOut)).loss > 0, 'the engine still works');
});

test('empty text: EMPTY_TEXT', async () => {
  await assert.rejects(lm.fineTune(''), tinylmError('EMPTY_TEXT'));
  await assert.rejects(lm.evaluate(''), tinylmError('EMPTY_TEXT'));
  await assert.rejects(lm.inspect(''), tinylmError('EMPTY_TEXT'));
  await assert.rejects(TinyLM.create({ arch: 'gru' }, ''), tinylmError('EMPTY_TEXT'));
});

test('text shorter than one training window: TEXT_TOO_SHORT, naming the sizes', async () => {
  await assert.rejects(
    lm.fineTune('Call me Ishmael.', { seqLen: 64 }),
    tinylmError('TEXT_TOO_SHORT', 'seqLen 64 needs 65'),
  );
  await assert.rejects(lm.evaluate('C'), tinylmError('INVALID_ARGUMENT', 'at least 2'));
});

test('calls after dispose(): DISPOSED', async () => {
  const gone = await TinyLM.create({ arch: 'gru', layers: 1, hidden: 8, embed: 4 }, corpus);
  await gone.dispose();
  await gone.dispose();  // twice is harmless
  await assert.rejects(gone.evaluate(heldOut), tinylmError('DISPOSED'));
  await assert.rejects(gone.fineTune(corpus), tinylmError('DISPOSED'));
  await assert.rejects(gone.export(), tinylmError('DISPOSED'));
  await assert.rejects(collect(gone.generate('x')), tinylmError('DISPOSED'));
});

test('bad options: INVALID_ARGUMENT naming the option', async () => {
  await assert.rejects(lm.fineTune(corpus, { learningRate: -1 }), tinylmError('INVALID_ARGUMENT', 'learningRate'));
  await assert.rejects(lm.fineTune(corpus, { steps: 2.5 }), tinylmError('INVALID_ARGUMENT', 'steps must be an integer'));
  await assert.rejects(collect(lm.generate('x', { temperature: Number.NaN })), tinylmError('INVALID_ARGUMENT', 'temperature'));
  await assert.rejects(collect(lm.generate('x', { stop: [''] })), tinylmError('INVALID_ARGUMENT', 'stop'));
  await assert.rejects(lm.fineTune(corpus, { optimizer: 'lion', steps: 1 }), tinylmError('INVALID_ARGUMENT', 'optimizer'));
  await assert.rejects(TinyLM.create({ arch: 'transformer' }, corpus), tinylmError('INVALID_ARGUMENT', 'arch'));
});

test('unknown stored names and missing files: NOT_FOUND', async (t) => {
  const store = directoryStore(temporaryDirectory(t));
  await assert.rejects(TinyLM.load('no-such-model', { store }), tinylmError('NOT_FOUND', 'no stored model'));
  await assert.rejects(TinyLM.load('./no/such/file.safetensors'), tinylmError('NOT_FOUND'));
  await assert.rejects(lm.save('../escape', { store }), tinylmError('INVALID_ARGUMENT', 'not a valid model name'));
});

test('errors are TinyLMError instances with a code; AbortError is one too', async () => {
  const error = await lm.fineTune('').catch((caught) => caught);
  assert.ok(error instanceof TinyLMError && error instanceof Error);
  assert.equal(error.name, 'TinyLMError');
  const aborted = await lm.fineTune(corpus, { signal: AbortSignal.abort() }).catch((caught) => caught);
  assert.ok(aborted instanceof TinyLMError);
  assert.equal(aborted.name, 'AbortError');
  assert.equal(aborted.code, 'ABORTED');
});
