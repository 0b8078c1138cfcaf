// What a page downloads stays within issue 15's bars: each runtime's .wasm and the JS a bundler ships for the page and
// its worker, gzip -9 (bench/size.mjs --check, which prints the figures). The engine and the package grow one change
// at a time, and nothing else would notice a change that makes every page's first download larger.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const built = existsSync(`${root}dist/wasm/tinylm_wasm.wasm`) && existsSync(`${root}dist/worker_browser_threads.js`);

test('each runtime a page downloads is within its size bar (single-thread 200 KB, threaded 230 KB gzip)', { skip: !built && 'npm run build:lib first' }, () => {
  const { status, stdout, stderr } = spawnSync(process.execPath, [`${root}bench/size.mjs`, '--check'], { encoding: 'utf8' });
  assert.equal(status, 0, `${stdout}${stderr}`);
  assert.equal(stdout.trim().split('\n').filter((line) => line.includes('gzip (bar')).length, 4, stdout);
});
