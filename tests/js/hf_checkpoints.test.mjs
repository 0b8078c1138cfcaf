// Hugging Face checkpoint folders through the package in Node: TinyLM.load({ baseUrl }), 'hf:owner/name' with
// hubHost pointed at a local stand-in for the Hub (hf/hub_server.mjs), a bytes map and a File list. Folders in the
// published layouts with random weights (hf/checkpoints.mjs): GPT-2 (openai-community/gpt2's file, the real 50257-
// token vocabulary) and SmolLM2 (Llama, BF16, single file and sharded, ChatML template). Checks the loss against
// PyTorch on the same ids, the progress events against the bytes served, the Node cache directory, errors that
// name the problem (the engine stays usable), cancellation during a download, and chat().
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { checkpoints, TEXT } from './hf/checkpoints.mjs';
import { startHub } from './hf/hub_server.mjs';
import { TinyLM, collect, temporaryDirectory, tinylmError } from './helpers.mjs';

let made, hub, broken;

before(async () => {
  made = checkpoints();
  // Broken copies of the GPT-2 folder: each lacks something or says something tinylm cannot read.
  broken = mkdtempSync(join(tmpdir(), 'tinylm-hf-broken-'));
  const copy = (name, change) => {
    const folder = join(broken, name);
    cpSync(made.folders.gpt2, folder, { recursive: true });
    change(folder);
    return folder;
  };
  const config = JSON.parse(readFileSync(join(made.folders.gpt2, 'config.json'), 'utf8'));
  const repos = {
    'test/gpt2': made.folders.gpt2,
    'test/smollm2': made.folders.smollm2,
    'test/smollm2-sharded': made.folders['smollm2-sharded'],
    'test/smollm2-chat': made.folders['smollm2-chat'],
    'test/no-tokenizer': copy('no-tokenizer', (folder) => rmSync(join(folder, 'tokenizer.json'))),
    'test/mistral': copy('mistral', (folder) => writeFileSync(join(folder, 'config.json'),
      JSON.stringify({ ...config, architectures: ['MistralForCausalLM'], model_type: 'mistral' }))),
    'test/wrong-width': copy('wrong-width', (folder) => writeFileSync(join(folder, 'config.json'),
      JSON.stringify({ ...config, n_embd: 48 }))),
  };
  hub = await startHub(repos);
});

after(async () => {
  if (broken) rmSync(broken, { recursive: true, force: true });
  await hub?.close();
  await TinyLM.shutdown();
});

function relativeError(actual, expected) {
  return Math.abs(actual - expected) / Math.abs(expected);
}

function requestsFor(repo) {
  return hub.requests.filter((path) => path.startsWith(`/${repo}/`));
}

