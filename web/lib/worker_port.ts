// The worker's side of the transport: the same protocol messages (protocol.ts) over worker_threads' parentPort in
// Node or the Web Worker global scope in browsers (worker_node.ts, worker_browser.ts), and a way to let queued
// messages (cancel requests) in between two engine slices.
import type { Request, WorkerEvent } from './protocol.js';

export interface Port {
  post(event: WorkerEvent, transfer: ArrayBuffer[]): void;
  listen(handler: (request: Request) => void): void;
}

// setImmediate where it exists (Node); a MessageChannel round trip in browsers, which unlike setTimeout(0) is not
// clamped to 4 ms.
export const yieldToEventLoop: () => Promise<void> =
  typeof setImmediate === 'function'
    ? () => new Promise((resolve) => setImmediate(resolve))
    : (() => {
        const channel = new MessageChannel();
        const waiting: Array<() => void> = [];
        channel.port1.onmessage = () => waiting.shift()?.();
        return () =>
          new Promise<void>((resolve) => {
            waiting.push(resolve);
            channel.port2.postMessage(null);
          });
      })();
