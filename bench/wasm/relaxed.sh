#!/usr/bin/env bash
# Relaxed SIMD FMA in the single-thread wasm engine, measured against today's build (issue 15, item 7).
#
#   bash bench/wasm/relaxed.sh [--rounds N] [--repeats N] [--runtimes node,chromium]   (defaults: 4, 4, both)
#
# WASM SIMD has no fused multiply-add; relaxed SIMD's f32x4.relaxed_madd lets the engine fuse (one instruction
# where x86 has FMA3 and ARM has FMLA). Emscripten 3.1.6's clang 14 emits only the proposal's 2021 prototype
# encoding, so the relaxed engine is made in three steps, none of which touches the shipped build:
#   1. the tracked sources are copied to build-wasm-relaxed/src and bench/wasm/relaxed.patch applied: the kernels'
#      xsimd::fma calls go through simd::multiply_add, which under -mrelaxed-simd is the builtin (simd.hpp);
#   2. that copy is built with -mrelaxed-simd (target tinylm_wasm only; a full core build, ~10 minutes on 2 cores);
#   3. bench/wasm/relaxed_madd.mjs re-encodes each prototype fma as the standard relaxed_madd.
# Today's engine is build-wasm/wasm/tinylm_wasm.{js,wasm} (npm run build:wasm). Then bench/wasm/relaxed_ab.mjs
# times the two back to back, alternated, in Node (with --experimental-wasm-relaxed-simd: Node 20's V8 validates
# relaxed SIMD only behind it) and in headless Chromium (on by default), and prints the B/A (relaxed/today)
# ratio of each figure per round, with median and range. Rows: build-wasm-relaxed/ab.jsonl.
# Benchmarks, not tests: nothing here passes or fails on a timing.
set -euo pipefail
cd "$(dirname "$0")/../.."
[[ -f build-wasm/wasm/tinylm_wasm.wasm ]] || { echo "build today's engine first: npm run build:wasm" >&2; exit 1; }
out=build-wasm-relaxed
rm -rf "$out/src"
mkdir -p "$out/src" "$out/base" "$out/relaxed"
git ls-files -z | tar --null -T - -cf - | tar -xf - -C "$out/src"
(cd "$out/src" && patch -p1 --quiet < ../../bench/wasm/relaxed.patch)

export NODE_PATH=/usr/share/nodejs
emcmake cmake -S "$out/src" -B "$out/build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS=-mrelaxed-simd >/dev/null
cmake --build "$out/build" -j2 --target tinylm_wasm >/dev/null
node bench/wasm/relaxed_madd.mjs "$out/build/wasm/tinylm_wasm.wasm" "$out/relaxed/tinylm_wasm.wasm"
cp "$out/build/wasm/tinylm_wasm.js" "$out/relaxed/"
cp build-wasm/wasm/tinylm_wasm.js build-wasm/wasm/tinylm_wasm.wasm "$out/base/"

echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
node bench/wasm/relaxed_ab.mjs "$out/base" "$out/relaxed" --node-flag --experimental-wasm-relaxed-simd "$@" > "$out/ab.jsonl"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
