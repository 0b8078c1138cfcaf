// The package in real web apps: `npm pack`'s tarball installed into one fixture app per bundler, each built (and,
// where the tool has one, served by its development server) with zero configuration — except esbuild and Rollup,
// which emit no assets and run the README's copy recipe — then loaded in headless Chromium, where it must stream
// text from the default model with no console error, no failed request and no HTTP error. Each build is also served
// cross-origin isolated (COOP/COEP), where the threaded engine (its own worker, pthread workers and .wasm) must
// run and stream the same text. No built bundle may hold a `node:` import. Then the README's Node quick-start runs under every Node version `engines` allows.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  assembleApp, bin, checkPage, filesIn, freePort, nodeImportsIn, packPackage, root, run, serveDirectory, startProcess,
  versionOf, waitForHttp, work,
} from './harness.mjs';

const chromiumPath = '/usr/bin/chromium';
const node = process.execPath;
const viteBins = { vite5: bin('vite5', 'bin/vite.js'), vite6: bin('vite6', 'bin/vite.js'), vite: bin('vite', 'bin/vite.js') };
const defaultEntry = { from: 'main.js', to: 'main.js' };
const copiedAssetsEntry = { from: 'main_copied_assets.js', to: 'main.js' };
const copyRecipe = (app) => cpSync(join(app, 'node_modules', 'tinylm-js', 'dist'), join(app, 'dist', 'tinylm-js'), { recursive: true });

// name → how to assemble, build and serve it. `out` is served statically; `bundle` limits the node: check to the
// app's own bundle where the recipe copies the package's files (Node entry included) beside it.
const builds = {
  'vite5-build': { label: `Vite ${versionOf('vite5')} build`, kind: 'vite', entry: defaultEntry, out: 'dist',
    build: (app) => run(node, [viteBins.vite5, 'build'], { cwd: app }) },
  'vite6-build': { label: `Vite ${versionOf('vite6')} build`, kind: 'vite', entry: defaultEntry, out: 'dist',
    build: (app) => run(node, [viteBins.vite6, 'build'], { cwd: app }) },
  'vite-build': { label: `Vite ${versionOf('vite')} build`, kind: 'vite', entry: defaultEntry, out: 'dist',
    build: (app) => run(node, [viteBins.vite, 'build'], { cwd: app }) },
  'webpack-build': { label: `webpack ${versionOf('webpack')} production build`, kind: 'webpack', entry: { from: 'main.js', to: 'index.js' }, out: 'dist',
    build: async (app) => {
      const output = await run(node, [bin('webpack-cli', 'bin/cli.js'), '--mode', 'production'], { cwd: app });
      cpSync(join(app, 'public', 'index.html'), join(app, 'dist', 'index.html'));
      return output;
    } },
  'esbuild': { label: `esbuild ${versionOf('esbuild')} (README recipe)`, kind: 'esbuild', entry: copiedAssetsEntry, out: 'dist', bundle: 'app.bundle.js',
    build: async (app) => {
      const output = await run(bin('esbuild', 'bin/esbuild'), ['src/main.js', '--bundle', '--format=esm', '--outfile=dist/app.bundle.js'], { cwd: app });
      copyRecipe(app);
      cpSync(join(app, 'index.html'), join(app, 'dist', 'index.html'));
      return output;
    } },
  'rollup': { label: `Rollup ${versionOf('rollup')} + node-resolve ${versionOf('@rollup/plugin-node-resolve')} (README recipe)`, kind: 'rollup', entry: copiedAssetsEntry, out: 'dist', bundle: 'app.bundle.js',
    build: async (app) => {
      const output = await run(node, [bin('rollup', 'dist/bin/rollup'), '-c'], { cwd: app });
      copyRecipe(app);
      cpSync(join(app, 'index.html'), join(app, 'dist', 'index.html'));
      return output;
    } },
  'parcel': { label: `Parcel ${versionOf('parcel')} build`, kind: 'parcel', entry: defaultEntry, out: 'dist',
    build: (app) => run(node, [bin('parcel', 'lib/bin.js'), 'build', 'index.html', '--dist-dir', 'dist', '--no-autoinstall',
      '--cache-dir', '.parcel-cache'], { cwd: app }) },
  'importmap': { label: 'no bundler (import map)', kind: 'importmap', entry: defaultEntry, out: '.', build: async () => {} },
};

