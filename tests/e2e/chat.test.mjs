// The chat's promises, each a defect the page once had: the context budget follows the model and the page shows
// exactly what the model reads; the user's message always reaches the model and older turns are trimmed first;
// replies end at a turn boundary, never just repeat the user (even after learning from the conversation), and an
// empty reply is shown as such and kept out of the context; the log follows the reply; profile, conversation and
// the learned model survive a reload and can be cleared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { desktop, root, screenshot, siteSession } from './helpers.mjs';

const { skip, visit } = siteSession();

const ready = (page) => page.getByRole('status').filter({ hasText: /^Ready/ }).first().waitFor({ timeout: 45_000 });
const yourTurn = (page) => page.getByRole('status').filter({ hasText: 'Your turn.' }).first().waitFor({ timeout: 45_000 });

async function say(page, text) {
  const before = await page.locator('.turn.model').count();
  await page.getByLabel('Message').fill(text);
  await page.getByRole('button', { name: 'Send' }).click();
  await page.waitForFunction((count) => document.querySelectorAll('.turn.model').length > count && !document.querySelector('.turn .caret'), before);
  await yourTurn(page);
}

const turnTexts = (page, speaker) => page.locator(`.turn.${speaker} .text`).allInnerTexts();
const context = (page) => page.getByTestId('context').textContent();
const normalise = (text) => text.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim();

test('the context budget is the model’s window, in its units, and the page shows exactly what it reads', { skip, timeout: 90_000 }, async () => {
  const { page, problems } = await visit('chat', desktop);
  await ready(page);
  await page.getByLabel('Model', { exact: true }).selectOption({ label: 'Moby Dick · GPT' });
  await ready(page);
  const budget = page.getByLabel('Context budget (characters)');
  const max = Number(await budget.getAttribute('max'));
  assert.equal(max, 112, 'a 128-character GPT leaves 16 characters to start its reply');
  assert.ok(Number(await budget.inputValue()) <= max);
  await say(page, 'Is the ship ready to sail?');
  const text = await context(page);
  const used = [...text].length;
  assert.ok(used <= max, `the model reads ${used} characters, over its ${max}`);
  assert.match(await page.getByTestId('context-usage').innerText(), new RegExp(`^Context: \\d+ of ${Number(await budget.inputValue())} characters$`));
  assert.deepEqual(problems, []);
});

test('the user’s message always reaches the model; older turns are trimmed first', { skip, timeout: 90_000 }, async () => {
  const { page, problems } = await visit('chat', desktop);
  await ready(page);
  await page.getByLabel('Model', { exact: true }).selectOption({ label: 'Moby Dick · GPT' });
  await ready(page);
  await page.getByLabel('An opening line about you').fill('I am a retired sea captain from Nantucket who has sailed round the Horn eleven times and knows every whale by name.');
  // Three messages of 40–50 characters cannot all fit in 112, whatever the replies are.
  await say(page, 'I sailed on a whaler once, a long time ago.');
  await say(page, 'The harpooner was a quiet man from the islands.');
  await say(page, 'Where do you think the white whale is now?');
  const text = await context(page);
  assert.ok(text.endsWith('Where do you think the white whale is now?\n'), `the newest message ends the context: ${JSON.stringify(text)}`);
  assert.ok(!text.includes('I sailed on a whaler once'), `the oldest turn was trimmed: ${JSON.stringify(text)}`);
  assert.ok(!text.includes('retired sea captain'), 'the long opening line gave way to the message');
  assert.match(await page.getByTestId('trim-note').innerText(), /older turns? no longer fit/);
  assert.ok(await page.locator('.turn.trimmed').count() >= 1, 'trimmed turns are dimmed');
  await screenshot(page, 'chat-trimmed');
  assert.deepEqual(problems, []);
});

