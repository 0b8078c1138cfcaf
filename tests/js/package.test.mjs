// The npm package as users get it: `npm pack` holds the built JS, its declarations and the wasm engine (and nothing
// of the sources or tests); the tarball installs into an empty project with no registry access (the package has
// no runtime dependencies), imports as an ES module in Node, runs the engine there, and type-checks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, temporaryDirectory } from './helpers.mjs';

const quietNpm = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } };

test('npm pack → install offline into an empty project → import and use tinylm', async (t) => {
  const directory = temporaryDirectory(t, 'tinylm-package-');
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', directory], { ...quietNpm, cwd: root }).toString());
  const files = packed.files.map((file) => file.path).sort();
  t.diagnostic(`${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`);
  for (const required of ['dist/index.js', 'dist/index.d.ts', 'dist/worker.js', 'dist/protocol.d.ts',
    'dist/wasm/tinylm_wasm.js', 'dist/wasm/tinylm_wasm.wasm', 'package.json']) {
    assert.ok(files.includes(required), `the package lacks ${required}`);
  }
  const unexpected = files.filter((file) => !file.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/i.test(file));
  assert.deepEqual(unexpected, [], 'only the built package is shipped');
  assert.deepEqual(packed.bundled ?? [], []);

  const project = join(directory, 'consumer');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', join(directory, packed.filename)], { ...quietNpm, cwd: project });

  writeFileSync(join(project, 'use.mjs'), `
    import { TinyLM, TinyLMError } from 'tinylm';
    const text = 'It is a way I have of driving off the spleen and regulating the circulation. '.repeat(30);
    const lm = await TinyLM.create({ arch: 'gru', layers: 1, hidden: 24, embed: 8 }, text);
    const report = await lm.fineTune(text, { steps: 5, batchSize: 4, seqLen: 16 });
    let sample = '';
    for await (const piece of lm.generate('It is', { maxTokens: 12, seed: 1 })) sample += piece;
    const copy = await TinyLM.load(await lm.export());
    const same = (await copy.evaluate(text)).loss === (await lm.evaluate(text)).loss;
    const error = await lm.fineTune('').catch((caught) => caught);
    await Promise.all([lm.dispose(), copy.dispose()]);
    console.log(JSON.stringify({ steps: report.steps, sampleLength: [...sample].length, same,
      typed: error instanceof TinyLMError && error.code === 'EMPTY_TEXT' }));
  `);
  const output = JSON.parse(execFileSync(process.execPath, ['use.mjs'], { cwd: project, timeout: 60_000 }).toString());
  assert.deepEqual(output, { steps: 5, sampleLength: 12, same: true, typed: true });

  // The declarations resolve from the installed package and type the API.
  writeFileSync(join(project, 'check.ts'), `
    import { TinyLM, type FineTuneReport, type ErrorCode } from 'tinylm';
    export async function run(): Promise<number> {
      const lm: TinyLM = await TinyLM.load(new Uint8Array(8));
      const report: FineTuneReport = await lm.fineTune('text', { steps: 1, onProgress: (p) => p.etaSeconds });
      const code: ErrorCode = 'MODEL_TOO_LARGE';
      return report.loss + code.length;
    }
  `);
  execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['--noEmit', '--strict', '--module', 'esnext',
    '--moduleResolution', 'bundler', '--target', 'es2022', '--lib', 'es2022,dom', 'check.ts'],
  { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
});
