// The engine's first model load and first token are slow because its code runs for the first time: V8 compiles
// each WebAssembly function lazily, on its first call, with its baseline compiler, and tiers hot ones up later. This
// measures that cost on the single-thread engine (dist/, npm run build:lib) with the playground's default model
// (dist/models/moby-char-lstm.safetensors, prompt 'Call me Ishmael. '), three ways, each in a fresh process per run,
// alternated (RUNS=n rounds, default 4; each process compiles the .wasm once and instantiates it):
//   cold            load + first token in a new instance
//   warmed here     after the same instance loaded another model (models/austen-chat-lstm.safetensors) and
//                   generated a token with it
//   warmed by a tiny model  likewise with a tiny model of the default's kind built in memory (tiny_model.mjs):
//                   whether a warm-up much cheaper than the real load takes the cost off it
//   warmed elsewhere after a worker_threads Worker given the same WebAssembly.Module did that in its own instance:
//                   whether code compiled in one thread serves another (V8 shares a module's compiled code between
//                   the isolates that instantiate it), i.e. whether an idle thread can take the cost off the path
//                   of the first token
// Prints each run's milliseconds and the medians, and for the two warm-ups in the same instance what they took
// themselves (a warm-up only pays where the thread would otherwise wait, e.g. for the model's download).
// `node bench/wasm/cold_start.mjs <dist A> <dist B>` instead times one case (MODE=<case>, default cold) for two
// builds of the package (e.g. a copy of main's dist/ against this tree's), alternated A, B, B, A, … (RUNS=n rounds,
// default 8), and prints each side's medians and the ratio B/A of the load's. 'warmed here' times the load with the
// engine's code already compiled and run, the work a change to the loaders moves without V8's compiles around it.
import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { tinyModelFile } from './tiny_model.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const options = { maxTokens: 50, temperature: 0.8, topK: 0, topP: 1, repetitionPenalty: 1, repetitionWindow: 64, seed: 1, stopAtEos: false };

async function engineFor(module, dist) {
  globalThis.require = createRequire(`${dist}wasm/tinylm_wasm.js`);
  globalThis.__dirname = `${dist}wasm`;
  const { default: create } = await import(`${dist}wasm/tinylm_wasm.js`);
  return create({
    instantiateWasm: (imports, receive) => {
      WebAssembly.instantiate(module, imports).then((instance) => receive(instance, module));
      return {};
    },
  });
}

// Milliseconds of Model.loadAs and of the first token (prompt read, one step, five alternatives).
function loadAndGenerate(engine, bytes) {
  const started = performance.now();
  const model = engine.Model.loadAs(bytes, 'f32');
  const loaded = performance.now();
  const generator = engine.Generator.create(model, options, []);
  generator.begin('Call me Ishmael. ');
  while (!generator.prefill(128));
  generator.next();
  generator.alternatives(5);
  const firstToken = performance.now();
  generator.delete();
  model.delete();
  return { load: loaded - started, firstToken: firstToken - loaded };
}

const otherModel = () => readFile(`${root}models/austen-chat-lstm.safetensors`).then((bytes) => new Uint8Array(bytes));

async function measureOnce(mode, dist) {
  const module = await WebAssembly.compile(await readFile(`${dist}wasm/tinylm_wasm.wasm`));
  const bytes = new Uint8Array(await readFile(`${dist}models/moby-char-lstm.safetensors`));
  if (mode === 'warmed elsewhere') {
    const worker = new Worker(new URL(import.meta.url), { workerData: { module, dist } });
    await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    await worker.terminate();
  }
  const engine = await engineFor(module, dist);
  const warmUpBytes = mode === 'warmed here' ? await otherModel() : mode === 'warmed by a tiny model' ? tinyModelFile() : undefined;
  const warmUp = warmUpBytes ? loadAndGenerate(engine, warmUpBytes) : undefined;
  return { ...loadAndGenerate(engine, bytes), ...(warmUp && { warmUp: warmUp.load + warmUp.firstToken }) };
}

const modes = ['cold', 'warmed here', 'warmed by a tiny model', 'warmed elsewhere'];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const runChild = (mode, dist) =>
  JSON.parse(execFileSync(process.execPath, [fileURLToPath(import.meta.url), '--child', mode, dist], { encoding: 'utf8' }));

if (!isMainThread) {
  parentPort.postMessage(loadAndGenerate(await engineFor(workerData.module, workerData.dist), await otherModel()));
} else if (process.argv[2] === '--child') {
  console.log(JSON.stringify(await measureOnce(process.argv[3], process.argv[4])));
} else if (process.argv.length === 4) {
  const dists = process.argv.slice(2, 4).map((dir) => `${resolvePath(dir)}/`);
  const results = [[], []];
  const before = loadavg()[0];
  for (let run = 0; run < Number(process.env.RUNS ?? 8); run++) {
    for (const side of run % 2 ? [1, 0] : [0, 1]) {
      const result = runChild(process.env.MODE ?? 'cold', dists[side]);
      results[side].push(result);
      console.log(`${'AB'[side]}: load ${result.load.toFixed(1)} ms, first token ${result.firstToken.toFixed(1)} ms`);
    }
  }
  const loads = results.map((side) => median(side.map((r) => r.load)));
  for (const side of [0, 1]) {
    console.log(`${'AB'[side]} ${dists[side]}: median load ${loads[side].toFixed(1)} ms ` +
      `(${results[side].map((r) => r.load.toFixed(1)).join(', ')}), first token ${median(results[side].map((r) => r.firstToken)).toFixed(1)} ms`);
  }
  console.log(`${process.env.MODE ?? 'cold'}: load B/A ${(loads[1] / loads[0]).toFixed(3)} over ${results[0].length} runs each; load average ${before.toFixed(1)} before, ${loadavg()[0].toFixed(1)} after`);
} else {
  const results = Object.fromEntries(modes.map((mode) => [mode, []]));
  for (let run = 0; run < Number(process.env.RUNS ?? 4); run++) {
    for (const mode of modes) {
      const result = runChild(mode, `${root}dist/`);
      results[mode].push(result);
      const warmUp = result.warmUp === undefined ? '' : ` (after a warm-up of ${result.warmUp.toFixed(1)} ms)`;
      console.log(`${mode}: load ${result.load.toFixed(1)} ms, first token ${result.firstToken.toFixed(1)} ms${warmUp}`);
    }
  }
  for (const mode of modes) {
    const warmUps = results[mode].filter((r) => r.warmUp !== undefined).map((r) => r.warmUp);
    console.log(`median ${mode}: load ${median(results[mode].map((r) => r.load)).toFixed(1)} ms, ` +
      `first token ${median(results[mode].map((r) => r.firstToken)).toFixed(1)} ms` +
      (warmUps.length ? `, warm-up ${median(warmUps).toFixed(1)} ms` : ''));
  }
}
