// A generation's tokens as an AsyncGenerator (index.ts's generate, generateSteps, chat and session.generate): the
// worker posts each slice's tokens together in 'tokens' events; they are handed out one per iteration. The stream
// has its own AbortController, which the caller's signal aborts and so does leaving the loop early (break, return
// or an exception); the generator returns only once the request has ended, so the model is free again before the
// caller continues.
import { AbortError } from './errors.js';
import type { AbortSignalLike } from './options.js';
import type { GeneratedToken, WorkerEvent } from './protocol.js';

export interface StreamHandlers {
  signal: AbortSignal;
  onEvent: (event: WorkerEvent) => void;
}

// start(handlers) sends the request with these handlers and settles when it ends.
export async function* tokenStream(
  start: (handlers: StreamHandlers) => Promise<unknown>,
  signal: AbortSignalLike | undefined,
): AsyncGenerator<GeneratedToken, void, undefined> {
  const controller = new AbortController();
  const forward = () => controller.abort();
  signal?.addEventListener('abort', forward, { once: true });
  if (signal?.aborted) controller.abort();

  const buffered: GeneratedToken[] = [];
  let next = 0;
  let wake: (() => void) | undefined;
  let finished = false;
  let failure: unknown;
  const handlers: StreamHandlers = {
    signal: controller.signal,
    onEvent: (event) => {
      if (event.type !== 'tokens') return;
      for (const token of event.payload) buffered.push(token);
      wake?.();
    },
  };
  const done = start(handlers).then(
    () => {
      finished = true;
      wake?.();
    },
    (error: unknown) => {
      failure = error;
      finished = true;
      wake?.();
    },
  );
  try {
    for (;;) {
      if (signal?.aborted) throw new AbortError('generation was cancelled');
      if (next < buffered.length) {
        const token = buffered[next];
        next += 1;
        if (next === buffered.length) buffered.length = next = 0;
        yield token;
        continue;
      }
      if (finished) {
        if (failure) throw failure;
        return;
      }
      await new Promise<void>((resolve) => (wake = resolve));
      wake = undefined;
    }
  } finally {
    if (!finished) controller.abort();  // the caller stopped early
    signal?.removeEventListener('abort', forward);
    await done;
  }
}
