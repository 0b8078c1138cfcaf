// The built pages start the engine's worker in <head> (web/site/vite.config.ts) and hand it to the package. When
// that worker fails to load before the page's modules run, the head script withdraws it (its onerror), so the
// package never adopts a dead worker: it starts its own at once, the playground generates, and the package has no
// failed worker to warn about (it would have waited its 10 s patience for one handed over: web/lib/given_worker.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveSite, siteForTest } from './helpers.mjs';

const skip = !haveSite && 'build the site first (npm run build:site)';
const engineWorker = /\/assets\/worker_browser(_threads)?-[^/]*\.js$/;

test('a head-started worker that fails to load: the package starts its own, without waiting for the dead one', { skip, timeout: 120_000 }, async (t) => {
  const { server, browser } = await siteForTest(t);
  const context = await browser.newContext();
  const workerRequests = [];
  // The first request for the engine's worker script (the head's) fails as a server error would; later ones (the
  // package's own worker: the same hashed file) are served.
  await context.route(engineWorker, (route) => {
    workerRequests.push(new URL(route.request().url()).pathname);
    return workerRequests.length === 1 ? route.fulfill({ status: 503, body: 'unavailable' }) : route.continue();
  });
  const page = await context.newPage();
  const warnings = [];
  page.on('console', (message) => message.type() === 'warning' && warnings.push(message.text()));
  await page.goto(`${server.url}index.html`);
  await page.getByRole('status').filter({ hasText: 'Ready.' }).waitFor({ timeout: 60_000 });
  await page.getByLabel('Max tokens').fill('20');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByRole('status').filter({ hasText: 'Done.' }).waitFor({ timeout: 60_000 });
  assert.ok(await page.getByRole('option').count() >= 15, 'the playground generated');
  assert.equal(workerRequests.length, 2, `the head's worker, then the package's own: ${workerRequests}`);
  assert.equal(workerRequests[0], workerRequests[1]);
  assert.deepEqual(warnings.filter((text) => /tinylm-js/.test(text)), []);
});
