#!/usr/bin/env bash
# Threads against one thread, the same build, in the same run: what issue "every core" asks to measure.
#   bash bench/threads.sh [--quick]
# Runs, alternating 1- and 2-thread runs back to back (twice each, so a busy machine shows as spread):
#   memory   build/bench_bandwidth: read bandwidth of 1 thread and of 2 over 512 MB, the ceiling G2's scaling meets
#   native   build/bench_threads (pool round trip, split kernels) and build/bench_models C1 C2 C3 training and
#            generation plus G2 (GPT-2-small's shape, random weights, batch-1 generation), --threads 1 | 2 | 3 | 4
#   PyTorch  bench/peer_pytorch.py on OpenBLAS, torch.set_num_threads 1 | 2 (OPENBLAS_NUM_THREADS to match)
#   Node     build-wasm/wasm/threads/bench_threads_wasm.cjs (the same rows as bench_threads, on the threaded
#            engine's pool), and bench/wasm/node.mjs tinylm: the threaded engine on 1 and 2 threads, the
#            single-thread engine beside the 1-thread rows
#   Chromium bench/wasm/browser.mjs tinylm --threads 1 | 2: the package's threaded engine (dist/, npm run build:lib)
#            in headless Chromium on a cross-origin isolated page, on 1 and 2 threads
# Prints the JSON lines and writes them to build/bench/threads.jsonl; bench/report.py-style ratios are left to the
# reader (each row carries "source", "name", "threads"). On a 2-core machine 3 and 4 threads are oversubscribed:
# they show the pool's overhead, not speed. Figures taken while other work runs are "loaded machine" figures.
set -euo pipefail
cd "$(dirname "$0")/.."
quick=${1:-}
steps=30; tokens=3000; g2=48; peer_steps=15
if [[ "$quick" == "--quick" ]]; then steps=5; tokens=500; g2=8; peer_steps=3; fi
mkdir -p build/bench
out=build/bench/threads.jsonl
: > "$out"
source bench/openblas_env.sh  # as bench/native.sh: OpenBLAS, the CPU's best kernels
tag() { sed "s/^{/{\"source\":\"$1\",\"round\":$2,/" | tee -a "$out"; }

cmake --build build --target bench_threads bench_models bench_bandwidth -j2 >/dev/null  # not in the default build
echo "== memory: read bandwidth, 1 and 2 threads ==" >&2
./build/bench_bandwidth --threads 2 --json | tag tinylm-bandwidth 0
echo "== native: pool and kernels ==" >&2
./build/bench_threads --threads 2 --json | tag tinylm-kernels 0
echo "== Node (wasm threads): pool and kernels ==" >&2
NODE_PATH=/usr/share/nodejs cmake --build build-wasm --target bench_threads_wasm >/dev/null
node --no-experimental-fetch build-wasm/wasm/threads/bench_threads_wasm.cjs --threads 2 --json | tag tinylm-node-kernels 0
for round in 1 2; do
  for threads in 1 2; do
    echo "== native models, $threads thread(s), round $round ==" >&2
    ./build/bench_models --configs C1,C2,C3,G2 --threads "$threads" --train-steps "$steps" --generate-tokens "$tokens" \
      --g2-tokens "$g2" | tag tinylm "$round"
    echo "== PyTorch, $threads thread(s), round $round ==" >&2
    for config in C1 C2 C3; do
      OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads /usr/bin/python3 bench/peer_pytorch.py --config "$config" \
        --threads "$threads" --train-steps "$peer_steps" --generate-tokens 500 | tag pytorch "$round"
    done
    echo "== Node (wasm), $threads thread(s), round $round ==" >&2
    # The threaded engine on 1 thread too: a ratio of one build; the single-thread engine beside it.
    node bench/wasm/node.mjs tinylm --threads "$threads" ${quick:+--quick} | tag tinylm-node "$round"
    if [[ "$threads" == 1 ]]; then
      node bench/wasm/node.mjs tinylm ${quick:+--quick} | tag tinylm-node-single "$round"
    fi
    echo "== Chromium (wasm), $threads thread(s), round $round ==" >&2
    node bench/wasm/browser.mjs tinylm --threads "$threads" ${quick:+--quick} | tag tinylm-chromium "$round"
  done
done
for threads in 3 4; do
  echo "== native models, $threads threads (oversubscribed on 2 cores) ==" >&2
  ./build/bench_models --configs C1,C3 --threads "$threads" --train-steps "$steps" --generate-tokens "$tokens" \
    | tag tinylm 1
done
