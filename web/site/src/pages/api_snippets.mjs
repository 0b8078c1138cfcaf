// The API page's examples as data: each is shown (highlighted at build time: imported with ?highlight), run in the
// page against the real package when the reader presses Run, and printed with its expected output (STYLE rule 18).
export default [
  {
    language: 'javascript',
    title: 'TinyLM.load(source)',
    about: 'Loads a model from a URL, a Blob/File, bytes, or the name of a model saved in this browser. The engine starts in a Web Worker on first use.',
    code: `const lm = await TinyLM.load(modelUrl);
log(lm.info.arch, lm.info.vocabSize, lm.info.parameterCount);`,
    expected: 'lstm 217 925721   (a 2×256 character LSTM over 217 characters)',
  },
  {
    language: 'javascript',
    title: 'lm.generate(prompt, options)',
    about: 'An AsyncIterable of text pieces; a fixed seed repeats the sample. Options: maxTokens, temperature, topK, topP, repetitionPenalty, seed, stop, signal.',
    code: `const lm = await TinyLM.load(modelUrl);
let text = '';
for await (const piece of lm.generate('Call me ', { maxTokens: 60, temperature: 0.7, seed: 1 })) text += piece;
log(text);`,
    expected: '60 characters in the style of the training text',
  },
  {
    language: 'javascript',
    title: 'lm.generateSteps(prompt, options)',
    about: 'Each token with its id and the top alternatives it was drawn against, with probabilities.',
    code: `const lm = await TinyLM.load(modelUrl);
for await (const step of lm.generateSteps('The whale', { maxTokens: 1, seed: 1 })) {
  log(step.alternatives.map((a) => JSON.stringify(a.piece) + ' ' + a.probability.toFixed(3)).join('\\n'));
}`,
    expected: 'five lines: a character and its probability, most likely first',
  },
  {
    language: 'javascript',
    title: 'lm.fineTune(text, options)',
    about: 'Trains in the worker; onProgress reports every step; an AbortSignal cancels within one step and restores the weights.',
    code: `const lm = await TinyLM.load(modelUrl);
const text = 'To be, or not to be, that is the question. '.repeat(40);
const report = await lm.fineTune(text, { steps: 20, batchSize: 8, seqLen: 32,
  onProgress: (p) => p.step % 5 === 0 && log('step', p.step, 'loss', p.loss.toFixed(3)) });
log('validation loss', report.initialValidationLoss.toFixed(3), '→', report.validationLoss.toFixed(3));`,
    expected: 'step 5 … step 20 with falling loss, then the validation loss before → after',
  },
  {
    language: 'javascript',
    title: 'lm.evaluate(text)',
    about: 'Loss (nats per token), perplexity and next-token accuracy on a text.',
    code: `const lm = await TinyLM.load(modelUrl);
const report = await lm.evaluate('Call me Ishmael. Some years ago, never mind how long precisely.');
log(JSON.stringify(report, (key, value) => typeof value === 'number' ? +value.toFixed(3) : value));`,
    expected: '{"loss":…,"perplexity":…,"accuracy":…,"tokens":62}',
  },
  {
    language: 'javascript',
    title: 'lm.inspect(text)',
    about: 'Per-token gate activations and hidden states of a recurrent model (kind "gates"), or every head’s attention for a GPT (kind "attention") — what the learn pages draw.',
    code: `const lm = await TinyLM.load(modelUrl);
const inspection = await lm.inspect('Hello');
log(inspection.pieces.join(' '), '|', inspection.gateNames.join(','), '|', inspection.layers, 'layers ×', inspection.hiddenSize, 'units');`,
    expected: 'H e l l o | i,f,g,o | 2 layers × 256 units',
  },
  {
    language: 'javascript',
    title: 'lm.save(name), TinyLM.load(name), lm.export({ dtype })',
    about: 'Save to IndexedDB under a name, load it back by name, or export safetensors bytes (loadable by the CLI and PyTorch tooling). Both keep the precision the model was loaded with (info.dtype: the default model is int8) unless given dtype: \'f32\', \'f16\' or \'int8\'.',
    code: `const lm = await TinyLM.load(modelUrl);
await lm.save('api-example');
const copy = await TinyLM.load('api-example');
log((await TinyLM.storedModels()).includes('api-example'), copy.info.arch, copy.info.dtype, (await lm.export()).length, 'bytes');
log('as f32:', (await lm.export({ dtype: 'f32' })).length, 'bytes');
await TinyLM.removeStored('api-example');`,
    expected: 'true lstm int8 959900 bytes (then) as f32: 3705524 bytes',
  },
  {
    language: 'javascript',
    title: 'TinyLM.load()',
    about: 'With no source: the default model that ships inside the package (a character-level LSTM trained on Moby Dick), no URL or configuration needed.',
    code: `const lm = await TinyLM.load();
let text = '';
for await (const piece of lm.generate('The sea ', { maxTokens: 40, seed: 3 })) text += piece;
log(lm.info.arch, lm.info.tokenizerKind, '|', text);`,
    expected: 'lstm char | 40 characters of sea-going prose',
  },
  {
    language: 'javascript',
    title: 'TinyLM.create(config, text)',
    about: 'A new model trained from scratch in the tab: recurrent (arch lstm, gru, rnn_tanh, rnn_relu; layers, hidden, embed) or GPT (layers, heads, embed, context), with a char, word or byte-level BPE tokenizer fitted on the text. For a GPT, inspect() gives every head’s attention.',
    code: `const text = 'The whale swam on, and the ship followed the whale. '.repeat(60);
const lm = await TinyLM.create({ arch: 'gpt', layers: 2, heads: 2, embed: 32, context: 64 }, text);
const report = await lm.fineTune(text, { steps: 40, batchSize: 8, seqLen: 64, learningRate: 3e-3 });
log('validation loss', report.initialValidationLoss.toFixed(2), '→', report.validationLoss.toFixed(2));
const view = await lm.inspect('the whale');
log(view.kind, view.layers, 'layers ×', view.heads, 'heads over', view.pieces.length, 'characters');`,
    expected: 'validation loss 3.… → 1.… (then) attention 2 layers × 2 heads over 9 characters',
  },
  {
    language: 'javascript',
    title: 'lm.session()',
    about: 'Generation that continues where it left off: the worker keeps the model’s state, so each turn reads only its new tokens. fork() branches, save() gives bytes that lm.restoreSession(bytes) continues exactly.',
    code: `const lm = await TinyLM.load(modelUrl);
const s = lm.session();
let first = '', second = '';
for await (const piece of s.generate('Call me ', { maxTokens: 30, seed: 1 })) first += piece;
for await (const piece of s.generate(' The sea', { maxTokens: 30, seed: 2 })) second += piece;
log(JSON.stringify(await s.stats()));
let oneShot = '';
for await (const piece of lm.generate('Call me ' + first + ' The sea', { maxTokens: 30, seed: 2 })) oneShot += piece;
log('second turn = one generation over the whole text:', second === oneShot);`,
    expected: '{"historyTokens":76,"lastTurnTokensRead":38} (then) second turn = one generation over the whole text: true',
  },
  {
    language: 'javascript',
    title: 'lm.generate(prompt, { beams, lengthPenalty, fuse, fuseWeight })',
    about: 'Beam search: the most probable continuation among `beams` kept side by side, scored Σ log p / length^lengthPenalty as Hugging Face’s generate(num_beams) does. Fusion: sample from fuseWeight · p_this + (1 − fuseWeight) · p_other of two models with the same tokenizer.',
    code: `const lm = await TinyLM.load(modelUrl);
let best = '';
for await (const piece of lm.generate('Call me ', { beams: 4, lengthPenalty: 1, maxTokens: 30 })) best += piece;
log(best);
const tuned = await TinyLM.load(modelUrl);
await tuned.fineTune('To be, or not to be, that is the question. '.repeat(40), { steps: 10, batchSize: 8, seqLen: 32 });
let blend = '';
for await (const piece of lm.generate('Call me ', { fuse: tuned, fuseWeight: 0.5, maxTokens: 40, seed: 1 })) blend += piece;
log(blend);`,
    expected: 'the most probable 30 characters (then) 40 characters blending Melville and Hamlet',
  },
];

// How to install and import the package.
export const install = [
  { language: 'bash', code: 'npm install tinylm-js' },
  { language: 'javascript', code: "import { TinyLM } from 'tinylm-js';" },
];
