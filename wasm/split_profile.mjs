// Which functions the single-thread engine runs to load and run a model: the profile wasm/split_engine.mjs splits
// the engine by (wasm-split --profile). Runs an engine instrumented by wasm-split --instrument through every call
// the package makes to load, inspect, evaluate and generate from a tinylm model file — each shipped model with its
// weights in f32 (the package's default), sampling and greedy, fused, in chat sessions and with reused prompts, and
// the errors a bad file or a bad call gets — and writes the profile the instrumented engine recorded.
//
//   node wasm/split_profile.mjs <glue.js> <instrumented.wasm> <models dir> <profile out> [--threads <pthread script>]
//
// --threads: the engine is the threaded one (its glue, instrumented with --in-memory so that its pthreads record
// what they run too), run on 2 threads with its pthread script.
//
// What this never calls is the deferred module's, fetched the first time a page uses it: training, LoRA adapters,
// Hugging Face checkpoints, models created from scratch, and, rarer on a page that only runs a model, beam search
// (8.7 KB of gzip in the primary module), exporting a model (4.4 KB) and a model file loaded with f16 or int8
// weights (6.9 KB). A call missed here still works: it only
// fetches the deferred module early (tests/js/split_engine.test.mjs checks that the package's own calls to run a
// model do not).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const [gluePath, wasmPath, modelsDir, profilePath, threadsFlag, pthreadScript] = process.argv.slice(2);
if (!profilePath) {
  console.error('usage: node wasm/split_profile.mjs <glue.js> <instrumented.wasm> <models dir> <profile out>');
  process.exit(2);
}
// Emscripten 3.1.6's ES-module glue under Node expects these globals (as web/lib/worker_node.ts gives it).
globalThis.require = createRequire(resolve(gluePath));
globalThis.__dirname = dirname(resolve(gluePath));
const { default: createEngine } = await import(resolve(gluePath));
const threaded = threadsFlag === '--threads';
const engine = await createEngine({
  wasmBinary: readFileSync(wasmPath),
  ...(threaded && {
    tinylmThreads: 2,
    mainScriptUrlOrBlob: pathToFileURL(resolve(gluePath)).href,
    locateFile: (file) => (file.endsWith('.worker.js') ? resolve(pthreadScript) : join(dirname(resolve(gluePath)), file)),
  }),
});
if (threaded && engine.setThreadCount(2) !== 2) throw new Error('split_profile: the threaded engine did not start its second thread');

const ok = (result) => {
  if (result instanceof Error) throw result;
  return result;
};
const failed = (result, what) => {
  if (!(result instanceof Error)) throw new Error(`split_profile: ${what} did not fail`);
};
const prompt = 'Call me Ishmael. Some years ago — never mind how long precisely — I thought I would sail about.';
const sampled = { maxTokens: 12, temperature: 0.8, topK: 40, topP: 0.95, repetitionPenalty: 1.1, repetitionWindow: 64, seed: 7, stopAtEos: true };
const greedy = { ...sampled, temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1 };

function stream(source, steps) {
  while (!ok(source.prefill(16)));  // true once the prompt is read
  for (let i = 0; i < steps; i++) {
    if (i === 1) ok(source.alternatives(5));
    if (ok(source.next()).done) break;
  }
}

function generate(generating) {
  for (const options of [sampled, greedy]) {
    const generator = ok(engine.Generator.create(generating, options, ['\n\n', 'whale']));
    ok(generator.start(prompt));
    stream(generator, 12);
    const held = ok(generator.tokensInState());
    ok(generator.beginReusing(`${prompt} And so`, held));
    stream(generator, 4);
    ok(generator.begin('The sea'));
    stream(generator, 4);
    generator.delete();
  }
}

function converse(model) {
  const session = ok(engine.Session.create(model));
  for (const turn of ['Good morning.\n', 'How do you do?\n']) {
    ok(session.beginTurn(turn, sampled, ['\n']));
    stream(session, 8);
    ok(session.endTurn());
  }
  session.stats();
  const fork = ok(session.fork());
  const saved = ok(session.save());
  fork.delete();
  session.delete();
  ok(engine.Session.restore(model, saved)).delete();
}

function exercise(model) {
  const info = ok(model.info());
  model.checkpointInfo();
  ok(model.fingerprint());
  ok(model.decode(ok(model.encode(prompt))));
  model.stepLogits(-1);  // out of range: the error path of a model's calls
  ok(model.evaluate(prompt));
  const evaluation = ok(model.startEvaluation(prompt.repeat(3)));
  while (ok(evaluation.advance(32))) evaluation.progress();
  ok(evaluation.stats());
  evaluation.delete();
  ok(model.resetState());
  ok(model.stepLogits(ok(model.encode('a'))[0]));
  ok(model.inspect('The whale'));
  generate(model);
  converse(model);
  return info;
}

const files = readdirSync(modelsDir).filter((file) => file.endsWith('.safetensors')).sort();
engine.engineMemory();
engine.relaxedSimd();
engine._tinylm_deferred_module_slot();  // read by the loaders themselves, never from the deferred module
engine.textFingerprint(prompt);
failed(engine.Model.load(new Uint8Array(64)), 'loading 64 zero bytes');
failed(engine.Model.load(new TextEncoder().encode('not a model file at all, only text')), 'loading text');
// Each model as the package loads a tinylm file unless told otherwise (TinyLM.load: weights 'f32', whatever the file
// stores). Its weights as stored, or as f16 or int8, are an app's choice to save memory, and their code (conversion,
// half and int8 products) is the deferred module's, fetched on such a load.
for (const file of files) {
  const bytes = new Uint8Array(readFileSync(join(modelsDir, file)));
  const model = ok(engine.Model.loadAs(bytes, 'f32'));
  const { arch } = exercise(model);
  if (arch !== 'ngram') {
    const partner = ok(engine.Model.loadAs(bytes, 'f32'));
    const fusion = ok(engine.Fusion.create(model, partner, 0.5));
    generate(fusion);
    fusion.delete();
    partner.delete();
  }
  model.delete();
}

const capacity = 1 << 20;
const address = engine._malloc(capacity);
const size = engine.asm.__write_profile(address, capacity);
if (!(size > 0 && size <= capacity)) throw new Error(`split_profile: the engine wrote a profile of ${size} bytes`);
const memory = threaded ? engine.wasmMemory.buffer : engine.HEAPU8.buffer;  // a shared memory's views may be stale
writeFileSync(profilePath, new Uint8Array(memory).slice(address, address + size));
if (threaded) process.exit(0);  // the pthread Workers would keep Node running
