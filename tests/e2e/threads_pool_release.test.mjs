// The built site on threads starts its engine's pthread Workers only once the engine has done its first piece of
// work (web/lib/pool_release.ts): while the playground loads its model and says 'Ready.', no pthread Worker's
// script has been asked for; after the first generation the Workers start, the engine grows to the thread count
// the footer shows, and the next generation runs on them with no error. A page that loads its model and then
// waits gets its threads too, once the engine has been idle a while. (The parts on their own, with fake Workers:
// tests/js/threads_pool_release.test.mjs.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveSite, siteForTest } from './helpers.mjs';

const skip = !haveSite && 'build the site first (npm run build:site)';
// A pthread Worker runs the engine worker's script again (web/lib/worker_pthread_start.ts): every request for it
// after the engine worker's own is a pthread Worker's.
const threadedScript = /\/assets\/worker_browser_threads-[^/]*\.js$/;

// The engine worker's own timeline marks (web/lib/worker_state.ts's markTimeline), by name.
const engineMarks = (worker) => worker.evaluate(() => performance.getEntriesByType('mark').map((mark) => mark.name));

async function generate(page) {
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByRole('status').filter({ hasText: 'Done.' }).waitFor({ timeout: 60_000 });
}

// Resolves once the engine has grown to its threads (worker_browser_threads.ts marks it).
const grown = (worker) => worker.evaluate(() => new Promise((resolve) => {
  const poll = () => (performance.getEntriesByName('tinylm threads ready').length > 0 ? resolve() : setTimeout(poll, 20));
  poll();
}));

// The playground, isolated by the server's headers alone, until it says 'Ready.' (its model loaded), with the
// requests for the threaded worker's script (the engine's, then each pthread Worker's) and the page's errors as they
// come, and the engine's worker.
async function readyPlayground(t) {
  const { server, browser } = await siteForTest(t);
  const context = await browser.newContext();
  await context.addInitScript(() => delete Navigator.prototype.serviceWorker);
  const scriptRequests = [];
  context.on('request', (request) => threadedScript.test(new URL(request.url()).pathname) && scriptRequests.push(request.url()));
  const page = await context.newPage();
  const errors = [];
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  page.on('pageerror', (error) => errors.push(error.message));
  await page.goto(`${server.url}index.html`);
  await page.getByRole('status').filter({ hasText: 'Ready.' }).waitFor({ timeout: 60_000 });
  const engineWorker = page.workers().find((worker) => /worker_browser_threads/.test(worker.url()));
  assert.ok(engineWorker, `the threaded engine's worker runs: ${page.workers().map((worker) => worker.url())}`);
  return { page, engineWorker, scriptRequests, errors };
}

test('the pthread Workers start after the first generation, not while the model loads, and the engine grows to its threads', { skip, timeout: 120_000 }, async (t) => {
  const { page, engineWorker, scriptRequests, errors } = await readyPlayground(t);
  assert.equal(scriptRequests.length, 1, 'no pthread Worker while the engine starts and loads the model');
  assert.ok(!(await engineMarks(engineWorker)).includes('tinylm pthread workers started'));

  await page.getByLabel('Max tokens').fill('30');
  await generate(page);
  await grown(engineWorker);
  const marks = await engineMarks(engineWorker);
  const started = marks.indexOf('tinylm pthread workers started');
  assert.ok(started >= 0 && started < marks.indexOf('tinylm threads ready'), marks.join(', '));
  const threads = Number((await page.locator('[data-slot="runtime"]').innerText()).match(/on (\d) threads/)?.[1]);
  assert.ok(threads >= 2, `the footer shows the thread count: ${threads}`);
  assert.ok(scriptRequests.length >= 2, 'the pthread Workers asked for their script');

  await generate(page);  // on all the threads now
  assert.ok(await page.getByRole('option').count() >= 25, 'the playground generated on threads');
  assert.deepEqual(errors, [], 'the engine grew without an error (it says so in the console when it cannot)');
});

test('a page that loads its model and waits: the pthread Workers start once the engine has been idle', { skip, timeout: 120_000 }, async (t) => {
  const { engineWorker, scriptRequests, errors } = await readyPlayground(t);
  await grown(engineWorker);  // no generation: the idle spell releases them
  assert.ok(scriptRequests.length >= 2, 'the pthread Workers asked for their script');
  assert.deepEqual(errors, []);
});
