#!/usr/bin/env bash
# npm run models: rebuild every shipped model in models/ from scratch with the exact commands its card records,
# then check each rebuilt file's loss on the held-out last 10% of the corpus is within 2% of the figure in
# models/index.json (and its card), and say whether the rebuilt file is byte-identical to the shipped one.
# Training is deterministic given the seed (fixed --steps, no --time-limit), so on the same build and CPU it
# should be; a different compiler or ISA may round differently and still pass the 2% check.
#
# Models trained on another corpus name its held-out part (EVAL_DATA_<name>, and "eval_data" in the index).
#
#   npm run models                      rebuild all into build/models/, check, compare
#   npm run models -- moby-char-lstm    just one
#   TINYLM_MODELS_INSTALL=1 npm run models   also copy the rebuilt files over models/ (after a recipe change)
#
# Each model takes a few minutes on 2 cores (the cards give the measured wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -x build/tinylm ] || { echo "build/tinylm is missing: run npm run build:native" >&2; exit 1; }
mkdir -p build/models

# ---- corpora -------------------------------------------------------------------------------------------------
# The chat model's corpus: the dialogue of Jane Austen's novels (public domain), from Debian's r-cran-janeaustenr
# (1.0.0-1 in bookworm). Its data is read without R (scripts/corpus/r_lazyload.mjs): when the package is not
# installed, its .deb is fetched with `apt-get download` and unpacked under build/corpora/.
austen_dialogue() {  # prints the path of the corpus file
  local data=/usr/lib/R/site-library/janeaustenr/data
  if [ ! -f "$data/Rdata.rdb" ]; then
    data=build/corpora/janeaustenr/usr/lib/R/site-library/janeaustenr/data
    if [ ! -f "$data/Rdata.rdb" ]; then
      mkdir -p build/corpora/deb
      (cd build/corpora/deb && apt-get download r-cran-janeaustenr >&2)
      dpkg-deb -x build/corpora/deb/r-cran-janeaustenr_*.deb build/corpora/janeaustenr
    fi
  fi
  node scripts/corpus/austen_dialogue.mjs "$data" build/corpora/austen-dialogue.txt >&2
  cmp -s build/corpora/austen-dialogue.heldout.txt models/data/austen-dialogue.heldout.txt ||
    { echo "models: the extracted corpus's held-out part differs from models/data/austen-dialogue.heldout.txt" >&2; exit 1; }
  echo build/corpora/austen-dialogue.txt
}

# ---- recipes (keep in step with the cards: models/<name>.md quotes these commands) ---------------------------
# Every char model keeps printable ASCII, Latin-1 and English typography in its vocabulary (--charset), so what a
# user types never becomes <unk>; tests/js/models_charset.test.mjs checks the shipped files.
train_moby_char_lstm() {  # $1 = float checkpoint to write
  ./build/tinylm train --arch lstm --layers 2 --hidden 256 --embed 64 --steps 2000 --batch 32 --seq 64 \
    --lr 5e-3 --cosine --warmup 100 --clip 1 --seed 1 --eval-every 250 --charset ascii+typographic --quiet \
    --out "$1"
}
SHIPPED_DTYPE_moby_char_lstm=int8

train_moby_char_gpt() {  # $1 = float checkpoint to write
  ./build/tinylm train --arch gpt --layers 4 --heads 4 --embed 128 --context 128 --seq 128 --batch 16 \
    --optimizer adamw --lr 3e-3 --cosine --warmup 100 --clip 1 --steps 1500 --seed 3 --eval-every 250 \
    --charset ascii+typographic --quiet --out "$1"
}
SHIPPED_DTYPE_moby_char_gpt=f16  # seed 3: best of three on the held-out split (models/moby-char-gpt.md)

