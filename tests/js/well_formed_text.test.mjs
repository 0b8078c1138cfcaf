// Every string the API yields is well-formed UTF-16: generated pieces, alternatives and decode(), on byte-level BPE
// models whose tokens are often parts of a character (untrained, so they sample any byte sequence at all) and on
// emoji/CJK text. A piece that ends inside a multi-byte character waits for the rest; bytes that can never form a
// character become U+FFFD.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, corpus } from './helpers.mjs';

const loneSurrogate = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const wellFormed = (text) => typeof text === 'string' && !loneSurrogate.test(text);

const emojiCjk = '猫が好きです。🐳 鯨は海にいる。😀😃 我喜欢白鲸记。👩‍👩‍👧 한국어 텍스트도 있습니다. ' +
  'Call me Ishmael — “Some years ago” — naïve café. ';
const text = (emojiCjk + corpus.slice(0, 3000)).repeat(2);

test('pieces, alternatives and decode are well-formed on random byte-level BPE models', async () => {
  let pieces = 0;
  let replaced = 0;
  for (const seed of [1, 2, 3]) {
    const lm = await TinyLM.create({ arch: 'lstm', tokenizer: 'bpe', maxVocab: 400, layers: 1, hidden: 32, embed: 16, seed }, text);
    try {
      for (const temperature of [1, 2]) {
        for await (const step of lm.generateSteps('猫', { maxTokens: 300, temperature, seed, alternatives: 8 })) {
          pieces += 1;
          assert.ok(wellFormed(step.piece), `piece ${JSON.stringify(step.piece)} holds a lone surrogate`);
          if (step.piece.includes('\uFFFD')) replaced += 1;
          for (const alternative of step.alternatives) {
            assert.ok(wellFormed(alternative.piece), `alternative ${JSON.stringify(alternative.piece)} holds a lone surrogate`);
          }
        }
        const sample = [];
        for await (const piece of lm.generate('鯨', { maxTokens: 300, temperature, seed: seed + 10 })) sample.push(piece);
        assert.ok(sample.every(wellFormed));
        assert.doesNotThrow(() => encodeURIComponent(sample.join('')));
      }
      const randomIds = Int32Array.from({ length: 500 }, (_, i) => (i * 7919 + seed * 104729) % lm.info.vocabSize);
      const decoded = await lm.decode(randomIds);
      assert.ok(wellFormed(decoded), 'decode of random ids');
      for (let i = 0; i < 100; ++i) assert.ok(wellFormed(await lm.decode(randomIds.subarray(i, i + 1))));
    } finally {
      await lm.dispose();
    }
  }
  // Untrained byte-level models emit invalid byte sequences often: the check above was exercised.
  assert.ok(pieces > 1000 && replaced > 0, `${pieces} pieces, ${replaced} with U+FFFD`);
});

test('emoji and CJK text round-trips through encode/decode and streams whole characters', async () => {
  const cjkText = emojiCjk.repeat(40);
  const lm = await TinyLM.create({ arch: 'gru', tokenizer: 'bpe', maxVocab: 350, layers: 1, hidden: 48, embed: 16 }, cjkText);
  try {
    assert.equal(await lm.decode(await lm.encode(emojiCjk)), emojiCjk);
    await lm.fineTune(cjkText, { steps: 60, batchSize: 8, seqLen: 32, learningRate: 1e-2, validationSplit: 0 });
    const pieces = [];
    for await (const piece of lm.generate('我', { maxTokens: 200, temperature: 0.7, seed: 5 })) pieces.push(piece);
    assert.ok(pieces.every(wellFormed));
    assert.ok(/[\u3040-\u30ff\u4e00-\u9fff\uac00-\ud7af]|\p{Extended_Pictographic}/u.test(pieces.join('')),
      `the sample holds CJK or emoji: ${JSON.stringify(pieces.join('').slice(0, 80))}`);
  } finally {
    await lm.dispose();
  }
});
