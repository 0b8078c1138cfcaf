// Each engine in two modules (wasm/split_engine.mjs, web/lib/deferred_engine.ts): the primary module alone loads
// and runs a tinylm model file — everything the package does to run one — and the deferred module is read the first
// time the engine needs it, by whichever call and on whichever thread, with nothing to set up. Run from copies of
// dist/ (package.json: its .js files are ES modules, as the repository's say), in a process of their own each, on
// the single-thread engine and on the threaded one (2 threads: its pthread reads the module for itself).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';

import { root, temporaryDirectory } from './helpers.mjs';

const deferredFiles = ['tinylm_wasm', 'tinylm_wasm_relaxed', 'tinylm_wasm_threads', 'tinylm_wasm_threads_relaxed'].map((engine) => `${engine}.deferred.wasm`);

function distCopy(t, { withDeferred }) {
  const folder = temporaryDirectory(t, 'tinylm-split-');
  cpSync(join(root, 'dist'), folder, { recursive: true });
  writeFileSync(join(folder, 'package.json'), '{ "type": "module" }\n');
  if (!withDeferred) for (const file of deferredFiles) rmSync(join(folder, 'wasm', file));
  return folder;
}

// What a page that only runs models does, then a fine-tune; one JSON line of what each gave.
const scenario = `
import { readFileSync } from 'node:fs';
import { TinyLM } from './node.js';
TinyLM.configure({ threads: Number(process.argv[3]) });
const read = (name) => new Uint8Array(readFileSync(process.argv[2] + '/' + name));
const collect = async (pieces) => { let text = ''; for await (const piece of pieces) text += piece; return text; };
const result = { build: undefined, runs: {}, fineTune: undefined, after: undefined };
const lstm = await TinyLM.load(read('moby-char-lstm.safetensors'));
const gpt = await TinyLM.load(read('moby-bpe-gpt.safetensors'), { weights: 'f32' });
result.build = TinyLM.capabilities().build;
const sampled = { maxTokens: 24, temperature: 0.8, seed: 3, stop: ['whale'] };
for (const [name, lm] of Object.entries({ lstm, gpt })) {
  const sample = await collect(lm.generate('Call me Ishmael. ', sampled));
  const greedy = await collect(lm.generate('The sea', { maxTokens: 12, temperature: 0 }));
  const { loss } = await lm.evaluate('It was a dark and stormy night on the Pequod, and the crew slept.');
  const session = lm.session();
  const turns = [await collect(session.generate('Good morning, captain.', { maxTokens: 16, seed: 5 })),
    await collect(session.generate(' And to you.', { maxTokens: 16, seed: 6 }))];
  await session.dispose();
  result.runs[name] = { sample, greedy, loss, turns, arch: lm.info.arch };
}
try {
  const report = await lstm.fineTune('Call me Ishmael. Some years ago, never mind how long precisely. '.repeat(40),
    { steps: 2, batchSize: 2, seqLen: 32, learningRate: 1e-3, seed: 1, validationSplit: 0 });
  result.fineTune = { ok: report.steps };
} catch (error) {
  result.fineTune = { code: error.code, message: error.message };
}
result.after = await collect(lstm.generate('Call me Ishmael. ', sampled));
await TinyLM.shutdown();
console.log(JSON.stringify(result));
`;

// Written into the copy and run as a file there (a worker_threads Worker inherits its process's flags, and an
// inline script's would not do for it).
function run(folder, threads) {
  writeFileSync(join(folder, 'scenario.mjs'), scenario);
  const output = execFileSync(process.execPath, [join(folder, 'scenario.mjs'), join(root, 'models'), String(threads)],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return JSON.parse(output.trim().split('\n').at(-1));
}

for (const [threads, build] of [[1, 'single'], [2, 'threads']]) {
  test(`the ${build} engine loads, samples, evaluates and chats without its deferred module, and reads it to train`, (t) => {
    const whole = run(distCopy(t, { withDeferred: true }), threads);
    const primaryOnly = run(distCopy(t, { withDeferred: false }), threads);
    assert.equal(whole.build, build);
    assert.equal(primaryOnly.build, build);
    // Running models needs only the primary module, and gives what the whole engine gives, bit for bit.
    assert.deepEqual(primaryOnly.runs, whole.runs);
    for (const result of Object.values(whole.runs)) assert.ok(result.sample.length > 0 && Number.isFinite(result.loss));
    // Training is the deferred module's: with it, the fine-tune runs; without it, the call fails naming the file,
    // and the model it was to train still samples as before.
    assert.deepEqual(whole.fineTune, { ok: 2 });
    assert.equal(primaryOnly.fineTune.code, 'ENGINE_ERROR', JSON.stringify(primaryOnly.fineTune));
    assert.match(primaryOnly.fineTune.message, /deferred module .*tinylm_wasm(_threads)?(_relaxed)?\.deferred\.wasm could not be read/);
    assert.equal(primaryOnly.after, whole.runs.lstm.sample);
    assert.notEqual(whole.after, whole.runs.lstm.sample, 'the fine-tune changed the model');
  });
}

test('each primary module calls into the deferred module it names, which calls back into the primary', () => {
  for (const engine of ['tinylm_wasm', 'tinylm_wasm_threads']) {
    const primary = new WebAssembly.Module(readFileSync(join(root, 'dist', 'wasm', `${engine}.wasm`)));
    const deferred = new WebAssembly.Module(readFileSync(join(root, 'dist', 'wasm', `${engine}.deferred.wasm`)));
    assert.ok(WebAssembly.Module.imports(primary).some((entry) => entry.module === 'placeholder'), engine);
    const [named] = WebAssembly.Module.customSections(primary, 'tinylm.deferred');
    assert.equal(new TextDecoder().decode(named), `${engine}.deferred.wasm`);
    const needs = WebAssembly.Module.imports(deferred);
    assert.ok(needs.length > 0 && needs.every((entry) => entry.module === 'primary'), `${engine}: it imports only from the primary`);
    assert.ok(needs.some((entry) => entry.kind === 'memory') && needs.some((entry) => entry.kind === 'table'), engine);
  }
});
