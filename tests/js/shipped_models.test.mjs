// Every shipped model (models/index.json) loads in the wasm build and computes what the native engine computes:
// the loss on 20 000 characters of the held-out tail through the package's evaluate() equals `tinylm eval`'s
// (≤ 1e-5 relative: both score from float weights — an int8 file is dequantised on load — and only the summation
// order differs, AVX vs SIMD128), and greedy generation (temperature 0) from a fixed prompt gives the same text.
//
// Generation precision: step() reads a compact weight copy chosen per machine. The wasm build reads float
// weights, or int8 ones for an int8 file (the stored numbers themselves); natively a float/F16 file would
// generate from half precision on an F16C CPU. So the native side is pinned with --step-precision to what wasm
// uses; then logits differ by summation order only (~1e-6 relative), far below the gap between the top two
// logits over 80 greedy characters, and the texts must be identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TinyLM, collect, nativeCli, root, temporaryDirectory } from './helpers.mjs';

const index = JSON.parse(readFileSync(join(root, 'models', 'index.json'), 'utf8'));
const mobyDick = readFileSync(join(root, 'node_modules', '@stdlib', 'datasets-moby-dick', 'data', 'data.txt'), 'utf8');
const heldOutSlice = mobyDick.slice(-20000);  // inside the last 10% (≈119 000 characters)
const prompt = 'Call me Ishmael. ';
const greedyLength = 80;

// The dtype a safetensors file stores `name` in (header: 8-byte little-endian length, then JSON).
function storedDtype(bytes, name) {
  const headerLength = Number(Buffer.from(bytes).readBigUInt64LE(0));
  const header = JSON.parse(Buffer.from(bytes).subarray(8, 8 + headerLength).toString('utf8'));
  return header[name]?.dtype;
}

test('models/index.json lists each shipped file once, with one default', () => {
  assert.ok(index.length >= 1);
  assert.equal(index.filter((entry) => entry.default === true).length, 1);
  for (const entry of index) {
    for (const field of ['name', 'file', 'arch', 'tokenizer', 'description', 'card', 'val_loss']) {
      assert.ok(field in entry, `${entry.name}: index entry lacks '${field}'`);
    }
    assert.ok(existsSync(join(root, 'models', entry.file)), `${entry.file} is missing`);
    assert.ok(existsSync(join(root, 'models', entry.card)), `${entry.card} is missing`);
  }
});

for (const entry of index) {
  test(`${entry.name}: loads in wasm; evaluate() and greedy text match the native CLI`, async (t) => {
    assert.ok(existsSync(nativeCli), `${nativeCli} is missing: run npm run build:native`);
    const file = join(root, 'models', entry.file);
    const bytes = readFileSync(file);
    const int8Recurrent = entry.arch !== 'gpt' && storedDtype(bytes, 'head.weight') === 'I8';
    const precision = ['--step-precision', int8Recurrent ? 'int8' : 'float'];
    const lm = await TinyLM.load(bytes);  // transfers (detaches) the bytes
    t.after(() => lm.dispose());

    const directory = temporaryDirectory(t);
    const evalText = join(directory, 'held_out.txt');
    writeFileSync(evalText, heldOutSlice);
    const native = JSON.parse(execFileSync(nativeCli, ['eval', '--model', file, '--data', evalText]).toString());
    const wasm = await lm.evaluate(heldOutSlice);
    t.diagnostic(`native loss ${native.loss}, wasm loss ${wasm.loss}`);
    assert.equal(wasm.tokens, native.tokens);
    assert.ok(Math.abs(wasm.loss - native.loss) / native.loss <= 1e-5, `loss: wasm ${wasm.loss} vs native ${native.loss}`);

    const nativeText = execFileSync(nativeCli, ['generate', '--model', file, '--prompt', prompt,
      '--max-tokens', String(greedyLength), '--temperature', '0', ...precision]).toString();
    const wasmText = await collect(lm.generate(prompt, { maxTokens: greedyLength, temperature: 0 }));
    t.diagnostic(`greedy: ${JSON.stringify(wasmText)}`);
    assert.equal(prompt + wasmText + '\n', nativeText);
  });
}
