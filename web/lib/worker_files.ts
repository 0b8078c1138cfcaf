// A checkpoint file as the engine's loader reads it (wasm/js_files.hpp): an object whose reads copy a range into the
// engine's heap and answer '' or what went wrong, so the engine never throws across the seam on a JavaScript
// failure. Bytes the worker holds are one kind (heldFile); the caller's files served from its thread are the other
// (worker_ranged_files.ts).
export interface RangedFile {
  readonly size: number;
  read(offset: number, target: Uint8Array): string;
  // The pieces [offset + i·stride, + piece) one after another until target is full: a transposed tensor's block,
  // one short piece per stored row, in one call from the engine instead of one call per piece.
  readStrided(offset: number, stride: number, piece: number, target: Uint8Array): string;
}

export function readStrided(read: RangedFile['read'], offset: number, stride: number, piece: number, target: Uint8Array): string {
  for (let done = 0, at = offset; done < target.byteLength; done += piece, at += stride) {
    const problem = read(at, target.subarray(done, Math.min(done + piece, target.byteLength)));
    if (problem) return problem;
  }
  return '';
}

// Bytes the worker holds (a download moved to it, or a copy), as a ranged file.
export function heldFile(bytes: Uint8Array): RangedFile {
  const read = (offset: number, target: Uint8Array) => {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > bytes.byteLength - target.byteLength) {
      return `bytes [${offset}, ${offset + target.byteLength}) are past its end (${bytes.byteLength} bytes)`;
    }
    target.set(bytes.subarray(offset, offset + target.byteLength));
    return '';
  };
  return {
    size: bytes.byteLength,
    read,
    readStrided: (offset, stride, piece, target) => readStrided(read, offset, stride, piece, target),
  };
}
