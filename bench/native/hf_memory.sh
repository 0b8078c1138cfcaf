#!/usr/bin/env bash
# Load memory and batch-1 speed of the GPT-2-124M and SmolLM2-135M shapes natively, per weight residency: each
# folder is written once (bench_hf --write-only), then loaded by a fresh process per --weights, so the peak resident
# set (getrusage maxrss) is the load's alone. Prints bench_hf's JSON lines plus one summary line per load:
#   {"name":"smollm2-135m_f16_peak_over_resident","ratio":…}  the load's peak RSS growth ÷ what stays resident after
#   it (the weights, the KV cache and generation buffers the model builds)
# Usage: bench/native/hf_memory.sh [BUILD_DIR] [TOKENS]   (BUILD_DIR defaults to build/, TOKENS to 64)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
tokens=${2:-64}
cmake --build "$build" --target bench_hf -j2 >/dev/null
export OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-Haswell}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for shape in gpt2-124m smollm2-135m; do
  "$build/bench_hf" --shape "$shape" --dtype bf16 --write-only --dir "$work/$shape"
  for weights in f32 f16 int8; do
    "$build/bench_hf" --load "$work/$shape" --shape "$shape" --weights "$weights" --tokens "$tokens" |
      tee "$work/out.json"
    node -e '
      const lines = require("fs").readFileSync(process.argv[1], "utf8").trim().split("\n").map(JSON.parse);
      const load = lines.find((line) => line.name.endsWith("_load"));
      const ratio = (load.peak_rss_mb - load.rss_before_mb) / (load.rss_after_load_mb - load.rss_before_mb);
      console.log(JSON.stringify({ name: load.name.replace(/_load$/, "_peak_over_resident"), ratio: +ratio.toFixed(3) }));
    ' "$work/out.json"
  done
done
