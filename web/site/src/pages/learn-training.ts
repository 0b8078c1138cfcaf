// Learn: training — cross-entropy loss, perplexity, backpropagation through time and gradient clipping, with a
// tiny LSTM trained live in the worker (its loss and gradient norm drawn as it learns).
import { TinyLM } from 'tinylm-js';
import { lessonCorpus } from '../lessons/corpus.js';
import { renderMath } from '../lessons/recurrent.js';
import { lossChart } from '../shared/chart.js';
import { pageFrame } from '../shared/layout.js';
import { button, element, errorText, statusLine } from '../shared/ui.js';

const main = pageFrame('Training', 'Training nudges every weight a little in the direction that makes the text more likely. ' +
  'Press the button to train a small LSTM from scratch, here, on one paragraph.');
const lossBox = element('div', { class: 'chart', role: 'img', 'aria-label': 'Training loss and perplexity by step', 'data-testid': 'training-loss' });
const normBox = element('div', { class: 'chart', role: 'img', 'aria-label': 'Gradient norm before clipping by step' });
const status = statusLine('');
const sample = element('div', { class: 'output', 'aria-label': 'Sample from the model' });
const start = button('Train a 1×64 LSTM for 200 steps', () => void train());
main.append(element('div', { class: 'lesson' },
  element('section', { 'aria-label': 'Equations' },
    element('h2', { text: 'Loss and perplexity' }),
    renderMath(String.raw`\mathcal{L} = -\frac{1}{BT}\sum_{b,t} \log p_\theta(x_{b,t+1} \mid x_{b,\le t}) \qquad \mathrm{PPL} = e^{\mathcal{L}}`),
    element('p', { class: 'note', text: 'Cross-entropy in nats per character over a batch of B windows of T characters. Perplexity is the number of equally likely characters the model is “choosing between”: a model that knows nothing about an 80-character alphabet scores 80, English text modelled well by a tiny model scores about 4.' }),
    element('h2', { text: 'Backpropagation through time' }),
    renderMath(String.raw`\frac{\partial \mathcal{L}}{\partial W_{hh}} = \sum_{t=1}^{T} \sum_{k \le t} \frac{\partial \mathcal{L}_t}{\partial h_t}\, \frac{\partial h_t}{\partial h_k}\, \frac{\partial h_k}{\partial W_{hh}}`),
    element('p', { class: 'note', text: 'The network is unrolled over the window of T characters and the gradient flows back through every step. tinylm writes each layer’s backward pass by hand, walking the window from the last character to the first.' }),
    element('h2', { text: 'Gradient clipping' }),
    renderMath(String.raw`g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g \rVert}\right)`),
    element('p', { class: 'note', text: 'When the gradient norm exceeds c (1 by default) the whole gradient is scaled down, so one unlucky batch cannot throw the weights far away. The lower chart shows the norm before clipping.' })),
  element('section', { 'aria-label': 'Live training' }, start, status.element, element('h2', { text: 'Loss and perplexity' }), lossBox,
    element('h2', { text: 'Gradient norm (before clipping)' }), normBox, element('h2', { text: 'What it writes now' }), sample)));

const loss = lossChart(lossBox, [{ label: 'training loss', stroke: '#0b5cad' }, { label: 'perplexity ÷ 10', stroke: '#6a3d9a' }], 'nats/char');
const norm = lossChart(normBox, [{ label: 'gradient norm', stroke: '#b3261e' }, { label: 'clip threshold', stroke: '#555555' }], '‖g‖');

async function train(): Promise<void> {
  start.disabled = true;
  loss.reset();
  norm.reset();
  let lm: TinyLM | undefined;
  try {
    lm = await TinyLM.create({ arch: 'lstm', layers: 1, hidden: 64, embed: 16, seed: 1 }, lessonCorpus);
    const report = await lm.fineTune(lessonCorpus, {
      steps: 200, batchSize: 8, seqLen: 32, learningRate: 5e-3, clip: 1, validationSplit: 0,
      onProgress: (p) => {
        loss.add(p.step, [p.loss, Math.exp(p.loss) / 10]);
        norm.add(p.step, [p.gradNorm, 1]);
        status.set(`step ${p.step}/${p.steps} · loss ${p.loss.toFixed(3)} · perplexity ${Math.exp(p.loss).toFixed(1)}`);
      },
    });
    let text = '';
    for await (const piece of lm.generate('Call me ', { maxTokens: 120, temperature: 0.6, seed: 3 })) text += piece;
    sample.textContent = `Call me ${text}`;
    status.set(`Trained ${report.steps} steps in ${report.seconds.toFixed(1)} s: loss ${report.loss.toFixed(3)}, perplexity ${Math.exp(report.loss).toFixed(1)}.`, 'ok');
  } catch (error) {
    status.set(`Training failed: ${errorText(error)}`, 'error');
  } finally {
    await lm?.dispose();
    start.disabled = false;
  }
}
