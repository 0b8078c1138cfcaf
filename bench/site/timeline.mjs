// Where the playground's first token goes, on the page's clock (ms after navigation), for a few cold loads of the
// built site in headless Chromium (npm run build:site; TINYLM_SITE_DIR=<dir> for another build; RUNS=n, default 4):
//   worker        the engine worker is constructed (in the page's <head>, or by the package)
//   worker runs   its global scope starts (its performance.timeOrigin)
//   build answered the worker's answer to which build it runs (given_worker.ts), sent once its script has run: an
//                 adopted worker gets the requests that carry bytes (the model's 'load') only after it
//   memory →/←    the engine's first request (shared/models.ts's startEngine: TinyLM.memory()) and its answer,
//                 which waits for the engine's start (glue, the compiled module) and, posted a microtask
//                 late, for a load that was waiting too; '(worker) engine ready' below is the start itself
//   model fetched the default model's response end (resource timing)
//   load →/←      the 'load' request posted with the model's bytes / its result
//   ready         the playground says 'Ready.'
//   generate →    Generate is pressed (the page presses it as soon as it is enabled) and the request posted
//   first token   the first 'tokens' event arrives / a token is on screen
//   (worker) …    the engine worker's own marks (web/lib/worker_state.ts): its engine ready, the model's load
//                 start and end, on the page's clock; the threaded engine's worker (worker_browser_threads.ts) also
//                 marks when the page's thread count and compiled module arrived, when its pthread Workers were
//                 started (pool_release.ts: after the first generated token), and when they had all loaded and
//                 the engine grew to its threads (pool_start.ts: it answers and loads before that)
// Requests and events are seen by wrapping Worker.prototype.postMessage and listening to each Worker's messages.
// ISOLATED=0 serves the site without the cross-origin isolation headers and blocks service workers (so that
// coi-serviceworker cannot isolate it either): the page then starts the single-thread engine.
// JS_FLAGS=<V8 flags> runs Chromium with them (e.g. --no-wasm-lazy-compilation: the .wasm compiled whole up front,
// where V8 by default compiles each function on its first call, in the worker, on the first token's path).
import { chromium } from 'playwright-core';
import { chromiumPath, haveSite, launchBrowser, serveSite } from '../../tests/e2e/helpers.mjs';
import { firstTokenSeen } from './page_scripts.mjs';

if (!haveSite) {
  console.error('build the site first: npm run build:site (and have /usr/bin/chromium)');
  process.exit(1);
}

const instrument = () => {
  const marks = (window.__marks = []);
  const mark = (name) => marks.push([name, performance.now()]);
  const types = new Map();  // request id → type
  const NativeWorker = window.Worker;
  const post = NativeWorker.prototype.postMessage;
  NativeWorker.prototype.postMessage = function (message, transfer) {
    if (message && typeof message === 'object' && 'type' in message && 'id' in message) {
      types.set(message.id, message.type);
      if (!marks.some(([name]) => name === `${message.type} →`)) mark(`${message.type} →`);
    }
    return post.call(this, message, transfer);
  };
  window.Worker = class extends NativeWorker {
    constructor(url, options) {
      super(url, options);
      mark(`worker ${String(url).split('/').pop().replace(/-[\w-]+\.js$/, '')}`);
      this.addEventListener('message', ({ data }) => {
        if (data && 'tinylmBuild' in data && !marks.some(([name]) => name === 'build answered')) mark('build answered');
        const type = data && types.get(data.id);
        if (!type) return;
        const name = `${type} ${data.type === 'result' ? '←' : data.type}`;
        if (!marks.some(([seen]) => seen === name)) mark(name);
      });
    }
  };
  new MutationObserver((_, observer) => {
    const generate = [...document.querySelectorAll('button')].find((button) => button.textContent === 'Generate' && !button.disabled);
    if (!generate) return;
    observer.disconnect();
    mark('ready (Generate pressed)');
    generate.click();
  }).observe(document, { childList: true, subtree: true, attributes: true, attributeFilter: ['disabled'] });
  new MutationObserver((_, observer) => {
    if (!document.querySelector('.output [role=option]')) return;
    mark('first token shown');
    window.__firstToken = performance.now();
    console.debug(`tinylm-first-token ${window.__firstToken}`);
    observer.disconnect();
  }).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', () => mark('DOMContentLoaded'));
};

const runs = Number(process.env.RUNS ?? 4);
const isolated = process.env.ISOLATED !== '0';
const server = await serveSite({ isolated });
const browser = process.env.JS_FLAGS
  ? await chromium.launch({ executablePath: chromiumPath, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', `--js-flags=${process.env.JS_FLAGS}`] })
  : await launchBrowser();
try {
  const rows = [];
  for (let run = 0; run < runs; run++) {
    const context = await browser.newContext(isolated ? {} : { serviceWorkers: 'block' });
    await context.addInitScript(instrument);
    const page = await context.newPage();
    const workers = [];
    page.on('worker', (worker) => workers.push(worker));
    const seen = firstTokenSeen(page);
    await page.goto(`${server.url}index.html`);
    await seen;
    const { marks, origin, resources } = await page.evaluate(() => ({
      marks: window.__marks,
      origin: performance.timeOrigin,
      resources: performance.getEntriesByType('resource')
        .filter((entry) => /\/models\/|\.wasm$/.test(entry.name))
        .map((entry) => [`fetched ${entry.name.split('/').pop().replace(/-[\w-]+\.wasm$/, '.wasm')}`, entry.responseEnd]),
    }));
    for (const worker of workers) {
      // A worker that has ended (or never ran) does not answer: give it a second.
      const seen = await Promise.race([
        worker.evaluate(() => ({
          started: performance.timeOrigin,
          marks: performance.getEntriesByType('mark').filter((mark) => mark.name.startsWith('tinylm ')).map((mark) => [mark.name, mark.startTime]),
        })),
        new Promise((resolve) => setTimeout(resolve, 1000)),
      ]).catch(() => undefined);
      if (seen === undefined) continue;
      marks.push([`worker runs ${worker.url().split('/').pop().replace(/-[\w-]+\.js$/, '')}`, seen.started - origin]);
      for (const [name, time] of seen.marks) marks.push([`(worker) ${name.replace(/^tinylm /, '')}`, seen.started - origin + time]);
    }
    marks.push(...resources);
    marks.sort((a, b) => a[1] - b[1]);
    rows.push(marks);
    if (process.env.VERBOSE) console.log(workers.map((worker) => worker.url()));
    console.log(`run ${run + 1}: ${marks.map(([name, time]) => `${name} ${time.toFixed(0)}`).join(' · ')}`);
    await context.close();
  }
  const firstTokens = rows.map((marks) => marks.find(([name]) => name === 'first token shown')[1]).sort((a, b) => a - b);
  console.log(`first token shown: median ${firstTokens[Math.floor((firstTokens.length - 1) / 2)].toFixed(0)} ms of ${firstTokens.map((t) => t.toFixed(0)).join(', ')}`);
} finally {
  await browser.close();
  await server.close();
}
