// The Chromium side of `npm run bench:hf-wasm`: a local http server sending COOP/COEP headers (so the page is
// cross-origin isolated and both engines may start threads) serves the package (dist/), this folder,
// onnxruntime-web and the bench's checkpoint folders (/model/NAME/FILE); each side of each row gets its own
// /usr/bin/chromium (playwright-core) opening hf_peer_page.html, and the renderer's peak resident set (VmHWM, which
// holds the page, its workers and their wasm heaps) is read from /proc before that browser closes.
//
//   runInChromium(side, folder, { model, weights, threads, generate, repeats, dist, profile }) → hf_peer_measure.mjs's
//     figures + peak_rss_mb, rss_mb (the renderer's), chromium (version)
//     profile: a directory for a persistent Chromium profile, whose storage is on disk as a user's is; tinylm then
//     loads with storage on (hf_cache_memory.mjs: a first load downloads into it, a second reads from it), and
//     base_rss_mb is the renderer's resident set once the engine started, before the load.
//     Without one, each browser's storage is in memory and tinylm loads with { cache: false }.
//   closeChromium()   stops the server
import { readFileSync, readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const served = ['dist/', 'bench/wasm/', 'node_modules/onnxruntime-web/dist/'];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };
const folders = new Map();  // model name → folder
let distDir = join(root, 'dist');  // what /dist/ serves: the package's build tinylm runs from
let listening;

function serve() {
  listening ??= new Promise((resolve) => {
    const server = createServer(async (request, response) => {
      const path = normalize(decodeURIComponent(new URL(request.url, 'http://localhost').pathname)).replace(/^\/+/, '');
      const headers = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
      const [, model, file] = path.match(/^model\/([^/]+)\/([^/]+)$/) ?? [];
      const local = model ? folders.get(model) && join(folders.get(model), file)
        : path.startsWith('dist/') ? join(distDir, path.slice('dist/'.length))
          : served.some((prefix) => path.startsWith(prefix)) && join(root, path);
      if (!local) return response.writeHead(404, headers).end();
      try {
        const body = await readFile(local);
        // With its length, as the Hub sends it: a download then fills one buffer of that size.
        response.writeHead(200, { ...headers, 'content-type': types[extname(path)] ?? 'application/octet-stream',
          'content-length': String(body.byteLength) }).end(body);
      } catch {
        response.writeHead(404, headers).end();
      }
    });
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
  return listening;
}

export async function closeChromium() {
  if (listening) (await listening).close();
}

// The pids descending from `pid` whose command line says they are renderers.
function renderers(pid) {
  const children = new Map();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const parent = Number(readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch { /* gone */ }
  }
  const found = [];
  const walk = (id) => {
    for (const child of children.get(id) ?? []) {
      try {
        if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('--type=renderer')) found.push(child);
      } catch { /* gone */ }
      walk(child);
    }
  };
  walk(pid);
  return found;
}

function statusMb(pid, field) {
  const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(new RegExp(`${field}:\\s+(\\d+) kB`));
  return match ? +(Number(match[1]) / 1024).toFixed(1) : 0;
}

const browserArgs = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'];

// A browser of its own, its page, the pid its renderers descend from, and how to close it.
async function openBrowser(profile) {
  if (profile) {
    // A persistent context has no browser server: its Chromium is a child of this process, the only one running.
    const context = await chromium.launchPersistentContext(profile, { executablePath: '/usr/bin/chromium', args: browserArgs });
    const page = context.pages()[0] ?? await context.newPage();
    return { page, root: process.pid, version: context.browser()?.version() ?? '', close: () => context.close() };
  }
  const browserServer = await chromium.launchServer({ executablePath: '/usr/bin/chromium', args: browserArgs });
  try {
    const browser = await chromium.connect(browserServer.wsEndpoint());
    return { page: await browser.newPage(), root: browserServer.process().pid, version: browser.version(), close: () => browserServer.close() };
  } catch (error) {
    await browserServer.close();
    throw error;
  }
}

export async function runInChromium(side, folder, { model, weights, threads, generate, repeats, dist, profile }) {
  folders.set(model, folder);
  if (dist) distDir = dist;
  const server = await serve();
  const browser = await openBrowser(profile);
  try {
    const { page } = browser;
    page.on('pageerror', (error) => console.error(`[chromium ${side}] ${error.message}`));
    const query = new URLSearchParams({ side, model, weights, threads, generate, repeats, cache: profile ? '1' : '0' });
    await page.goto(`http://127.0.0.1:${server.address().port}/bench/wasm/hf_peer_page.html?${query}`);
    let base;
    if (profile) {
      await page.waitForFunction(() => window.startLoad || window.benchResult, null, { timeout: 0, polling: 200 });
      base = { base_rss_mb: Math.max(...renderers(browser.root).map((pid) => statusMb(pid, 'VmRSS'))) };
      await page.evaluate(() => window.startLoad?.());
    }
    await page.waitForFunction(() => window.benchResult, null, { timeout: 0, polling: 500 });
    const result = await page.evaluate(() => window.benchResult);
    if (result.error) throw new Error(result.error);
    const pids = renderers(browser.root);
    return { ...result, ...base, peak_rss_mb: Math.max(...pids.map((pid) => statusMb(pid, 'VmHWM'))),
      rss_mb: Math.max(...pids.map((pid) => statusMb(pid, 'VmRSS'))), chromium: browser.version };
  } finally {
    await browser.close();
  }
}
