// The built site on threads: served with COOP/COEP (as `npm start` serves it) the engine runs its threaded build
// and every page's footer says how many threads; on a host without those headers, coi-serviceworker isolates the
// page after one reload, with the same result; with service workers blocked as well, the page still works on the
// single-thread build, its footer says why, and the package warns once in the console how to get threads. Each
// way, the playground generates, and a page fetches one build's files only, and of its two .wasm the relaxed SIMD
// one, which Chromium runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { haveSite, launchBrowser, serveSite } from './helpers.mjs';

const skip = !haveSite && 'build the site first (npm run build:site)';
const threadedFiles = /tinylm_wasm_threads[^/]*\.wasm|worker_browser_threads/;
const singleWasm = /\/tinylm_wasm-[^/]*\.wasm|\/tinylm_wasm\.wasm/;
// The .wasm files a page fetched, by their names without the build's hash. Chromium validates relaxed SIMD, so the
// head script and the package both take the build's relaxed .wasm (web/lib/relaxed_simd.ts), and only that one.
const wasmFetched = (run) => [...new Set(run.fetched.filter((path) => path.endsWith('.wasm'))
  .map((path) => path.replace(/^.*\//, '').replace(/^([a-z_]+)-.*\.wasm$/, '$1.wasm')))];  // a hash may hold '-'

async function playground(t, { isolated, serviceWorkers }) {
  const server = await serveSite({ isolated });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const context = await browser.newContext();
  // A browser without service workers (as in some private modes): the site's coi-serviceworker has nothing to use.
  if (serviceWorkers === 'none') await context.addInitScript(() => delete Navigator.prototype.serviceWorker);
  const page = await context.newPage();
  const warnings = [];
  const errors = [];
  const fetched = [];
  page.on('console', (message) => {
    if (message.type() === 'warning') warnings.push(message.text());
    if (message.type() === 'error') errors.push(message.text());
  });
  page.on('pageerror', (error) => errors.push(error.message));
  context.on('request', (request) => fetched.push(new URL(request.url()).pathname));
  await page.goto(`${server.url}index.html`);
  if (!isolated && serviceWorkers === 'allow') await page.waitForFunction(() => crossOriginIsolated, null, { timeout: 20_000 });
  await page.getByRole('status').filter({ hasText: 'Ready.' }).waitFor();
  await page.getByLabel('Max tokens').fill('30');
  await page.getByRole('button', { name: 'Generate' }).click();
  await page.getByRole('status').filter({ hasText: 'Done.' }).waitFor();
  const tokens = await page.getByRole('option').count();
  const footer = await page.locator('[data-slot="runtime"]').innerText();
  return { tokens, footer, warnings, errors, fetched, isolated: await page.evaluate(() => crossOriginIsolated) };
}

test('served with COOP/COEP: the threaded engine, and the footer says on how many threads', { skip, timeout: 120_000 }, async (t) => {
  const run = await playground(t, { isolated: true, serviceWorkers: 'none' });
  assert.equal(run.isolated, true);
  assert.ok(run.tokens >= 25, `${run.tokens} tokens`);
  assert.match(run.footer, /runs in this tab on [2-4] threads/);
  assert.ok(run.fetched.some((path) => threadedFiles.test(path)), 'the threaded build is fetched');
  assert.ok(!run.fetched.some((path) => singleWasm.test(path)), 'the single-thread .wasm is not');
  // Loading and generating, on the engine's thread and its pthreads, run on its primary module alone.
  assert.ok(!run.fetched.some((path) => /deferred/.test(path)), `no deferred module is fetched: ${run.fetched.filter((path) => /deferred/.test(path))}`);
  assert.deepEqual(wasmFetched(run), ['tinylm_wasm_threads_relaxed.wasm']);
  assert.deepEqual(run.warnings.filter((text) => /tinylm-js/.test(text)), []);
  assert.deepEqual(run.errors, []);
});

test('a host without headers: coi-serviceworker isolates the page, and it runs on threads', { skip, timeout: 120_000 }, async (t) => {
  const run = await playground(t, { isolated: false, serviceWorkers: 'allow' });
  assert.equal(run.isolated, true);
  assert.match(run.footer, /runs in this tab on [2-4] threads/);
  assert.ok(run.tokens >= 25, `${run.tokens} tokens`);
  assert.deepEqual(run.errors, []);
});

test('no headers and no service worker: one thread, said in the footer and in one console warning', { skip, timeout: 120_000 }, async (t) => {
  const run = await playground(t, { isolated: false, serviceWorkers: 'none' });
  assert.equal(run.isolated, false);
  assert.ok(run.tokens >= 25, `${run.tokens} tokens`);
  assert.match(run.footer, /runs in this tab on 1 thread \(this page is not cross-origin isolated\)/);
  const ours = run.warnings.filter((text) => /tinylm-js/.test(text));
  assert.equal(ours.length, 1, ours.join('\n'));
  assert.match(ours[0], /threads were asked for.*not cross-origin isolated.*Cross-Origin-Opener-Policy/s);
  assert.ok(!run.fetched.some((path) => threadedFiles.test(path)), `the threaded build is not fetched: ${run.fetched.filter((path) => threadedFiles.test(path))}`);
  // Loading and generating run on the engine's primary module alone (web/lib/deferred_engine.ts).
  assert.ok(!run.fetched.some((path) => /deferred/.test(path)), `the deferred module is not fetched: ${run.fetched.filter((path) => /deferred/.test(path))}`);
  assert.deepEqual(wasmFetched(run), ['tinylm_wasm_relaxed.wasm']);
  assert.deepEqual(run.errors, []);
});
