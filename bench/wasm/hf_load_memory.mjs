// Where a Hugging Face checkpoint's load puts memory, in Node, phase by phase: the package (dist/) loading a folder
// that hf_peer.mjs wrote (or any folder of config.json, tokenizer files and *.safetensors), in a fresh process per
// folder so the peak resident set is that load's alone.
//
//   node bench/wasm/hf_load_memory.mjs [--weights int8] [--threads 1] [--max-context 256] [--dist DIR] FOLDER...
//
// --dist: the package to load with (default dist/), e.g. another build of it, for a before/after in one run.
// One JSON line per folder, MB (2^20 bytes): resident set after the engine started (rss_engine), after the caller
// read the files (rss_files; file_mb of them), the peak during the load (peak_load: the process's maximum resident
// set, so it includes the caller's bytes and the package's own copy of them in the engine's worker), the wasm heap
// after the load (heap: linear memory, which grows and never shrinks; heap_in_use: what the model and the engine hold
// in it), and the resident set once the caller dropped its bytes and this thread collected garbage (rss_settled),
// with the ArrayBuffer bytes Node still counts then (main_array_buffers: the caller's are collected by then, so this
// is the package's private copy of the files, moved to the engine's worker and not yet freed there).
// Memory figures do not depend on the machine's load; nothing here is a test.
import { execFileSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const weights = option('weights', 'int8');
const threads = Number(option('threads', '1'));
const maxContext = Number(option('max-context', '256'));
const dist = option('dist', join(root, 'dist'));
const folders = args.filter((arg, i) => !arg.startsWith('--') && !args[i - 1]?.startsWith('--'));
const mb = (bytes) => +(bytes / 2 ** 20).toFixed(1);

if (process.env.TINYLM_LOAD_MEMORY_CHILD) {
  const dir = folders[0];
  const rss = () => mb(process.memoryUsage().rss);
  const peak = () => mb(process.resourceUsage().maxRSS * 1024);
  const { TinyLM } = await import(pathToFileURL(join(dist, 'node.js')).href);
  TinyLM.configure({ threads });
  await TinyLM.memory();  // the engine started
  const row = { folder: dir, dist, weights, threads, max_context: maxContext, rss_engine: rss() };
  let files = {};
  for (const name of readdirSync(dir)) {
    if (name === 'config.json' || name === 'generation_config.json' || name.startsWith('tokenizer') || name.endsWith('.safetensors')) {
      files[name] = readFileSync(join(dir, name));
    }
  }
  row.file_mb = mb(Object.values(files).reduce((sum, bytes) => sum + bytes.byteLength, 0));
  row.rss_files = rss();
  const lm = await TinyLM.load({ files }, { weights, maxContext });
  row.peak_load = peak();
  const memory = await TinyLM.memory();
  row.heap = mb(memory.heapSize);
  row.heap_in_use = mb(memory.inUse);
  files = null;
  // Two tokens first (the model works), then this thread's collector.
  for await (const _ of lm.generateSteps('Call me Ishmael.', { maxTokens: 2, temperature: 0 })) { /* settle */ }
  globalThis.gc?.();
  await new Promise((resolve) => setTimeout(resolve, 300));
  globalThis.gc?.();
  row.rss_settled = rss();
  row.main_array_buffers = mb(process.memoryUsage().arrayBuffers);
  await lm.dispose();
  await TinyLM.shutdown();
  console.log(JSON.stringify(row));
  process.exit(0);
}

for (const dir of folders) {
  const out = execFileSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...args.filter((arg) => !folders.includes(arg)), dir],
    { encoding: 'utf8', env: { ...process.env, TINYLM_LOAD_MEMORY_CHILD: '1' } });
  process.stdout.write(out);
}
