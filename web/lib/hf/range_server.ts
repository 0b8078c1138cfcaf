// The calling thread's side of ranged files (ranged_files.ts): serves the ranges the engine's worker asks for from
// the caller's own Uint8Arrays, ArrayBuffers and Blobs, which are only read (never detached, never written), so the
// worker needs no copy of them. A Blob's range is read asynchronously here (Node: its worker threads have no
// FileReaderSync to read one synchronously inside the engine's loader, as a browser's worker does). Lives as long as
// one load: close() when it settles.
import { sizeOf, type FileMapValue } from './local_files.js';
import {
  ANSWERED, ASKED, CANCELLED, CLOSED, FAILED, LENGTH, STATE, WINDOW_BYTES,
  type RangeRequest, type RangedFilesWire,
} from '../ranged_files.js';

export class RangeServer {
  readonly wire: RangedFilesWire;
  private readonly control: Int32Array;
  private readonly data: Uint8Array;
  private ended = false;

  // onRead(file, end) after each range served, end being the range's end in the file (for the load's progress).
  constructor(private readonly files: Map<string, FileMapValue>, private readonly onRead?: (file: string, end: number) => void) {
    const sizes = Object.fromEntries([...files].map(([name, value]) => [name, sizeOf(value)]));
    this.wire = { sizes, control: new SharedArrayBuffer(8), data: new SharedArrayBuffer(WINDOW_BYTES) };
    this.control = new Int32Array(this.wire.control);
    this.data = new Uint8Array(this.wire.data);
  }

  // One 'readRange' event of the load's request. The worker waits until this answers.
  async serve(request: RangeRequest): Promise<void> {
    if (this.ended) return;  // close() already woke the worker
    const value = this.files.get(request.file);
    const { offset, count } = request;
    const size = value === undefined ? 0 : sizeOf(value);
    if (value === undefined || !Number.isSafeInteger(offset) || !Number.isSafeInteger(count) || offset < 0 ||
        count < 1 || count > WINDOW_BYTES || offset > size - count) {
      this.fail(`cannot serve bytes [${offset}, ${offset + count}) of '${request.file}' (${size} bytes)`);
      return;
    }
    let bytes: Uint8Array;
    try {
      bytes = value instanceof Uint8Array ? value.subarray(offset, offset + count)
        : value instanceof ArrayBuffer ? new Uint8Array(value, offset, count)
        : new Uint8Array(await (value as Blob).slice(offset, offset + count).arrayBuffer());
    } catch (error) {
      this.fail(`reading it failed: ${(error as Error)?.message ?? String(error)}`);
      return;
    }
    if (this.ended || bytes.byteLength !== count) {
      if (!this.ended) this.fail(`reading it gave ${bytes.byteLength} bytes of ${count} (did the file change?)`);
      return;
    }
    this.data.set(bytes);
    this.answer(ANSWERED, count);
    this.onRead?.(request.file, offset + count);
  }

  // The load settled (or its signal aborted): a worker still waiting, or asking later, is told so and stops.
  close(cancelled = false): void {
    if (this.ended) return;
    this.ended = true;
    Atomics.store(this.control, STATE, cancelled ? CANCELLED : CLOSED);
    Atomics.notify(this.control, STATE);
  }

  private fail(message: string): void {
    const text = new TextEncoder().encode(message).subarray(0, WINDOW_BYTES);
    this.data.set(text);
    this.answer(FAILED, text.byteLength);
  }

  private answer(state: number, length: number): void {
    if (Atomics.load(this.control, STATE) !== ASKED) return;  // closed meanwhile: the worker already knows
    Atomics.store(this.control, LENGTH, length);
    Atomics.store(this.control, STATE, state);
    Atomics.notify(this.control, STATE);
  }
}
