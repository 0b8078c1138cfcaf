#!/usr/bin/env bash
# bash bench/lora.sh — LoRA vs full fine-tuning of a SmolLM2-135M-shaped model, natively (bench/native/bench_lora.cpp):
# training tokens/s, peak resident memory and adapter bytes. Modes alternate (A/B, twice) so a machine whose load
# changes affects both alike. Results: JSON lines on stdout and in build/bench/lora.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake --build build --target bench_lora -j2 >/dev/null  # not in the default build
mkdir -p build/bench
out=build/bench/lora.jsonl
: > "$out"
for round in 1 2; do
  ./build/bench_lora --mode lora --rank 8 --targets q_proj,v_proj | tee -a "$out"
  ./build/bench_lora --mode lora --rank 8 --targets q_proj,k_proj,v_proj,o_proj,gate_proj,up_proj,down_proj \
    | tee -a "$out"
  ./build/bench_lora --mode full | tee -a "$out"
done
