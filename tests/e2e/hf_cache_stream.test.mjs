// Hugging Face weights in Chromium go from the network straight into the origin private file system, as a stream,
// and on to the engine's worker as the stored file's handle, read there through a sync access handle
// (web/lib/hf/fetch_files.ts, stream_to_cache.ts, opfs_store.ts, worker_stored_files.ts); with OPFS hidden, as
// browsers without it are, into the Cache API and on as the stored file's Blob. In a profile on disk as a user's is,
// on a page that is or is not cross-origin isolated, from a local stand-in for the Hub (tests/js/hf/hub_server.mjs):
// a download loads the model the folder's bytes load (GPT-2, and SmolLM2 in two shards), storage starts taking each
// weights file before its bytes have arrived, and a second load reads it from storage with no request; a cancel
// during the download, a download that breaks off, and a header that declares a model too large each end the load
// with their error and leave nothing in storage (no partial file either); where storage refuses the file (a write
// that fails after taking the body) or is off, the file downloads into memory and the model still loads; weights an
// earlier version kept in the Cache API load from there; a model loaded first stays usable throughout.
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join } from 'node:path';
import { after, before, test } from 'node:test';

import { checkpoints, TEXT } from '../js/hf/checkpoints.mjs';
import { startHub } from '../js/hf/hub_server.mjs';
import { safetensorsDeclaring } from '../js/hf/declaring_safetensors.mjs';
import { chromiumPath, launchPersistentContext, root } from './helpers.mjs';

