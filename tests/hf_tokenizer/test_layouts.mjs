// The SmolLM2 and Llama 2 / TinyStories-Llama layouts (layouts.mjs: the published settings and ids around a
// vocabulary made from GPT-2's merges) against tokenizers.js (@huggingface/tokenizers, the JavaScript port of the
// tokenizers library) reading the same files: the corpus, random Unicode, invalid UTF-8, special tokens in text,
// decoding, and the streamed token bytes. Run by ctest (hf_tokenizer.test_layouts).
//
// Compared as in test_gpt2.mjs: JS strings as TextEncoder's UTF-8, invalid bytes as TextDecoder reads them. Where
// tokenizers.js departs from the Rust library, the compared texts leave the characters out, and
// test_hf_tokenizer*.cpp checks tinylm's handling of them against the library's rules instead:
//   - ByteLevel's pattern uses JavaScript's \s (U+0085, U+FEFF), and Digits JavaScript's \d, which is ASCII only
//     (the library's char::is_numeric is every \p{N}: "٣", "½", "Ⅻ" are digits too);
//   - its ByteFallback decoder drops a U+FEFF at the start of a byte run (TextDecoder's BOM rule).
// Random text for the byte-level layout also leaves out code points whose class changed after tinylm's Unicode
// version. The Llama layouts use no character classes: their random text draws from every code point. The corpus
// is one text for SmolLM2; for Llama its first 300 kB are encoded paragraph by paragraph, because tokenizers.js
// merges a piece in quadratic time and Llama's legacy layout makes a whole text one piece (the whole corpus takes
// it minutes).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Tokenizer } from '@huggingface/tokenizers';

import { SMOLLM2_CHAT_TEMPLATE, llamaTokenizerConfig, llamaTokenizerJson, smollm2TokenizerConfig,
         smollm2TokenizerJson } from './layouts.mjs';
import { Runner } from './runner.mjs';
import { TINYLM_CLASS, corpus, invalidUtf8, jsClass, makeRng, randomUnicode } from './texts.mjs';

const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
const layouts = {
  smollm2: { json: smollm2TokenizerJson(), config: smollm2TokenizerConfig() },
  llama: { json: llamaTokenizerJson({ legacy: true }), config: llamaTokenizerConfig() },
  llama_metaspace: { json: llamaTokenizerJson({ legacy: false }), config: llamaTokenizerConfig() },
};
let tinylmClasses;

before(() => {
  for (const layout of Object.values(layouts)) {
    layout.runner = new Runner(layout.json, layout.config);
    layout.reference = new Tokenizer(layout.json, layout.config);
  }
  tinylmClasses = layouts.smollm2.runner.classify(Array.from({ length: 0x110000 }, (_, codePoint) => codePoint));
});
after(() => Object.values(layouts).forEach((layout) => layout.runner.close()));

const comparableByteLevel = (codePoint) => TINYLM_CLASS[tinylmClasses[codePoint]] === jsClass(codePoint) &&
                                           codePoint !== 0x85 && codePoint !== 0xfeff &&
                                           (jsClass(codePoint) !== 'N' || (codePoint >= 0x30 && codePoint <= 0x39));
const accept = (name) => (name === 'smollm2' ? comparableByteLevel : () => true);
const acceptForDecode = (name) => (name === 'smollm2' ? comparableByteLevel : (codePoint) => codePoint !== 0xfeff);
const corpusTexts = (name) => (name === 'smollm2' ? [corpus()]
                                                   : corpus().subarray(0, 300000).toString('utf8').split('\n\n'));

// Encodes texts (JS strings or Buffers) with both and asserts equal ids; returns the number of tokens compared.
function compareEncodings(layout, texts, label) {
  const ours = layout.runner.encode(texts);
  let tokens = 0;
  texts.forEach((text, index) => {
    const string = Buffer.isBuffer(text) ? decoder.decode(text) : text;
    assert.deepEqual(ours[index], layout.reference.encode(string).ids, `${label} ${index}: ${JSON.stringify(string)}`);
    tokens += ours[index].length;
  });
  return { ours, tokens };
}

