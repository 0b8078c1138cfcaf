// The download of a checkpoint folder into a cache that takes streams (web/lib/hf/fetch_files.ts with
// stream_to_cache.ts; browsers' OPFS or Cache API in the package, here a cache in memory that stores a stream's body
// only once the body ended without an error, as both do, reading it ahead as a Cache API put does or chunk by chunk
// as OPFS's store does, which lets the download read every chunk into one buffer): weights files reach the cache as
// they arrive and come back as the stored Blob, equal to the served file, the other files as bytes; progress counts
// every chunk; a second fetch reads the weights from the cache, header check included. A body that breaks off, a
// cancel and a refused header each end the fetch with their error and store nothing; a cache that refuses the file
// after taking its body leaves the fetch to download it again, into memory, its progress counted once. The Chromium
// side, with real storage and engine, is tests/e2e/hf_cache_stream.test.mjs.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { checkpoints } from './hf/checkpoints.mjs';
import { startHub } from './hf/hub_server.mjs';
import { root, tinylmError } from './helpers.mjs';

const { fetchCheckpointFiles } = await import(pathToFileURL(join(root, 'dist/hf/fetch_files.js')).href);
const { headerEnd } = await import(pathToFileURL(join(root, 'dist/checkpoint_size.js')).href);

const WEIGHTS = 'model.safetensors';
let made, hub;

before(async () => {
  made = checkpoints();
  hub = await startHub({
    'test/gpt2': made.folders.gpt2, 'test/sharded': made.folders['smollm2-sharded'], 'test/short': made.folders.gpt2,
    'test/cancel': made.folders.gpt2, 'test/refused': made.folders.gpt2, 'test/too-large': made.folders.gpt2,
  });
});

after(async () => {
  await hub?.close();
});

// A cache in memory with the browser cache's interface; refuse(url): writeStream reads the body, then fails.
// chunkByChunk: as OPFS's store, writeStream copies each chunk before it reads the next (storesChunkByChunk), and
// notes the size of the buffer each chunk came in.
function memoryCache({ refuse = () => false, chunkByChunk = false } = {}) {
  const stored = new Map();
  const buffers = [];
  return {
    stored,
    buffers,
    storesChunkByChunk: chunkByChunk,
    async read(url) {
      const blob = stored.get(url);
      return blob && new Uint8Array(await blob.arrayBuffer());
    },
    async write(url, bytes) {
      stored.set(url, new Blob([bytes]));
    },
    async readBlob(url) {
      return stored.get(url);
    },
    async writeStream(url, body) {
      let blob;
      if (chunkByChunk) {
        const parts = [];
        for (const reader = body.getReader(); ;) {
          const { done, value } = await reader.read();  // rejects when the body errors
          if (done) break;
          buffers.push(value.buffer.byteLength);
          parts.push(value.slice());
        }
        blob = new Blob(parts);
      } else {
        blob = await new Response(body).blob();  // rejects when the body errors
      }
      if (refuse(url)) throw new Error('Unexpected internal error.');
      stored.set(url, blob);
      return blob;
    },
  };
}

const folderOf = (repo) => ({ label: `hf:test/${repo}`, fileUrl: (name) => `${hub.host}/test/${repo}/resolve/main/${name}` });
const requestsOf = (repo, name = WEIGHTS) => hub.requests.filter((path) => path === `/test/${repo}/resolve/main/${name}`).length;

async function fetchFolder(repo, cache, options = {}) {
  const events = [];
  const headers = [];
  const files = await fetchCheckpointFiles(folderOf(repo), {
    cache,
    onProgress: (event) => events.push(event),
    onWeightsHeader: (file, prefix) => headers.push({ file, end: headerEnd(prefix), size: prefix.byteLength }),
    ...options,
  });
  return { files, events, headers };
}

async function bytesOf(file) {
  return file instanceof Blob ? new Uint8Array(await file.arrayBuffer()) : file;
}