const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
const types = { '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const WEIGHTS = 'model.safetensors';
const HUGE_DATA_BYTES = 64 << 20;

// The page's helpers: what a model computes, a load that reports what it saw, what storage holds, and a spy on the
// store's writes (OPFS: FileSystemFileHandle.prototype.createWritable; the Cache API: Cache.prototype.put) that notes
// how much of each file had arrived when its write began. At /cache-api the page hides OPFS, as browsers without it
// are, so weights go to the Cache API.
const page = `<!doctype html><title>tinylm cache stream test</title><link rel="icon" href="data:,">
<script type="module">
import { TinyLM } from '/dist/browser.js';
const TEXT = ${JSON.stringify(TEXT)};
const store = location.pathname === '/cache-api' ? 'cache' : 'opfs';
if (store === 'cache') delete StorageManager.prototype.getDirectory;
let loaded = 0;
let arrived = {};  // per file, the bytes of it the load's progress reported so far
let arriving;  // the file the load's progress last named
window.puts = [];
window.refuse = [];  // URLs whose writes take the body, then fail as a full disk would
const nameOf = async (url) => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(url))),
  (byte) => byte.toString(16).padStart(2, '0')).join('');
const folder = async () => (await navigator.storage.getDirectory()).getDirectoryHandle('tinylm-hf-files', { create: true });
if (store === 'cache') {
  const put = Cache.prototype.put;
  Cache.prototype.put = async function (request, response) {
    const url = String(request.url ?? request);
    window.puts.push({ url, arrived: arrived[url.slice(url.lastIndexOf('/') + 1)] ?? 0 });
    if (window.refuse.includes(url)) {
      await response.arrayBuffer();
      throw new DOMException('Unexpected internal error.', 'UnknownError');
    }
    return put.call(this, request, response);
  };
} else {
  const createWritable = FileSystemFileHandle.prototype.createWritable;
  FileSystemFileHandle.prototype.createWritable = async function (options) {
    const refused = await Promise.all(window.refuse.map(nameOf));
    window.puts.push({ name: this.name, arrived: arrived[arriving] ?? 0 });
    const writable = await createWritable.call(this, options);
    if (!refused.some((name) => this.name.startsWith(name))) return writable;
    return { write: async () => {}, abort: (reason) => writable.abort(reason),
      close: async () => { await writable.abort(); throw new DOMException('The quota has been exceeded.', 'QuotaExceededError'); } };
  };
}
window.putOf = async (url) => {
  const name = await nameOf(url);
  return window.puts.find((put) => put.url === url || put.name?.startsWith(name));
};
window.storedSize = async (url) => {
  if (store === 'cache' || !url.endsWith('.safetensors')) {
    const response = await (await caches.open('tinylm-hf-files')).match(url);
    return response ? (await response.blob()).size : null;
  }
  try {
    return (await (await (await folder()).getFileHandle(await nameOf(url))).getFile()).size;
  } catch {
    return null;
  }
};
// A weights file put in the Cache API, as a version before OPFS kept it.
window.keepInCacheApi = async (url, raw) => {
  const bytes = await (await fetch(raw)).arrayBuffer();
  await (await caches.open('tinylm-hf-files')).put(url, new Response(bytes));
};
// The names in the OPFS folder: a write never leaves a partial file behind.
window.storedNames = async () => {
  const names = [];
  if (store === 'opfs') for await (const name of (await folder()).keys()) names.push(name);
  return names;
};
window.behaviour = async (lm) => {
  const { loss } = await lm.evaluate(TEXT);
  const tokens = [];
  for await (const step of lm.generateSteps('Call me', { maxTokens: 6, temperature: 0 })) tokens.push(step.token);
  return { loss, tokens };
};
window.fromBytes = async (folder, names) => {
  const files = {};
  for (const name of names) files[name] = new Uint8Array(await (await fetch('/raw/' + folder + '/' + name)).arrayBuffer());
  return TinyLM.load({ files });
};
// options.abortAfter: cancel once that many bytes of the weights arrived.
window.load = async (source, { abortAfter, ...options } = {}) => {
  const events = [];
  const controller = new AbortController();
  loaded = 0;
  arrived = {};
  const onProgress = (event) => {
    events.push(event);
    arriving = event.file;
    arrived[event.file] = (arrived[event.file] ?? 0) + event.loaded - loaded;
    loaded = event.loaded;
    if (abortAfter !== undefined && event.file.endsWith('.safetensors') && arrived[event.file] > abortAfter) controller.abort();
  };
  try {
    const lm = await TinyLM.load(source, { ...options, onProgress, signal: controller.signal });
    const seen = { behaviour: await window.behaviour(lm), bytes: lm.info.source.bytes, last: events.at(-1),
      grows: events.every((event, i) => i === 0 || event.loaded >= events[i - 1].loaded),
      weightEvents: events.filter((event) => event.file.endsWith('.safetensors')).length };
    await lm.dispose();
    return seen;
  } catch (error) {
    return { error: error.name + ' ' + error.code + ': ' + error.message };
  }
};
window.TinyLM = TinyLM;
window.ready = true;
</script>`;

let made, hub, hugeFolder;
const skip = (!existsSync(join(root, 'dist', 'browser.js')) || !existsSync(chromiumPath)) && 'build the package first';
let isolated = false;

before(async () => {
  if (skip) return;
  made = checkpoints();
  hugeFolder = join(mkdtempSync(join(tmpdir(), 'tinylm-hf-huge-')), 'huge');
  cpSync(made.folders.gpt2, hugeFolder, { recursive: true });
  // 4.5 GB of float32 weights declared over 64 MiB of data: more than the engine can hold.
  writeFileSync(join(hugeFolder, WEIGHTS), safetensorsDeclaring([['a', 280e6], ['b', 280e6], ['c', 280e6], ['d', 280e6]], HUGE_DATA_BYTES));
  const gpt2 = made.folders.gpt2;
  const sharded = made.folders['smollm2-sharded'];
  hub = await startHub({
    'test/gpt2': gpt2, 'test/sharded': sharded, 'test/huge': hugeFolder,
    'test/gpt2-cancel': gpt2, 'test/gpt2-short': gpt2, 'test/gpt2-refused': gpt2, 'test/gpt2-uncached': gpt2,
    'test/gpt2-earlier': gpt2,
  }, {
    statics: async (path) => {
      const headers = isolated ? isolation : {};
      if (path === '/' || path === '/cache-api') return { body: page, type: 'text/html', headers };
      const raw = /^\/raw\/(gpt2|sharded)\/([^/]+)$/.exec(path);
      const file = raw ? join(raw[1] === 'gpt2' ? gpt2 : sharded, raw[2]) : path.startsWith('/dist/') ? join(root, path) : undefined;
      if (!file) return undefined;
      try {
        return { body: await readFile(file), type: types[extname(file)] ?? 'application/octet-stream', headers };
      } catch {
        return undefined;
      }
    },
  });
});

after(async () => {
  await hub?.close();
  if (hugeFolder) rmSync(join(hugeFolder, '..'), { recursive: true, force: true });
});

const weightsUrl = (repo, name = WEIGHTS) => `${hub.host}/test/${repo}/resolve/main/${name}`;
const requestsOf = (repo, name = WEIGHTS) => hub.requests.filter((path) => path === `/test/${repo}/resolve/main/${name}`).length;
const sizeOf = (folder, name) => statSync(join(folder, name)).size;

for (const [store, pageIsolated] of [['opfs', false], ['opfs', true], ['cache', false], ['cache', true]]) {
  const where = store === 'opfs' ? 'the origin private file system' : 'the Cache API (OPFS hidden)';
  test(`Chromium, ${pageIsolated ? '' : 'not '}cross-origin isolated, a profile on disk: weights stream into ${where}`, { skip }, async () => {
    isolated = pageIsolated;
    hub.requests.length = 0;
    const profile = mkdtempSync(join(tmpdir(), 'tinylm-hf-profile-'));
    const context = await launchPersistentContext(profile);
    try {
      const tab = await context.newPage();
      const problems = [];
      tab.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
      await tab.goto(`${hub.host}/${store === 'cache' ? 'cache-api' : ''}`);
      await tab.waitForFunction(() => window.ready === true);
      assert.equal(await tab.evaluate(() => crossOriginIsolated), pageIsolated);
      const run = (fn, arg) => tab.evaluate(fn, arg);
      const load = (repo, options = {}) => run(({ host, repo, options }) => window.load(`hf:test/${repo}`, { hubHost: host, ...options }),
        { host: hub.host, repo, options });
      const stored = (url) => run((url) => window.storedSize(url), url);
      const noPartialFiles = async () => assert.deepEqual((await run(() => window.storedNames())).filter((name) => !/^[0-9a-f]{64}$/.test(name)), [],
        'storage holds whole files only');

      // A model loaded first, which every later failure must leave usable.
      await run(async (names) => { window.kept = await window.fromBytes('gpt2', names); }, readdirSync(made.folders.gpt2));
      const keptBefore = await run(() => window.behaviour(window.kept));

      for (const [repo, folder] of [['gpt2', made.folders.gpt2], ['sharded', made.folders['smollm2-sharded']]]) {
        const names = readdirSync(folder).sort();
        const weights = names.filter((name) => name.endsWith('.safetensors'));
        const total = names.reduce((sum, name) => sum + sizeOf(folder, name), 0);
        const expected = await run(async ({ repo, names }) => {
          const lm = await window.fromBytes(repo, names);
          const seen = await window.behaviour(lm);
          await lm.dispose();
          return seen;
        }, { repo, names });
        await run(() => { window.puts = []; });
        const first = await load(repo);
        assert.equal(first.error, undefined);
        assert.deepEqual(first.behaviour, expected, `${repo}: the streamed download loads the model the bytes load`);
        assert.deepEqual({ last: first.last, grows: first.grows }, { last: { loaded: total, total, file: weights.at(-1) }, grows: true });
        assert.equal(first.bytes, total);
        // GPT-2's weights (6.5 MB) arrive in several chunks (fewer, larger ones when the store takes them slowly: 7 seen
        // with OPFS); SmolLM2's shards are small enough to come in one.
        if (repo === 'gpt2') assert.ok(first.weightEvents > 4, `progress moves while the weights arrive (${first.weightEvents} events)`);
        for (const name of weights) {
          assert.equal(await stored(weightsUrl(repo, name)), sizeOf(folder, name), `${repo}: ${name} is in the cache whole`);
          assert.equal(requestsOf(repo, name), 1);
          const putOf = await run((url) => window.putOf(url), weightsUrl(repo, name));
          assert.equal(putOf?.arrived, 0, `${repo}: the cache took ${name} as it began to arrive, not once it was held whole`);
        }
        const second = await load(repo);
        assert.deepEqual({ ...second, weightEvents: undefined }, { ...first, weightEvents: undefined },
          `${repo}: the second load, from the cache, equals the first`);
        for (const name of weights) assert.equal(requestsOf(repo, name), 1, `${repo}: ${name} is read from the cache`);
      }
      const gpt2 = await load('gpt2');
      const gpt2Size = sizeOf(made.folders.gpt2, WEIGHTS);

      // A cancel while the weights download: the load is cancelled and the cache holds nothing of them.
      hub.delayMs = 5;
      const cancelled = await load('gpt2-cancel', { abortAfter: 2 << 20 });
      hub.delayMs = 0;
      assert.match(cancelled.error ?? '', /^AbortError ABORTED/);
      assert.ok(hub.bytesServed > 0 && requestsOf('gpt2-cancel') === 1);
      assert.equal(await stored(weightsUrl('gpt2-cancel')), null, 'a cancelled download leaves nothing in the cache');
      await noPartialFiles();

      // A download that breaks off: an error naming the file, nothing cached.
      hub.cutShort[`/test/gpt2-short/resolve/main/${WEIGHTS}`] = gpt2Size >> 1;
      const short = await load('gpt2-short');
      assert.match(short.error ?? '',
        /^TinyLMError NOT_FOUND: the download of .*\/test\/gpt2-short\/resolve\/main\/model\.safetensors (broke off|ended) after /);
      assert.equal(await stored(weightsUrl('gpt2-short')), null, 'a download that broke off leaves nothing in the cache');
      await noPartialFiles();

      // A header that declares a model too large: refused while the weights start to arrive, nothing cached.
      const servedBefore = hub.bytesServed;
      const huge = await load('huge');
      assert.match(huge.error ?? '', /^TinyLMError MODEL_TOO_LARGE: /);
      assert.ok(hub.bytesServed - servedBefore < 2 * 1024 * 1024 + HUGE_DATA_BYTES / 4, `${hub.bytesServed - servedBefore} bytes served`);
      assert.equal(await stored(weightsUrl('huge')), null);
      await noPartialFiles();

      // The cache refuses the weights after reading them: downloaded again, into memory; the model loads.
      await run((url) => { window.refuse = [url]; }, weightsUrl('gpt2-refused'));
      const refused = await load('gpt2-refused');
      await run(() => { window.refuse = []; });
      assert.equal(refused.error, undefined);
      assert.deepEqual(refused.behaviour, gpt2.behaviour);
      assert.deepEqual(refused.last, gpt2.last, 'progress ends at the folder\'s size, counted once');
      assert.equal(requestsOf('gpt2-refused'), 2, 'the refused file is downloaded again');
      assert.equal(await stored(weightsUrl('gpt2-refused')), null);
      await noPartialFiles();

      // { cache: false }: downloaded into memory, nothing cached.
      const uncached = await load('gpt2-uncached', { cache: false });
      assert.deepEqual(uncached.behaviour, gpt2.behaviour);
      assert.equal(await stored(weightsUrl('gpt2-uncached')), null);
      assert.equal(await stored(weightsUrl('gpt2-uncached', 'config.json')), null);

      if (store === 'opfs') {
        // Weights an earlier version kept in the Cache API load from there, with no request for them.
        await run(({ url }) => window.keepInCacheApi(url, '/raw/gpt2/' + 'model.safetensors'), { url: weightsUrl('gpt2-earlier') });
        const earlier = await load('gpt2-earlier');
        assert.deepEqual(earlier.behaviour, gpt2.behaviour);
        assert.equal(requestsOf('gpt2-earlier'), 0, 'the weights in the Cache API are not downloaded again');
      }

      // The worker survived every failure, and the first model is as it was.
      assert.deepEqual(await run(() => window.behaviour(window.kept)), keptBefore);
      assert.deepEqual(await load('gpt2'), gpt2);
      assert.equal(requestsOf('gpt2'), 1);
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    }
  });
}
