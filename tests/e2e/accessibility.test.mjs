// Every page, at 1280×800 and on a 390×844 phone: axe-core finds no violation once the page is ready and again
// after its main interaction; each state is screenshotted (test-artifacts/<page>-<width>[-after].png); no page
// scrolls sideways; no page logs an error. At the desktop width the header's toggle then switches to the dark
// theme, which must pass too (colour contrast) and is remembered across a reload.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { axe, desktop, phone, screenshot, siteSession } from './helpers.mjs';

const { skip, visit } = siteSession();

const status = (page, text) => page.getByRole('status').filter({ hasText: text }).first().waitFor({ timeout: 45_000 });
const live = (page, testId) => page.locator(`[data-testid=${testId}][data-live=true]`).waitFor({ timeout: 45_000 });

// Per page: how to know it is ready, and its main interaction (done with the keyboard where the page offers it).
const pages = {
  index: {
    ready: (page) => status(page, 'Ready.'),
    async interact(page) {
      const settings = page.locator('details.settings');
      if (!(await settings.evaluate((details) => details.open))) await settings.locator('summary').click();  // folded on phones
      await page.getByLabel('Max tokens').fill('40');
      await page.getByRole('button', { name: 'Generate' }).click();
      await status(page, 'Done.');
      await page.getByRole('option').first().focus();
      await page.keyboard.press('ArrowRight');
      await page.locator('.alternatives tbody tr').first().waitFor();
    },
  },
  finetune: {
    ready: (page) => status(page, 'Ready.'),
    async interact(page) {
      await page.getByLabel('Steps').fill('3');
      await page.getByRole('button', { name: 'Fine-tune' }).click();
      await status(page, 'Done');
    },
  },
  chat: {
    ready: (page) => status(page, 'Ready'),
    async interact(page) {
      await page.getByRole('button', { name: 'Good morning! How do you do?' }).click();
      await status(page, 'Your turn.');
    },
  },
  ...Object.fromEntries(['rnn', 'lstm', 'gru'].map((arch) => [`learn-${arch}`, {
    ready: (page) => live(page, 'heatmap-source'),
    async interact(page) {
      await page.getByLabel('Text to run through the model').fill('the sea');
      await page.waitForFunction(() => document.querySelector('[data-testid=heatmap]').getAttribute('aria-label').includes('“the␣sea”'));
    },
  }])),
  'learn-transformer': {
    ready: (page) => live(page, 'attention-source'),
    async interact(page) {
      await page.locator('.attention-surface').focus();
      await page.keyboard.press('ArrowDown');
      await page.keyboard.press('ArrowDown');
      await page.getByTestId('attention-readout').filter({ hasText: '(position 3)' }).waitFor();
    },
  },
  'learn-training': {
    ready: () => Promise.resolve(),
    async interact(page) {
      await page.getByRole('button', { name: /Train a/ }).click();
      await status(page, 'Trained 200 steps');
    },
  },
  'learn-sampling': {
    ready: (page) => live(page, 'distribution-source'),
    async interact(page) {
      await page.getByLabel('Top-k').fill('3');
      await page.locator('[data-testid=distribution] tbody tr').nth(2).waitFor();
    },
  },
  api: {
    ready: () => Promise.resolve(),
    async interact(page) {
      await page.getByRole('button', { name: 'Run: lm.generate(prompt, options)' }).click();
      await page.waitForFunction(() => document.querySelector('[data-testid=result-1]').dataset.state === 'done');
    },
  },
};

for (const [name, { ready, interact }] of Object.entries(pages)) {
  for (const [width, options] of [['1280', desktop], ['390', phone]]) {
    test(`${name} at ${width}px: no axe violations before and after its interaction`, { skip, timeout: 90_000 }, async () => {
      const { page, problems } = await visit(name, options);
      await ready(page);
      assert.deepEqual(await axe(page), [], `${name} at ${width}px, ready`);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 1, `${name} at ${width}px scrolls sideways by ${overflow}px`);
      await screenshot(page, `${name}-${width}`);
      await interact(page);
      assert.deepEqual(await axe(page), [], `${name} at ${width}px, after its interaction`);
      await screenshot(page, `${name}-${width}-after`);
      if (width === '1280') {
        await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
        await page.waitForFunction(() => !('themeSwitching' in document.documentElement.dataset));
        assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
        assert.deepEqual(await axe(page), [], `${name}, dark theme`);
        await screenshot(page, `${name}-1280-dark`);
      }
      assert.deepEqual(problems, []);
      await page.context().close();
    });
  }
}

test('the theme toggle is remembered across a reload, before the first paint', { skip, timeout: 60_000 }, async () => {
  const { page, problems } = await visit('learn-training', desktop);
  await page.getByRole('button', { name: 'Switch to the dark theme' }).click();
  await page.reload();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.equal(await page.evaluate(() => getComputedStyle(document.body).colorScheme), 'dark');
  await page.getByRole('button', { name: 'Switch to the light theme' }).click();
  assert.equal(await page.evaluate(() => localStorage.getItem('tinylm-theme')), 'light');
  assert.deepEqual(problems, []);
  await page.context().close();
});