for (const chunkByChunk of [false, true]) {
const store = chunkByChunk ? 'a store that takes chunk by chunk (OPFS)' : 'a store that reads ahead (the Cache API)';
test(`${store}: weights stream into it and come back as the stored Blob; a second fetch reads them from it`, async () => {
  hub.requests.length = 0;
  for (const repo of ['gpt2', 'sharded']) {
    const folder = made.folders[repo === 'gpt2' ? 'gpt2' : 'smollm2-sharded'];
    const names = readdirSync(folder);
    const total = names.reduce((sum, name) => sum + readFileSync(join(folder, name)).byteLength, 0);
    const cache = memoryCache({ chunkByChunk });
    const first = await fetchFolder(repo, cache);
    if (chunkByChunk) assert.ok(cache.buffers.every((size) => size === 1 << 20), 'every chunk is read into the one 1 MB buffer');
    assert.deepEqual(Object.keys(first.files).sort(), names.sort());
    for (const [name, file] of Object.entries(first.files)) {
      assert.equal(file instanceof Blob, name.endsWith('.safetensors'), `${repo}: ${name} comes as ${file.constructor.name}`);
      assert.deepEqual(await bytesOf(file), new Uint8Array(readFileSync(join(folder, name))), `${repo}: ${name}`);
      assert.ok(cache.stored.has(folderOf(repo).fileUrl(name)), `${repo}: ${name} is cached`);
    }
    assert.deepEqual(first.events.at(-1), { loaded: total, total, file: names.filter((n) => n.endsWith('.safetensors')).sort().at(-1) });
    assert.ok(first.events.every((event, i) => i === 0 || event.loaded >= first.events[i - 1].loaded));
    const weights = names.filter((name) => name.endsWith('.safetensors'));
    if (repo === 'gpt2') assert.ok(first.events.filter((event) => event.file === WEIGHTS).length > 10, 'progress per chunk');
    assert.deepEqual(first.headers.map((h) => h.file), weights.sort());
    assert.ok(first.headers.every((h) => h.size >= h.end), 'each header check sees the whole header');

    const second = await fetchFolder(repo, cache);
    for (const name of weights) {
      assert.equal(requestsOf(repo, name), 1, `${repo}: ${name} is read from the cache`);
      assert.equal(second.files[name], cache.stored.get(folderOf(repo).fileUrl(name)), 'the stored Blob itself');
    }
    assert.deepEqual(second.events.at(-1), first.events.at(-1));
    assert.deepEqual(second.headers.map(({ file, end }) => ({ file, end })), first.headers.map(({ file, end }) => ({ file, end })));
  }
});

test(`${store}: a body that breaks off, a cancel and a refused header store nothing; a refused put downloads again`, async () => {
  hub.requests.length = 0;
  const size = readFileSync(join(made.folders.gpt2, WEIGHTS)).byteLength;
  const cache = memoryCache({ refuse: (url) => url.includes('/test/refused/'), chunkByChunk });
  const stored = (repo) => cache.stored.has(folderOf(repo).fileUrl(WEIGHTS));

  hub.cutShort[`/test/short/resolve/main/${WEIGHTS}`] = size >> 1;
  await assert.rejects(fetchFolder('short', cache), (error) => {
    assert.equal(error.code, 'NOT_FOUND');
    assert.match(error.message, /the download of .*\/test\/short\/resolve\/main\/model\.safetensors (broke off|ended) after \d+ of \d+ bytes/);
    return true;
  });
  assert.equal(stored('short'), false);

  hub.delayMs = 5;
  const controller = new AbortController();
  await assert.rejects(fetchFolder('cancel', cache, {
    signal: controller.signal,
    onProgress: (event) => event.file === WEIGHTS && event.loaded > event.total / 2 && controller.abort(),
  }), tinylmError('ABORTED', 'cancelled during model.safetensors'));
  hub.delayMs = 0;
  assert.equal(stored('cancel'), false);

  await assert.rejects(fetchFolder('too-large', cache, { onWeightsHeader: () => { throw new Error('too large for this engine'); } }),
    /too large for this engine/);
  assert.equal(stored('too-large'), false);

  const refused = await fetchFolder('refused', cache);
  assert.ok(refused.files[WEIGHTS] instanceof Uint8Array, 'downloaded into memory');
  assert.deepEqual(refused.files[WEIGHTS], new Uint8Array(readFileSync(join(made.folders.gpt2, WEIGHTS))));
  assert.equal(requestsOf('refused'), 2);
  assert.equal(stored('refused'), false);
  const last = refused.events.at(-1);
  assert.equal(last.loaded, last.total, 'the refused download is counted once');
  assert.equal(last.total, readdirSync(made.folders.gpt2).reduce((sum, name) => sum + readFileSync(join(made.folders.gpt2, name)).byteLength, 0));
});
}
