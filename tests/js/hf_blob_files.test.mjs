// The caller's Blobs and Files in a browser: they are posted to the engine's worker, which reads them window by window
// with FileReaderSync (web/lib/worker_blob_files.ts), instead of the page copying them whole (a page that is not
// cross-origin isolated) or serving them range by range (an isolated one). In headless Chromium, on both kinds of
// page: every kind of Blob input (a map of Blobs, a Map, a File list, Blob weights beside byte-array JSON) loads the
// same model as the bytes, progress grows window by window to the total, a Blob cut short ends that load with an
// error naming the file, and a cancel during the load ends it; the next load works after each. In Node: the reader
// itself (windows, strided pieces, bad ranges, a failing or short read), and Blob inputs without shared memory,
// posted to Node's worker, which has no FileReaderSync and reads each whole.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { isolationHeaders, runInChromium, skipWithoutChromium } from './chromium.mjs';
import { checkpoints, TEXT } from './hf/checkpoints.mjs';
import { behaviour, folderBytes } from './hf/folder_bytes.mjs';
import { checkRangeReads, checkStridedReads, patternedFile } from './hf/windowed_reads.mjs';
import { TinyLM, root, tinylmError } from './helpers.mjs';

const { blobFile, blobFiles } = await import(pathToFileURL(join(root, 'dist/worker_blob_files.js')).href);
const { WINDOW_BYTES } = await import(pathToFileURL(join(root, 'dist/ranged_files.js')).href);

let made;

before(async () => {
  made = checkpoints();
  await TinyLM.memory();  // the engine starts as configured, before a load reports shared memory unusable
});

after(async () => {
  await TinyLM.shutdown();
});

// A Blob as the worker sees one, over bytes, with a synchronous read that counts its calls.
function fakeBlob(bytes) {
  return { size: bytes.byteLength, slice: (start, end) => fakeBlob(bytes.subarray(start, end)), bytes, arrayBuffer: async () => bytes.slice().buffer };
}

test('the reader: windows read back the bytes, strided pieces, bad ranges, a failing or short read', async () => {
  const size = 2 * WINDOW_BYTES + 1234;
  const file = patternedFile(size);
  const reads = [];
  const ends = [];
  const readSync = (blob) => {
    reads.push(blob.size);
    return blob.bytes.slice().buffer;
  };
  const ranged = blobFile(fakeBlob(file), readSync, (end) => ends.push(end));
  assert.equal(ranged.size, size);
  checkRangeReads(ranged, file, WINDOW_BYTES);
  assert.ok(reads.every((count) => count <= WINDOW_BYTES), 'no read is larger than a window');
  assert.deepEqual(ends.slice(0, 2), [WINDOW_BYTES, 2 * WINDOW_BYTES], 'onRead gives each window\'s end');
  const before = reads.length;
  assert.equal(ranged.read(size - 10, new Uint8Array(5)), '');
  assert.equal(reads.length, before, 'a range the window holds is not read again');
  checkStridedReads(ranged, file, WINDOW_BYTES);
  const strided = reads.length;
  blobFile(fakeBlob(file), readSync).readStrided(8, 3072, 340, new Uint8Array(340 * 768));
  assert.equal(reads.length - strided, Math.ceil((8 + 767 * 3072 + 340) / WINDOW_BYTES), 'one read per window, not per piece');
  assert.match(ranged.read(size - 1, new Uint8Array(2)), /are past its end/);
  assert.match(ranged.read(-1, new Uint8Array(2)), /are past its end/);
  const failing = blobFile(fakeBlob(file), () => { throw new Error('the disk went away'); });
  assert.equal(failing.read(0, new Uint8Array(4)), 'reading it failed: the disk went away');
  const short = blobFile(fakeBlob(file), (blob) => blob.bytes.slice(1).buffer);
  assert.equal(short.read(WINDOW_BYTES, new Uint8Array(4)), `reading bytes [${WINDOW_BYTES}, ${2 * WINDOW_BYTES}) gave ${WINDOW_BYTES - 1} bytes (did the file change?)`);
  // Without a synchronous read, each Blob is read whole before the load; one that fails names its file.
  let stop = false;
  const stoppable = blobFile(fakeBlob(file), readSync, undefined, () => stop);
  assert.equal(stoppable.read(0, new Uint8Array(4)), '');
  stop = true;
  const beforeStop = reads.length;
  assert.equal(stoppable.read(0, new Uint8Array(4)), '', 'the window it holds is still read');
  assert.equal(stoppable.read(WINDOW_BYTES, new Uint8Array(4)), 'the load was cancelled');
  assert.equal(reads.length, beforeStop, 'nothing is read once cancelled');
  const whole = await blobFiles({ 'w.safetensors': fakeBlob(file) }, { readSync: undefined });
  assert.equal(whole['w.safetensors'].size, size);
  const lost = { ...fakeBlob(file), arrayBuffer: () => Promise.reject(new Error('the disk went away')) };
  await assert.rejects(blobFiles({ 'w.safetensors': lost }, { readSync: undefined }),
    tinylmError('INVALID_MODEL_FILE', "'w.safetensors': reading it failed: the disk went away"));
});

