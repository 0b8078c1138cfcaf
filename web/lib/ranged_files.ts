// The caller's checkpoint files read range by range across threads, so the engine's worker never holds a copy of
// them: the thread that holds the files (the caller's, awaiting the load: hf/range_server.ts) copies each range the
// worker asks for into a small shared window, while the worker (worker_ranged_files.ts) waits for it in
// Atomics.wait inside the engine's synchronous loader. Both sides share this layout.
//
//   worker: control[STATE] IDLE|ANSWERED|FAILED → ASKED (compare-and-swap, so it never overwrites CLOSED/CANCELLED),
//           then a 'readRange' event { file, offset, count } on the load's request, then waits while ASKED
//   caller: copies the range into `data`, control[LENGTH] = its length, control[STATE] = ANSWERED, notify; or the
//           reason it cannot as UTF-8 text in `data` with FAILED
//   caller: once the load settles, CLOSED (or CANCELLED when its signal aborted), notify: a worker still waiting
//           wakes, the engine's read fails and the load ends (an AbortError when cancelled)
// SharedArrayBuffer is needed on both sides: Node always has it, browsers in cross-origin isolated pages; elsewhere
// byte arrays are copied to the worker (load_model.ts). A browser's worker reads Blobs itself (worker_blob_files.ts).

export const STATE = 0;   // control slot: the exchange's state
export const LENGTH = 1;  // control slot: the answer's byte length
export const IDLE = 0, ASKED = 1, ANSWERED = 2, FAILED = 3, CLOSED = 4, CANCELLED = 5;

// Bytes per exchange: a few round trips per tensor of GPT-2's, and the window a worker re-reads from (a
// transposed tensor's strided rows, a header read in two parts) without asking again.
export const WINDOW_BYTES = 4 << 20;

export interface RangedFilesWire {
  sizes: Record<string, number>;  // each served file's byte length, by name
  control: SharedArrayBuffer;     // Int32Array(2): STATE, LENGTH
  data: SharedArrayBuffer;        // WINDOW_BYTES: the answer (bytes, or a failure's text)
}

export interface RangeRequest {
  file: string;
  offset: number;
  count: number;  // 1 … WINDOW_BYTES
}

// SharedArrayBuffer can be made and posted: Node, and cross-origin isolated pages.
export function rangeServingUsable(): boolean {
  const isolated = (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated;
  return typeof SharedArrayBuffer === 'function' && typeof Atomics === 'object' && isolated !== false;
}
