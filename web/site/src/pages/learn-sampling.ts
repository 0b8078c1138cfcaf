// Learn: sampling — how temperature, top-k and top-p reshape the model's real next-character distribution.
// The distribution comes from generateSteps() at temperature 1 with every token as an alternative (the model's
// softmax); the reshaping is the sampler's arithmetic, done here in the page so it follows the sliders instantly.
import example from '../lessons/examples/sampling.json';
import { renderMath } from '../lessons/recurrent.js';
import { pageFrame } from '../shared/layout.js';
import { scrollingFigure } from '../shared/figures.js';
import { loadingIndicator } from '../shared/loading.js';
import { defaultShippedModel, loadChoice, startEngine } from '../shared/models.js';
import { element, errorText, labelled, slider, statusLine, visiblePiece } from '../shared/ui.js';

interface Entry { piece: string; probability: number }

startEngine();
const main = pageFrame('Sampling', 'The model does not write text; it gives a probability to every possible next character. ' +
  'The sampler draws one. Its settings decide how adventurous the draw is.');
const maths = element('section', { class: 'prose', 'aria-label': 'Equations' },
  renderMath(String.raw`p_i = \frac{\exp(z_i / T)}{\sum_j \exp(z_j / T)}`),
  element('p', { class: 'note', text: 'Temperature T divides the logits z: T < 1 sharpens the distribution towards the likeliest character, T > 1 flattens it, T → 0 is greedy decoding.' }),
  renderMath(String.raw`\text{top-}k:\ \text{keep the } k \text{ largest } p_i \qquad \text{top-}p:\ \text{keep the smallest set with } \textstyle\sum p_i \ge p`),
  element('p', { class: 'note', text: 'Top-k and top-p (nucleus) sampling cut the long tail of unlikely characters, then renormalise what is left.' }),
);
const prompt = labelled('Prompt (the next character is predicted)', element('input', { type: 'text', value: example.prompt }));
const temperature = slider('Temperature', { min: 0.05, max: 2, step: 0.05, value: 1, format: (v) => v.toFixed(2) });
const topK = slider('Top-k', { min: 0, max: 40, step: 1, value: 0, format: (v) => (v === 0 ? 'off' : String(v)) });
const topP = slider('Top-p', { min: 0.05, max: 1, step: 0.05, value: 1, format: (v) => (v === 1 ? 'off' : v.toFixed(2)) });
const badge = element('span', { class: 'badge', 'data-live': 'false', 'data-testid': 'distribution-source' });
const status = statusLine('Loading the model…', 'busy');
const loading = loadingIndicator();
const table = element('table', { 'data-testid': 'distribution' });
main.append(element('div', { class: 'lesson' }, maths,
  element('section', { class: 'live card stack', 'aria-label': 'Distribution' }, prompt.element,
    element('div', { class: 'panel controls' }, temperature.element, topK.element, topP.element),
    element('div', {}, badge), status.element, loading.element, scrollingFigure(table, 'Next-character distribution'))));

let distribution: Entry[] = example.distribution;

// The same order of operations as the engine's sampler: temperature, then top-k, then top-p, then renormalise.
function reshape(entries: Entry[]): Entry[] {
  const t = temperature.value();
  const scaled = entries.map(({ piece, probability }) => ({ piece, weight: Math.pow(Math.max(probability, 1e-12), 1 / t) }));
  const total = scaled.reduce((sum, entry) => sum + entry.weight, 0);
  let kept = scaled.map(({ piece, weight }) => ({ piece, probability: weight / total })).sort((a, b) => b.probability - a.probability);
  if (topK.value() > 0) kept = kept.slice(0, topK.value());
  if (topP.value() < 1) {
    let mass = 0;
    kept = kept.filter((entry) => (mass += entry.probability) - entry.probability < topP.value());
  }
  const keptMass = kept.reduce((sum, entry) => sum + entry.probability, 0);
  return kept.map(({ piece, probability }) => ({ piece, probability: probability / keptMass }));
}

function draw(): void {
  const original = new Map(distribution.map((entry) => [entry.piece, entry.probability]));
  const shaped = reshape(distribution).slice(0, 15);
  table.replaceChildren(
    element('caption', { text: `Most likely next characters after “${prompt.control.value.slice(-30)}” (top 15 after reshaping)` }),
    element('thead', {}, element('tr', {}, ...['character', 'model', 'after sampler'].map((text) => element('th', { text })),
      element('th', {}, element('span', { class: 'visually-hidden', text: 'bar' })))),
    element('tbody', {}, ...shaped.map((entry) => element('tr', {},
      element('td', {}, element('code', { text: visiblePiece(entry.piece) })),
      element('td', { text: `${((original.get(entry.piece) ?? 0) * 100).toFixed(1)}%` }),
      element('td', { text: `${(entry.probability * 100).toFixed(1)}%` }),
      element('td', {}, element('span', { class: 'bar', style: `width:${Math.round(entry.probability * 200)}px` }))))));
}

for (const control of [temperature, topK, topP]) control.input.addEventListener('input', draw);
badge.textContent = `Precomputed example from ${example.source}`;
draw();

try {
  const model = defaultShippedModel();
  loading.start(model.title);
  const lm = await loadChoice(`shipped:${model.file}`, loading.update).finally(() => loading.done());
  const refresh = async () => {
    for await (const step of lm.generateSteps(prompt.control.value || ' ', { maxTokens: 1, temperature: 1, seed: 1, alternatives: 100 })) {
      if (step.token >= 0) distribution = step.alternatives.map(({ piece, probability }) => ({ piece, probability }));
    }
    badge.textContent = `Live: ${model.title}, for your prompt`;
    badge.dataset.live = 'true';
    draw();
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  prompt.control.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh().catch((error) => status.set(errorText(error), 'error')), 200);
  });
  await refresh();
  status.set('Live: edit the prompt or move the sliders.', 'ok');
} catch (error) {
  status.set(`The live model could not start (${errorText(error)}); the precomputed example stays.`, 'error');
}