test('GPT-2 from { baseUrl }: the published layout and vocabulary, PyTorch loss, progress that adds up to the bytes served', async () => {
  const served = hub.bytesServed;
  const events = [];
  const lm = await TinyLM.load({ baseUrl: `${hub.host}/test/gpt2/resolve/main/` }, { onProgress: (event) => events.push(event) });
  try {
    assert.equal(lm.info.arch, 'gpt');
    assert.equal(lm.info.source.architecture, 'GPT2LMHeadModel');
    assert.equal(lm.info.source.dtype, 'f32');
    assert.equal(lm.info.vocabSize, 50257);
    assert.equal(lm.info.contextSize, 64);
    // wte (V,C) + wpe (64,C) + 2 blocks of 12C²+13C + ln_f (2C), C = 32: the head is tied, the masks are not weights.
    assert.equal(lm.info.parameterCount, 50257 * 32 + 64 * 32 + 2 * (12 * 32 * 32 + 13 * 32) + 2 * 32);
    assert.deepEqual(Array.from(await lm.encode(TEXT)), made.ids.gpt2);
    const { loss, tokens } = await lm.evaluate(TEXT);
    assert.equal(tokens, made.ids.gpt2.length - 1);
    assert.ok(relativeError(loss, made.expected.gpt2) < 1e-5, `loss ${loss} vs PyTorch ${made.expected.gpt2}`);

    const bytes = hub.bytesServed - served;
    const last = events.at(-1);
    assert.equal(last.loaded, bytes);
    assert.equal(last.total, bytes);
    assert.equal(lm.info.source.bytes, bytes);
    for (let i = 1; i < events.length; ++i) assert.ok(events[i].loaded >= events[i - 1].loaded && events[i].loaded <= events[i].total);
    assert.deepEqual([...new Set(events.map((event) => event.file))],
      ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model.safetensors']);
  } finally {
    await lm.dispose();
  }
});

test("SmolLM2 from 'hf:owner/name' at a configured hub host: BF16 single file and sharded give PyTorch's loss", async () => {
  const single = await TinyLM.load('hf:test/smollm2', { hubHost: hub.host });
  TinyLM.configure({ hubHost: hub.host, revision: 'main' });
  let sharded;
  try {
    sharded = await TinyLM.load('hf:test/smollm2-sharded');
  } finally {
    TinyLM.configure({ hubHost: 'https://huggingface.co' });
  }
  try {
    assert.equal(single.info.arch, 'llama');
    assert.deepEqual({ ...single.info.source, chatTemplate: undefined, bytes: undefined }, {
      format: 'huggingface', location: 'hf:test/smollm2@main', architecture: 'LlamaForCausalLM', dtype: 'bf16',
      bytes: undefined, chatTemplate: undefined, bosToken: '<|im_start|>', eosToken: '<|im_end|>', endTokens: ['<|im_end|>'],
    });
    assert.deepEqual(Array.from(await single.encode(TEXT)), made.ids.smollm2);
    const loss = (await single.evaluate(TEXT)).loss;
    assert.ok(relativeError(loss, made.expected.smollm2) < 1e-5, `loss ${loss} vs PyTorch ${made.expected.smollm2}`);
    assert.equal((await sharded.evaluate(TEXT)).loss, loss);
    assert.deepEqual(requestsFor('test/smollm2-sharded').map((path) => path.split('/').at(-1)), [
      'config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'model.safetensors',
      'model.safetensors.index.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  } finally {
    await single.dispose();
    await sharded.dispose();
  }
});

test('a bytes map, a File list and a file: URL load the same model as the hub', async () => {
  const folder = made.folders['smollm2-sharded'];
  const names = readdirSync(folder);
  const map = Object.fromEntries(names.map((name) => [name, new Uint8Array(readFileSync(join(folder, name)))]));
  const fromMap = await TinyLM.load({ files: map });
  const files = names.map((name) => new File([readFileSync(join(folder, name))], name));
  const events = [];
  const fromFiles = await TinyLM.load(files, { onProgress: (event) => events.push(event) });
  const fromDisk = await TinyLM.load({ baseUrl: pathToFileURL(`${folder}/`) });
  try {
    assert.ok(relativeError((await fromMap.evaluate(TEXT)).loss, made.expected.smollm2) < 1e-5);
    assert.equal((await fromFiles.evaluate(TEXT)).loss, (await fromMap.evaluate(TEXT)).loss);
    assert.equal((await fromDisk.evaluate(TEXT)).loss, (await fromMap.evaluate(TEXT)).loss);
    assert.equal(fromDisk.info.source.location, pathToFileURL(`${folder}/`).href);
    assert.equal(fromFiles.info.source.location, 'the files given');
    const total = names.reduce((sum, name) => sum + readFileSync(join(folder, name)).byteLength, 0);
    assert.deepEqual(events.at(-1), { loaded: total, total, file: events.at(-1).file });
    assert.ok(map['config.json'].byteLength > 0, "the caller's bytes are still theirs");
  } finally {
    await fromMap.dispose();
    await fromFiles.dispose();
    await fromDisk.dispose();
  }
});

test('Node keeps downloads only in a cacheDirectory: a second load from it makes no request', async (t) => {
  const cacheDirectory = temporaryDirectory(t);
  const repo = 'test/smollm2';
  const before = requestsFor(repo).length;
  const first = await TinyLM.load(`hf:${repo}`, { hubHost: hub.host, cacheDirectory });
  const afterFirst = requestsFor(repo).length;
  const events = [];
  const second = await TinyLM.load(`hf:${repo}`, { hubHost: hub.host, cacheDirectory, onProgress: (event) => events.push(event) });
  try {
    assert.equal(afterFirst - before, 5);
    assert.equal(requestsFor(repo).length, afterFirst, 'the second load was served from the cache');
    assert.equal(events.at(-1).loaded, second.info.source.bytes);
    assert.equal((await second.evaluate(TEXT)).loss, (await first.evaluate(TEXT)).loss);
    const uncached = await TinyLM.load(`hf:${repo}`, { hubHost: hub.host });
    await uncached.dispose();
    assert.equal(requestsFor(repo).length, afterFirst + 5, 'without a cacheDirectory Node downloads again');
  } finally {
    await first.dispose();
    await second.dispose();
  }
});

test('errors name the problem: a missing file, an unsupported architecture, a tensor that disagrees with config.json', async () => {
  await assert.rejects(TinyLM.load('hf:test/no-tokenizer', { hubHost: hub.host }), tinylmError('NOT_FOUND', 'tokenizer.json'));
  await assert.rejects(TinyLM.load('hf:test/absent', { hubHost: hub.host }), tinylmError('NOT_FOUND', 'config.json'));
  const unsupported = await TinyLM.load('hf:test/mistral', { hubHost: hub.host }).catch((error) => error);
  assert.ok(tinylmError('UNSUPPORTED_MODEL', "'MistralForCausalLM'")(unsupported));
  assert.match(unsupported.message, /GPT2LMHeadModel and LlamaForCausalLM/);
  await assert.rejects(TinyLM.load('hf:test/wrong-width', { hubHost: hub.host }),
    tinylmError('INVALID_MODEL_FILE', "tensor 'wte.weight'"));
  await assert.rejects(TinyLM.load('hf:not a repo', { hubHost: hub.host }), tinylmError('INVALID_ARGUMENT', 'hf:owner/name'));
  await assert.rejects(TinyLM.load('hf:test/gpt2', { hubHost: hub.host, cach: true }), tinylmError('INVALID_ARGUMENT', "'cache'"));
  const lm = await TinyLM.load('hf:test/smollm2', { hubHost: hub.host });  // the engine is still serving
  assert.ok(relativeError((await lm.evaluate(TEXT)).loss, made.expected.smollm2) < 1e-5);
  await lm.dispose();
});

test('an AbortSignal stops a download; the next load works', async () => {
  hub.delayMs = 5;
  const controller = new AbortController();
  try {
    const loading = TinyLM.load('hf:test/gpt2', {
      hubHost: hub.host,
      signal: controller.signal,
      onProgress: (event) => event.file === 'model.safetensors' && event.loaded > event.total / 2 && controller.abort(),
    });
    await assert.rejects(loading, tinylmError('ABORTED'));
  } finally {
    hub.delayMs = 0;
  }
  const lm = await TinyLM.load('hf:test/gpt2', { hubHost: hub.host });
  assert.ok(relativeError((await lm.evaluate(TEXT)).loss, made.expected.gpt2) < 1e-5);
  await lm.dispose();
});

test("chat(): the prompt is the checkpoint's ChatML template rendered, and the reply ends at <|im_end|>", async () => {
  const lm = await TinyLM.load('hf:test/smollm2-chat', { hubHost: hub.host });
  try {
    const messages = [{ role: 'user', content: 'Hello! How are you?' }];
    const prompt = await lm.chatPrompt(messages);
    assert.equal(prompt, '<|im_start|>system\nYou are a helpful AI assistant named SmolLM, trained by Hugging Face<|im_end|>\n' +
      '<|im_start|>user\nHello! How are you?<|im_end|>\n<|im_start|>assistant\n');
    const withSystem = await lm.chatPrompt([{ role: 'system', content: 'Be brief.' }, ...messages,
      { role: 'assistant', content: 'Fine.' }, { role: 'user', content: 'Sure?' }]);
    assert.equal(withSystem, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHello! How are you?<|im_end|>\n' +
      '<|im_start|>assistant\nFine.<|im_end|>\n<|im_start|>user\nSure?<|im_end|>\n<|im_start|>assistant\n');
    // Sampling the same seed with no end of turn shows where <|im_end|> comes; chat() must stop right there.
    let checked = 0;
    for (let seed = 1; seed <= 10 && checked < 3; ++seed) {
      const tokens = [];
      for await (const step of lm.generateSteps(prompt, { seed, maxTokens: 40, temperature: 1, alternatives: 0 })) tokens.push(step.token);
      const end = tokens.indexOf(made.imEnd);
      if (end <= 0) continue;
      const reply = await collect(lm.chat(messages, { seed, maxTokens: 40, temperature: 1 }));
      assert.equal(reply, await lm.decode(tokens.slice(0, end)), `seed ${seed}`);
      checked += 1;
    }
    assert.equal(checked, 3, 'three seeds whose reply ends at <|im_end|> after some text');
  } finally {
    await lm.dispose();
  }
  const gpt2 = await TinyLM.load('hf:test/gpt2', { hubHost: hub.host });
  await assert.rejects(collect(gpt2.chat([{ role: 'user', content: 'Hi' }])), tinylmError('INVALID_ARGUMENT', 'chat template'));
  await assert.rejects(gpt2.chatPrompt([{ role: 'user' }]), tinylmError('INVALID_ARGUMENT', 'messages[0]'));
  await gpt2.dispose();
});