const devServers = {
  'vite5-dev': { label: `Vite ${versionOf('vite5')} dev server`, kind: 'vite', entry: defaultEntry,
    command: (app, port) => [node, [viteBins.vite5, '--port', String(port), '--strictPort', '--host', '127.0.0.1']] },
  'vite6-dev': { label: `Vite ${versionOf('vite6')} dev server`, kind: 'vite', entry: defaultEntry,
    command: (app, port) => [node, [viteBins.vite6, '--port', String(port), '--strictPort', '--host', '127.0.0.1']] },
  'vite-dev': { label: `Vite ${versionOf('vite')} dev server`, kind: 'vite', entry: defaultEntry,
    command: (app, port) => [node, [viteBins.vite, '--port', String(port), '--strictPort', '--host', '127.0.0.1']] },
  'webpack-serve': { label: `webpack-dev-server ${versionOf('webpack-dev-server')} (webpack serve)`, kind: 'webpack', entry: { from: 'main.js', to: 'index.js' },
    command: (app, port) => [node, [bin('webpack-cli', 'bin/cli.js'), 'serve', '--mode', 'development', '--port', String(port),
      '--host', '127.0.0.1', '--no-client-overlay']] },
};

const nodeVersions = {
  'Node 18': join(root, 'build-node', 'node-18.20.8', 'bin', 'node'),  // scripts/setup.sh fetches these two
  'Node 20': node,
  'Node 22': join(root, 'build-node', 'node-22.23.5', 'bin', 'node'),
};

const skip = !existsSync(chromiumPath) && 'no Chromium';
const isolationHeaders = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
let browser;
const built = {};

