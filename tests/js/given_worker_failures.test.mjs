// TinyLM.configure({ worker, engineModule }) when what the page started in <head> fails (web/lib/given_worker.ts,
// adopt_worker.ts): a head start that fails is a lost head start, never a lost engine. A given worker whose script
// 404s or throws — before configure(), after it, or after the first call was made — is replaced by the package's
// own worker, which receives every request made so far (the calls resolve with what the package's own worker
// computes), and a console warning says what failed; one shut down while it is adopted is terminated and nothing
// else starts; a given module whose promise never settles is replaced by the package's own compile. A given worker
// that answers late gets a small model's bytes at once, as a copy, and computes what the package's own worker
// computes. The page is not cross-origin isolated, so the single-thread build runs (the adoption does not depend on
// the build).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from './helpers.mjs';

const chromiumPath = '/usr/bin/chromium';
const skip = !existsSync(chromiumPath) && 'no Chromium';

// What every scenario page shares: the Workers the package starts are recorded (the head's is not), and sample()
// is the same 12 tokens of the default model wherever the engine runs.
const prelude = `
const { TinyLM } = await import('/dist/browser.js');
const started = [];
const NativeWorker = window.Worker;
window.Worker = class extends NativeWorker {
  constructor(url, options) { started.push(new URL(String(url), location.href).pathname); super(url, options); }
};
const outcome = (promise) => promise.then((value) => value, (error) => error.name + ' ' + error.code + ': ' + error.message);
async function sample(source) {
  const lm = await TinyLM.load(source);
  let text = '';
  for await (const piece of lm.generate('Call me', { maxTokens: 12, seed: 1 })) text += piece;
  return text;
}
`;

// head starts the worker; window.headFailed is its error, seen by a listener the page set as it started it (the
// package cannot hear an error before configure()).
const page = (head, body) => `<!doctype html>
<script>${head}
if (window.headWorker) window.headFailed = new Promise((resolve) => window.headWorker.addEventListener('error', resolve, { once: true }));
</script>
<script type="module">
try {
  ${prelude}
  ${body}
} catch (error) {
  window.outcome = { error: error.name + ' ' + error.code + ': ' + error.message };
}
</script>`;

// Each page runs one scenario and sets window.outcome. /held/<name> answers only once the page fetches
// /release/<name>: a 404 for missing.js, a script that throws for throws.js.
const scenarios = {
  reference: page('', `window.outcome = { text: await sample(), started };`),

  failedBeforeConfigure: page(
    "window.headWorker = new Worker('/dist/no_such_worker.js', { type: 'module' });",
    `await window.headFailed;
     TinyLM.configure({ worker: window.headWorker });
     window.outcome = { text: await sample(), started };`),

  failedAfterConfigure: page(
    "window.headWorker = new Worker('/held/missing.js', { type: 'module' });",
    `TinyLM.configure({ worker: window.headWorker });
     await fetch('/release/missing.js');
     await window.headFailed;
     window.outcome = { text: await sample(), started };`),

  failedWhileAdopting: page(
    "window.headWorker = new Worker('/held/throws.js', { type: 'module' });",
    `const bytes = new Uint8Array(await (await fetch('/dist/models/moby-char-lstm.safetensors')).arrayBuffer());
     TinyLM.configure({ worker: window.headWorker });
     const text = sample(bytes);  // its load goes to the given worker as a copy, and to the package's own worker as it is
     const memory = TinyLM.memory();  // a request that transfers nothing goes to the given worker at once
     await new Promise((resolve) => setTimeout(resolve, 200));
     const startedBefore = [...started];
     await fetch('/release/throws.js');
     window.outcome = { text: await text, memory: typeof (await memory).heapSize, startedBefore, started };`),

  answersLate: page(
    "window.headWorker = new Worker('/held/late.js', { type: 'module' });",
    `const given = window.headWorker;
     const posted = [];
     const post = given.postMessage.bind(given);
     given.postMessage = (message, transfer) => { posted.push(message.type ?? Object.keys(message)[0]); post(message, transfer); };
     const bytes = new Uint8Array(await (await fetch('/dist/models/moby-char-lstm.safetensors')).arrayBuffer());
     TinyLM.configure({ worker: given });
     const text = sample(bytes);
     await new Promise((resolve) => setTimeout(resolve, 200));
     const postedBeforeAnswer = [...posted];
     await fetch('/release/late.js');
     window.outcome = { text: await text, postedBeforeAnswer, started };`),

  shutDownWhileAdopting: page(
    "window.headWorker = new Worker('/held/never.js', { type: 'module' });",
    `TinyLM.configure({ worker: window.headWorker });
     const pending = outcome(TinyLM.memory());
     await new Promise((resolve) => setTimeout(resolve, 200));
     await TinyLM.shutdown();
     const whilePending = await pending;
     const startedAtShutdown = [...started];
     window.outcome = { whilePending, startedAtShutdown, text: await sample(), started };`),

  moduleNeverSettles: page('',
    `TinyLM.configure({ engineModule: new Promise(() => {}) });
     window.outcome = { text: await sample(), started };`),
};