# The learn pages' small recurrent models (one layer of 128 units each, so a lesson's heatmaps show a real model).
train_moby_char_gru() {  # $1 = float checkpoint to write
  ./build/tinylm train --arch gru --layers 1 --hidden 128 --embed 32 --steps 1500 --batch 32 --seq 64 \
    --lr 5e-3 --cosine --warmup 100 --clip 1 --seed 1 --eval-every 250 --charset ascii+typographic --quiet \
    --out "$1"
}
SHIPPED_DTYPE_moby_char_gru=int8

train_moby_char_rnn() {  # $1 = float checkpoint to write
  ./build/tinylm train --arch rnn_tanh --layers 1 --hidden 128 --embed 32 --steps 1500 --batch 32 --seq 64 \
    --lr 3e-3 --cosine --warmup 100 --clip 1 --seed 1 --eval-every 250 --charset ascii+typographic --quiet \
    --out "$1"
}
SHIPPED_DTYPE_moby_char_rnn=int8

# The chat page's offline model: conversations, one turn per line (models/austen-chat-lstm.md).
train_austen_chat_lstm() {  # $1 = float checkpoint to write
  ./build/tinylm train --arch lstm --layers 2 --hidden 256 --embed 64 --steps 2000 --batch 32 --seq 128 \
    --lr 5e-3 --cosine --warmup 100 --clip 1 --dropout 0.2 --seed 1 --eval-every 250 \
    --charset ascii+typographic --data "$(austen_dialogue)" --quiet --out "$1"
}
SHIPPED_DTYPE_austen_chat_lstm=int8
# Scored on the corpus's last 10%, which training holds out; models/data/ keeps a copy for the tests (checked below).
EVAL_DATA_austen_chat_lstm=models/data/austen-dialogue.heldout.txt

train_moby_bpe_gpt() {  # $1 = float checkpoint to write
  ./build/tinylm train --arch gpt --tokenizer bpe --vocab 512 --layers 4 --heads 4 --embed 128 --context 128 \
    --seq 128 --batch 16 --optimizer adamw --lr 2e-3 --cosine --warmup 100 --clip 1 --steps 1500 --seed 1 \
    --eval-every 250 --quiet --out "$1"
}
SHIPPED_DTYPE_moby_bpe_gpt=f16  # trained before the trainer's batch stream changed: a rebuild differs in its bytes

# ---- rebuild and check ---------------------------------------------------------------------------------------
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  mapfile -t names < <(node -e 'for (const m of require("./models/index.json")) console.log(m.name)')
fi
status=0
for name in "${names[@]}"; do
  recipe="train_${name//-/_}"
  dtype_var="SHIPPED_DTYPE_${name//-/_}"
  data_var="EVAL_DATA_${name//-/_}"
  data_args=()
  if [ -n "${!data_var:-}" ]; then data_args=(--data "${!data_var}"); fi
  if ! declare -F "$recipe" >/dev/null; then
    echo "models: no recipe for '$name' in scripts/models.sh" >&2
    status=1
    continue
  fi
  float_file="build/models/$name.f32.safetensors"
  rebuilt="build/models/$name.safetensors"
  echo "== $name: training (float) → $float_file"
  started=$(date +%s)
  "$recipe" "$float_file"
  echo "   trained in $(( $(date +%s) - started ))s"
  echo "== $name: quantize to ${!dtype_var} → $rebuilt"
  ./build/tinylm quantize --model "$float_file" --out "$rebuilt" --dtype "${!dtype_var}" "${data_args[@]}"
  eval_json=$(./build/tinylm eval --model "$rebuilt" "${data_args[@]}")
  echo "   eval: $eval_json"
  if ! node scripts/check_model.mjs "$name" "$eval_json" 0.02; then status=1; fi
  shipped="models/$name.safetensors"
  if cmp -s "$rebuilt" "$shipped"; then
    echo "   byte-identical to $shipped"
  else
    echo "   differs from $shipped in its bytes (loss checked above)"
  fi
  if [ "${TINYLM_MODELS_INSTALL:-0}" = 1 ]; then cp "$rebuilt" "$shipped" && echo "   installed $shipped"; fi
done
exit $status