test('Node without shared memory: posted Blobs and Files load the same model as the copied bytes', async () => {
  const bytes = folderBytes(made.folders['smollm2-sharded']);
  globalThis.crossOriginIsolated = false;
  try {
    const copied = await TinyLM.load({ files: bytes });
    const expected = await behaviour(copied);
    await copied.dispose();
    const total = Object.values(bytes).reduce((sum, b) => sum + b.byteLength, 0);
    for (const source of [{ files: Object.fromEntries(Object.entries(bytes).map(([name, b]) => [name, new Blob([b])])) },
      Object.entries(bytes).map(([name, b]) => new File([b], name))]) {
      const events = [];
      const lm = await TinyLM.load(source, { onProgress: (event) => events.push(event) });
      assert.deepEqual(await behaviour(lm), expected);
      assert.deepEqual({ ...events.at(-1), file: undefined }, { loaded: total, total, file: undefined });
      await lm.dispose();
    }
  } finally {
    delete globalThis.crossOriginIsolated;
  }
});

// The page: for each folder (its files under /model/NAME/), the model the copied bytes load, then each Blob input's
// model, progress and size; then the failures. Reports what it saw.
const page = `<!doctype html><script type="module">
import { TinyLM } from '/dist/browser.js';
const report = (body) => fetch('/result', { method: 'POST', body: JSON.stringify(body) });
const TEXT = ${JSON.stringify(TEXT)};
async function behaviour(lm) {
  const { loss } = await lm.evaluate(TEXT);
  const tokens = [];
  for await (const step of lm.generateSteps('Call me', { maxTokens: 6, temperature: 0 })) tokens.push(step.token);
  return { loss, tokens };
}
const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);
try {
  const out = { isolated: crossOriginIsolated, folders: {} };
  const listing = await (await fetch('/listing.json')).json();
  for (const [folder, names] of Object.entries(listing)) {
    const bytes = {};
    for (const name of names) bytes[name] = new Uint8Array(await (await fetch('/model/' + folder + '/' + name)).arrayBuffer());
    const total = Object.values(bytes).reduce((sum, b) => sum + b.byteLength, 0);
    const copied = await TinyLM.load({ files: bytes });
    const expected = await behaviour(copied);
    await copied.dispose();
    const blobs = Object.fromEntries(Object.entries(bytes).map(([name, b]) => [name, new Blob([b])]));
    const kinds = {
      blob: { files: blobs },
      map: { files: new Map(Object.entries(blobs)) },
      fileList: Object.entries(bytes).map(([name, b]) => new File([b], name)),
      mixed: { files: Object.fromEntries(Object.entries(bytes).map(([name, b]) => [name, name.endsWith('.safetensors') ? blobs[name] : b])) },
    };
    const seen = {};
    for (const [kind, source] of Object.entries(kinds)) {
      const events = [];
      const lm = await TinyLM.load(source, { onProgress: (event) => events.push(event) });
      const last = events.at(-1);
      seen[kind] = {
        same: same(await behaviour(lm), expected),
        endsAtTotal: last.loaded === total && last.total === total,
        grows: events.every((event, i) => i === 0 || event.loaded >= events[i - 1].loaded),
        weightEvents: events.filter((event) => event.file === 'model.safetensors').length,
        bytes: lm.info.source.bytes === total,
      };
      await lm.dispose();
    }
    out.folders[folder] = seen;
  }
  const gpt2 = {};
  for (const name of listing.gpt2) gpt2[name] = new Blob([await (await fetch('/model/gpt2/' + name)).arrayBuffer()]);
  const weights = gpt2['model.safetensors'];
  out.cutShort = await TinyLM.load({ files: { ...gpt2, 'model.safetensors': weights.slice(0, weights.size - 1000) } })
    .then(() => 'loaded', (error) => error.code + ': ' + error.message);
  const controller = new AbortController();
  out.cancelled = await TinyLM.load({ files: gpt2 }, { signal: controller.signal, onProgress: (event) => event.file === 'model.safetensors' && controller.abort() })
    .then(() => 'loaded', (error) => error.name);
  const lm = await TinyLM.load({ files: gpt2 });
  out.after = Number.isFinite((await lm.evaluate(TEXT)).loss);
  await report(out);
} catch (error) {
  await report({ error: error.name + ' ' + error.code + ': ' + error.message });
}
</script>`;

