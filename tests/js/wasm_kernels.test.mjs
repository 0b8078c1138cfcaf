// The kernels the engines ship, checked as the native suite checks its own: tests/native's kernel tests (every SIMD
// kernel against its scalar reference, at every tile edge and tail) built for WebAssembly with the single-thread
// engine's core (build-wasm/wasm/tinylm_kernel_tests_wasm.cjs, `npm run build:wasm`) and run here under Node. The
// wasm kernels take xsimd's 4-float path, which a native build on an AVX2 or AVX-512 host never compiles. Built a
// second time with the relaxed engines' core (tinylm_kernel_tests_wasm_relaxed.cjs), whose multiply-adds may fuse.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const runners = {
  standard: fileURLToPath(new URL('../../build-wasm/wasm/tinylm_kernel_tests_wasm.cjs', import.meta.url)),
  relaxed: fileURLToPath(new URL('../../build-wasm/wasm/tinylm_kernel_tests_wasm_relaxed.cjs', import.meta.url)),
};
// The relaxed engines' kernels (relaxed SIMD's fused multiply-add) run where Node validates relaxed SIMD: Node 22 by
// default, Node 20 with --experimental-wasm-relaxed-simd (which Node 22 no longer takes), Node 18 never.
const { relaxedSimdSupported } = await import(new URL('../../dist/relaxed_simd.js', import.meta.url).href);
const nodeMajor = Number(process.versions.node.split('.')[0]);
const flags = {
  standard: [],
  relaxed: relaxedSimdSupported() ? [] : ['--experimental-wasm-relaxed-simd'],
};
const skips = { standard: false, relaxed: !relaxedSimdSupported() && nodeMajor < 20 && `Node ${nodeMajor} cannot run relaxed SIMD` };

for (const kind of ['standard', 'relaxed']) {
  test(`the ${kind} wasm kernels equal their scalar references (doctest, built for wasm)`, { skip: skips[kind] }, () => {
    // --no-experimental-fetch: Emscripten 3.1.6's glue fetches its .wasm when fetch exists, which cannot read a path.
    const run = spawnSync(process.execPath, [...flags[kind], '--no-experimental-fetch', runners[kind], '--no-colors'],
      { encoding: 'utf8', maxBuffer: 1 << 26 });
    const output = `${run.stdout}${run.stderr}`;
    const summary = output.match(/test cases:\s*(\d+)\s*\|\s*(\d+) passed\s*\|\s*(\d+) failed/);
    assert.ok(summary, `no doctest summary in the runner's output:\n${output.slice(-4000)}`);
    const [, cases, passed, failed] = summary.map(Number);
    assert.equal(failed, 0, output.slice(-8000));
    assert.ok(cases >= 20 && passed === cases, `${passed} of ${cases} cases passed`);
    assert.equal(run.status, 0, output.slice(-4000));
  });
}
