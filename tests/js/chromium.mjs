// Headless Chromium for the JS tests that need a browser: a local server gives the test's page at / and the
// repository's files under the folders the test names (/dist/browser.js is dist/browser.js), optionally with the
// cross-origin isolation headers the threaded engine needs; Chromium opens the page with a fresh profile, and the
// page reports its outcome by POSTing JSON to /result. When the test ends, Chromium's whole process group is killed
// and waited for, then the server is closed and the profile removed (Chromium writes there until it exits).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
export const chromiumPath = '/usr/bin/chromium';
export const skipWithoutChromium = !existsSync(chromiumPath) && 'no Chromium';
export const isolationHeaders = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

const types = {
  '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm',
  '.txt': 'text/plain; charset=utf-8',
};

// Opens `page` (HTML) in headless Chromium and resolves with what it POSTs to /result, and every path requested
// (in order, /result included). Options:
//   serve      repository folders (or files) served under their own paths (default ['dist/'])
//   files      { '/path': text } served as they are, their type from the extension
//   isolated   send COOP/COEP on every response (the page and its workers are cross-origin isolated)
//   respond    (path, response) => true when it answered the request itself (e.g. a 503 for one file)
//   timeoutMs  how long the page has to report
export async function runInChromium(t, page, { serve = ['dist/'], files = {}, isolated = false, respond, timeoutMs = 120_000 } = {}) {
  let deliver;
  const delivered = new Promise((resolve) => (deliver = resolve));
  const headers = isolated ? isolationHeaders : {};
  const requested = [];
  const server = createServer(async (request, response) => {
    const path = decodeURIComponent(new URL(request.url, 'http://localhost').pathname);
    requested.push(path);
    const send = (status, type, body) => response.writeHead(status, { 'content-type': type, ...headers }).end(body);
    if (request.method === 'POST' && path === '/result') {
      let body = '';
      for await (const chunk of request) body += chunk;
      deliver(JSON.parse(body));
      return response.end();
    }
    if (respond?.(path, response)) return;
    if (path === '/') return send(200, 'text/html', page);
    if (Object.hasOwn(files, path)) return send(200, types[extname(path)] ?? 'text/plain', files[path]);
    const file = normalize(path.slice(1));
    if (file.startsWith('..') || !serve.some((folder) => file.startsWith(folder))) return send(404, 'text/plain', '');
    try {
      send(200, types[extname(file)] ?? 'application/octet-stream', await readFile(join(root, file)));
    } catch {
      send(404, 'text/plain', '');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const profile = mkdtempSync(join(tmpdir(), 'tinylm-chromium-'));
  const browser = spawn(chromiumPath, ['--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run',
    '--disable-background-networking', `--user-data-dir=${profile}`, `http://127.0.0.1:${server.address().port}/`],
  { stdio: 'ignore', detached: true });  // its own process group, so its renderers and GPU process go with it
  const exited = new Promise((resolve) => browser.once('exit', resolve).once('error', resolve));  // now or later
  t.after(async () => {
    try { process.kill(-browser.pid, 'SIGKILL'); } catch { /* already gone */ }
    await exited;
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    rmSync(profile, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  });
  const seconds = timeoutMs / 1000;
  const timeout = new Promise((_, reject) =>
    setTimeout(() => reject(new Error(`no result from Chromium in ${seconds} s`)), timeoutMs).unref());
  const failed = new Promise((_, reject) => browser.once('error', (error) => reject(new Error(`Chromium did not start: ${error.message}`))));
  return { outcome: await Promise.race([delivered, timeout, failed]), requested };
}
