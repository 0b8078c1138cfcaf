// Writes the examples the learn pages show before their model arrives (STYLE rule 17): for each recurrent
// architecture, the shipped model of that architecture reads the example sentence and its summarised inspection
// goes to src/lessons/examples/<arch>.json. Run after the shipped models change:
//   npm run build:lib && node web/site/tools/precompute-lessons.mjs      (TINYLM_SITE_MODELS=<dir> for another models dir)
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { TinyLM } from '../../../dist/index.js';
import { summarise } from '../src/lessons/summarise.mjs';

const site = fileURLToPath(new URL('..', import.meta.url));
const modelsDir = process.env.TINYLM_SITE_MODELS ?? join(site, '../../models');
const text = 'Call me Ishmael. Some years ago, I went to sea.';
const index = JSON.parse(await readFile(join(modelsDir, 'index.json'), 'utf8'));
const entries = Array.isArray(index) ? index : index.models;

for (const arch of ['lstm', 'gru', 'rnn_tanh']) {
  for (const entry of entries) {
    const file = entry.file ?? entry.path ?? `${entry.name}.safetensors`;
    const lm = await TinyLM.load(new Uint8Array(await readFile(join(modelsDir, file))));
    if (lm.info.arch === arch) {
      const example = { source: `the model “${entry.title ?? entry.name ?? file}”`, text, ...summarise(await lm.inspect(text)) };
      await writeFile(join(site, 'src/lessons/examples', `${arch}.json`), JSON.stringify(example));
      console.log(`${arch}: ${file}`);
      await lm.dispose();
      break;
    }
    await lm.dispose();
  }
}

// The sampling lesson's example: the default model's full next-character distribution after a prompt
// (temperature 1, no filtering, so the probabilities are the model's softmax).
const first = entries.find((entry) => entry.default) ?? entries[0];
const lm = await TinyLM.load(new Uint8Array(await readFile(join(modelsDir, first.file ?? first.path ?? `${first.name}.safetensors`))));
const prompt = 'The whale swam towards th';
for await (const step of lm.generateSteps(prompt, { maxTokens: 1, temperature: 1, seed: 1, alternatives: 100 })) {
  if (step.token < 0) continue;
  const distribution = step.alternatives.map(({ piece, probability }) => ({ piece, probability: Math.round(probability * 1e5) / 1e5 }));
  await writeFile(join(site, 'src/lessons/examples/sampling.json'), JSON.stringify({ source: `the model “${first.title ?? first.name}”`, prompt, distribution }));
  console.log(`sampling: ${distribution.length} tokens`);
}
await lm.dispose();
await TinyLM.shutdown();
