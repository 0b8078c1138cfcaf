// The npm package as users get it: `npm pack` holds the built JS, its declarations and the wasm engine (and nothing
// of the sources or tests); the tarball installs into an empty project with no registry access, imports as an ES
// module in Node, runs the engine there, and type-checks with nothing but the ES2022 library (no DOM, no
// @types/node). Bundlers and browsers: tests/bundlers/.
//
// Its runtime dependencies are packed from this checkout's node_modules and installed beside it: offline, npm can
// take a dependency from a tarball it is given, but resolving a range from the registry needs the package's
// registry metadata in npm's cache, which `npm ci` (it installs from the lockfile's tarball addresses) never stores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, temporaryDirectory } from './helpers.mjs';

const quietNpm = { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } };

test('npm pack → install offline into an empty project → import and use tinylm-js', async (t) => {
  const directory = temporaryDirectory(t, 'tinylm-package-');
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', directory], { ...quietNpm, cwd: root }).toString());
  const files = packed.files.map((file) => file.path).sort();
  t.diagnostic(`${packed.filename}: ${packed.size} bytes packed, ${packed.unpackedSize} unpacked, ${files.length} files`);
  for (const required of ['dist/browser.js', 'dist/node.js', 'dist/index.d.ts', 'dist/worker_browser.js',
    'dist/worker_node.js', 'dist/protocol.d.ts', 'dist/wasm/tinylm_wasm.js', 'dist/wasm/tinylm_wasm.wasm',
    'dist/worker_browser_threads.js', 'dist/wasm/tinylm_wasm_threads.mjs',
    'dist/wasm/tinylm_wasm_threads.wasm', 'dist/wasm/tinylm_wasm_threads.worker.cjs', 'dist/wasm/tinylm_wasm_relaxed.wasm',
    'dist/wasm/tinylm_wasm_threads_relaxed.wasm',
    'dist/models/moby-char-lstm.safetensors', 'package.json', 'README.md', 'LICENSE']) {
    assert.ok(files.includes(required), `the package lacks ${required}`);
  }
  const unexpected = files.filter((file) => !file.startsWith('dist/') && !/^(package\.json|README\.md|LICENSE)$/i.test(file));
  assert.deepEqual(unexpected, [], 'only the built package is shipped');
  assert.deepEqual(packed.bundled ?? [], []);

  const project = join(directory, 'consumer');
  execFileSync('mkdir', ['-p', project]);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  const dependencies = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies ?? {});
  const dependencyTarballs = dependencies.map((name) => {
    const [{ filename }] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', directory,
      join(root, 'node_modules', name)], { ...quietNpm, cwd: root }).toString());
    return join(directory, filename);
  });
  execFileSync('npm', ['install', '--offline', '--no-audit', '--no-fund', ...dependencyTarballs,
    join(directory, packed.filename)], { ...quietNpm, cwd: project });

  writeFileSync(join(project, 'use.mjs'), `
    import { TinyLM, TinyLMError } from 'tinylm-js';
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

  // The declarations resolve from the installed package, type the API, and need nothing beyond ES2022.
  writeFileSync(join(project, 'check.ts'), `
    import { TinyLM, type Arch, type Dtype, type FineTuneReport, type ErrorCode } from 'tinylm-js';
    export async function run(signal: { aborted: boolean; addEventListener(type: 'abort', listener: () => void): void;
      removeEventListener(type: 'abort', listener: () => void): void }): Promise<number> {
      const lm: TinyLM = await TinyLM.load(new Uint8Array(8));
      const arch: Arch = lm.info.arch;
      const gpt: Arch = 'gpt';
      const dtype: Dtype = lm.info.dtype;
      const report: FineTuneReport = await lm.fineTune('text', { steps: 1, onProgress: (p) => p.etaSeconds, signal });
      const code: ErrorCode = 'MODEL_TOO_LARGE';
      const skipped: string | null = report.validationSkipped;
      await lm.export({ dtype: 'f16' });
      TinyLM.configure({ assetBase: '/tinylm-js/' });
      return report.loss + code.length + arch.length + gpt.length + dtype.length + (skipped?.length ?? 0);
    }
    // @ts-expect-error: info.arch is the union, not any string
    export const wrong: Arch = 'transformer';
  `);
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: {
    strict: true, noEmit: true, module: 'esnext', moduleResolution: 'bundler', target: 'es2022', lib: ['es2022'],
    types: [], skipLibCheck: false }, files: ['check.ts'] }));
  try {
    execFileSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (error) {
    assert.fail(`the declarations do not type-check with lib es2022 alone:\n${error.stdout}${error.stderr}`);
  }

  // ESM only: require() fails on Node versions without require(esm), and says so.
  writeFileSync(join(project, 'use.cjs'), "try { require('tinylm-js'); console.log('loaded') } catch (error) { console.log(error.code) }");
  const required = execFileSync(process.execPath, ['--no-experimental-require-module', 'use.cjs'], { cwd: project }).toString().trim();
  assert.equal(required, 'ERR_REQUIRE_ESM');
});
