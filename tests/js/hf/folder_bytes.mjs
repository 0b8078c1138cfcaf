// Shared by the tests that hand a checkpoint folder to TinyLM.load in other forms than a URL (byte arrays, Blobs,
// Files, ranges over shared memory) and compare what each form loads.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { TEXT } from './checkpoints.mjs';

// A folder's files as { name: Uint8Array }, TinyLM.load({ files })'s form.
export function folderBytes(folder) {
  return Object.fromEntries(readdirSync(folder).map((name) => [name, new Uint8Array(readFileSync(join(folder, name)))]));
}

// What a model computes: its loss on TEXT and its greedy continuation.
export async function behaviour(lm) {
  const { loss } = await lm.evaluate(TEXT);
  const tokens = [];
  for await (const step of lm.generateSteps('Call me', { maxTokens: 6, temperature: 0 })) tokens.push(step.token);
  return { loss, tokens };
}
