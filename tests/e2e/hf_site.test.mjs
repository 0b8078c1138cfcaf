// "Load from the Hugging Face Hub" on the site, against a local stand-in for the Hub (the page's ?hub= parameter
// points at it): the chat page downloads a SmolLM2-layout instruct checkpoint with its size and progress shown,
// the model reads the conversation rendered by the checkpoint's ChatML template, the reply ends at <|im_end|>
// (never shown), and axe finds nothing on the page afterwards; the playground generates from a GPT-2 checkpoint.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { checkpoints } from '../js/hf/checkpoints.mjs';
import { startHub } from '../js/hf/hub_server.mjs';
import { axe, desktop, openPage, screenshot, siteSession } from './helpers.mjs';

const { skip, browser, url } = siteSession();
let hub;

before(async () => {
  if (skip) return;
  const made = checkpoints();
  hub = await startHub({ 'test/smollm2-chat': made.folders['smollm2-chat'], 'test/gpt2': made.folders.gpt2 });
});
after(() => hub?.close());

const status = (page, pattern) => page.getByRole('status').filter({ hasText: pattern }).first().waitFor({ timeout: 60_000 });

test('chat: an instruct model from the Hub, with download progress, answers through its chat template', { skip, timeout: 120_000 }, async () => {
  const { page, problems } = await openPage(await browser().newContext(desktop), `${url()}chat.html?hub=${encodeURIComponent(hub.host)}`);
  await status(page, /^Ready/);
  const field = page.getByLabel('Hugging Face model id');
  assert.equal(await field.inputValue(), 'HuggingFaceTB/SmolLM2-135M-Instruct');
  assert.match(await page.getByTestId('hub-size').innerText(), /about 2\d\d\.\d MB to download/);
  await field.fill('test/smollm2-chat');
  hub.delayMs = 100;  // slow enough to see the progress
  await page.getByRole('button', { name: 'Load from the Hub' }).click();
  await page.getByTestId('load-progress-text').filter({ hasText: /^Downloading test\/smollm2-chat · .* of .* \(\d+%\)$/ }).waitFor({ timeout: 30_000 });
  await status(page, 'Ready: your turn.');
  hub.delayMs = 0;
  assert.match(await page.getByTestId('model-note').innerText(), /instruct model, answering through its own chat template/);

  await page.getByLabel('Message').fill('Hello! How are you?');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.turn.model').length === 1 && !document.querySelector('.turn .caret'));
  await status(page, /^Your turn\.$/);
  const context = await page.getByTestId('context').textContent();
  assert.equal(context, '<|im_start|>system\nAbout the user: My name is Ada. I am fond of long walks and of the sea.<|im_end|>\n' +
    '<|im_start|>user\nHello! How are you?<|im_end|>\n<|im_start|>assistant\n');
  const replies = await page.locator('.turn.model .text').allInnerTexts();
  assert.equal(replies.length, 1);
  assert.ok(!replies[0].includes('<|im_end|>') && !replies[0].includes('<|im_start|>'), `reply: ${JSON.stringify(replies[0])}`);
  assert.match(await page.getByTestId('context-usage').innerText(), /^Context: \d+ of \d+ tokens$/);
  assert.deepEqual(await axe(page), []);
  await screenshot(page, 'chat-hub-model');

  // "Learn from this conversation" trains a LoRA adapter, kept in IndexedDB; after a reload the same model comes
  // back with it, and "Forget" removes it.
  await page.getByLabel('Message').fill('I walked by the sea this morning.');
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction(() => document.querySelectorAll('.turn.model').length === 2 && !document.querySelector('.turn .caret'));
  await status(page, /^Your turn\.$/);
  // The first reply goes back into the template exactly as the model wrote it (the log shows it tidied), so the
  // second chat() can continue from the tokens the model already holds.
  const saved = await page.evaluate(() => JSON.parse(localStorage.getItem('tinylm-chat')).turns);
  const secondContext = await page.getByTestId('context').textContent();
  if (saved[1].empty) {
    assert.ok(!secondContext.includes('<|im_start|>assistant\n<|im_end|>'), 'an empty reply is left out of the context');
  } else {
    assert.equal(saved[1].ended, 'turn');
    assert.equal(typeof saved[1].said, 'string');
    assert.ok(secondContext.includes(`<|im_start|>assistant\n${saved[1].said}<|im_end|>\n<|im_start|>user\nI walked by the sea this morning.<|im_end|>`));
  }
  await page.getByRole('button', { name: 'Learn from this conversation' }).click();
  await status(page, /^Learned from your 2 messages \(12 steps, loss [\d.]+\): a [\d.]+ [kKM]B LoRA adapter, saved in this browser beside test\/smollm2-chat\.$/);
  await page.reload();
  await status(page, /^Ready/);
  await page.getByLabel('Hugging Face model id').fill('test/smollm2-chat');
  await page.getByRole('button', { name: 'Load from the Hub' }).click();
  await status(page, 'Ready: your turn.');
  assert.match(await page.getByTestId('model-note').innerText(), /With what it learned from you \(a [\d.]+ [kKM]B LoRA adapter kept in this browser\)\./);
  await page.getByRole('button', { name: 'Forget what it learned' }).click();
  await status(page, 'Forgotten: test/smollm2-chat answers without what it learned, and the adapter is removed from this browser.');
  assert.deepEqual(await page.evaluate(() => new Promise((resolve) => {
    const request = indexedDB.open('tinylm-chat-adapters', 1);
    request.onsuccess = () => {
      const keys = request.result.transaction('adapters').objectStore('adapters').getAllKeys();
      keys.onsuccess = () => resolve(keys.result);
    };
  })), []);
  assert.deepEqual(problems, []);
});

test('playground: GPT-2 from the Hub generates', { skip, timeout: 120_000 }, async () => {
  const { page, problems } = await openPage(await browser().newContext(desktop), `${url()}index.html?hub=${encodeURIComponent(hub.host)}`);
  await status(page, /^Ready/);
  await page.getByLabel('Hugging Face model id').fill('test/gpt2');
  await page.getByRole('button', { name: 'Load from the Hub' }).click();
  const info = page.locator('.note').filter({ hasText: '50257 BPE tokens' }).first();
  await info.waitFor({ timeout: 60_000 });
  await status(page, /^Ready/);
  assert.match(await info.innerText(), /^GPT · 2 layers × 32 wide, 64-token context · 1\.\d\d M parameters · 50257 BPE tokens · F32 weights/);
  await page.getByRole('button', { name: 'Generate' }).click();
  await status(page, /^Done/);
  assert.ok((await page.getByTestId('output').innerText()).length > 0);
  assert.deepEqual(await axe(page), []);
  assert.deepEqual(problems, []);
});
