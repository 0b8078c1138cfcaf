// A page with a strict Content-Security-Policy (script-src without 'unsafe-eval') forbids eval and new Function.
// The engine's glue is built with -sDYNAMIC_EXECUTION=0 (wasm/wasm.cmake): Node's
// --disallow-code-generation-from-strings applies the same rule, to the worker thread as well, and the package
// must load a model, generate, fine-tune and evaluate under it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, distIndex, temporaryDirectory } from './helpers.mjs';

test('the glue builds no code from strings', () => {
  const glue = readFileSync(join(root, 'dist', 'wasm', 'tinylm_wasm.js'), 'utf8');
  assert.ok(!/new Function\s*\(/.test(glue), 'the glue calls new Function');
  assert.ok(!/[^.\w]eval\s*\(/.test(glue), 'the glue calls eval');
});

test('the engine runs with code generation from strings disallowed', (t) => {
  const script = `
    const { TinyLM } = await import(${JSON.stringify(distIndex)});
    let text = '';
    const lm = await TinyLM.load();
    for await (const piece of lm.generate('Call me', { maxTokens: 10, seed: 1 })) text += piece;
    await lm.fineTune('Call me Ishmael. '.repeat(40), { steps: 1, batchSize: 2, seqLen: 16, validationSplit: 0 });
    const { loss } = await lm.evaluate('Call me Ishmael. Some years ago.');
    await TinyLM.shutdown();
    console.log(JSON.stringify({ text, loss }));`;
  // A file, not -e: the worker inherits the process's flags, and --input-type would stop it.
  const path = join(temporaryDirectory(t), 'strict.mjs');
  writeFileSync(path, script);
  const output = execFileSync(process.execPath, ['--disallow-code-generation-from-strings', path],
    { encoding: 'utf8', timeout: 120_000 });
  const { text, loss } = JSON.parse(output.trim().split('\n').at(-1));
  assert.ok(text.length > 0);
  assert.ok(Number.isFinite(loss));
});
