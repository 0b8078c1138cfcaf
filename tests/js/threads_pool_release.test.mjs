// The threaded engine's pthread Workers in browsers start only once the engine has done its first piece of work
// (web/lib/pool_release.ts), behind stand-ins the glue is handed in their place (web/lib/deferred_pthread_workers.ts).
// Here the two parts on their own, with fake Workers: a stand-in starts no Worker until released, then hands the real
// one everything it was sent, in order, and relays its messages and errors to the handlers the glue set; a
// terminated one never starts. The watch releases on the first event of a compute request (tokens, progress, or its
// end), not on the setup before it, or once the engine has answered every request and had none for its idle spell
// (never while a request is open). In Chromium, the whole: tests/e2e/threads_pool_release.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './helpers.mjs';

const { deferredPthreadWorkers } = await import(pathToFileURL(join(root, 'dist/deferred_pthread_workers.js')).href);
const { watchForPoolRelease } = await import(pathToFileURL(join(root, 'dist/pool_release.js')).href);

class FakeWorker {
  constructor() {
    this.received = [];
    this.terminated = false;
  }
  postMessage(message, transfer) {
    this.received.push([message, transfer]);
  }
  terminate() {
    this.terminated = true;
  }
}

function fakeStarts() {
  const started = [];
  return { started, start: () => started.push(new FakeWorker()) && started.at(-1) };
}

test('a stand-in starts no Worker until released, then gives it what it was sent, in order, and relays its messages', () => {
  const { started, start } = fakeStarts();
  const pool = deferredPthreadWorkers(2, start);
  assert.equal(pool.workers.length, 2);
  const [first, second] = pool.workers;
  const seen = [];
  first.onmessage = (event) => seen.push(['message', event.data]);
  first.onerror = (event) => seen.push(['error', event.message]);
  const memory = new ArrayBuffer(8);
  first.postMessage({ cmd: 'load', memory });
  first.postMessage({ cmd: 'run' }, [memory]);
  assert.equal(started.length, 0, 'no Worker before the release');
  assert.equal(first.started, false);

  pool.release();
  assert.equal(started.length, 2, 'one Worker per stand-in');
  assert.equal(first.started && second.started, true);
  assert.deepEqual(started[0].received, [[{ cmd: 'load', memory }, []], [{ cmd: 'run' }, [memory]]]);
  assert.deepEqual(started[1].received, []);
  first.postMessage({ cmd: 'processThreadQueue' });
  assert.deepEqual(started[0].received.at(-1), [{ cmd: 'processThreadQueue' }, []], 'after the start, straight through');

  started[0].onmessage({ data: { cmd: 'loaded' } });
  started[0].onerror({ message: 'boom' });
  assert.deepEqual(seen, [['message', { cmd: 'loaded' }], ['error', 'boom']]);

  pool.release();
  assert.equal(started.length, 2, 'a second release starts nothing more');
  first.terminate();
  assert.equal(started[0].terminated, true);
});

test('a stand-in terminated before the release never starts a Worker', () => {
  const { started, start } = fakeStarts();
  const pool = deferredPthreadWorkers(1, start);
  pool.workers[0].postMessage({ cmd: 'load' });
  pool.workers[0].terminate();
  pool.release();
  assert.equal(started.length, 0);
  assert.equal(pool.workers[0].started, false);
});

test('the pool is released by the first event of a compute request, not by the setup before it', () => {
  let releases = 0;
  const watch = watchForPoolRelease(() => releases++, 60_000);
  const requests = [
    { id: 1, type: 'memory', payload: {} },
    { id: 2, type: 'load', payload: {} },
    { id: 3, type: 'encode', payload: {} },
    { id: 4, type: 'cancel', payload: { target: 2 } },
  ];
  for (const request of requests) watch.request(request);
  watch.request({ tinylmEngineModule: null });  // not a request at all
  for (const id of [1, 2, 3]) watch.event({ id, type: 'result', payload: null });
  watch.event({ id: 2, type: 'readRange', payload: {} });
  assert.equal(releases, 0, 'memory, load, encode and their events do not release it');

  watch.request({ id: 5, type: 'generate', payload: {} });
  assert.equal(releases, 0, 'a compute request that has posted nothing yet does not');
  watch.event({ id: 5, type: 'tokens', payload: [] });
  assert.equal(releases, 1, 'its first tokens do');
  watch.request({ id: 6, type: 'fineTune', payload: {} });
  watch.event({ id: 6, type: 'progress', payload: {} });
  watch.event({ id: 5, type: 'result', payload: {} });
  assert.equal(releases, 1, 'once only');
});

test('a fine-tune\'s first progress, an evaluation\'s end, or a failed generation each release the pool', () => {
  for (const [type, event] of [['fineTune', 'progress'], ['evaluate', 'result'], ['generate', 'error'], ['chat', 'tokens'], ['sessionGenerate', 'tokens']]) {
    let releases = 0;
    const watch = watchForPoolRelease(() => releases++, 60_000);
    watch.request({ id: 9, type, payload: {} });
    watch.event({ id: 9, type: event, payload: {} });
    assert.equal(releases, 1, `${type} → ${event}`);
  }
});

test('with no compute request, the pool is released once every request is answered and none came for the idle spell', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let releases = 0;
  const watch = watchForPoolRelease(() => releases++, 1000);
  t.mock.timers.tick(5000);
  assert.equal(releases, 0, 'not before the first request has been answered');

  watch.request({ id: 1, type: 'memory', payload: {} });
  watch.request({ id: 2, type: 'load', payload: {} });
  watch.event({ id: 1, type: 'result', payload: {} });
  t.mock.timers.tick(5000);
  assert.equal(releases, 0, 'not while a request is open (the load)');

  watch.event({ id: 2, type: 'result', payload: {} });
  t.mock.timers.tick(900);
  watch.request({ id: 3, type: 'encode', payload: {} });
  t.mock.timers.tick(5000);
  assert.equal(releases, 0, 'a request within the idle spell ends it');
  watch.request({ id: 4, type: 'cancel', payload: { target: 3 } });
  watch.event({ id: 3, type: 'error', payload: {} });
  t.mock.timers.tick(999);
  assert.equal(releases, 0);
  t.mock.timers.tick(1);
  assert.equal(releases, 1, 'idle for the whole spell: released');
  watch.request({ id: 5, type: 'generate', payload: {} });
  watch.event({ id: 5, type: 'tokens', payload: [] });
  t.mock.timers.tick(5000);
  assert.equal(releases, 1, 'once only');
});
