// The threaded engine in a browser answers before its pthread Workers are up (web/lib/pool_start.ts): while the
// server holds back the pthread Worker's script, the engine loads the default model, generates, cancels, reports a
// bad file's error and disposes a model, on 1 thread. Once the script is let through, the engine grows to its
// threads between two calls, and computes what it computed before, bit for bit: the same sample, and a fine-tune
// that spans the moment the threads arrive gives the losses of one run entirely on 1 thread.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runInChromium, skipWithoutChromium } from './chromium.mjs';
import { corpus, root } from './helpers.mjs';

const page = `<!doctype html>
<script type="module">
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
const outcome = (promise) => promise.then((value) => value, (error) => error.name + ' ' + error.code + ': ' + error.message);
async function sample(lm) {
  let text = '';
  for await (const piece of lm.generate('Call me', { maxTokens: 40, temperature: 0.9, seed: 11 })) text += piece;
  return text;
}
async function tune(text) {
  const lm = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 64, embed: 16, seed: 7 }, text);
  const losses = [];
  await lm.fineTune(text, { steps: 12, batchSize: 8, seqLen: 32, seed: 3, onProgress: (progress) => losses.push(progress.loss) });
  const bytes = await lm.export();
  await lm.dispose();
  let checksum = 0;
  for (const byte of bytes) checksum = (checksum * 31 + byte) >>> 0;
  return { losses, checksum };
}
let TinyLM;
try {
  ({ TinyLM } = await import('/dist/browser.js'));
  TinyLM.configure({ threads: 2 });
  const text = await (await fetch('/corpus.txt')).text();

  // The pthread Worker's script is held back: everything here runs on the engine's calling thread.
  const lm = await TinyLM.load();
  const held = { sample: await sample(lm) };
  const controller = new AbortController();
  held.cancelled = await outcome((async () => {
    for await (const piece of lm.generate('Call me', { maxTokens: 100000, signal: controller.signal })) controller.abort();
  })());
  held.badFile = await outcome(TinyLM.load(new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8, 9])));
  const other = await TinyLM.load();
  await other.dispose();
  held.disposed = await outcome(sample(other));
  held.tuned = await tune(text);
  held.pthreadScriptHeld = await (await fetch('/held')).json();

  // Let the script through while a fine-tune runs: the threads join between two of its steps.
  const tuning = tune(text);
  await fetch('/release');
  const spanning = await tuning;
  const after = [];
  for (let round = 0; round < 4; round++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    after.push(await sample(lm));
  }
  await report({ held, spanning, after, afterTuned: await tune(text), capabilities: TinyLM.capabilities() });
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message });
} finally {
  await TinyLM?.shutdown();
}
</script>`;

test('Chromium, threaded build: the engine loads and generates before its pthread Workers are up, and computes the same after', { skip: skipWithoutChromium }, async (t) => {
  // A pthread Worker runs the engine worker's script again (worker_pthread_start.ts): its request is the second one.
  const threadedScript = await readFile(join(root, 'dist/worker_browser_threads.js'));
  let scriptRequests = 0;
  let waiting;   // the held request for the pthread Worker's script
  let released = false;
  const respond = (path, response) => {
    const send = (type, body) => response.writeHead(200, {
      'content-type': type, 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp',
    }).end(body);
    if (path === '/dist/worker_browser_threads.js' && ++scriptRequests === 1) return send('text/javascript', threadedScript), true;
    if (path === '/dist/worker_browser_threads.js') {
      if (released) send('text/javascript', threadedScript);
      else waiting = () => send('text/javascript', threadedScript);
      return true;
    }
    if (path === '/held') return send('application/json', JSON.stringify(waiting !== undefined && !released)), true;
    if (path === '/release') {
      released = true;
      waiting?.();
      return send('text/plain', ''), true;
    }
    return false;
  };
  const { outcome } = await runInChromium(t, page, { isolated: true, respond, files: { '/corpus.txt': corpus.slice(0, 20_000) }, timeoutMs: 180_000 });
  assert.equal(outcome.error, undefined, outcome.error);
  const { held } = outcome;
  assert.equal(held.pthreadScriptHeld, true, 'the pthread Worker had asked for its script and was still waiting');
  assert.ok(held.sample.length > 0);
  assert.match(held.cancelled, /^AbortError/);
  assert.match(held.badFile, /^TinyLMError \w+: /);
  assert.match(held.disposed, /^TinyLMError DISPOSED/);
  assert.equal(held.tuned.losses.length, 12);
  assert.ok(held.tuned.losses.every(Number.isFinite));

  assert.deepEqual(outcome.after, Array(4).fill(held.sample), 'the same sample once the threads are up');
  assert.deepEqual(outcome.spanning, held.tuned, 'a fine-tune the threads joined midway = one on 1 thread');
  assert.deepEqual(outcome.afterTuned, held.tuned, 'a fine-tune on 2 threads = one on 1 thread');
  assert.deepEqual({ build: outcome.capabilities.build, threads: outcome.capabilities.threads }, { build: 'threads', threads: 2 });
});
