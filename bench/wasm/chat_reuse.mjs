// node bench/wasm/chat_reuse.mjs — what chat()'s kept state saves: a three-turn conversation on a random-weight
// SmolLM2-135M-shaped checkpoint (its ChatML template), turn 3's time with reuse (the default: only the tokens new
// since turn 2 are read) and with reusePrompt: false (the whole conversation read again), in Node through the
// package (dist/). The two sides alternate, back to back, `--repeats` times; each line is one conversation.
//
//   node bench/wasm/chat_reuse.mjs [--threads 1] [--weights f32] [--reply 16] [--repeats 3]
//
// The folder (tokenizer files here, the SmolLM2 layout laid out to 49152 ids; BF16 weights by export_hf_onnx.py's
// write_smollm2) is kept in the system's temporary directory under a name derived from the code that makes it.
// Expects dist/ built (npm run build:lib). A benchmark, not a test: nothing here passes or fails on a timing.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import { smollm2TokenizerConfig, smollm2TokenizerJson } from '../../tests/hf_tokenizer/layouts.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const threads = Number(option('threads', '1'));
const weights = option('weights', 'f32');
const replyTokens = Number(option('reply', '16'));
const repeats = Number(option('repeats', '3'));
const USERS = [
  'Call me Ishmael. Some years ago, never mind how long precisely, having little or no money in my purse, I thought I would sail about a little.',
  'What do you think of the watery part of the world, and of driving off the spleen?',
  'And whenever it is a damp, drizzly November in my soul, what should I do?',
];

function folder() {
  const hash = createHash('sha256');
  for (const file of ['bench/wasm/export_hf_onnx.py', 'tests/parity/test_hf_llama.py', 'tests/parity/hf_folders.py',
    'tests/hf_tokenizer/layouts.mjs']) {
    hash.update(readFileSync(join(root, file)));
  }
  const dir = join(tmpdir(), `tinylm-chat-reuse-${hash.digest('hex').slice(0, 16)}`);
  if (existsSync(join(dir, 'model.safetensors'))) return dir;
  mkdirSync(dir, { recursive: true });
  const tokenizer = smollm2TokenizerJson(48879);  // 17 + 256 + merges = 49152 ids, as SmolLM2's
  writeFileSync(join(dir, 'tokenizer.json'), JSON.stringify(tokenizer));
  writeFileSync(join(dir, 'tokenizer_config.json'), JSON.stringify(smollm2TokenizerConfig()));
  console.error(`writing the checkpoint (${dir})`);
  const vocab = Object.keys(tokenizer.model.vocab).length;
  execFileSync('/usr/bin/python3', ['-c', `import sys; sys.path.insert(0, ${JSON.stringify(join(root, 'bench/wasm'))}); ` +
    `import export_hf_onnx; export_hf_onnx.write_smollm2(${JSON.stringify(dir)}, ${vocab})`], { stdio: 'inherit' });
  return dir;
}

const dir = folder();
const { TinyLM } = await import(pathToFileURL(join(root, 'dist', 'node.js')).href);
TinyLM.configure({ threads });
const files = Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name))]));
const lm = await TinyLM.load({ files }, { weights, maxContext: 512 });

// One conversation of three turns, every turn greedy; turn 3's wall time and what it read.
async function conversation(reusePrompt) {
  await lm.evaluate('A different text, so the first turn starts from nothing kept.');
  const messages = [];
  let third;
  for (const [turn, user] of USERS.entries()) {
    messages.push({ role: 'user', content: user });
    const started = performance.now();
    let reply = '';
    for await (const piece of lm.chat(messages, { temperature: 0, maxTokens: replyTokens, reusePrompt })) reply += piece;
    const ms = performance.now() - started;
    messages.push({ role: 'assistant', content: reply });
    if (turn === 2) third = { ms: Math.round(ms), ...lm.lastChatStats() };
  }
  return third;
}

console.error(`load before: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
const rows = { reuse: [], full: [] };
for (let repeat = 0; repeat < repeats; ++repeat) {
  for (const side of repeat % 2 === 0 ? ['reuse', 'full'] : ['full', 'reuse']) {
    const third = await conversation(side === 'reuse');
    rows[side].push(third);
    console.log(JSON.stringify({ side, threads, weights, turn3: third }));
  }
}
console.error(`load after: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`);
const best = (side) => Math.min(...rows[side].map((row) => row.ms));
const { promptTokens, promptTokensRead } = rows.reuse[0];
console.log(`turn 3 (${promptTokens}-token prompt, ${replyTokens} greedy tokens, ${threads} thread(s), ${weights}): ` +
  `reuse ${best('reuse')} ms reading ${promptTokensRead} tokens, full read ${best('full')} ms (best of ${repeats}): ` +
  `${(best('full') / best('reuse')).toFixed(2)}×`);
await lm.dispose();
await TinyLM.shutdown();
