// Shared by the end-to-end tests and bench/site/measure.mjs: a static server over the built site (dist-site/,
// `npm run build:site`; TINYLM_SITE_DIR=<dir> serves another build) that gzips text and wasm responses like a real
// static host, and headless Chromium driven by playwright-core. Each page's console errors and uncaught exceptions
// are collected so a test can assert none; axe() runs axe-core's accessibility rules on a page.
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { test } from 'node:test';
import { chromium } from 'playwright-core';

export const root = fileURLToPath(new URL('../..', import.meta.url));
export const siteDir = process.env.TINYLM_SITE_DIR ?? join(root, 'dist-site');
export const artifacts = join(root, 'test-artifacts');
export const chromiumPath = '/usr/bin/chromium';
export const haveSite = existsSync(join(siteDir, 'index.html')) && existsSync(chromiumPath);

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json',
  '.wasm': 'application/wasm', '.safetensors': 'application/octet-stream', '.woff2': 'font/woff2', '.svg': 'image/svg+xml',
};
const compressible = new Set(['.html', '.js', '.css', '.json', '.wasm', '.svg', '.safetensors']);

// isolated: send COOP/COEP as `npm start` does (the threaded engine runs); false: a host that sets no headers,
// where the site's coi-serviceworker isolates the page unless service workers are blocked. dir: another built site
// (bench/site/compare.mjs serves two).
export async function serveSite({ isolated = true, dir = siteDir } = {}) {
  const isolation = isolated ? { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' } : {};
  const cache = new Map();
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    const file = join(dir, path.endsWith('/') ? `${path}index.html` : path);
    try {
      const extension = extname(file);
      const gzip = compressible.has(extension) && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '');
      const key = `${file}:${gzip}`;
      if (!cache.has(key)) cache.set(key, gzip ? gzipSync(await readFile(file), { level: 6 }) : await readFile(file));
      response.writeHead(200, {
        'content-type': types[extension] ?? 'application/octet-stream',
        ...(gzip ? { 'content-encoding': 'gzip' } : {}),
        'cache-control': 'no-cache',
        ...isolation,
      });
      response.end(cache.get(key));
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

const browserArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

export async function launchBrowser() {
  await mkdir(artifacts, { recursive: true });
  return chromium.launch({ executablePath: chromiumPath, args: browserArgs });
}

// A browser context whose profile, and so its storage (the Cache API, IndexedDB), is on disk in `profileDir`, as a
// user's is; a context of launchBrowser() keeps storage in memory.
export async function launchPersistentContext(profileDir) {
  await mkdir(artifacts, { recursive: true });
  return chromium.launchPersistentContext(profileDir, { executablePath: chromiumPath, args: browserArgs });
}

// A page whose console errors, page errors and failed requests end up in `problems`.
export async function openPage(context, url) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('requestfailed', (request) => problems.push(`requestfailed: ${request.url()} ${request.failure()?.errorText}`));
  await page.goto(url);
  return { page, problems };
}

// A server of the site (cross-origin isolated by its headers unless told otherwise) and a browser for one test,
// both closed when the test ends.
export async function siteForTest(t, { isolated = true } = {}) {
  const server = await serveSite({ isolated });
  const browser = await launchBrowser();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  return { server, browser };
}

// One server and one browser for a test file (started before its tests, stopped after them); visit(name) opens
// name.html in a fresh context. `skip` is the reason to skip when the site is not built.
export function siteSession() {
  const skip = !haveSite && 'build the site first (npm run build:site)';
  let server;
  let browser;
  test.before(async () => {
    if (skip) return;
    server = await serveSite();
    browser = await launchBrowser();
  });
  test.after(async () => {
    await browser?.close();
    await server?.close();
  });
  // options: a Playwright context's (viewport, colorScheme, …).
  const visit = async (name, options = {}) => openPage(await browser.newContext(options), `${server.url}${name}.html`);
  return { skip, visit, browser: () => browser, url: () => server.url };
}

export const desktop = { viewport: { width: 1280, height: 800 } };
export const phone = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true };

let axeSource;

// axe-core's violations on the page (WCAG 2.x A and AA rules and axe's best practices), each as
// "rule (impact): target — summary" so a failing assertion says what to fix.
export async function axe(page) {
  axeSource ??= readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => (await window.axe.run(document, { resultTypes: ['violations'] })).violations
    .map((violation) => violation.nodes.map((node) => `${violation.id} (${violation.impact}): ${node.target.join(' ')} — ${node.failureSummary.split('\n').slice(0, 2).join(' ')}`))
    .flat());
  return violations;
}

// A full-page picture from the top (so a sticky header sits where a reader sees it, not mid-page).
export async function screenshot(page, name) {
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}
