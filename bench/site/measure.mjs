// Three numbers for the built site in headless Chromium (npm run build:site, then `npm run bench:site`):
//   1. time from navigation to the first generated token on the playground's default model, median of 3 cold
//      loads. Generate is pressed inside the page the moment it is enabled (a script watching the button), so the
//      figure is the page's own: driving the click from here added 50–190 ms of round trips and polling.
//   2. the main thread's longest task while the fine-tune page trains 100 steps (PerformanceObserver 'longtask');
//   3. the bytes the playground page transfers over the network, gzip-compressed as a static host would serve
//      them (the local server gzips text, JSON, wasm and model files), split into code and model.
import { haveSite, launchBrowser, serveSite } from '../../tests/e2e/helpers.mjs';
import { firstTokenSeen, markFirstToken, pressGenerateWhenReady } from './page_scripts.mjs';

if (!haveSite) {
  console.error('build the site first: npm run build:site (and have /usr/bin/chromium)');
  process.exit(1);
}

// The main thread's long tasks, into window.__longTasks.
const watchLongTasks = () => {
  window.__longTasks = [];
  new PerformanceObserver((list) => window.__longTasks.push(...list.getEntries().map((entry) => entry.duration)))
    .observe({ type: 'longtask', buffered: true });
};

const server = await serveSite();
const browser = await launchBrowser();
try {
  const firstTokens = [];
  let transfer;
  for (let run = 0; run < 3; run++) {
    const context = await browser.newContext();
    await context.addInitScript(markFirstToken);
    await context.addInitScript(pressGenerateWhenReady);
    const sizes = [];
    context.on('requestfinished', async (request) => {
      const { responseBodySize, responseHeadersSize } = await request.sizes();
      sizes.push({ url: request.url(), bytes: responseBodySize + responseHeadersSize });
    });
    const page = await context.newPage();
    const seen = firstTokenSeen(page);
    await page.goto(`${server.url}index.html`);
    const firstToken = await seen;
    const pressed = await page.evaluate(() => window.__pressed);
    firstTokens.push(firstToken);
    if (process.env.VERBOSE) console.log(`model ready and Generate pressed at ${pressed.toFixed(0)} ms, first token at ${firstToken.toFixed(0)} ms`);
    await page.getByRole('button', { name: 'Stop' }).click().catch(() => {});
    await page.waitForTimeout(300);
    const models = sizes.filter((entry) => entry.url.includes('/models/')).reduce((sum, entry) => sum + entry.bytes, 0);
    const total = sizes.reduce((sum, entry) => sum + entry.bytes, 0);
    transfer = { total, models, code: total - models, requests: sizes.length };
    if (process.env.VERBOSE) console.log(sizes);
    await context.close();
  }
  firstTokens.sort((a, b) => a - b);
  console.log(`first generated token after page load: ${firstTokens[1].toFixed(0)} ms (median of ${firstTokens.map((t) => t.toFixed(0)).join(', ')})`);
  console.log(`playground transfer (gzip): ${(transfer.total / 1024).toFixed(0)} KB in ${transfer.requests} requests ` +
    `(code, styles, wasm ${(transfer.code / 1024).toFixed(0)} KB; default model ${(transfer.models / 1024).toFixed(0)} KB)`);

  const context = await browser.newContext();
  await context.addInitScript(watchLongTasks);
  const page = await context.newPage();
  await page.goto(`${server.url}finetune.html`);
  await page.getByRole('status').first().filter({ hasText: 'Ready.' }).waitFor();
  await page.getByLabel('Steps').fill('100');
  await page.evaluate(() => (window.__longTasks.length = 0));
  await page.getByRole('button', { name: 'Fine-tune' }).click();
  await page.getByRole('status').first().filter({ hasText: /^Done/ }).waitFor({ timeout: 300_000 });
  const tasks = await page.evaluate(() => window.__longTasks);
  console.log(`main-thread longest task while fine-tuning 100 steps: ${Math.max(0, ...tasks).toFixed(0)} ms (${tasks.length} tasks over 50 ms)`);
  await context.close();
} finally {
  await browser.close();
  await server.close();
}
