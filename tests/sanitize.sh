#!/usr/bin/env bash
# npm run test:sanitize — the native suite under AddressSanitizer + UndefinedBehaviorSanitizer (clang 14), then the
# fuzz targets' regression runs (tests/fuzz/run.sh --regression), all from one instrumented build (build-sanitize/,
# plus, with --full, build-fuzz32/ for the 32-bit loader).
#   (no argument)  the fast subset `npm test` runs: loaders and parsers, the kernels at their tile edges, one
#                  training step of every architecture, the limits, the CLI (budget: ~3 minutes with the build)
#   --full         every test case (about 40 minutes: the gradient checks dominate) and the 32-bit loader target
set -euo pipefail
cd "$(dirname "$0")/.."
full=0
[[ ${1:-} == --full ]] && full=1

# Test cases by name (doctest wildcards), chosen for what the sanitizers can find: every reader of untrusted bytes,
# every kernel's tails, every architecture's forward and backward once, and the size checks.
fast_cases=(
  # readers of untrusted bytes: safetensors, model files, tokenizer JSON, UTF-8
  "safetensors:*" "model files round-trip" "F16 model files*" "bad model files*" "saving is atomic*"
  "quantized: broken*" "quantized: I8 tensors*" "quantized: model files*" "tokenizer JSON*" "bpe JSON*"
  "bpe round trip*" "utf8*" "char tokenizer*" "word tokenizer*" "lora files*" "checkpoint: a run with other*"
  # Hugging Face checkpoint folders: configs, shard indexes, headers read before the model allocates
  "hf checkpoint:*"
  # sizes and limits, the CLI on bad input, atomic writes, chunked evaluation
  "saturating*" "a parameter table*" "a file whose config*" "tensors are checked*" "training refuses*"
  "after divergence*" "atomic writes*" "cli:*" "an evaluation advanced*" "an unfinished*" "a prompt fed*"
  # kernels at every tile edge
  "kernels:*" "quantized: sgemv_q8*" "int8 panels:*" "transformer kernels: layernorm*" "transformer kernels: attention*"
  "transformer kernels: causal*"
  # one training step of every architecture; LoRA's hooks through both decoders, resume across all of them
  "one training step*" "lora: step()*" "checkpoint: an interrupted*"
)

fuzz_targets=(fuzz_model_file fuzz_tokenizer_json fuzz_hf_tokenizer fuzz_safetensors_header)
if ((full)); then
  fuzz_targets+=(fuzz_model_file_32)  # a second tree (-m32): the campaign's, and --full's
  bash tests/fuzz/build.sh tinylm_tests tinylm "${fuzz_targets[@]}"
else
  bash tests/fuzz/build.sh tinylm_sanitize_tests tinylm "${fuzz_targets[@]}"
fi
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
if ((full)); then
  build-sanitize/tinylm_tests
else
  IFS=,
  build-sanitize/tinylm_sanitize_tests --test-case="${fast_cases[*]}"
  unset IFS
fi
bash tests/fuzz/run.sh --regression "${fuzz_targets[@]}"
