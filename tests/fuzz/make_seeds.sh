#!/usr/bin/env bash
# Regenerates the committed seed corpora in tests/fuzz/corpus/ (run after a format change; commit the result):
#   model_file/         tiny models of every arch and tokenizer, trained for one step by the native CLI, in F32,
#                       F16 and int8 storage, and a few truncated or header-edited mutants of them
#   safetensors_header/ the same containers (the parser sees them without the model layer)
#   tokenizer_json/     the tokenizers of those models and of the shipped models (models/*.safetensors)
#   hf_tokenizer/       tokenizer.json files in GPT-2's, SmolLM2's and Llama 2's layouts with small vocabularies
#                       (tests/hf_tokenizer/layouts.mjs), alone and followed by "\0\0" and tokenizer_config.json
# Needs the native build (npm run build:native) and /usr/bin/python3.
set -euo pipefail
cd "$(dirname "$0")/../.."
tinylm=build/tinylm
corpus=tests/fuzz/corpus
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
rm -rf "$corpus"
mkdir -p "$corpus/model_file" "$corpus/safetensors_header" "$corpus/tokenizer_json" "$corpus/hf_tokenizer"

printf 'Call me Ishmael. Some years ago - never mind how long precisely - having little or no money.\n' > "$work/text"
for i in 1 2 3; do cat "$work/text" "$work/text" > "$work/more" && mv "$work/more" "$work/text"; done
small=(--steps 1 --batch 1 --seq 8 --quiet --data "$work/text")
train() {  # name, flags...
  local name=$1; shift
  "$tinylm" train "${small[@]}" "$@" --out "$work/$name.safetensors" > /dev/null
}
train lstm_char --arch lstm --layers 1 --hidden 4 --embed 3 --vocab 12
train gru_word --arch gru --layers 2 --hidden 3 --embed 2 --tokenizer word --vocab 10
train rnn_tanh_bpe --arch rnn_tanh --layers 1 --hidden 3 --embed 2 --tokenizer bpe --vocab 270
train rnn_relu_char --arch rnn_relu --layers 1 --hidden 2 --embed 2 --vocab 6 --dropout 0.1
train gpt_char --arch gpt --layers 1 --heads 2 --embed 4 --context 8 --vocab 10
train gpt_nobias_char --arch gpt --layers 2 --heads 1 --embed 2 --context 4 --seq 4 --vocab 6 --no-bias --gelu tanh
"$tinylm" train --arch ngram --order 3 --tokenizer word --vocab 8 --data "$work/text" --out "$work/ngram_word.safetensors" > /dev/null
for model in lstm_char gru_word gpt_char; do
  for dtype in f16 int8; do
    "$tinylm" quantize --model "$work/$model.safetensors" --out "$work/${model}_$dtype.safetensors" --dtype "$dtype" \
      --data "$work/text" > /dev/null
  done
done

/usr/bin/python3 - "$work" "$corpus" <<'PY'
import json, pathlib, struct, sys
work, corpus = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def header(blob):
    length = struct.unpack('<Q', blob[:8])[0]
    return json.loads(blob[8:8 + length])
for path in sorted(work.glob('*.safetensors')):
    blob = path.read_bytes()
    for kind in ('model_file', 'safetensors_header'):
        (corpus / kind / path.stem).write_bytes(blob)
    (corpus / 'tokenizer_json' / path.stem).write_text(header(blob)['__metadata__']['tokenizer'])
# Mutants of one model: cut inside the header, cut inside the data, a header length one too long.
blob = (work / 'lstm_char.safetensors').read_bytes()
length = struct.unpack('<Q', blob[:8])[0]
(corpus / 'model_file' / 'mutant_cut_header').write_bytes(blob[:8 + length // 2])
(corpus / 'model_file' / 'mutant_cut_data').write_bytes(blob[:-5])
(corpus / 'model_file' / 'mutant_long_header').write_bytes(struct.pack('<Q', length + 1) + blob[8:])
# Configs whose sizes pass the limits with one small tensor: 40 layers of RNN(7372) (2^32 + 55e6 parameters, the
# count that wrapped the wasm build's 32-bit size_t) and a GPT whose KV cache exceeds the 1 GiB cap.
def crafted(config, alphabet):
    tokenizer = {"eos": False, "kind": "char", "lowercase": False, "tokens": ["<unk>", *alphabet], "version": 1}
    config = dict(config, vocab_size=len(tokenizer["tokens"]))
    header = {"__metadata__": {"format": "tinylm", "format_version": "1",
                               "config": json.dumps(config, separators=(',', ':')),
                               "tokenizer": json.dumps(tokenizer, separators=(',', ':'))},
              "head.bias": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}
    text = json.dumps(header, separators=(',', ':'))
    text += ' ' * ((8 - len(text) % 8) % 8)
    return struct.pack('<Q', len(text)) + text.encode() + bytes(16)
for name, config in [
    ('wrap_rnn_tanh_40x7372', {"arch": "rnn_tanh", "embed_size": 112, "hidden_size": 7372, "num_layers": 40,
                               "dropout": 0}),
    ('huge_gpt_context', {"arch": "gpt", "context_size": 65536, "embed_size": 4096, "num_layers": 8,
                          "num_heads": 8, "bias": True, "dropout": 0, "gelu": "exact"})]:
    for kind in ('model_file', 'safetensors_header'):
        (corpus / kind / name).write_bytes(crafted(config, 'abc'))
# The shipped models' tokenizers (their weights are too large to be useful seeds).
for path in sorted(pathlib.Path('models').glob('*.safetensors')):
    (corpus / 'tokenizer_json' / ('shipped_' + path.stem)).write_text(header(path.read_bytes())['__metadata__']['tokenizer'])
PY

node --input-type=module - "$PWD" "$corpus/hf_tokenizer" <<'JS'
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
const [root, out] = process.argv.slice(2);
const layouts = await import(pathToFileURL(join(root, 'tests/hf_tokenizer/layouts.mjs')).href);
const { gpt2TokenizerJson } = await import(pathToFileURL(join(root, 'tests/hf_tokenizer/gpt2_tokenizer_json.mjs')).href);
// GPT-2 cut to its byte alphabet, 40 merges and <|endoftext|> (ids renumbered densely).
const gpt2 = gpt2TokenizerJson();
const merges = gpt2.model.merges.slice(0, 40);
const vocab = {};
for (const [token, id] of Object.entries(gpt2.model.vocab)) if (id < 256) vocab[token] = id;
for (const merge of merges) vocab[merge.replace(' ', '')] ??= Object.keys(vocab).length;
gpt2.model = { ...gpt2.model, vocab, merges };
gpt2.added_tokens[0].id = Object.keys(vocab).length;
const seeds = {
  gpt2: [gpt2],
  smollm2: [layouts.smollm2TokenizerJson(40), layouts.smollm2TokenizerConfig()],
  llama_legacy: [layouts.llamaTokenizerJson({ mergeCount: 60 }), layouts.llamaTokenizerConfig()],
  llama_metaspace: [layouts.llamaTokenizerJson({ legacy: false, mergeCount: 60 }), layouts.llamaTokenizerConfig()],
};
for (const [name, [tokenizer, config]] of Object.entries(seeds)) {
  writeFileSync(join(out, name), JSON.stringify(tokenizer));
  if (config) writeFileSync(join(out, `${name}_config`), `${JSON.stringify(tokenizer)}\0\0${JSON.stringify(config)}`);
}
JS
du -sh "$corpus"/*
