// What every fixture app does, the README's browser quick-start: load the default model, stream a sample into the
// page, load it once more, run a short beam search (code the single-thread engine keeps in its deferred module, which
// the bundler must have emitted too: web/lib/deferred_engine.ts), and leave the result on window.tinylmResult for the
// test to read, with the engine build that ran (the threaded one on a cross-origin isolated page).
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
    let best = '';
    for await (const piece of lm.generate('Call me', { beams: 2, maxTokens: 8 })) best += piece;
    window.tinylmResult = { text: pieces.join(''), pieces: pieces.length, arch: lm.info.arch, sameModel: again.info.parameterCount === lm.info.parameterCount,
      build: TinyLM.capabilities().build, beamSearch: best };
    lm.dispose();
    again.dispose();
  } catch (error) {
    window.tinylmResult = { error: `${error.name} ${error.code}: ${error.message}` };
  }
}
