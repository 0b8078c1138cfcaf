// The worker's side of the transport: the same protocol messages (protocol.ts) over worker_threads' parentPort in
// Node or the Web Worker global scope in browsers, and a way to let queued messages (cancel requests) in between
// two engine steps.
import type { Request, WorkerEvent } from './protocol.js';

export interface Port {
  post(event: WorkerEvent, transfer: ArrayBuffer[]): void;
  listen(handler: (request: Request) => void): void;
}

export async function openPort(): Promise<Port> {
  const isNode = typeof process !== 'undefined' && typeof process.versions?.node === 'string';
  if (isNode) {
    const workerThreads = 'node:worker_threads';  // in a variable, so bundlers leave it alone
    const { parentPort } = (await import(/* @vite-ignore */ workerThreads)) as typeof import('node:worker_threads');
    if (!parentPort) throw new Error('tinylm worker.js must run inside a worker thread');
    return {
      post: (event, transfer) => parentPort.postMessage(event, transfer),
      listen: (handler) => parentPort.on('message', handler),
    };
  }
  const scope = globalThis as unknown as {
    postMessage(message: unknown, transfer: ArrayBuffer[]): void;
    addEventListener(type: 'message', listener: (event: { data: Request }) => void): void;
  };
  return {
    post: (event, transfer) => scope.postMessage(event, transfer),
    listen: (handler) => scope.addEventListener('message', (event) => handler(event.data)),
  };
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