for (const isolated of [false, true]) {
  test(`Chromium, ${isolated ? '' : 'not '}cross-origin isolated: the worker reads posted Blobs and Files window by window`, { skip: skipWithoutChromium }, async (t) => {
    const folders = { gpt2: made.folders.gpt2, 'smollm2-sharded': made.folders['smollm2-sharded'] };
    const listing = Object.fromEntries(Object.entries(folders).map(([name, folder]) => [name, readdirSync(folder)]));
    const respond = (path, response) => {
      const [, folder, file] = path.match(/^\/model\/([^/]+)\/([^/]+)$/) ?? [];
      if (!folders[folder]) return false;
      response.writeHead(200, { 'content-type': 'application/octet-stream', ...(isolated && isolationHeaders) })
        .end(readFileSync(join(folders[folder], file)));
      return true;
    };
    const { outcome } = await runInChromium(t, page, { respond, isolated, files: { '/listing.json': JSON.stringify(listing) }, timeoutMs: 240_000 });
    assert.equal(outcome.error, undefined);
    assert.equal(outcome.isolated, isolated);
    const gpt2Weights = readFileSync(join(folders.gpt2, 'model.safetensors')).byteLength;
    assert.ok(gpt2Weights > WINDOW_BYTES, 'GPT-2\'s test weights span more than one window');
    for (const [folder, kinds] of Object.entries(outcome.folders)) {
      for (const [kind, seen] of Object.entries(kinds)) {
        assert.deepEqual({ ...seen, weightEvents: undefined }, { same: true, endsAtTotal: true, grows: true, weightEvents: undefined, bytes: true }, `${folder} from ${kind}`);
        // Read window by window in the worker (whole, the file would report once).
        if (folder === 'gpt2') assert.ok(seen.weightEvents >= Math.ceil(gpt2Weights / WINDOW_BYTES), `${kind}: ${seen.weightEvents} reads`);
      }
    }
    assert.match(outcome.cutShort, /^INVALID_MODEL_FILE: .*model\.safetensors/);
    assert.equal(outcome.cancelled, 'AbortError');
    assert.equal(outcome.after, true);
  });
}
