// The relaxed SIMD engines in Node (web/lib/relaxed_simd.ts). Node 20 validates relaxed SIMD only with
// --experimental-wasm-relaxed-simd (Node 22 does by default), so each run is a process of its own
// (relaxed_simd_run.mjs), started with the flag or without it: with it the package chooses each build's relaxed
// .wasm unless configure({ relaxedSimd: false }), and the relaxed engine computes a GPT-2 and a Llama checkpoint's
// loss, next-token probabilities, fine-tuning losses and gradient norms within rounding of the standard engine (not
// bit for bit where the CPU fuses them), and the same, bit for bit, on 1 thread (the single-thread build) and on 2
// (the threaded build). Once the engine has started, capabilities().relaxedSimd is what the engine itself says it
// runs, not what the package asked for: a copy of dist/ whose two .wasm of each build are swapped shows the two apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root, temporaryDirectory, TinyLM } from './helpers.mjs';

// Whether this Node validates relaxed SIMD without the flag (Node 22 and later do, Node 20 does not).
const { relaxedSimdSupported } = await import(join(root, 'dist/relaxed_simd.js'));

const relaxedFlag = '--experimental-wasm-relaxed-simd';
// flag: run where relaxed SIMD validates, with the flag if this Node needs it (Node 22 no longer takes it).
function run(settings, { flag }) {
  const flags = flag && !relaxedSimdSupported() ? [relaxedFlag] : [];
  const output = execFileSync(process.execPath, [...flags, join(root, 'tests/js/relaxed_simd_run.mjs'),
    JSON.stringify(settings)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return JSON.parse(output);
}

// Where the CPU fuses relaxed_madd, each product rounds once instead of twice: a difference of the order of float's
// epsilon (6e-8) per multiply-add, which sums over a dot product's terms. Measured on an x86 machine with FMA3:
// at most 2e-6 relative on any figure here. The bounds leave room for deeper sums, and stay far below what a
// wrong product (a swapped operand, a missing term) would give.
const tolerance = { loss: 1e-5, probability: 1e-4, gradNorm: 1e-4 };
const relative = (a, b) => Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);

function assertWithinRounding(relaxed, standard, name) {
  assert.ok(relative(relaxed.loss, standard.loss) <= tolerance.loss, `${name} loss: ${relaxed.loss} vs ${standard.loss}`);
  assert.deepEqual(relaxed.steps.map((step) => step.token), standard.steps.map((step) => step.token), `${name}: sampled tokens`);
  relaxed.steps.forEach((step, i) => {
    const expected = standard.steps[i].alternatives;
    assert.deepEqual(step.alternatives.map((a) => a.token), expected.map((a) => a.token), `${name} step ${i}: alternatives`);
    step.alternatives.forEach((alternative, j) => assert.ok(relative(alternative.probability, expected[j].probability) <= tolerance.probability,
      `${name} step ${i}, alternative ${j}: ${alternative.probability} vs ${expected[j].probability}`));
  });
  assert.equal(relaxed.training.length, standard.training.length);
  relaxed.training.forEach(({ loss, gradNorm }, i) => {
    assert.ok(relative(loss, standard.training[i].loss) <= tolerance.loss, `${name} fine-tune step ${i} loss`);
    assert.ok(relative(gradNorm, standard.training[i].gradNorm) <= tolerance.gradNorm, `${name} fine-tune step ${i} gradient norm`);
  });
}

test('capabilities().relaxedSimd follows WebAssembly.validate; configure({ relaxedSimd }) takes only a boolean', async (t) => {
  assert.equal(TinyLM.capabilities().relaxedSimd, relaxedSimdSupported());
  if (Number(process.versions.node.split('.')[0]) === 20) assert.equal(relaxedSimdSupported(), false, `Node 20 without ${relaxedFlag}`);
  for (const bad of ['no', 0, null]) {
    assert.throws(() => TinyLM.configure({ relaxedSimd: bad }), (error) =>
      error.code === 'INVALID_ARGUMENT' && /option relaxedSimd must be true or false/.test(error.message), String(bad));
  }
  TinyLM.configure({ relaxedSimd: false });
  t.after(() => TinyLM.configure({ relaxedSimd: undefined }));
  assert.equal(TinyLM.capabilities().relaxedSimd, false);
  assert.throws(() => TinyLM.configure({ relaxedSIMD: false }), /did you mean 'relaxedSimd'/);
});

test(`where relaxed SIMD validates (Node 20: ${relaxedFlag}): the relaxed engines, within rounding of the standard one and the same on 1 and 2 threads`, () => {
  const standard = run({ threads: 1, relaxedSimd: false }, { flag: false });
  const unflagged = run({ threads: 1 }, { flag: false });
  const optedOut = run({ threads: 1, relaxedSimd: false }, { flag: true });
  const relaxed = run({ threads: 1 }, { flag: true });
  const relaxedThreaded = run({ threads: 2 }, { flag: true });
  assert.equal(standard.capabilities.relaxedSimd, false);
  assert.equal(unflagged.capabilities.relaxedSimd, relaxedSimdSupported());
  // The engines that ran say which they were, as the package chose them here.
  assert.deepEqual([standard, unflagged, optedOut, relaxed, relaxedThreaded].map((run) => run.running.relaxedSimd),
    [false, relaxedSimdSupported(), false, true, true]);
  assert.deepStrictEqual(unflagged.models, relaxedSimdSupported() ? relaxed.models : standard.models, 'without the flag: the .wasm chosen');
  assert.deepEqual([optedOut.capabilities.relaxedSimd, optedOut.capabilities.build], [false, 'single']);
  assert.deepEqual([relaxed.capabilities.relaxedSimd, relaxed.capabilities.build], [true, 'single']);
  assert.deepEqual([relaxedThreaded.capabilities.relaxedSimd, relaxedThreaded.capabilities.build], [true, 'threads']);

  assert.deepStrictEqual(optedOut.models, standard.models, 'relaxedSimd: false runs the standard .wasm');
  assert.deepStrictEqual(relaxedThreaded.models, relaxed.models, 'relaxed SIMD: the same results on 2 threads as on 1');
  for (const name of ['gpt2', 'smollm2']) assertWithinRounding(relaxed.models[name], standard.models[name], name);
  // Where the CPU has FMA, V8 fuses relaxed_madd, so some figure differs from the standard engine's: the relaxed
  // .wasm is the one that ran.
  if (cpuHasFma()) assert.notDeepStrictEqual(relaxed.models, standard.models, 'the relaxed .wasm ran, fused');
});

// A copy of dist/ in which each build's standard .wasm is its relaxed one and the other way round: the package asks
// for one and the engine runs the other. (package.json: dist/'s .js files are ES modules, as the repository's says.)
function swappedDist(t) {
  const folder = temporaryDirectory(t, 'tinylm-swapped-wasm-');
  cpSync(join(root, 'dist'), folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), '{ "type": "module" }\n');
  for (const engine of ['tinylm_wasm', 'tinylm_wasm_threads']) {
    const [standard, relaxed] = [`${engine}.wasm`, `${engine}_relaxed.wasm`].map((name) => join(folder, 'wasm', name));
    const [standardBytes, relaxedBytes] = [readFileSync(standard), readFileSync(relaxed)];
    writeFileSync(standard, relaxedBytes);
    writeFileSync(relaxed, standardBytes);
  }
  return pathToFileURL(`${folder}/`).href;
}

test(`capabilities().relaxedSimd: the package's choice until the engine starts, then what the engine says it runs (${relaxedFlag})`, (t) => {
  const assetBase = swappedDist(t);
  for (const threads of [1, 2]) {
    const asksRelaxed = run({ threads, assetBase, models: [] }, { flag: true });
    assert.deepEqual([asksRelaxed.capabilities.relaxedSimd, asksRelaxed.running.relaxedSimd], [true, false],
      `${threads} thread(s): the relaxed .wasm asked for, the standard engine runs`);
    const asksStandard = run({ threads, assetBase, relaxedSimd: false, models: [] }, { flag: true });
    assert.deepEqual([asksStandard.capabilities.relaxedSimd, asksStandard.running.relaxedSimd], [false, true],
      `${threads} thread(s): the standard .wasm asked for, the relaxed engine runs`);
    assert.equal(asksStandard.running.build, threads === 1 ? 'single' : 'threads');
  }
});

function cpuHasFma() {
  return existsSync('/proc/cpuinfo') && /^flags\s*:.*\bfma\b/m.test(readFileSync('/proc/cpuinfo', 'utf8'));
}