before(async () => {
  if (skip) return;
  const packed = packPackage();
  for (const [name, fixture] of [...Object.entries(builds), ...Object.entries(devServers)]) {
    fixture.app = assembleApp(name, fixture.kind, fixture.entry, packed.directory);
  }
  // Two builds at a time (two cores); each test awaits its own.
  const queue = Object.entries(builds);
  const runNext = async () => {
    for (let next = queue.shift(); next; next = queue.shift()) {
      const [name, fixture] = next;
      const started = performance.now();
      built[name] = fixture.build(fixture.app).then((output) => ({ seconds: (performance.now() - started) / 1000, output: output ?? '' }));
      await built[name].catch(() => {});
    }
  };
  void Promise.all([runNext(), runNext()]);
  browser = await chromium.launch({ executablePath: chromiumPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'] });
});

after(async () => {
  await browser?.close();
});

function assertStreamed({ result, problems, modelFetches }) {
  assert.equal(result.error, undefined, `the app failed: ${result.error}\n${problems.join('\n')}`);
  assert.deepEqual(problems, [], 'no console errors, failed requests or HTTP errors');
  assert.equal(result.arch, 'lstm');
  assert.ok(result.pieces >= 1 && result.text.length >= 20, `streamed ${result.pieces} pieces: ${JSON.stringify(result.text)}`);
  assert.equal(result.sameModel, true);
  assert.ok(result.beamSearch.length > 0, 'a beam search (the single-thread engine fetches its deferred module for it) ran');
  assert.equal(modelFetches, 1, 'two TinyLM.load() calls fetch the default model once');
}

for (const [name, fixture] of Object.entries(builds)) {
  test(fixture.label, { skip, timeout: 300_000 }, async (t) => {
    while (!built[name]) await new Promise((resolve) => setTimeout(resolve, 100));
    const { seconds, output } = await built[name];
    assert.doesNotMatch(output, /externalized for browser compatibility|Module not found|Can't resolve/i, 'the build warns of nothing it could not place');
    const out = join(fixture.app, fixture.out);
    if (fixture.out !== '.') {
      // A bundle holding an engine (tens of KB); bundlers also name small chunks shared between workers after one.
      const emitted = filesIn(out).filter((file) => !file.startsWith('tinylm-js/') && statSync(join(out, file)).size > 8192);
      for (const [name, pattern] of [['engine worker', /worker_browser(?!_threads)[^/]*\.js$/],
        ['threaded engine worker', /worker_browser_threads[^/]*\.js$/]]) {
        const copies = emitted.filter((file) => pattern.test(file));
        assert.ok(copies.length <= 1, `one ${name} emitted, not an unused copy: ${copies.join(', ')}`);
      }
      const scanned = fixture.bundle ? join(out, fixture.bundle) : out;
      assert.deepEqual(fixture.bundle ? nodeImportsIn(out).filter((hit) => hit.startsWith(fixture.bundle)) : nodeImportsIn(scanned), [],
        'no node: import in the browser bundle');
    }
    const server = await serveDirectory(out);
    let single;
    try {
      single = await checkPage(browser, server.url);
      t.diagnostic(`${fixture.label}: built in ${seconds.toFixed(1)} s; streamed ${JSON.stringify(single.result.text)}`);
      assertStreamed(single);
      assert.equal(single.result.build, 'single', 'a page without isolation runs the single-thread engine');
    } finally {
      await server.close();
    }
    const isolatedServer = await serveDirectory(out, isolationHeaders);
    try {
      const threaded = await checkPage(browser, isolatedServer.url, { pthreads: true });
      assertStreamed(threaded);
      assert.equal(threaded.result.build, 'threads', 'a cross-origin isolated page runs the threaded engine');
      assert.equal(threaded.result.text, single.result.text, 'the threaded engine streams the same text');
    } finally {
      await isolatedServer.close();
    }
  });
}

for (const [name, fixture] of Object.entries(devServers)) {
  test(fixture.label, { skip, timeout: 180_000 }, async (t) => {
    const port = await freePort();
    const [command, args] = fixture.command(fixture.app, port);
    const server = startProcess(command, args, { cwd: fixture.app });
    try {
      const url = `http://127.0.0.1:${port}/`;
      await waitForHttp(url, 60_000, server.output);
      const outcome = await checkPage(browser, url);
      t.diagnostic(`${fixture.label}: streamed ${JSON.stringify(outcome.result.text)}`);
      assertStreamed(outcome);
    } finally {
      await server.stop();
    }
  });
}

const quickStart = `import { TinyLM } from 'tinylm-js';

const lm = await TinyLM.load();
for await (const piece of lm.generate('Call me', { maxTokens: 60, seed: 1 })) process.stdout.write(piece);
process.stdout.write('\\n');
lm.dispose();
`;

for (const [label, executable] of Object.entries(nodeVersions)) {
  test(`${label} runs the README quick-start`, { skip: !existsSync(executable) && `no ${label} binary` }, async (t) => {
    const app = join(work, 'node-quick-start');
    if (!existsSync(join(app, 'quick-start.mjs'))) {
      if (!existsSync(join(work, 'package'))) packPackage();
      cpSync(join(work, 'package'), join(app, 'node_modules', 'tinylm-js'), { recursive: true });
      writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'quick-start', private: true }));
      writeFileSync(join(app, 'quick-start.mjs'), quickStart);
    }
    const version = (await run(executable, ['--version'])).trim();
    const output = await run(executable, ['quick-start.mjs'], { cwd: app, timeoutMs: 60_000,
      env: { TINYLM_MODEL_DIR: join(app, 'models') } });
    t.diagnostic(`${label} (${version}): ${JSON.stringify(output.trim())}`);
    assert.ok(output.trim().length >= 30, `the quick-start printed ${JSON.stringify(output)}`);
  });
}
