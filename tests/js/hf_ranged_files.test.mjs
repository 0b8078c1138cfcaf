// The caller's checkpoint files read range by range (web/lib/ranged_files.ts): the engine's worker asks this thread
// for each window of them instead of holding a copy. Checks that every input kind (Uint8Array, ArrayBuffer, Blob,
// File list, Map) loads the same model as the copying path (taken where shared memory is not usable, forced here
// with crossOriginIsolated = false), that the caller's buffers stay theirs, that progress ends at the total, and
// that bad ranges, a Blob that fails to read, cancellation and shutdown mid-load each end that load with a clear
// error while the next load works. The exchange itself is tested in one thread: a server answering a Uint8Array
// read answers before serve() first awaits, so the reader sees the answer without waiting.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, test } from 'node:test';

import { checkpoints, TEXT } from './hf/checkpoints.mjs';
import { behaviour, folderBytes } from './hf/folder_bytes.mjs';
import { checkRangeReads, checkStridedReads, patternedFile } from './hf/windowed_reads.mjs';
import { TinyLM, root, tinylmError } from './helpers.mjs';

const { RangeServer } = await import(pathToFileURL(join(root, 'dist/hf/range_server.js')).href);
const { RangedFiles } = await import(pathToFileURL(join(root, 'dist/worker_ranged_files.js')).href);
const { heldFile } = await import(pathToFileURL(join(root, 'dist/worker_files.js')).href);
const { WINDOW_BYTES } = await import(pathToFileURL(join(root, 'dist/ranged_files.js')).href);

let made;

before(async () => {
  made = checkpoints();
  await TinyLM.memory();  // the engine starts as configured, before loadCopying() reports shared memory unusable
});

after(async () => {
  await TinyLM.shutdown();
});

// Loads with the copying path: shared memory reported unusable, as in a page that is not cross-origin isolated.
async function loadCopying(source, options) {
  globalThis.crossOriginIsolated = false;
  try {
    return await TinyLM.load(source, options);
  } finally {
    delete globalThis.crossOriginIsolated;
  }
}

test('every kind of caller file loads the same model ranged as copied, and the buffers stay the caller\'s', async () => {
  for (const folderName of ['gpt2', 'smollm2-sharded']) {
    const bytes = folderBytes(made.folders[folderName]);
    const copyEvents = [];
    const copied = await loadCopying({ files: bytes }, { onProgress: (event) => copyEvents.push(event) });
    if (folderName === 'gpt2') assert.equal(copyEvents.filter((event) => event.file === 'model.safetensors').length, 1, 'copied whole');
    const expected = await behaviour(copied);
    await copied.dispose();
    const kinds = {
      uint8array: { files: bytes },
      arraybuffer: { files: Object.fromEntries(Object.entries(bytes).map(([name, b]) => [name, b.slice().buffer])) },
      blob: { files: Object.fromEntries(Object.entries(bytes).map(([name, b]) => [name, new Blob([b])])) },
      map: { files: new Map(Object.entries(bytes)) },
      fileList: Object.entries(bytes).map(([name, b]) => new File([b], name)),
    };
    for (const [kind, source] of Object.entries(kinds)) {
      const events = [];
      const lm = await TinyLM.load(source, { onProgress: (event) => events.push(event) });
      assert.deepEqual(await behaviour(lm), expected, `${folderName} from ${kind}`);
      const total = Object.values(bytes).reduce((sum, b) => sum + b.byteLength, 0);
      assert.deepEqual({ ...events.at(-1), file: undefined }, { loaded: total, total, file: undefined }, kind);
      assert.ok(events.every((event, i) => i === 0 || event.loaded >= events[i - 1].loaded), `${kind}: progress only grows`);
      // Served a window at a time (the copying path reports each file once, whole): GPT-2's weights are two windows.
      if (folderName === 'gpt2') assert.ok(events.filter((event) => event.file === 'model.safetensors').length >= 2, kind);
      assert.equal(lm.info.source.bytes, total);
      await lm.dispose();
    }
    for (const [name, b] of Object.entries(bytes)) {
      assert.equal(b.byteLength, readFileSync(join(made.folders[folderName], name)).byteLength, `${name} is not detached`);
      assert.ok(Buffer.from(b).equals(readFileSync(join(made.folders[folderName], name))), `${name} is unchanged`);
    }
  }
});

