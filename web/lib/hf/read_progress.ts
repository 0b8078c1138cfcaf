// onProgress for a load that reads the caller's own files part by part while the engine loads them (served range by
// range, range_server.ts; or read by the worker from posted Blobs, worker_blob_files.ts): loaded is the sum of each
// file's furthest byte read so far, total the sum of the files' sizes.
import type { DownloadProgress } from './fetch_files.js';

export class ReadProgress {
  private readonly reached = new Map<string, number>();  // per file, the furthest byte read
  private loaded = 0;
  private readonly total: number;
  private readonly last: string;

  constructor(sizes: Map<string, number>, private readonly onProgress?: (progress: DownloadProgress) => void) {
    this.total = [...sizes.values()].reduce((sum, size) => sum + size, 0);
    this.last = [...sizes.keys()].at(-1) ?? '';
  }

  // Bytes up to `end` of `file` have been read.
  read(file: string, end: number): void {
    const before = this.reached.get(file) ?? 0;
    if (end <= before) return;
    this.reached.set(file, end);
    this.loaded += end - before;
    this.onProgress?.({ loaded: this.loaded, total: this.total, file });
  }

  // The load succeeded: what it read is all it needed, so progress ends at the total (a file the engine does not
  // read, such as a README in a dropped folder, is never asked for).
  complete(): void {
    if (this.loaded >= this.total) return;
    this.loaded = this.total;
    this.onProgress?.({ loaded: this.total, total: this.total, file: this.last });
  }
}
