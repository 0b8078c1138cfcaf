#!/usr/bin/env bash
# npm run bench:hf-native — the small open checkpoints' shapes natively, tinylm next to PyTorch on OpenBLAS with the
# same thread count, in one run: batch-1 prefill of a 64-token prompt and 64 generated tokens (KV cache), float32
# weights, random values. tinylm: build/bench_hf (its folder written in the published layout and loaded as the CLI
# loads it); PyTorch: bench/peer_pytorch_hf.py (the cached reference modules bench:hf-wasm exports to ONNX).
#   bash bench/hf_native.sh [--threads "1 2"] [--shapes "gpt2-124m smollm2-135m"]
# Prints a table of tokens/s and tinylm/PyTorch ratios; JSON lines in build/bench/hf_native.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
threads_list="1 2" shapes="gpt2-124m smollm2-135m"
while (($#)); do
  case $1 in
    --threads) threads_list=$2; shift ;;
    --shapes) shapes=$2; shift ;;
    *) echo "usage: bash bench/hf_native.sh [--threads \"1 2\"] [--shapes \"gpt2-124m smollm2-135m\"]" >&2; exit 2 ;;
  esac
  shift
done
source bench/openblas_env.sh
cmake --build build --target bench_hf -j2 >/dev/null  # not in the default build
mkdir -p build/bench
out=build/bench/hf_native.jsonl
: > "$out"
folder=$(mktemp -d)
trap 'rm -rf "$folder"' EXIT
for shape in $shapes; do
  ./build/bench_hf --shape "$shape" --dtype f32 --write-only --dir "$folder/$shape" 2>/dev/null
  for threads in $threads_list; do
    echo "== $shape, $threads thread(s)" >&2
    ./build/bench_hf --shape "$shape" --load "$folder/$shape" --weights f32 --threads "$threads" --tokens 64 |
      sed "s/^{/{\"source\":\"tinylm\",\"shape\":\"$shape\",\"threads\":$threads,/" >> "$out"
    OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads /usr/bin/python3 bench/peer_pytorch_hf.py \
      --shape "$shape" --threads "$threads" --prompt 64 --tokens 64 --repeats 2 |
      sed "s/^{/{\"source\":\"pytorch\",\"shape\":\"$shape\",/" >> "$out"
  done
done
/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
def rate(source, shape, threads, kind):
    for row in rows:
        name = row["name"]
        if row["source"] == source and row["shape"] == shape and row["threads"] == threads and name.endswith(kind):
            if source == "pytorch" or name == f"{shape}_f32_step_float{kind}":
                return row["tokens_per_second"]
    return None
print(f"{'shape':14} {'threads':>7} {'prefill tinylm':>15} {'PyTorch':>8} {'ratio':>6} {'generate tinylm':>16} {'PyTorch':>8} {'ratio':>6}")
for shape in dict.fromkeys(row["shape"] for row in rows):
    for threads in sorted({row["threads"] for row in rows if row["shape"] == shape}):
        cells = []
        for kind in ("_prefill", "_generate"):
            ours, peer = rate("tinylm", shape, threads, kind), rate("pytorch", shape, threads, kind)
            cells += [f"{ours:.1f}", f"{peer:.1f}", f"{ours / peer:.2f}x"]
        print(f"{shape:14} {threads:>7} {cells[0]:>15} {cells[1]:>8} {cells[2]:>6} {cells[3]:>16} {cells[4]:>8} {cells[5]:>6}")
PY