test('a caller file of the wrong kind, or a Blob that fails to read, ends that load; the next one works', async () => {
  const bytes = folderBytes(made.folders.gpt2);
  await assert.rejects(TinyLM.load({ files: { ...bytes, 'model.safetensors': 'weights' } }),
    tinylmError('INVALID_ARGUMENT', "files['model.safetensors'] must be a Uint8Array, an ArrayBuffer or a Blob"));
  await assert.rejects(TinyLM.load({ files: { ...bytes, 'model.safetensors': new DataView(bytes['model.safetensors'].buffer) } }),
    tinylmError('INVALID_ARGUMENT', "files['model.safetensors']"));
  class UnreadableBlob extends Blob {
    slice(start, end) {
      return start === 0 ? super.slice(start, end) : { arrayBuffer: () => Promise.reject(new Error('the disk went away')) };
    }
  }
  const unreadable = new UnreadableBlob([bytes['model.safetensors']]);
  await assert.rejects(TinyLM.load({ files: { ...bytes, 'model.safetensors': unreadable } }),
    tinylmError('INVALID_MODEL_FILE', 'the disk went away'));
  const lm = await TinyLM.load({ files: bytes });
  assert.equal((await lm.evaluate(TEXT)).loss, (await behaviour(lm)).loss);
  await lm.dispose();
});

test('cancelling or shutting down during a ranged load ends it; the next load works', async () => {
  const bytes = folderBytes(made.folders.gpt2);
  const controller = new AbortController();
  const aborted = TinyLM.load({ files: bytes }, {
    signal: controller.signal,
    onProgress: (event) => event.file === 'model.safetensors' && controller.abort(),
  });
  await assert.rejects(aborted, tinylmError('ABORTED'));
  let shutDown;
  const ended = TinyLM.load({ files: bytes }, {
    onProgress: (event) => event.file === 'model.safetensors' && (shutDown ??= TinyLM.shutdown()),
  });
  await assert.rejects(ended, tinylmError('WORKER_FAILED', 'shut down'));
  await shutDown;
  const lm = await TinyLM.load({ files: bytes });
  assert.ok(Number.isFinite((await lm.evaluate(TEXT)).loss));
  await lm.dispose();
});

test('the exchange: windows read back the bytes, bad ranges and a closed or silent server are errors', () => {
  const size = 2 * WINDOW_BYTES + 1234;
  const file = patternedFile(size);
  const server = new RangeServer(new Map([['w.safetensors', file]]));
  const asked = [];
  const reader = new RangedFiles(server.wire, (request) => {
    asked.push(request);
    void server.serve(request);
  });
  const ranged = reader.files()['w.safetensors'];
  assert.equal(ranged.size, size);
  checkRangeReads(ranged, file, WINDOW_BYTES);
  const before = asked.length;
  assert.equal(ranged.read(size - 10, new Uint8Array(5)), '');
  assert.equal(asked.length, before, 'a range the window holds is not asked for again');
  // Strided pieces, ranged and held (the engine's file object over bytes it holds), across windows.
  for (const source of [ranged, heldFile(file)]) checkStridedReads(source, file, WINDOW_BYTES);
  assert.match(ranged.read(size - 1, new Uint8Array(2)), /are past its end/);
  assert.match(ranged.read(-1, new Uint8Array(2)), /are past its end/);
  // The server checks what it is asked, whatever the reader believes.
  const liar = new RangedFiles({ ...server.wire, sizes: { 'w.safetensors': size + 100, 'other.json': 10 } }, (request) => void server.serve(request));
  assert.match(liar.files()['w.safetensors'].read(size, new Uint8Array(50)), /cannot serve bytes \[\d+, \d+\) of 'w.safetensors'/);
  assert.match(liar.files()['other.json'].read(0, new Uint8Array(5)), /cannot serve bytes \[0, 10\) of 'other.json' \(0 bytes\)/);
  server.close();
  assert.equal(ranged.read(0, new Uint8Array(size)), 'the thread holding the files stopped serving them');
  assert.equal(reader.cancelled, false);
  const cancelling = new RangeServer(new Map([['w.safetensors', file]]));
  const cancelled = new RangedFiles(cancelling.wire, () => {});
  cancelling.close(true);
  assert.equal(cancelled.files()['w.safetensors'].read(0, new Uint8Array(4)), 'the load was cancelled');
  assert.equal(cancelled.cancelled, true);
  const silent = new RangedFiles(new RangeServer(new Map([['w.safetensors', file]])).wire, () => {}, 50);
  assert.match(silent.files()['w.safetensors'].read(0, new Uint8Array(4)), /did not answer for 0.05 s/);
});
