// Playground: pick a model, write a prompt, stream a sample with the sampler's knobs; hover or focus a generated
// token to see the five most probable tokens it was drawn against.
import { TinyLM, type GeneratedToken } from 'tinylm-js';
import { pageFrame } from '../shared/layout.js';
import { describe, loadChoice, modelPicker } from '../shared/models.js';
import { button, element, errorText, labelled, slider, statusLine, visiblePiece } from '../shared/ui.js';

const main = pageFrame('Playground', 'A small character-level language model running in this tab (WebAssembly in a Web Worker). ' +
  'It writes one character at a time; hover or focus any generated character to see what else it considered.');

const picker = await modelPicker();
const prompt = labelled('Prompt', element('textarea', { rows: '3' }));
prompt.control.value = 'Call me Ishmael. ';
const temperature = slider('Temperature', { min: 0, max: 2, step: 0.05, value: 0.8, format: (v) => v.toFixed(2) });
const topK = slider('Top-k (0 = off)', { min: 0, max: 100, step: 1, value: 0 });
const topP = slider('Top-p (1 = off)', { min: 0.05, max: 1, step: 0.05, value: 1, format: (v) => v.toFixed(2) });
const repetition = slider('Repetition penalty (1 = off)', { min: 1, max: 2, step: 0.05, value: 1, format: (v) => v.toFixed(2) });
const maxTokens = slider('Max tokens', { min: 10, max: 1000, step: 10, value: 300 });
const seed = labelled('Seed', element('input', { type: 'number', min: '0', step: '1', value: '1' }));
const generateButton = button('Generate', () => void run());
const stopButton = button('Stop', () => controller?.abort(), { class: 'secondary', disabled: '' });
const status = statusLine('Loading the model…');
const info = element('p', { class: 'note' });
const output = element('div', { class: 'output', 'aria-live': 'off', 'aria-label': 'Generated text' });
const metrics = element('div', { class: 'metrics' });
const alternatives = element('div', { class: 'alternatives', 'aria-live': 'polite' },
  element('p', { class: 'note', text: 'Hover or focus a generated character to see the top-5 alternatives.' }));

main.append(element('div', { class: 'columns' },
  element('section', { 'aria-label': 'Prompt and output' }, prompt.element, element('div', { class: 'buttons' }, generateButton, stopButton),
    status.element, output, metrics, element('h2', { text: 'Alternatives' }), alternatives),
  element('section', { class: 'controls', 'aria-label': 'Model and sampling' }, picker.element, info,
    temperature.element, topK.element, topP.element, repetition.element, maxTokens.element, seed.element)));

let lm: TinyLM | undefined;
let controller: AbortController | undefined;
const steps: GeneratedToken[] = [];

async function selectModel(): Promise<void> {
  generateButton.disabled = true;
  status.set('Loading the model…');
  const previous = lm;
  lm = undefined;
  await previous?.dispose();
  try {
    lm = await loadChoice(picker.select.value);
    info.textContent = describe(lm);
    status.set('Ready.', 'ok');
    generateButton.disabled = false;
  } catch (error) {
    status.set(`Could not load the model: ${errorText(error)}`, 'error');
  }
}

function showAlternatives(index: number): void {
  const step = steps[index];
  const rows = step.alternatives.map((alternative) => element('tr', {},
    element('td', {}, element('code', { text: visiblePiece(alternative.piece) })),
    element('td', { text: `${(alternative.probability * 100).toFixed(1)}%` }),
    element('td', { 'aria-hidden': 'true' }, element('span', { class: 'bar', style: `width:${Math.round(alternative.probability * 120)}px` })),
    element('td', { text: alternative.token === step.token ? '← chosen' : '' })));
  alternatives.replaceChildren(element('table', {},
    element('caption', { class: 'visually-hidden', text: `Alternatives for token ${index + 1}` }),
    element('thead', {}, element('tr', {}, element('th', { text: 'token' }), element('th', { text: 'probability' }), element('th', {}), element('th', {}))),
    element('tbody', {}, ...rows)));
}

output.addEventListener('mouseover', (event) => {
  const index = (event.target as HTMLElement).dataset?.index;
  if (index !== undefined) showAlternatives(Number(index));
});
output.addEventListener('focusin', (event) => {
  const index = (event.target as HTMLElement).dataset?.index;
  if (index !== undefined) showAlternatives(Number(index));
});

async function run(): Promise<void> {
  if (!lm) return;
  controller = new AbortController();
  generateButton.disabled = true;
  stopButton.disabled = false;
  steps.length = 0;
  output.replaceChildren(element('span', { class: 'prompt', text: prompt.control.value }));
  status.set('Generating…');
  const started = performance.now();
  let firstTokenAt = 0;
  let tokens = 0;
  const showMetrics = () => {
    const seconds = (performance.now() - started) / 1000;
    metrics.textContent = `${tokens} tokens · ${(tokens / Math.max(seconds, 1e-3)).toFixed(0)} tokens/s · first token after ${firstTokenAt.toFixed(0)} ms`;
  };
  try {
    for await (const step of lm.generateSteps(prompt.control.value, {
      maxTokens: maxTokens.value(), temperature: temperature.value(), topK: topK.value(), topP: topP.value(),
      repetitionPenalty: repetition.value(), seed: Number(seed.control.value) || 0, alternatives: 5, signal: controller.signal,
    })) {
      if (tokens === 0) firstTokenAt = performance.now() - started;
      if (step.token >= 0) tokens++;
      if (!step.piece) continue;
      const span = element('span', { class: 'token', text: step.piece, tabindex: '0', 'data-index': String(steps.length) });
      steps.push(step);
      output.append(span);
      if (tokens % 8 === 0) showMetrics();
    }
    status.set('Done.', 'ok');
  } catch (error) {
    if ((error as Error).name === 'AbortError') status.set('Stopped.', 'ok');
    else status.set(`Generation failed: ${errorText(error)}`, 'error');
  } finally {
    showMetrics();
    generateButton.disabled = false;
    stopButton.disabled = true;
    controller = undefined;
  }
}

picker.select.addEventListener('change', () => void selectModel());
await selectModel();
