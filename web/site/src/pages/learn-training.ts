// Learn: training — cross-entropy loss, perplexity, backpropagation through time and gradient clipping, with a
// tiny LSTM trained live in the worker (its loss and gradient norm drawn as it learns).
import { TinyLM } from 'tinylm-js';
import { lessonCorpus } from '../lessons/corpus.js';
import { renderMath } from '../lessons/recurrent.js';
import { asciiTypographic } from '../shared/charset.mjs';
import { lossChart, type LossChart } from '../shared/chart.js';
import { icons } from '../shared/icons.js';
import { pageFrame } from '../shared/layout.js';
import { startEngine } from '../shared/models.js';
import { button, element, emptyState, errorText, statusLine } from '../shared/ui.js';

startEngine();
const main = pageFrame('Training', 'Training nudges every weight a little in the direction that makes the text more likely. ' +
  'Press the button to train a small LSTM from scratch, here, on one paragraph.');
const lossBox = element('div', { class: 'chart', role: 'img', 'aria-label': 'Training loss and perplexity by step', 'data-testid': 'training-loss' },
  emptyState('Not trained yet', 'Press the button: the loss falls here as the model learns, step by step.', icons.chart));
const normBox = element('div', { class: 'chart', role: 'img', 'aria-label': 'Gradient norm before clipping by step' },
  emptyState('No gradients yet', 'Each step’s gradient norm, before clipping, appears here.', icons.chart));
const status = statusLine('');
const sample = element('div', { class: 'output', 'aria-label': 'Sample from the model' },
  element('span', { class: 'placeholder', text: 'After training, the model writes from “Call me ” here.' }));
const start = button('Train a 1×64 LSTM for 200 steps', () => void train(), {}, icons.play);
main.append(element('div', { class: 'lesson' },
  element('section', { class: 'prose', 'aria-label': 'Equations' },
    element('h2', { text: 'Loss and perplexity' }),
    renderMath(String.raw`\mathcal{L} = -\frac{1}{BT}\sum_{b,t} \log p_\theta(x_{b,t+1} \mid x_{b,\le t}) \qquad \mathrm{PPL} = e^{\mathcal{L}}`),
    element('p', { class: 'note', text: 'Cross-entropy in nats per character over a batch of B windows of T characters. Perplexity is the number of equally likely characters the model is “choosing between”: a model that knows nothing about an 80-character alphabet scores 80, English text modelled well by a tiny model scores about 4.' }),
    element('h2', { text: 'Backpropagation through time' }),
    renderMath(String.raw`\frac{\partial \mathcal{L}}{\partial W_{hh}} = \sum_{t=1}^{T} \sum_{k \le t} \frac{\partial \mathcal{L}_t}{\partial h_t}\, \frac{\partial h_t}{\partial h_k}\, \frac{\partial h_k}{\partial W_{hh}}`),
    element('p', { class: 'note', text: 'The network is unrolled over the window of T characters and the gradient flows back through every step. tinylm writes each layer’s backward pass by hand, walking the window from the last character to the first.' }),
    element('h2', { text: 'Gradient clipping' }),
    renderMath(String.raw`g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g \rVert}\right)`),
    element('p', { class: 'note', text: 'When the gradient norm exceeds c (1 by default) the whole gradient is scaled down, so one unlucky batch cannot throw the weights far away. The lower chart shows the norm before clipping.' })),
  element('section', { class: 'live card stack', 'aria-label': 'Live training' }, element('div', { class: 'buttons' }, start), status.element,
    element('h3', { text: 'Loss and perplexity', style: 'margin:0' }), lossBox,
    element('h3', { text: 'Gradient norm (before clipping)', style: 'margin:0' }), normBox, element('h3', { text: 'What it writes now', style: 'margin:0' }), sample)));

let loss: LossChart | undefined;
let norm: LossChart | undefined;

async function train(): Promise<void> {
  start.disabled = true;
  loss ??= lossChart(lossBox, [{ label: 'training loss', colour: '--accent' }, { label: 'perplexity ÷ 10', colour: '--code-keyword' }], 'nats/char');
  norm ??= lossChart(normBox, [{ label: 'gradient norm', colour: '--fig-negative' }, { label: 'clip threshold', colour: '--text-muted' }], '‖g‖');
  loss.reset();
  norm.reset();
  let lm: TinyLM | undefined;
  try {
    // The tokenizer's alphabet: the paragraph and the full typing set, so the model can read anything typed.
    lm = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 64, embed: 16, seed: 1 }, lessonCorpus + asciiTypographic);
    const report = await lm.fineTune(lessonCorpus, {
      steps: 200, batchSize: 8, seqLen: 32, learningRate: 5e-3, clip: 1, validationSplit: 0,
      onProgress: (p) => {
        loss!.add(p.step, [p.loss, Math.exp(p.loss) / 10]);
        norm!.add(p.step, [p.gradNorm, 1]);
        status.set(`step ${p.step}/${p.steps} · loss ${p.loss.toFixed(3)} · perplexity ${Math.exp(p.loss).toFixed(1)}`, 'busy');
      },
    });
    let text = '';
    for await (const piece of lm.generate('Call me ', { maxTokens: 120, temperature: 0.6, seed: 3 })) text += piece;
    sample.replaceChildren(element('span', { class: 'prompt', text: 'Call me ' }), text);
    status.set(`Trained ${report.steps} steps in ${report.seconds.toFixed(1)} s: loss ${report.loss.toFixed(3)}, perplexity ${Math.exp(report.loss).toFixed(1)}.`, 'ok');
  } catch (error) {
    status.set(`Training failed: ${errorText(error)}`, 'error');
  } finally {
    await lm?.dispose();
    start.disabled = false;
  }
}
