// The package's Hugging Face loading in Chromium: a page imports dist/browser.js (with an import map for
// @huggingface/jinja, which chat() imports on first use) and loads a SmolLM2-layout checkpoint from a local
// stand-in for the Hub (tests/js/hf/hub_server.mjs), twice: the second load must come from browser storage without a
// single request to the hub, and give the same model; chat() must stream a reply that ends where <|im_end|> was
// sampled.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';

import { checkpoints, TEXT } from '../js/hf/checkpoints.mjs';
import { startHub } from '../js/hf/hub_server.mjs';
import { chromiumPath, launchBrowser, openPage, root } from './helpers.mjs';

const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const page = `<!doctype html><title>tinylm hub test</title><link rel="icon" href="data:,">
<script type="importmap">{ "imports": { "@huggingface/jinja": "/jinja/index.js" } }</script>
<script type="module">
import { TinyLM } from '/dist/browser.js';
window.tinylm = TinyLM;
window.ready = true;
</script>`;

let hub, browser, made;
const skip = (!existsSync(join(root, 'dist', 'browser.js')) || !existsSync(chromiumPath)) && 'build the package first';

before(async () => {
  if (skip) return;
  made = checkpoints();
  hub = await startHub({ 'test/smollm2-chat': made.folders['smollm2-chat'] }, {
    statics: async (path) => {
      if (path === '/') return { body: page, type: 'text/html' };
      const file = path.startsWith('/dist/') ? join(root, path)
        : path.startsWith('/jinja/') ? join(root, 'node_modules/@huggingface/jinja/dist', path.slice('/jinja/'.length)) : undefined;
      if (!file) return undefined;
      try {
        return { body: await readFile(file), type: types[extname(file)] ?? 'application/octet-stream' };
      } catch {
        return undefined;
      }
    },
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await hub?.close();
});

test('Chromium: hf: from a local hub, a second load from browser storage, chat() to <|im_end|>', { skip }, async () => {
  const { page: tab, problems } = await openPage(await browser.newContext(), `${hub.host}/`);
  await tab.waitForFunction(() => window.ready === true);
  const load = () => tab.evaluate(async ({ host, text }) => {
    const events = [];
    const lm = await window.tinylm.load('hf:test/smollm2-chat', { hubHost: host, onProgress: (event) => events.push(event) });
    const loss = (await lm.evaluate(text)).loss;
    const source = lm.info.source;
    await lm.dispose();
    return { loss, bytes: source.bytes, location: source.location, last: events.at(-1) };
  }, { host: hub.host, text: TEXT });

  const hubRequests = () => hub.requests.filter((path) => path.startsWith('/test/')).length;
  const first = await load();
  const served = hubRequests();
  assert.equal(served, 5);
  assert.deepEqual(first.last, { loaded: first.bytes, total: first.bytes, file: 'model.safetensors' });
  assert.equal(first.bytes, hub.bytesServed);
  const second = await load();
  assert.equal(hubRequests(), served, 'the second load reads every file from browser storage');
  assert.equal(second.loss, first.loss);
  assert.deepEqual(second.last, first.last);

  // Sampling a seed with no end of turn shows where <|im_end|> comes; chat() must stop right there.
  const chat = await tab.evaluate(async ({ host, imEnd }) => {
    const lm = await window.tinylm.load('hf:test/smollm2-chat', { hubHost: host });
    const messages = [{ role: 'user', content: 'Hello! How are you?' }];
    const prompt = await lm.chatPrompt(messages);
    const collect = async (iterable) => {
      let text = '';
      for await (const piece of iterable) text += piece;
      return text;
    };
    for (let seed = 1; seed <= 10; ++seed) {
      const tokens = [];
      for await (const step of lm.generateSteps(prompt, { seed, maxTokens: 40, temperature: 1, alternatives: 0 })) tokens.push(step.token);
      const end = tokens.indexOf(imEnd);
      if (end > 0) {
        const reply = await collect(lm.chat(messages, { seed, maxTokens: 40, temperature: 1 }));
        return { seed, expected: await lm.decode(tokens.slice(0, end)), reply };
      }
    }
    return undefined;
  }, { host: hub.host, imEnd: made.imEnd });
  assert.ok(chat, 'a seed whose reply ends at <|im_end|>');
  assert.equal(chat.reply, chat.expected);
  assert.deepEqual(problems, []);
});
