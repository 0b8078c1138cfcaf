// The playground on the built site: the default model streams text, Stop ends a long generation, a generated
// token shows its top-5 alternatives, the generated text is one tab stop with arrow keys between tokens, and
// nothing is logged as an error. Also checked on a narrow (phone) screen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveSite, launchBrowser, openPage, screenshot, serveSite } from './helpers.mjs';

test('playground streams, stops and shows alternatives', { skip: !haveSite && 'build the site first (npm run build:site)', timeout: 60_000 }, async (t) => {
  const server = await serveSite();
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const { page, problems } = await openPage(await browser.newContext(), `${server.url}index.html`);
  const generate = page.getByRole('button', { name: 'Generate' });
  await page.getByRole('status').filter({ hasText: 'Ready.' }).waitFor();

  await page.getByLabel('Max tokens').fill('60');
  await generate.click();
  await page.getByRole('status').filter({ hasText: 'Done.' }).waitFor();
  const tokens = await page.getByRole('option').count();
  assert.ok(tokens >= 50, `expected about 60 streamed tokens, got ${tokens}`);
  assert.match(await page.locator('.metrics').innerText(), /tokens\/s/);

  await page.getByRole('option').nth(3).hover();
  assert.equal(await page.locator('.alternatives tbody tr').count(), 5);
  assert.match(await page.locator('.alternatives').innerText(), /chosen/);

  // One tab stop for the whole text: Tab from Stop's neighbour lands on a token, the next Tab leaves the text.
  const focusedOption = () => page.evaluate(() => document.activeElement?.getAttribute('role') === 'option' ? Number(document.activeElement.dataset.index) : -1);
  assert.equal(await page.locator('[role=option][tabindex="0"]').count(), 1, 'exactly one token is in the tab order');
  await page.getByRole('option').nth(3).click();
  assert.equal(await focusedOption(), 3);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focusedOption(), 5);
  assert.match(await page.locator('.alternatives caption').innerText(), /^Token 6 of/);
  await page.keyboard.press('Home');
  assert.equal(await focusedOption(), 0);
  await page.keyboard.press('Tab');
  assert.equal(await focusedOption(), -1, 'Tab leaves the generated text');

  await page.getByLabel('Max tokens').fill('1000');
  await generate.click();
  await page.waitForFunction(() => document.querySelectorAll('.output [role=option]').length >= 20);
  await page.getByRole('button', { name: 'Stop' }).click();
  await page.getByRole('status').filter({ hasText: 'Stopped.' }).waitFor();
  const stoppedAt = await page.getByRole('option').count();
  assert.ok(stoppedAt < 1000, `Stop should end the generation early (${stoppedAt} tokens)`);
  assert.equal(await generate.isEnabled(), true);
  await screenshot(page, 'playground');

  await page.setViewportSize({ width: 375, height: 800 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `the page scrolls sideways on a phone by ${overflow}px`);
  await screenshot(page, 'playground-mobile');
  assert.deepEqual(problems, []);
});
