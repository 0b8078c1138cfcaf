#!/usr/bin/env bash
# The single-thread engine with relaxed SIMD's fused multiply-add against the standard one, alternated (issue 15,
# item 7).
#
#   bash bench/wasm/relaxed.sh [--rounds N] [--repeats N] [--runtimes node,chromium]   (defaults: 3, 4, both)
#
# WASM SIMD has no fused multiply-add; relaxed SIMD's f32x4.relaxed_madd lets the engine fuse (one instruction
# where x86 has FMA3 and ARM has FMLA). `npm run build:wasm` builds both engines (wasm/wasm.cmake): the relaxed
# .wasm runs with the standard glue, so each folder here is that glue and one of the two .wasm under the standard
# name. bench/wasm/relaxed_ab.mjs times them back to back, alternated, in Node (with
# --experimental-wasm-relaxed-simd: Node 20's V8 validates relaxed SIMD only behind it) and in headless Chromium
# (on by default), and prints the B/A (relaxed/standard) ratio of each figure per round, with median and range.
# Rows: build-wasm-relaxed/ab.jsonl. Benchmarks, not tests: nothing here passes or fails on a timing.
#
# Measured when the relaxed engines shipped (x86 with FMA3, 2 cores shared, load 1.2–3.5; 8 rounds, --repeats 3),
# relaxed/standard medians: Chromium training C1 1.20, C2 1.17, C3 1.15, generation 0.96–1.05; Node (with the flag)
# training C1 1.20, C2 1.16, C3 1.15 (4 rounds), generation 0.96–1.06.
set -euo pipefail
cd "$(dirname "$0")/../.."
engines=build-wasm/wasm
[[ -f $engines/tinylm_wasm_relaxed.wasm ]] || { echo "build the engines first: npm run build:wasm" >&2; exit 1; }
out=build-wasm-relaxed
mkdir -p "$out/base" "$out/relaxed"
# Each folder: the glue, its engine's primary module as tinylm_wasm.wasm, and both deferred modules (the engine
# reads the one matching it: web/lib/deferred_engine.ts).
for folder in base relaxed; do cp "$engines/tinylm_wasm.js" "$engines"/tinylm_wasm*.deferred.wasm "$out/$folder/"; done
cp "$engines/tinylm_wasm.wasm" "$out/base/"
cp "$engines/tinylm_wasm_relaxed.wasm" "$out/relaxed/tinylm_wasm.wasm"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
node bench/wasm/relaxed_ab.mjs "$out/base" "$out/relaxed" --node-flag --experimental-wasm-relaxed-simd "$@" > "$out/ab.jsonl"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
