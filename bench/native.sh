#!/usr/bin/env bash
# npm run bench:native — tinylm native vs PyTorch CPU (1 thread, OpenBLAS) on configurations C1/C2 of DESIGN.md,
# in the same run, reported as ratios; plus SGEMM GFLOP/s against the measured single-core FMA peak.
#   bash bench/native.sh            speed (a few minutes)
#   bash bench/native.sh --quality  also trains C1 for 2000 steps in both and compares validation loss (~15 min):
#                                   each side's own windowed figure during training, and both final weights scored
#                                   by the same evaluator (`tinylm eval`, the whole held-out split)
# Results: printed as a table, and as JSON lines in build/bench/native.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build/bench
out=build/bench/native.jsonl
: > "$out"
source bench/openblas_env.sh  # PyTorch on OpenBLAS, one thread, the CPU's best kernels

cmake --build build --target bench_kernels bench_models -j2 >/dev/null  # not in the default build
echo "== kernels ==" >&2
./build/bench_kernels --json | sed 's/^{/{"source":"tinylm",/' >> "$out"
echo "== models: tinylm ==" >&2
./build/bench_models --train-steps 40 --generate-tokens 5000 | sed 's/^{/{"source":"tinylm",/' >> "$out"
echo "== kernels: PyTorch ==" >&2
/usr/bin/python3 bench/peer_pytorch.py --mode sgemm | sed 's/^{/{"source":"pytorch",/' >> "$out"
echo "== models: PyTorch ==" >&2
for config in C1 C2 C3; do
  /usr/bin/python3 bench/peer_pytorch.py --config "$config" --train-steps 20 --generate-tokens 2000 \
    | sed 's/^{/{"source":"pytorch",/' >> "$out"
done

if [[ "${1:-}" == "--quality" ]]; then
  echo "== quality: C1, 2000 steps ==" >&2
  ./build/tinylm train --arch lstm --layers 2 --hidden 256 --embed 64 --batch 32 --seq 64 --optimizer adam \
    --lr 2e-3 --steps 2000 --eval-every 500 --eval-batches 50 --seed 1 --quiet --log build/bench/c1_quality.jsonl \
    --out build/bench/c1_quality_tinylm.safetensors > /dev/null
  sed 's/^{/{"source":"tinylm","name":"C1_val_loss",/' build/bench/c1_quality.jsonl >> "$out"
  /usr/bin/python3 bench/peer_pytorch.py --config C1 --mode quality --save build/bench/c1_quality_pytorch.safetensors \
    | sed 's/^{/{"source":"pytorch",/' >> "$out"
  for source in tinylm pytorch; do  # the same evaluator for both: whole held-out split, carried state
    ./build/tinylm eval --model "build/bench/c1_quality_$source.safetensors" \
      | sed "s/^{/{\"source\":\"$source\",\"name\":\"C1_heldout_loss\",/" >> "$out"
  done
fi

/usr/bin/python3 bench/report.py "$out"