for (const name of Object.keys(layouts)) {
  test(`${name}: the corpus, random Unicode and invalid UTF-8 encode to tokenizers.js's ids`, () => {
    const layout = layouts[name];
    const rng = makeRng(name.length * 1000 + 7);
    const { ours, tokens: corpusTokens } = compareEncodings(layout, corpusTexts(name), 'corpus');
    const random = compareEncodings(layout, Array.from({ length: 300 },
                                    () => randomUnicode(rng, 1 + rng.below(100), accept(name))), 'random');
    const invalid = compareEncodings(layout, Array.from({ length: 200 },
                                     () => invalidUtf8(rng, 1 + rng.below(30), accept(name))), 'invalid');
    console.log(`# ${name}: corpus ${corpusTokens} tokens, random Unicode ${random.tokens}, invalid UTF-8 ` +
                `${invalid.tokens}: 0 mismatches`);
    assert.ok(corpusTokens > 80000);
  });

  test(`${name}: decode and the streamed token bytes`, () => {
    const layout = layouts[name];
    const rng = makeRng(name.length + 99);
    const texts = [corpus().subarray(0, 100000).toString('utf8'),
                   ...Array.from({ length: 150 }, () => randomUnicode(rng, 1 + rng.below(60), acceptForDecode(name)))];
    const ids = layout.runner.encode(texts);
    const decoded = layout.runner.decode(ids);
    const withoutSpecial = layout.runner.decode(ids.map((sequence) => sequence.filter((id) => id > 2 || name === 'smollm2')));
    texts.forEach((text, index) => {
      const expected = layout.reference.decode(ids[index], { skip_special_tokens: false,
                                                             clean_up_tokenization_spaces: false });
      assert.equal(decoded[index].text.toString('utf8'), expected, `text ${index}`);
      const well_formed = Buffer.from(text).toString('utf8');  // unpaired surrogates as U+FFFD
      if (name === 'smollm2') {
        assert.equal(decoded[index].text.toString('utf8'), well_formed);  // byte-level: lossless
        assert.ok(Buffer.concat(decoded[index].pieces).equals(Buffer.from(well_formed)));
      } else {
        // Byte fallback keeps every byte: without <s>, decode drops the one space the decoder's Strip expects
        // before the text, and the streamed pieces keep it. The legacy normalizer always puts that "▁" there;
        // Metaspace "first" not before a text that already starts with a space, whose space decode then drops.
        const prepended = !(name === 'llama_metaspace' && well_formed.startsWith(' '));
        const streamedText = well_formed.length === 0 ? '' : (prepended ? ' ' : '') + well_formed;
        assert.equal(withoutSpecial[index].text.toString('utf8'), streamedText.slice(1), `text ${index}`);
        assert.equal(Buffer.concat(withoutSpecial[index].pieces).toString('utf8'), streamedText, `text ${index}`);
      }
      // Streaming piece by piece through a decoder that holds split characters back gives the same text.
      const streaming = new TextDecoder('utf-8', { ignoreBOM: true });
      let streamed = '';
      for (const piece of decoded[index].pieces) streamed += streaming.decode(piece, { stream: true });
      assert.equal(streamed + streaming.decode(), Buffer.concat(decoded[index].pieces).toString('utf8'));
    });
  });
}

test('smollm2: each digit is its own piece, and chat markup in text is the special tokens', () => {
  const { runner, reference, json } = layouts.smollm2;
  const texts = ['1851', 'In 1851, 42 whales', '<|im_start|>user\nHi 12<|im_end|>\n<|im_start|>assistant\n',
                 '<|endoftext|><|im_end|>x<empty_output>', '<|im_start'];
  const { ours } = compareEncodings(layouts.smollm2, texts, 'text');
  // Every \p{N} is a digit to the library's Digits (char::is_numeric), not only 0-9 as in tokenizers.js: each of
  // "٣٤ ²" is its own piece, so the ids are those of the four pieces encoded apart.
  const pieces = ['٣', '٤', ' ', '²'].flatMap((piece) => reference.encode(piece).ids);
  assert.deepEqual(runner.encode(['٣٤ ²'])[0], pieces);
  assert.notDeepEqual(pieces, reference.encode('٣٤ ²').ids);
  const vocab = json.model.vocab;
  assert.deepEqual(ours[0], ['1', '8', '5', '1'].map((digit) => vocab[digit]));
  const user = reference.encode('user').ids;
  assert.deepEqual(ours[2].slice(0, 1 + user.length), [1, ...user]);
  assert.equal(ours[2].filter((id) => id === 1 || id === 2).length, 3);
  assert.deepEqual(ours[3].slice(0, 2), [0, 2]);
  assert.deepEqual(runner.encode(['x'], { addSpecialTokens: false }), [reference.encode('x').ids]);
});

test('smollm2: tokenizer_config.json gives bos, eos and the chat template', () => {
  const info = layouts.smollm2.runner.info();
  assert.equal(info.bos_token, '<|im_start|>');
  assert.equal(info.eos_token, '<|im_end|>');
  assert.equal(info.eos_id, 2);
  assert.equal(info.bos_id, 1);
  assert.equal(info.chat_template, SMOLLM2_CHAT_TEMPLATE);
  assert.equal(info.unk_id, -1);
  assert.equal(info.vocab_size, Object.keys(layouts.smollm2.json.model.vocab).length);
});

test('llama: <s> starts every encoding, </s> is eos, and unknown characters fall back to bytes', () => {
  const { runner, json } = layouts.llama;
  const [hello, cjk, empty] = runner.encode(['the sea', '東京\n😀ß', '']);
  const vocab = json.model.vocab;
  assert.deepEqual(hello, [1, vocab['▁the'], vocab['▁sea']]);
  // 東 and 京 and 😀 are single-character tokens; "\n" and "ß" are not: their UTF-8 bytes are <0x0A>, <0xC3><0x9F>.
  assert.deepEqual(cjk, [1, vocab['▁'], vocab['東'], vocab['京'], 3 + 0x0a, vocab['😀'], 3 + 0xc3, 3 + 0x9f]);
  assert.deepEqual(empty, [1]);
  assert.deepEqual(runner.encode(['the sea'], { addSpecialTokens: false })[0], hello.slice(1));
  const info = runner.info();
  assert.equal(info.eos_id, 2);
  assert.equal(info.bos_id, 1);
  assert.equal(info.unk_id, 0);
});

test('llama: special tokens in text, and the legacy and Metaspace layouts differ only after one', () => {
  const texts = ['Hi</s>there', '<s>Hello', 'a <s> b', '</s>'];
  for (const name of ['llama', 'llama_metaspace']) compareEncodings(layouts[name], texts, name);
  const legacy = layouts.llama.runner.encode(texts);
  const metaspace = layouts.llama_metaspace.runner.encode(texts);
  const vocab = layouts.llama.json.model.vocab;
  // legacy: "▁" is prepended to every stretch between tokens; Metaspace "first": only at the start of the text.
  assert.deepEqual(legacy[0].slice(-1), [vocab['▁there']]);
  assert.notDeepEqual(metaspace[0].slice(-1), [vocab['▁there']]);
  assert.deepEqual(legacy.map((ids) => ids.slice(0, 2)), metaspace.map((ids) => ids.slice(0, 2)));
});
