// What every fixture app does, the README's browser quick-start: load the default model, stream a sample into the
// page, load it once more, and leave the result on window.tinylmResult for the test to read, with the engine build
// that ran (the threaded one on a cross-origin isolated page).
import { TinyLM } from 'tinylm-js';

export async function run() {
  const output = document.querySelector('#output');
  try {
    const lm = await TinyLM.load();
    const pieces = [];
    for await (const piece of lm.generate('Call me', { maxTokens: 40, temperature: 0.8, seed: 1 })) {
      pieces.push(piece);
      output.textContent += piece;
    }
    const again = await TinyLM.load();  // the default model's bytes are fetched once per page
    window.tinylmResult = { text: pieces.join(''), pieces: pieces.length, arch: lm.info.arch, sameModel: again.info.parameterCount === lm.info.parameterCount,
      build: TinyLM.capabilities().build };
    lm.dispose();
    again.dispose();
  } catch (error) {
    window.tinylmResult = { error: `${error.name} ${error.code}: ${error.message}` };
  }
}
