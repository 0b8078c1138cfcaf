// The engine's worker reading weights files a browser stored in its origin private file system
// (web/lib/worker_stored_files.ts), here through a stand-in for FileSystemSyncAccessHandle over bytes: ranges and
// strided pieces read back the file's bytes; a large read goes straight into its target and small ones share one
// window, so reads allocate nothing; a target the handle refuses (a view of shared memory) is filled through the
// window; a failing, short or cancelled read is the error the engine reports; a handle that cannot be opened for
// synchronous reads is read as a Blob; close() releases every handle. The browser side is
// tests/e2e/hf_cache_stream.test.mjs.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'node:test';

import { checkRangeReads, checkStridedReads, patternedFile } from './hf/windowed_reads.mjs';
import { root } from './helpers.mjs';

const { syncHandleFile, storedFiles, isStoredFileHandle } = await import(pathToFileURL(join(root, 'dist/worker_stored_files.js')).href);
const { WINDOW_BYTES } = await import(pathToFileURL(join(root, 'dist/ranged_files.js')).href);

// A sync access handle over `bytes` that notes each read's target buffer and length; refuseShared: a target on a
// SharedArrayBuffer throws, as a runtime without [AllowShared] reads would.
function fakeAccess(bytes, { refuseShared = false, fail } = {}) {
  const reads = [];
  return {
    reads,
    closed: 0,
    getSize: () => bytes.byteLength,
    read(view, { at }) {
      if (refuseShared && view.buffer instanceof SharedArrayBuffer) throw new TypeError('shared views are not accepted');
      if (fail) throw new Error(fail);
      const part = bytes.subarray(at, at + view.byteLength);
      new Uint8Array(view.buffer, view.byteOffset, view.byteLength).set(part);
      reads.push({ buffer: view.buffer, length: view.byteLength });
      return part.byteLength;
    },
    close() {
      this.closed++;
    },
  };
}

test('a stored file read through a sync access handle: ranges, strided pieces, no allocation per read', () => {
  const size = 2 * WINDOW_BYTES + 1234;
  const file = patternedFile(size);
  const access = fakeAccess(file);
  const ends = [];
  const ranged = syncHandleFile(access, (end) => ends.push(end));
  assert.equal(ranged.size, size);
  checkRangeReads(ranged, file, WINDOW_BYTES);
  checkStridedReads(ranged, file, WINDOW_BYTES);
  const windows = new Set(access.reads.filter((read) => read.buffer.byteLength === WINDOW_BYTES).map((read) => read.buffer));
  assert.equal(windows.size, 1, 'every small read fills the same window');
  assert.ok(access.reads.every((read) => read.buffer.byteLength === WINDOW_BYTES || read.length >= 256 << 10),
    'a read outside the window is a large one, into its own target');
  const whole = new Uint8Array(size);
  const before = access.reads.length;
  assert.equal(ranged.read(0, whole), '');
  assert.deepEqual(whole, file);
  assert.deepEqual(access.reads.slice(before).map((read) => read.buffer), [whole.buffer], 'a large read goes straight into its target');
  assert.equal(ends.at(-1), size);
  assert.match(ranged.read(size - 1, new Uint8Array(2)), /are past its end/);
});

test('a target the handle refuses is filled through the window; failing, short and cancelled reads are errors', () => {
  const file = patternedFile(WINDOW_BYTES + 99);
  const access = fakeAccess(file, { refuseShared: true });
  const shared = new Uint8Array(new SharedArrayBuffer(file.byteLength));
  assert.equal(syncHandleFile(access).read(0, shared), '');
  assert.deepEqual(new Uint8Array(shared), file);
  assert.equal(syncHandleFile(fakeAccess(file, { fail: 'the disk went away' })).read(0, new Uint8Array(4)),
    'reading it failed: the disk went away');
  const shortened = fakeAccess(file);
  shortened.getSize = () => file.byteLength + 10;  // the file shrank after it was opened
  assert.equal(syncHandleFile(shortened).read(file.byteLength, new Uint8Array(10)),
    `reading bytes [${file.byteLength}, ${file.byteLength + 10}) stopped after 0 bytes (did the file change?)`);
  let stop = false;
  const stoppable = syncHandleFile(fakeAccess(file), undefined, () => stop);
  assert.equal(stoppable.read(0, new Uint8Array(4)), '');
  stop = true;
  assert.equal(stoppable.read(WINDOW_BYTES, new Uint8Array(4)), 'the load was cancelled');
});

test('storedFiles: handles opened read-only, a handle that cannot be opened read as a Blob, close() releases all', async () => {
  const file = patternedFile(5000);
  const modes = [];
  const access = fakeAccess(file);
  const openable = { kind: 'file', getFile: async () => { throw new Error('not read as a Blob'); },
    createSyncAccessHandle: async (options) => { modes.push(options?.mode); return access; } };
  const blob = { size: file.byteLength, bytes: file, slice(start, end) { return { ...blob, size: end - start, bytes: file.subarray(start, end) }; } };
  const locked = { kind: 'file', getFile: async () => blob, createSyncAccessHandle: async () => { throw new Error('NoModificationAllowedError'); } };
  assert.ok(isStoredFileHandle(openable) && !isStoredFileHandle(new Blob([file])));
  globalThis.FileReaderSync = class { readAsArrayBuffer(part) { return part.bytes.slice().buffer; } };
  try {
    const { files, close } = await storedFiles({ 'a.safetensors': openable, 'b.safetensors': locked });
    assert.deepEqual(modes, ['read-only']);
    for (const ranged of Object.values(files)) checkRangeReads(ranged, file, 1000);
    close();
    close();
    assert.equal(access.closed, 1);
  } finally {
    delete globalThis.FileReaderSync;
  }
});