async function serve() {
  const releases = new Map();
  const released = (name) => {
    if (!releases.has(name)) {
      let resolve;
      const promise = new Promise((settle) => (resolve = settle));
      releases.set(name, { promise, resolve });
    }
    return releases.get(name);
  };
  const types = { '.js': 'text/javascript', '.wasm': 'application/wasm' };
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://x').pathname);
    const send = (status, type, body) => response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    if (path.startsWith('/release/')) {
      released(path.slice('/release/'.length)).resolve();
      return send(200, 'text/plain', '');
    }
    if (path.startsWith('/held/')) {
      const name = path.slice('/held/'.length);
      await released(name).promise;
      if (name === 'throws.js') return send(200, 'text/javascript', "throw new Error('engine worker boom');");
      if (name === 'late.js') return send(200, 'text/javascript', "import '/dist/worker_browser.js';");
      return send(404, 'text/plain', '');
    }
    const scenario = path.slice(1).replace(/\.html$/, '');
    if (Object.hasOwn(scenarios, scenario)) return send(200, 'text/html', scenarios[scenario]);
    const file = normalize(path.slice(1));
    if (!file.startsWith('dist/')) return send(404, 'text/plain', '');
    try {
      send(200, types[extname(file)] ?? 'application/octet-stream', await readFile(join(root, file)));
    } catch {
      send(404, 'text/plain', '');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => { server.closeAllConnections(); return new Promise((resolve) => server.close(resolve)); } };
}

// Runs the scenarios side by side (two of them wait out the package's 10 s patience), each in its own page.
async function runScenarios(t, names) {
  const server = await serve();
  const browser = await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const results = await Promise.all(names.map(async (name) => {
    const tab = await browser.newPage();
    const warnings = [];
    tab.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
    await tab.goto(`${server.url}${name}.html`);
    await tab.waitForFunction(() => window.outcome !== undefined, null, { timeout: 90_000, polling: 100 });
    const outcome = await tab.evaluate(() => window.outcome);
    assert.equal(outcome.error, undefined, `${name}: ${outcome.error}`);
    return [name, { ...outcome, warnings }];
  }));
  return Object.fromEntries(results);
}

test('Chromium: a head-started worker or module that fails costs the head start, not the engine', { skip, timeout: 180_000 }, async (t) => {
  const outcome = await runScenarios(t, Object.keys(scenarios));
  const { reference } = outcome;
  assert.equal([...reference.text].length, 12);
  assert.deepEqual(reference.started, ['/dist/worker_browser.js']);
  assert.deepEqual(reference.warnings, []);

  // A failure before configure() went unheard by the package: after its patience it starts its own worker.
  const before = outcome.failedBeforeConfigure;
  assert.equal(before.text, reference.text);
  assert.deepEqual(before.started, ['/dist/worker_browser.js']);
  assert.equal(before.warnings.length, 1, before.warnings.join('\n'));
  assert.match(before.warnings[0], /^tinylm-js: the Worker given to TinyLM\.configure\(\{ worker \}\) failed: it has not answered in 10 s since it was configured .*The package starts its own engine worker instead\. Check that the URL/);

  // Heard after configure(): the first call goes to the package's own worker at once.
  const after = outcome.failedAfterConfigure;
  assert.equal(after.text, reference.text);
  assert.deepEqual(after.started, ['/dist/worker_browser.js']);
  assert.match(after.warnings.join('\n'), /^tinylm-js: the Worker given to TinyLM\.configure\(\{ worker \}\) failed: its script failed to load \(a wrong URL/);

  // Calls made while the given worker had not answered are all answered by the package's own worker.
  const adopting = outcome.failedWhileAdopting;
  assert.deepEqual(adopting.startedBefore, [], 'nothing started while the given worker could still answer');
  assert.equal(adopting.text, reference.text);
  assert.equal(adopting.memory, 'number');
  assert.deepEqual(adopting.started, ['/dist/worker_browser.js']);
  assert.match(adopting.warnings.join('\n'), /failed: .*engine worker boom\. The package starts its own engine worker instead/);

  // A given worker that has not answered yet gets a small model's bytes at once (a copy: the original would go to a
  // worker started in its place), and is the engine once it answers.
  const late = outcome.answersLate;
  assert.equal(late.postedBeforeAnswer[0], 'tinylmBuildQuery');
  assert.ok(late.postedBeforeAnswer.includes('load'), `the load went before the answer: ${late.postedBeforeAnswer}`);
  assert.equal(late.text, reference.text);
  assert.deepEqual(late.started, []);
  assert.deepEqual(late.warnings, []);

  // Shut down while adopting: the pending call fails as any call at shutdown does, nothing starts in its place,
  // and the next call starts the package's own worker.
  const shutDown = outcome.shutDownWhileAdopting;
  assert.match(shutDown.whilePending, /^TinyLMError WORKER_FAILED: the engine was shut down/);
  assert.deepEqual(shutDown.startedAtShutdown, []);
  assert.equal(shutDown.text, reference.text);
  assert.deepEqual(shutDown.started, ['/dist/worker_browser.js']);
  assert.deepEqual(shutDown.warnings, []);

  // A module promise that never settles: the package compiles the .wasm itself after its patience.
  const module = outcome.moduleNeverSettles;
  assert.equal(module.text, reference.text);
  assert.match(module.warnings.join('\n'), /^tinylm-js: the promise given to TinyLM\.configure\(\{ engineModule \}\) has not settled in 10 s, so the package compiles the \.wasm itself/);
});