test('replies are whole turns that never repeat the user, even after learning from the conversation', { skip, timeout: 120_000 }, async () => {
  const { page, problems } = await visit('chat', desktop);
  await ready(page);
  const lines = ['I walked to the village this morning.', 'The roads were very dirty after the rain.', 'My sister says I should have stayed at home.'];
  for (const line of lines) await say(page, line);
  await page.getByRole('button', { name: 'Learn from this conversation' }).click();
  await page.getByRole('status').filter({ hasText: 'Learned from your 3 messages' }).waitFor({ timeout: 60_000 });
  for (const line of ['Do you think she was right?', 'I walked to the village this morning.']) await say(page, line);
  const users = (await turnTexts(page, 'user')).map(normalise);
  for (const turn of await page.locator('.turn.model').all()) {
    const reply = await turn.locator('.text').innerText();
    const empty = await turn.evaluate((node) => node.classList.contains('empty'));
    if (empty) continue;
    assert.ok(!users.includes(normalise(reply)), `the reply repeats the user: ${reply}`);
    const ended = await turn.getAttribute('data-ended');
    assert.ok(ended === 'turn' || /[.!?…]['’"”)]*$/.test(reply), `a reply cut by the token limit ends at a sentence or with “…”: ${reply}`);
  }
  assert.deepEqual(problems, []);
});

test('the log follows the reply and is announced politely', { skip, timeout: 90_000 }, async () => {
  const { page, problems } = await visit('chat', { viewport: { width: 1280, height: 700 } });
  await ready(page);
  const log = page.getByRole('log', { name: 'Conversation' });
  assert.equal(await log.getAttribute('aria-live'), 'polite');
  for (let turn = 0; turn < 6; turn++) {
    await say(page, `Tell me more about the ball, please (${turn + 1}).`);
    const gap = await log.evaluate((node) => node.scrollHeight - node.clientHeight - node.scrollTop);
    assert.ok(gap <= 2, `the newest reply is in view (${gap}px below)`);
  }
  assert.ok(await log.evaluate((node) => node.scrollHeight > node.clientHeight), 'the log overflowed, so following it was tested');
  assert.deepEqual(problems, []);
});

test('an empty reply is shown as such and kept out of the context', { skip: skip || (!existsSync(join(root, 'build/tinylm')) && 'needs build/tinylm'), timeout: 90_000 }, async () => {
  // A model that ends its turn at once: trained on nothing but newlines.
  const directory = mkdtempSync(join(tmpdir(), 'tinylm-chat-'));
  writeFileSync(join(directory, 'newlines.txt'), '\n'.repeat(4000));
  const file = join(directory, 'newline-bot.safetensors');
  execFileSync(join(root, 'build/tinylm'), ['train', '--arch', 'lstm', '--layers', '1', '--hidden', '8', '--embed', '4', '--steps', '60',
    '--batch', '4', '--seq', '16', '--lr', '0.05', '--data', join(directory, 'newlines.txt'), '--charset', 'ascii+typographic', '--quiet', '--out', file], { stdio: 'ignore' });
  const { page, problems } = await visit('finetune', desktop);
  await page.getByRole('status').filter({ hasText: 'Ready.' }).first().waitFor();
  await page.getByLabel('Load a .safetensors file').setInputFiles(file);
  await page.getByRole('status').filter({ hasText: 'Ready.' }).first().waitFor();
  await page.getByLabel('Save as').fill('newline-bot');
  await page.getByRole('button', { name: 'Save in this browser' }).click();
  await page.getByRole('status').filter({ hasText: "Saved as 'newline-bot'" }).waitFor();
  await page.goto(page.url().replace('finetune.html', 'chat.html'));
  await ready(page);
  await page.getByLabel('Model', { exact: true }).selectOption('stored:newline-bot');
  await ready(page);
  await say(page, 'Hello? Is anyone there?');
  const reply = page.locator('.turn.model').last();
  assert.ok(await reply.evaluate((node) => node.classList.contains('empty')));
  assert.match(await reply.innerText(), /no reply/);
  await page.getByLabel('Message').fill('Hello again.');
  await page.getByRole('button', { name: 'Send' }).click();
  await yourTurn(page);
  const text = await context(page);
  assert.ok(!text.includes('no reply') && !/\n\n/.test(text) && !text.includes('…\n'), `the empty reply stays out of the context: ${JSON.stringify(text)}`);
  assert.deepEqual(problems, []);
});

test('profile, conversation and the learned model persist across reloads and can be cleared', { skip, timeout: 120_000 }, async () => {
  const { page, problems } = await visit('chat', desktop);
  await ready(page);
  await page.getByLabel('Your name').fill('Marianne');
  await page.getByLabel('An opening line about you').fill('I love poetry and autumn leaves.');
  await say(page, 'Have you read Cowper?');
  await say(page, 'His verses are so very moving.');
  await page.getByRole('button', { name: 'Learn from this conversation' }).click();
  await page.getByRole('status').filter({ hasText: 'Learned from your 2 messages' }).waitFor({ timeout: 60_000 });

  await page.reload();
  await ready(page);
  assert.equal(await page.getByLabel('Your name').inputValue(), 'Marianne');
  assert.equal(await page.getByLabel('An opening line about you').inputValue(), 'I love poetry and autumn leaves.');
  assert.deepEqual(await turnTexts(page, 'user'), ['Have you read Cowper?', 'His verses are so very moving.']);
  assert.equal(await page.getByLabel('Model', { exact: true }).inputValue(), 'stored:chat-learned', 'the learned model is back');

  await page.getByRole('button', { name: 'Forget what it learned' }).click();
  await page.getByRole('status').filter({ hasText: 'Forgotten' }).first().waitFor({ timeout: 45_000 });
  await page.getByRole('button', { name: 'Clear the conversation' }).click();
  await page.reload();
  await ready(page);
  assert.equal(await page.locator('.turn').count(), 0);
  assert.notEqual(await page.getByLabel('Model', { exact: true }).inputValue(), 'stored:chat-learned');
  assert.ok(!(await page.getByLabel('Model', { exact: true }).locator('option').allInnerTexts()).includes('chat-learned'));
  assert.deepEqual(problems, []);
});
