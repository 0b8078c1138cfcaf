#!/usr/bin/env bash
# npm run bench:wasm — the tinylm wasm engine (dist/) in Node and in headless Chromium next to TensorFlow.js
# (wasm backend with SIMD, one thread; and its cpu backend) on configurations C1/C2/C3 of DESIGN.md, and C3
# generation next to onnxruntime-web (wasm, one thread) on the shipped char-GPT's weights, in the same run,
# reported as ratios; plus the WASM SIMD peak and SGEMM GFLOP/s (bench_kernels_wasm), and the bytes the package
# ships (gzip -9). Benchmarks, not tests: nothing here passes or fails on a timing.
#   bash bench/wasm/run.sh           everything (~25 minutes on 2 shared cores; TF.js cpu, minutes a step, is half)
#   bash bench/wasm/run.sh --quick   one short window per figure, to check the plumbing
# Expects dist/ built (npm run build:wasm && npm run build:lib). Results: a table, and JSON lines in
# build-wasm/bench/wasm.jsonl. Figures are the best of several windows; the machine's load is printed with them.
set -euo pipefail
cd "$(dirname "$0")/../.."
quick=()
[[ "${1:-}" == "--quick" ]] && quick=(--quick)
mkdir -p build-wasm/bench
out=build-wasm/bench/wasm.jsonl
: > "$out"
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

echo "== kernels: wasm ==" >&2
NODE_PATH=/usr/share/nodejs cmake --build build-wasm --target bench_kernels_wasm >/dev/null
node --no-experimental-fetch build-wasm/wasm/bench_kernels_wasm.cjs --json | sed 's/^{/{"source":"tinylm-wasm",/' >> "$out"

echo "== bytes shipped ==" >&2
gzip_size() { cat "$@" | gzip -9 | wc -c; }
size_row() {  # name, raw bytes, gzip -9 bytes
  printf '{"source":"tinylm","name":"%s","bytes":%d,"gzip_bytes":%d}\n' "$1" "$2" "$3" >> "$out"
}
wasm=dist/wasm/tinylm_wasm.wasm glue=dist/wasm/tinylm_wasm.js
size_row wasm "$(wc -c < $wasm)" "$(gzip_size $wasm)"
deferred=dist/wasm/tinylm_wasm.deferred.wasm  # training's code, fetched when first needed (web/lib/deferred_engine.ts)
size_row "wasm deferred (training, LoRA, Hugging Face)" "$(wc -c < $deferred)" "$(gzip_size $deferred)"
size_row "js glue" "$(wc -c < $glue)" "$(gzip_size $glue)"
size_row "package js (dist/*.js)" "$(cat dist/*.js | wc -c)" "$(gzip_size dist/*.js)"
size_row "total (gzipped apart)" "$(cat $wasm $glue dist/*.js | wc -c)" \
  "$(($(gzip_size $wasm) + $(gzip_size $glue) + $(gzip_size dist/*.js)))"

node_side() {  # TF.js warns about its orthogonal initializer's speed on every LSTM/GRU layer: not our news
  echo "== models: $1 in Node ==" >&2
  node bench/wasm/node.mjs "$1" "${quick[@]}" >> "$out" 2> >(grep -v "Orthogonal initializer" >&2)
}
echo "== C3 weights → ONNX ==" >&2
/usr/bin/python3 bench/wasm/export_gpt_onnx.py models/moby-char-gpt.safetensors build-wasm/bench/c3.onnx >&2
node_side tinylm
node_side tfjs-wasm
node_side ort-wasm
echo "== models: tinylm, tfjs-wasm and ort-wasm in Chromium ==" >&2
node bench/wasm/browser.mjs tinylm tfjs-wasm ort-wasm "${quick[@]}" >> "$out"
node_side tfjs-cpu  # last: minutes per training step
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2

python3 bench/report.py "$out" --bar _train:tfjs-wasm@node:8 --bar _generate:tfjs-wasm@node:5 \
  --bar _train:tfjs-wasm@chromium:8 --bar _generate:tfjs-wasm@chromium:5 \
  --bar C3_generate:ort-wasm@node:10 --bar C3_generate:ort-wasm@chromium:10
