// The package's code that loads on first use (web/lib/first_use.ts): where its chunk does not arrive, the call that
// needed it fails with a TinyLMError naming what was missing, and the model goes on working. Chromium, over the
// published dist/ with those files answered 404.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runInChromium, skipWithoutChromium } from './chromium.mjs';

const missing = ['/dist/fine_tune.js', '/dist/adapters.js', '/dist/chat.js', '/dist/load_checkpoint.js'];

const page = `<!doctype html><script type="module">
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
const outcome = async (call) => {
  try {
    await call();
    return 'no error';
  } catch (error) {
    return error.name + ' ' + error.code + ': ' + error.message;
  }
};
try {
  const { TinyLM } = await import('/dist/browser.js');
  TinyLM.configure({ threads: 1 });
  const lm = await TinyLM.load();
  const before = await lm.evaluate('Call me Ishmael. Some years ago, never mind how long precisely.');
  const fineTune = await outcome(() => lm.fineTune('Call me Ishmael. '.repeat(200), { steps: 2 }));
  const adapters = await outcome(() => lm.listAdapters());
  const chat = await outcome(() => lm.chatPrompt([{ role: 'user', content: 'Hello' }]));
  const checkpoint = await outcome(() => TinyLM.load({ baseUrl: '/folder/' }));
  const after = await lm.evaluate('Call me Ishmael. Some years ago, never mind how long precisely.');
  let sample = '';
  for await (const piece of lm.generate('Call me', { maxTokens: 10, seed: 1 })) sample += piece;
  await report({ fineTune, adapters, chat, checkpoint, before, after, sample });
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message });
}
</script>`;

test('Chromium: a first-use chunk that does not arrive fails its call with NOT_FOUND naming it; the model stays usable', { skip: skipWithoutChromium }, async (t) => {
  const respond = (path, response) => missing.includes(path) && (response.writeHead(404).end(), true);
  const { outcome, requested } = await runInChromium(t, page, { respond });
  assert.equal(outcome.error, undefined, outcome.error);
  const reason = /could not be loaded \(.+\); serve every file the app's bundler emitted/;
  for (const [call, what] of [['fineTune', 'fine-tuning'], ['adapters', 'LoRA adapters'], ['chat', 'chat'], ['checkpoint', 'Hugging Face checkpoints']]) {
    assert.match(outcome[call], new RegExp(`^TinyLMError NOT_FOUND: tinylm-js: the package's code for ${what} `), call);
    assert.match(outcome[call], reason, call);
  }
  assert.deepEqual(outcome.after, outcome.before, 'the model evaluates as before');
  assert.ok(outcome.sample.length > 0);
  for (const path of missing) assert.ok(requested.includes(path), `${path} was asked for`);
});
