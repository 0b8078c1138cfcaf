// Models free their engine memory: after a warm-up cycle, 200 load → generate → dispose cycles leave the wasm heap
// the same size with the same bytes in use, and so do repeated failures (errors thrown across the C++/JS seam).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TinyLM, collect, corpus } from './helpers.mjs';

const template = await TinyLM.create({ arch: 'lstm', layers: 2, hidden: 64, embed: 16 }, corpus);
const bytes = await template.export();
await template.dispose();

async function cycle(seed) {
  const lm = await TinyLM.load(bytes);
  await collect(lm.generate('The', { maxTokens: 8, seed }));
  await lm.dispose();
}

test('200 load → generate → dispose cycles do not grow the wasm heap', async (t) => {
  await cycle(0);  // warm-up: first-use allocations of the allocator and Embind
  const before = await TinyLM.memory();
  for (let i = 1; i <= 200; i++) await cycle(i);
  const after = await TinyLM.memory();
  t.diagnostic(`heap ${before.heapSize} → ${after.heapSize} bytes; in use ${before.inUse} → ${after.inUse} bytes`);
  assert.equal(after.heapSize, before.heapSize);
  assert.equal(after.inUse, before.inUse);
});

test('failed calls do not leak engine memory', async (t) => {
  const lm = await TinyLM.load(bytes);
  const garbage = new Uint8Array(4096).fill(7);
  const attempt = async () => {
    await TinyLM.load(garbage).catch(() => {});
    await lm.fineTune('short', { seqLen: 64 }).catch(() => {});
    await lm.fineTune(corpus, { steps: 1, optimizer: 'lion' }).catch(() => {});
  };
  await attempt();
  const before = await TinyLM.memory();
  for (let i = 0; i < 50; i++) await attempt();
  const after = await TinyLM.memory();
  t.diagnostic(`in use ${before.inUse} → ${after.inUse} bytes`);
  assert.equal(after.inUse, before.inUse);
  await lm.dispose();
});
