#!/usr/bin/env bash
# Part of `npm run build:lib`: the threaded build's worker (dist/worker_browser_threads.js, which is also each of its
# pthread Workers' script: web/lib/worker_pthread_start.ts) becomes one self-contained file (esbuild, a dev
# dependency), glue included, so it shares no module with the single-thread worker. Parcel 2 moves a module shared
# between workers into a bundle of their own and drops its code there (measured: the glue's body, and worker_core's
# exports); with nothing shared, every bundler bundles each worker whole. The `new URL('./…', import.meta.url)`
# references stay as written (same folder), for the app's bundler to emit. The glue's Node-only requires stay
# unresolved: they sit behind its Node check.
set -euo pipefail
cd "$(dirname "$0")/.."
node_modules/.bin/esbuild dist/worker_browser_threads.js --bundle --format=esm --outfile=dist/worker_browser_threads.js \
  --allow-overwrite --external:fs --external:path --external:worker_threads --external:perf_hooks --log-level=warning
