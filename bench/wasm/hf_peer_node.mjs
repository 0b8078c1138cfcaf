// One side of one `npm run bench:hf-wasm` row under Node, in its own process so its peak resident set is its own:
//
//   node bench/wasm/hf_peer_node.mjs tinylm|ort DIR --weights f32|int8 --threads N --generate G --repeats R [--dist D]
//
// (--dist: the build of the package tinylm runs from, default dist/.)
// DIR is a folder hf_peer.mjs made (checkpoint files, f32.onnx/int8.onnx, onnx.json, check.json, prompt.json).
// Prints one JSON line: hf_peer_measure.mjs's figures plus peak_rss_mb (the process's maximum resident set, which
// includes the file's bytes read for the load) and rss_mb (resident after the runs).
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { measureOrt, measureTinyLM } from './hf_peer_measure.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const [side, dir, ...rest] = process.argv.slice(2);
const option = (name) => (rest.includes(`--${name}`) ? rest[rest.indexOf(`--${name}`) + 1] : undefined);
const weights = option('weights');
const threads = Number(option('threads'));
const settings = { prompt: JSON.parse(readFileSync(join(dir, 'prompt.json'), 'utf8')), generate: Number(option('generate')),
  repeats: Number(option('repeats')) };

let result;
if (side === 'tinylm') {
  const { TinyLM } = await import(pathToFileURL(join(option('dist') ?? join(root, 'dist'), 'node.js')).href);
  TinyLM.configure({ threads });
  const files = {};
  for (const name of readdirSync(dir)) {
    if (name === 'config.json' || name === 'generation_config.json' || name.startsWith('tokenizer') || name.endsWith('.safetensors')) {
      files[name] = readFileSync(join(dir, name));
    }
  }
  result = await measureTinyLM(TinyLM, { files }, { ...settings, weights, maxContext: 256 });
  await TinyLM.shutdown();
} else if (side === 'ort') {
  const ort = await import('onnxruntime-web');
  result = await measureOrt(ort, readFileSync(join(dir, `${weights}.onnx`)), { ...settings, form: weights, threads,
    shape: JSON.parse(readFileSync(join(dir, 'onnx.json'), 'utf8')), check: JSON.parse(readFileSync(join(dir, 'check.json'), 'utf8')) });
  result.ort = ort.env.versions?.web;
} else {
  console.error('usage: node bench/wasm/hf_peer_node.mjs tinylm|ort DIR --weights f32|int8 --threads N --generate G --repeats R');
  process.exit(2);
}
const mb = (bytes) => +(bytes / 2 ** 20).toFixed(1);
console.log(JSON.stringify({ ...result, peak_rss_mb: mb(process.resourceUsage().maxRSS * 1024), rss_mb: mb(process.memoryUsage().rss) }));
process.exit(0);
