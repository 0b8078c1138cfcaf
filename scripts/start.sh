#!/usr/bin/env bash
# npm start: train a small character-level LSTM on the default corpus (Moby Dick) for a bounded time, with a live
# progress line, then print samples from it. The model is kept in build/start-lstm.safetensors, so
#   ./build/tinylm generate --model build/start-lstm.safetensors --prompt "Call me " --temperature 0.8
# continues from there.
set -euo pipefail
cd "$(dirname "$0")/.."
./build/tinylm train --arch lstm --layers 2 --hidden 256 --embed 64 --batch 32 --seq 64 \
  --optimizer adam --lr 2e-3 --clip 5 --steps 3000 --time-limit "${TINYLM_START_SECONDS:-90}" \
  --eval-every 100 --eval-batches 10 --seed 1 --samples 3 --out build/start-lstm.safetensors
echo
echo "Generate more with:"
echo "  ./build/tinylm generate --model build/start-lstm.safetensors --prompt 'Call me ' --temperature 0.8"
