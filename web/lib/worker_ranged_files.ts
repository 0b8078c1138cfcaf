// The worker's side of ranged files (ranged_files.ts): each of the caller's files as the engine's file object
// (worker_files.ts). A read the shared window already holds is copied from it; otherwise the worker asks the calling
// thread for the window starting at the offset and waits. Never throws into the engine: a failure is the engine's
// Error, naming the file, and the load ends with it.
import {
  ANSWERED, ASKED, CANCELLED, CLOSED, FAILED, LENGTH, STATE, WINDOW_BYTES,
  type RangeRequest, type RangedFilesWire,
} from './ranged_files.js';
import { readStrided, type RangedFile } from './worker_files.js';

// How long a read waits for the calling thread before the load fails: it answers within a disk read of 4 MB, and
// it is free (awaiting the load), but a caller's thread that stopped answering must not hold the worker forever.
const ANSWER_TIMEOUT_MS = 120_000;

export class RangedFiles {
  private readonly control: Int32Array;
  private readonly data: Uint8Array;
  private window: { file: string; start: number; length: number } | undefined;
  private stopped: 'closed' | 'cancelled' | undefined;

  constructor(private readonly wire: RangedFilesWire, private readonly ask: (request: RangeRequest) => void,
    private readonly timeoutMs = ANSWER_TIMEOUT_MS) {
    this.control = new Int32Array(wire.control);
    this.data = new Uint8Array(wire.data);
  }

  // Whether the caller cancelled the load while it read (the load then ends with an AbortError).
  get cancelled(): boolean {
    return this.stopped === 'cancelled';
  }

  files(): Record<string, RangedFile> {
    return Object.fromEntries(Object.entries(this.wire.sizes).map(([name, size]) => {
      const read = (offset: number, target: Uint8Array) => this.read(name, size, offset, target);
      const file: RangedFile = {
        size,
        read,
        readStrided: (offset, stride, piece, target) => readStrided(read, offset, stride, piece, target),
      };
      return [name, file];
    }));
  }

  private read(file: string, size: number, offset: number, target: Uint8Array): string {
    if (!Number.isSafeInteger(offset) || offset < 0 || offset > size - target.byteLength) {
      return `bytes [${offset}, ${offset + target.byteLength}) are past its end (${size} bytes)`;
    }
    for (let done = 0; done < target.byteLength;) {
      const at = offset + done;
      const held = this.window;
      if (!held || held.file !== file || at < held.start || at >= held.start + held.length) {
        const problem = this.fetch({ file, offset: at, count: Math.min(WINDOW_BYTES, size - at) });
        if (problem) return problem;
        continue;
      }
      const { start, length } = held;
      const n = Math.min(target.byteLength - done, start + length - at);
      target.set(this.data.subarray(at - start, at - start + n), done);
      done += n;
    }
    return '';
  }

  // Asks for one window and waits for it; '' once the window holds it.
  private fetch(request: RangeRequest): string {
    this.window = undefined;
    if (this.stopped) return this.stoppedMessage();
    const before = Atomics.load(this.control, STATE);
    if (before === CLOSED || before === CANCELLED || Atomics.compareExchange(this.control, STATE, before, ASKED) !== before) {
      return this.settle(Atomics.load(this.control, STATE));
    }
    this.ask(request);
    const deadline = Date.now() + this.timeoutMs;
    while (Atomics.load(this.control, STATE) === ASKED) {
      const left = deadline - Date.now();
      if (left <= 0) return `the thread holding the files did not answer for ${this.timeoutMs / 1000} s`;
      Atomics.wait(this.control, STATE, ASKED, Math.min(left, 1000));
    }
    const state = Atomics.load(this.control, STATE);
    if (state !== ANSWERED) return this.settle(state);
    this.window = { file: request.file, start: request.offset, length: Atomics.load(this.control, LENGTH) };
    return '';
  }

  private settle(state: number): string {
    if (state === FAILED) {
      const length = Atomics.load(this.control, LENGTH);
      return new TextDecoder().decode(this.data.slice(0, length));  // slice: a copy, as decode refuses shared memory
    }
    this.stopped = state === CANCELLED ? 'cancelled' : 'closed';
    return this.stoppedMessage();
  }

  private stoppedMessage(): string {
    return this.stopped === 'cancelled' ? 'the load was cancelled' : 'the thread holding the files stopped serving them';
  }
}
