// What the bundler matrix (matrix.test.mjs) is made of: the package packed by `npm pack` and copied into each
// fixture app's node_modules as an install would put it, the fixture apps assembled from fixtures/<kind>/ plus
// app/, the bundlers run from the repository's one locked install (package.json devDependencies), a static
// server, and pages checked in one headless Chromium.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
const here = join(root, 'tests', 'bundlers');
export const work = join(here, '.work');  // git-ignored; inside the repository so the bundlers resolve from its node_modules

export function versionOf(packageDir) {
  return JSON.parse(readFileSync(join(root, 'node_modules', packageDir, 'package.json'), 'utf8')).version;
}

export function bin(packageDir, file) {
  return join(root, 'node_modules', packageDir, file);
}

// npm pack → the tarball's package/ folder, extracted once.
export function packPackage() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const [packed] = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', work],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_config_loglevel: 'error' } }).toString());
  execFileSync('tar', ['-xzf', join(work, packed.filename), '-C', work]);
  return { tarball: join(work, packed.filename), directory: join(work, 'package') };
}

// fixtures/<kind>/ + app/ → .work/<name>/, with the packed package in its node_modules/tinylm-js (a copy, not a
// link: bundlers treat linked packages as source and skip the pre-bundling that real installs get).
export function assembleApp(name, kind, entry, packageDirectory) {
  const app = join(work, name);
  cpSync(join(here, 'fixtures', kind), app, { recursive: true });
  mkdirSync(join(app, 'src'), { recursive: true });
  cpSync(join(here, 'app', 'app.js'), join(app, 'src', 'app.js'));
  cpSync(join(here, 'app', entry.from), join(app, 'src', entry.to));
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: `tinylm-js-${name}`, private: true, type: 'module' }, null, 2));
  cpSync(packageDirectory, join(app, 'node_modules', 'tinylm-js'), { recursive: true });
  return app;
}

// Runs a command to completion; rejects with its output when it fails or outlives timeoutMs.
export function run(command, args, { cwd, timeoutMs = 180_000, env = {} } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer = setTimeout(() => {
      try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ }
      reject(new Error(`${command} ${args.join(' ')} timed out after ${timeoutMs} ms:\n${output.slice(-3000)}`));
    }, timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(output);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}:\n${output.slice(-3000)}`));
    });
  });
}

// A long-running server process (a dev server); stop() ends its whole process group.
export function startProcess(command, args, { cwd, env = {} } = {}) {
  const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout.on('data', (chunk) => (output += chunk));
  child.stderr.on('data', (chunk) => (output += chunk));
  return {
    output: () => output,
    stop: () => new Promise((resolve) => {
      if (child.exitCode !== null) return resolve();
      child.on('close', resolve);
      try { process.kill(-child.pid, 'SIGTERM'); } catch { resolve(); }
      setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, 3000).unref();
    }),
  };
}

export async function freePort() {
  const server = createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForHttp(url, timeoutMs, describe) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch { /* not up yet */ }
    if (Date.now() > deadline) throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${describe()}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

const types = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript', '.css': 'text/css',
  '.json': 'application/json', '.wasm': 'application/wasm', '.map': 'application/json',
};

// A plain static server over `directory`, as any host would serve a built app; `headers` on every response (the
// cross-origin isolation headers, for the threaded engine).
export async function serveDirectory(directory, headers = {}) {
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url, 'http://x').pathname)).replace(/^(\.\.[/\\])+/, '');
    let file = join(directory, path);
    if (existsSync(file) && statSync(file).isDirectory()) file = join(file, 'index.html');
    try {
      const body = await readFile(file);
      response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream', ...headers }).end(body);
    } catch {
      response.writeHead(404, { 'content-type': 'text/plain', ...headers }).end('not found');
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${server.address().port}/`, close: () => new Promise((resolve) => server.close(resolve)) };
}

// Loads `url` and waits for the app's result; collects console errors, uncaught exceptions, failed requests and
// HTTP errors (a 404 on the worker, the .wasm or the model is exactly what a mislocated asset looks like).
export async function checkPage(browser, url, { timeoutMs = 90_000, pthreads = false } = {}) {
  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = [];
  let modelFetches = 0;
  const scriptRequests = new Map();  // URL → times requested
  context.on('request', (request) => {
    if (/\.safetensors(\?|$)/.test(request.url())) modelFetches += 1;
    if (/\.m?js(\?|$)/.test(request.url())) scriptRequests.set(request.url(), (scriptRequests.get(request.url()) ?? 0) + 1);
  });
  page.on('console', (message) => message.type() === 'error' && problems.push(`console: ${message.text()}`));
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  context.on('requestfailed', (request) => problems.push(`request failed: ${request.url()} ${request.failure()?.errorText}`));
  context.on('response', (response) => response.status() >= 400 && problems.push(`HTTP ${response.status()}: ${response.url()}`));
  try {
    await page.goto(url);
    const handle = await page.waitForFunction(() => window.tinylmResult, null, { timeout: timeoutMs, polling: 100 });
    const result = await handle.jsonValue();
    // The threaded engine's pthread Workers run its worker's script again (web/lib/worker_pthread_start.ts), from
    // the URL the bundler gave it, once the engine has worked or idled (web/lib/pool_release.ts).
    const pthreadStarted = () => [...scriptRequests.values()].some((count) => count >= 2);
    for (const deadline = Date.now() + 30_000; pthreads && !pthreadStarted() && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (pthreads && !pthreadStarted()) problems.push('no pthread Worker requested the engine worker\'s script');
    await new Promise((resolve) => setTimeout(resolve, 200));  // late console errors
    return { result, problems, modelFetches };
  } catch (error) {
    return { result: { error: `${error.message}` }, problems, modelFetches };
  } finally {
    await context.close();
  }
}

// Every emitted script of a browser build, searched for what must never reach a browser bundle.
export function nodeImportsIn(directory) {
  const found = [];
  const walk = (folder) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (/\.m?js$/.test(entry.name)) {
        const code = readFileSync(path, 'utf8');
        const match = /(?:from\s*|import\s*\(\s*|require\s*\(\s*)["']node:[a-z_/]+["']/.exec(code);
        if (match) found.push(`${path.slice(directory.length + 1)}: ${match[0]}`);
      }
    }
  };
  walk(directory);
  return found;
}

// The files under `directory`, as paths relative to it.
export function filesIn(directory, prefix = '') {
  return readdirSync(directory, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? filesIn(join(directory, entry.name), `${prefix}${entry.name}/`) : [`${prefix}${entry.name}`]);
}
