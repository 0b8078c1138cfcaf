// Navigation to the playground's first generated token for two built sites, cold loads alternated A, B, A, B, … in
// one headless Chromium, so both meet the same machine load: `node bench/site/compare.mjs <site A> <site B>`
// (e.g. a copy of main's dist-site/ against this tree's; ROUNDS=n loads of each, default 8; ISOLATED=0 serves
// both without the cross-origin isolation headers and blocks service workers: the single-thread engine).
// Generate is pressed inside the page the moment it is enabled, as in measure.mjs. Prints each side's median,
// spread and loads, the ratio of medians, and the load average before and after.
import { loadavg } from 'node:os';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { launchBrowser, serveSite } from '../../tests/e2e/helpers.mjs';
import { firstTokenSeen, markFirstToken, pressGenerateWhenReady } from './page_scripts.mjs';

const dirs = process.argv.slice(2, 4).map((dir) => resolve(dir));
if (dirs.length !== 2 || dirs.some((dir) => !existsSync(join(dir, 'index.html')))) {
  console.error('usage: node bench/site/compare.mjs <built site A> <built site B> (folders holding index.html)');
  process.exit(1);
}
const rounds = Number(process.env.ROUNDS ?? 8);
const isolated = process.env.ISOLATED !== '0';

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const servers = await Promise.all(dirs.map((dir) => serveSite({ isolated, dir })));
const browser = await launchBrowser();
const before = loadavg()[0];
const results = [[], []];
try {
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 ? [1, 0] : [0, 1]) {
      const context = await browser.newContext(isolated ? {} : { serviceWorkers: 'block' });
      await context.addInitScript(pressGenerateWhenReady);
      await context.addInitScript(markFirstToken);
      const page = await context.newPage();
      const seen = firstTokenSeen(page);
      await page.goto(`${servers[side].url}index.html`);
      const firstToken = await seen;
      results[side].push({ ready: await page.evaluate(() => window.__pressed), firstToken });
      await context.close();
    }
  }
} finally {
  await browser.close();
  await Promise.all(servers.map((server) => server.close()));
}
const after = loadavg()[0];
const medians = [];
for (const side of [0, 1]) {
  const firstTokens = results[side].map((run) => run.firstToken);
  medians.push(median(firstTokens));
  console.log(`${'AB'[side]} ${dirs[side]}: first token median ${median(firstTokens).toFixed(0)} ms ` +
    `(${Math.min(...firstTokens).toFixed(0)}-${Math.max(...firstTokens).toFixed(0)}; ${firstTokens.map((t) => t.toFixed(0)).join(', ')}), ` +
    `model ready median ${median(results[side].map((run) => run.ready)).toFixed(0)} ms`);
}
console.log(`B/A ${(medians[1] / medians[0]).toFixed(3)} over ${rounds} loads each, ${isolated ? 'isolated (threaded engine)' : 'not isolated (single-thread engine)'}; ` +
  `load average ${before.toFixed(1)} before, ${after.toFixed(1)} after`);
