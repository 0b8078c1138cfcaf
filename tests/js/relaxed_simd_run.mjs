// One run of what tests/js/relaxed_simd.test.mjs compares, in a process of its own (started with or without
// --experimental-wasm-relaxed-simd, Node 20's switch for relaxed SIMD): the package configured by the JSON argument
// ({ threads, relaxedSimd, assetBase }) reports its capabilities before its engine starts and once it runs, then
// loads a GPT-2 and a Llama (SmolLM2's layout) checkpoint folder (tests/js/hf/; `models: []` loads none) and
// reports, per model, the loss on a text, each generated token's alternatives with their probabilities (the softmax
// of its logits), and a short fine-tune's losses and gradient norms. Printed as one JSON line on stdout.
import { checkpoints, TEXT } from './hf/checkpoints.mjs';
import { folderBytes } from './hf/folder_bytes.mjs';
import { TinyLM, corpus } from './helpers.mjs';

const { models: names = ['gpt2', 'smollm2'], ...settings } = JSON.parse(process.argv[2] ?? '{}');
TinyLM.configure(settings);
const capabilities = TinyLM.capabilities();
await TinyLM.memory();  // needs the engine: it has started once this answers
const running = TinyLM.capabilities();
const made = names.length > 0 ? checkpoints() : undefined;
const models = {};
for (const name of names) {
  const lm = await TinyLM.load({ files: folderBytes(made.folders[name]) });
  const { loss } = await lm.evaluate(TEXT);
  const steps = [];
  for await (const step of lm.generateSteps('Call me', { maxTokens: 4, temperature: 1, topK: 0, topP: 1, seed: 5, alternatives: 5 })) {
    steps.push({ token: step.token, alternatives: step.alternatives });
  }
  const training = [];
  await lm.fineTune(corpus.slice(0, 6000), {
    steps: 3, batchSize: 2, seqLen: 32, learningRate: 1e-3, seed: 4, validationSplit: 0,
    onProgress: ({ loss: stepLoss, gradNorm }) => training.push({ loss: stepLoss, gradNorm }),
  });
  models[name] = { loss, steps, training };
  await lm.dispose();
}
await TinyLM.shutdown();
console.log(JSON.stringify({ capabilities, running, models }));
