// The wasm engine computes what the native engine computes: a model trained by the native CLI, scored on the same
// text, gives the same loss through the package's evaluate() as through `tinylm eval` (≤ 1e-5 relative), and greedy
// generation produces the same text. Native runs AVX/SSE kernels, wasm SIMD128: only summation order may differ.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TinyLM, collect, corpus, heldOut, nativeCli, temporaryDirectory } from './helpers.mjs';

function relativeDifference(a, b) {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), 1e-30);
}

for (const arch of ['lstm', 'gru', 'rnn_tanh']) {
  test(`${arch}: wasm evaluate() and seeded generation match the native CLI`, async (t) => {
    assert.ok(existsSync(nativeCli), `${nativeCli} is missing: run npm run build:native`);
    const directory = temporaryDirectory(t);
    const trainText = join(directory, 'train.txt');
    const evalText = join(directory, 'eval.txt');
    const modelFile = join(directory, `${arch}.safetensors`);
    writeFileSync(trainText, corpus);
    writeFileSync(evalText, heldOut);
    execFileSync(nativeCli, ['train', '--data', trainText, '--arch', arch, '--layers', '2', '--hidden', '40',
      '--embed', '16', '--steps', '60', '--batch', '8', '--seq', '32', '--lr', '0.01', '--eval-every', '10', '--out', modelFile,
      '--quiet'], { stdio: ['ignore', 'ignore', 'pipe'] });
    const native = JSON.parse(execFileSync(nativeCli, ['eval', '--model', modelFile, '--data', evalText]).toString());

    const lm = await TinyLM.load(readFileSync(modelFile));
    t.after(() => lm.dispose());
    const wasm = await lm.evaluate(heldOut);
    t.diagnostic(`native loss ${native.loss}, wasm loss ${wasm.loss}`);
    assert.equal(wasm.tokens, native.tokens);
    assert.ok(relativeDifference(wasm.loss, native.loss) <= 1e-5, `loss: wasm ${wasm.loss} vs native ${native.loss}`);
    assert.ok(relativeDifference(wasm.perplexity, native.perplexity) <= 1e-5);
    assert.ok(Math.abs(wasm.accuracy - native.accuracy) <= 1 / native.tokens, 'accuracy differs by more than one token');

    const prompt = 'Call me';
    const nativeText = execFileSync(nativeCli, ['generate', '--model', modelFile, '--prompt', prompt,
      '--max-tokens', '80', '--temperature', '0.8', '--seed', '5']).toString();
    const wasmText = await collect(lm.generate(prompt, { maxTokens: 80, temperature: 0.8, seed: 5 }));
    t.diagnostic(`sampled: ${JSON.stringify(wasmText)}`);
    assert.equal(prompt + wasmText + '\n', nativeText);
  });
}
