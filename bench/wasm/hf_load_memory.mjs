// Where a Hugging Face checkpoint's load puts memory, in Node, phase by phase: the package (dist/) loading a folder
// that hf_peer.mjs wrote (or any folder of config.json, tokenizer files and *.safetensors), in a fresh process per
// folder so the peak resident set is that load's alone.
//
//   node bench/wasm/hf_load_memory.mjs [--weights int8] [--threads 1] [--max-context 256] [--dist DIR] [--via http]
//                                       FOLDER...
//
// --dist: the package to load with (default dist/), e.g. another build of it, for a before/after in one run.
// --via http: the package downloads the folder ({ baseUrl }, no cache) from a server in this parent process, so the
// child's peak is the download's and the load's (rss_files and file_mb are then absent: the caller holds no bytes).
// One JSON line per folder, MB (2^20 bytes): resident set after the engine started (rss_engine), after the caller
// read the files (rss_files; file_mb of them), the peak during the load (peak_load: the process's maximum resident
// set, so it includes the caller's bytes and the package's own copy of them in the engine's worker), the wasm heap
// after the load (heap: linear memory, which grows and never shrinks; heap_in_use: what the model and the engine hold
// in it), and the resident set once the caller dropped its bytes and this thread collected garbage (rss_settled),
// with the ArrayBuffer bytes Node still counts then (main_array_buffers: the caller's are collected by then, so this
// is the package's private copy of the files, moved to the engine's worker and not yet freed there), and the load's
// wall time (load_seconds: a timing, so as noisy as the machine).
// Memory figures do not depend on the machine's load; nothing here is a test.
import { execFile } from 'node:child_process';
import { createReadStream, readFileSync, readdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const weights = option('weights', 'int8');
const threads = Number(option('threads', '1'));
const maxContext = Number(option('max-context', '256'));
const dist = option('dist', join(root, 'dist'));
const via = option('via', 'files');
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
  if (via === 'http') row.via = 'http';
  for (const name of via === 'http' ? [] : readdirSync(dir)) {
    if (name === 'config.json' || name === 'generation_config.json' || name.startsWith('tokenizer') || name.endsWith('.safetensors')) {
      files[name] = readFileSync(join(dir, name));
    }
  }
  if (via !== 'http') {
    row.file_mb = mb(Object.values(files).reduce((sum, bytes) => sum + bytes.byteLength, 0));
    row.rss_files = rss();
  }
  let source = via === 'http' ? { baseUrl: process.env.TINYLM_LOAD_MEMORY_URL } : { files };
  const started = performance.now();
  const lm = await TinyLM.load(source, { weights, maxContext, cache: false });
  row.load_seconds = +((performance.now() - started) / 1000).toFixed(2);
  row.peak_load = peak();
  const memory = await TinyLM.memory();
  row.heap = mb(memory.heapSize);
  row.heap_in_use = mb(memory.inUse);
  files = null;
  source = null;
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

// The folder's files with their lengths, streamed from disk (nothing of them held here), for --via http.
function serveFolder(dir) {
  const server = createServer((request, response) => {
    const path = join(dir, decodeURIComponent(new URL(request.url, 'http://localhost').pathname).replace(/^\/+/, ''));
    let size;
    try {
      size = statSync(path).size;
    } catch {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, { 'content-length': String(size), 'content-type': 'application/octet-stream' });
    createReadStream(path).pipe(response);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

for (const dir of folders) {
  const server = via === 'http' ? await serveFolder(dir) : undefined;
  const env = { ...process.env, TINYLM_LOAD_MEMORY_CHILD: '1' };
  if (server) env.TINYLM_LOAD_MEMORY_URL = `http://127.0.0.1:${server.address().port}/`;
  const out = await new Promise((resolve, reject) => execFile(process.execPath,
    ['--expose-gc', fileURLToPath(import.meta.url), ...args.filter((arg) => !folders.includes(arg)), dir],
    { encoding: 'utf8', env, maxBuffer: 1 << 20 }, (error, stdout) => (error ? reject(error) : resolve(stdout))));
  server?.close();
  process.stdout.write(out);
}
