// The Chromium renderer's peak resident set while tinylm loads a Hugging Face checkpoint with browser storage on (the
// weights in the origin private file system, or the Cache API in builds before it), in a profile on disk as a user's
// is: a first load downloads the folder into storage, a second load (a new browser on the same profile) reads it
// from there. Each row is one browser: hf_peer_browser.mjs serves the folder and the
// package, hf_peer_page.html loads it (maxContext 256) and generates 2 tokens, and the renderer's VmHWM (the page,
// its workers and their wasm heaps) is read before the browser closes. ratio = peak ÷ the wasm heap after the load
// (the resident model; issue 16's bar is 1.25); growth_ratio = (peak − the renderer's resident set once the engine
// started, before the load: base_rss_mb) ÷ the same heap; peak_over_after = peak ÷ the renderer's resident set after
// the load and 2 tokens (rss_after_mb: the page, the engine and the model as they stay).
//
//   node bench/wasm/hf_cache_memory.mjs --folder DIR [--weights int8,f32] [--dists DIST,…] [--rounds 2] [--threads 1]
//
// --folder: a checkpoint folder bench/wasm/hf_peer.mjs wrote ($TMPDIR/tinylm-hf-peer-*/gpt2, which also holds the
// prompt the page reads). --dists: builds of the package to compare (default dist/), run alternately, each round
// in a fresh profile. One JSON line per browser, with the load average when it started. Memory figures, not timings:
// nothing here passes or fails.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

import { closeChromium, runInChromium } from './hf_peer_browser.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const option = (name, fallback) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : fallback);
const folder = option('folder');
if (!folder) throw new Error('--folder DIR: a checkpoint folder bench/wasm/hf_peer.mjs wrote');
const weightsForms = option('weights', 'int8,f32').split(',');
const dists = option('dists', join(root, 'dist')).split(',').map((dist) => resolve(dist));
const rounds = Number(option('rounds', '2'));
const threads = Number(option('threads', '1'));

for (let round = 1; round <= rounds; ++round) {
  for (const weights of weightsForms) {
    for (const dist of dists) {
      const profile = mkdtempSync(join(tmpdir(), 'tinylm-cache-profile-'));
      try {
        for (const phase of ['download', 'cached']) {
          const loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
          const result = await runInChromium('tinylm', folder, {
            model: basename(folder), weights, threads, generate: 2, repeats: 1, dist, profile,
          });
          console.log(JSON.stringify({
            round, dist, weights, phase, base_rss_mb: result.base_rss_mb, peak_rss_mb: result.peak_rss_mb,
            wasm_heap_mb: result.wasm_heap_mb, ratio: +(result.peak_rss_mb / result.wasm_heap_mb).toFixed(2),
            growth_ratio: +((result.peak_rss_mb - result.base_rss_mb) / result.wasm_heap_mb).toFixed(2), rss_after_mb: result.rss_mb,
            peak_over_after: +(result.peak_rss_mb / result.rss_mb).toFixed(2), loadavg,
          }));
        }
      } finally {
        rmSync(profile, { recursive: true, force: true });
      }
    }
  }
}
await closeChromium();
