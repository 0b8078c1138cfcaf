// The contract every reader of a file's bytes in windows keeps (the engine's file object, worker_files.ts: ranges
// served over shared memory, ranged_files.ts; Blobs read in the worker, worker_blob_files.ts), checked the same way
// for each: ranges across and inside windows read back the file's bytes, strided pieces (a transposed tensor's
// band: one piece per stored row) too, and a range past the end is an error naming it.
import assert from 'node:assert/strict';

// A file of `size` bytes whose every byte depends on its offset, so a misplaced window shows.
export const patternedFile = (size) => new Uint8Array(size).map((_, i) => (i * 7 + (i >> 12)) & 255);

export function checkRangeReads(source, file, windowBytes) {
  const size = file.byteLength;
  for (const [offset, count] of [[0, 8], [3, 100], [windowBytes - 5, 10], [0, size], [size - 1, 1], [size, 0]]) {
    const target = new Uint8Array(count);
    assert.equal(source.read(offset, target), '');
    assert.deepEqual(target, file.subarray(offset, offset + count), `[${offset}, +${count})`);
  }
}

export function checkStridedReads(source, file, windowBytes) {
  const pieces = (offset, stride, piece, n) =>
    Uint8Array.from({ length: piece * n }, (_, i) => file[offset + Math.floor(i / piece) * stride + (i % piece)]);
  for (const [offset, stride, piece, n] of [[8, 3072, 340, 768], [windowBytes - 100, 4096, 200, 3], [5, 10, 10, 4]]) {
    const target = new Uint8Array(piece * n);
    assert.equal(source.readStrided(offset, stride, piece, target), '');
    assert.deepEqual(target, pieces(offset, stride, piece, n), `pieces of ${piece} every ${stride} from ${offset}`);
  }
  assert.match(source.readStrided(file.byteLength - 20, 10, 10, new Uint8Array(30)), /are past its end/);
}
