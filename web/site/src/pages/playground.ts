// Playground: pick a model, write a prompt, stream a sample with the sampler's knobs; select a generated token
// (arrow keys, pointer or tap) to see the five most probable tokens it was drawn against.
import type { GeneratedToken, TinyLM } from 'tinylm-js';
import { hubPanel, loadHubModel } from '../shared/hub_models.js';
import { icons } from '../shared/icons.js';
import { pageFrame } from '../shared/layout.js';
import { loadingIndicator } from '../shared/loading.js';
import { choiceTitle, describe, loadChoice, modelPicker, startEngine } from '../shared/models.js';
import { tokenList } from '../shared/token_list.js';
import { button, element, emptyState, errorText, labelled, slider, statusLine, visiblePiece } from '../shared/ui.js';

startEngine();
const main = pageFrame('Playground', 'A small language model running in this tab, in WebAssembly inside a Web Worker. ' +
  'It writes one character at a time: select any character it wrote to see what else it considered.');

const picker = modelPicker();
const hub = hubPanel('openai-community/gpt2', (id) => void selectModel(id));
const prompt = labelled('Prompt', element('textarea', { rows: '3' }));
prompt.control.value = 'Call me Ishmael. ';
const temperature = slider('Temperature', { min: 0, max: 2, step: 0.05, value: 0.8, format: (v) => v.toFixed(2), hint: 'Lower is safer, higher is wilder; 0 always takes the likeliest.' });
const topK = slider('Top-k', { min: 0, max: 100, step: 1, value: 0, format: (v) => (v === 0 ? 'off' : String(v)) });
const topP = slider('Top-p', { min: 0.05, max: 1, step: 0.05, value: 1, format: (v) => (v === 1 ? 'off' : v.toFixed(2)) });
const repetition = slider('Repetition penalty', { min: 1, max: 2, step: 0.05, value: 1, format: (v) => (v === 1 ? 'off' : v.toFixed(2)) });
const maxTokens = slider('Max tokens', { min: 10, max: 1000, step: 10, value: 300 });
const seed = labelled('Seed', element('input', { type: 'number', min: '0', step: '1', value: '1' }), 'The same seed repeats the same sample.');
const generateButton = button('Generate', () => void run(), { disabled: '' }, icons.play);
const stopButton = button('Stop', () => controller?.abort(), { class: 'secondary', disabled: '' }, icons.stop);
const status = statusLine('Loading the model…', 'busy');
const loading = loadingIndicator();
const info = element('p', { class: 'note' });
const tokens = tokenList('Generated text, one option per token: use the arrow keys to move between tokens', (index) => showAlternatives(index));
const placeholder = element('span', { class: 'placeholder', text: 'The model’s text appears here, one character at a time. Press Generate.' });
const output = element('div', { class: 'output', 'data-testid': 'output' }, placeholder);
const metrics = element('p', { class: 'metrics', 'aria-live': 'off' });
const alternatives = element('div', { class: 'alternatives', 'aria-live': 'polite' },
  emptyState('Nothing selected yet', 'Generate, then select a character (arrow keys, pointer or tap) to see the five tokens it was chosen from.'));

const settings = element('details', { class: 'settings panel', open: '' }, element('summary', { text: 'Model and sampling' }),
  element('div', { class: 'controls' }, picker.element, hub.element, info, temperature.element, topK.element, topP.element, repetition.element,
    maxTokens.element, seed.element));
main.append(element('div', { class: 'workbench' },
  element('section', { class: 'stack', 'aria-label': 'Prompt and output' },
    element('div', { class: 'card stack' }, prompt.element, element('div', { class: 'buttons' }, generateButton, stopButton), status.element, loading.element),
    output, metrics,
    element('section', { class: 'card', 'aria-labelledby': 'alternatives-title' },
      element('h2', { id: 'alternatives-title', text: 'Alternatives', style: 'margin-top:0' }), alternatives)),
  element('aside', { class: 'controls', 'aria-label': 'Model and sampling' }, settings)));
if (matchMedia('(max-width: 760px)').matches) settings.removeAttribute('open');  // phones: the prompt first, settings folded

let lm: TinyLM | undefined;
let controller: AbortController | undefined;
const steps: GeneratedToken[] = [];

// The picker's choice, or `hubId`: a model from the Hugging Face Hub (hub_models.ts).
async function selectModel(hubId?: string): Promise<void> {
  generateButton.disabled = true;
  hub.setBusy(true);
  status.set(hubId ? `Loading ${hubId} from the Hugging Face Hub…` : 'Loading the model…', 'busy');
  const previous = lm;
  lm = undefined;
  await previous?.dispose();
  try {
    loading.start(hubId ?? choiceTitle(picker.select.value));
    lm = hubId ? await loadHubModel(hubId, loading.update) : await loadChoice(picker.select.value, loading.update);
    info.textContent = describe(lm);
    status.set('Ready.', 'ok');
    generateButton.disabled = false;
  } catch (error) {
    status.set(`Could not load the model: ${errorText(error)}`, 'error');
  } finally {
    loading.done();
    hub.setBusy(false);
  }
}

function showAlternatives(index: number): void {
  const step = steps[index];
  if (!step) return;
  const rows = step.alternatives.map((alternative) => element('tr', {},
    element('td', {}, element('code', { text: visiblePiece(alternative.piece) })),
    element('td', { text: `${(alternative.probability * 100).toFixed(1)}%` }),
    element('td', { 'aria-hidden': 'true' }, element('span', { class: 'bar', style: `width:${Math.round(alternative.probability * 120)}px` })),
    element('td', { text: alternative.token === step.token ? '← chosen' : '' })));
  alternatives.replaceChildren(element('table', {},
    element('caption', { text: `Token ${index + 1} of ${steps.length}: “${visiblePiece(step.piece)}” and the tokens it was drawn against` }),
    element('thead', {}, element('tr', {}, element('th', { text: 'token' }), element('th', { text: 'probability' }),
      element('th', {}, element('span', { class: 'visually-hidden', text: 'bar' })), element('th', {}, element('span', { class: 'visually-hidden', text: 'chosen' })))),
    element('tbody', {}, ...rows)));
}

async function run(): Promise<void> {
  if (!lm) return;
  controller = new AbortController();
  generateButton.disabled = true;
  stopButton.disabled = false;
  steps.length = 0;
  tokens.clear();
  output.replaceChildren(element('span', { class: 'prompt', text: prompt.control.value }), tokens.element);
  status.set('Generating…', 'busy');
  const started = performance.now();
  let firstTokenAt = 0;
  let count = 0;
  const showMetrics = () => {
    const seconds = (performance.now() - started) / 1000;
    metrics.replaceChildren(element('span', {}, element('b', { text: String(count) }), ' tokens'),
      element('span', {}, element('b', { text: (count / Math.max(seconds, 1e-3)).toFixed(0) }), ' tokens/s'),
      element('span', {}, 'first token after ', element('b', { text: `${firstTokenAt.toFixed(0)} ms` })));
  };
  try {
    for await (const step of lm.generateSteps(prompt.control.value, {
      maxTokens: maxTokens.value(), temperature: temperature.value(), topK: topK.value(), topP: topP.value(),
      repetitionPenalty: repetition.value(), seed: Number(seed.control.value) || 0, alternatives: 5, signal: controller.signal,
    })) {
      if (count === 0) firstTokenAt = performance.now() - started;
      if (step.token >= 0) count++;
      if (!step.piece) continue;
      steps.push(step);
      tokens.append(step.piece);
      if (count % 8 === 0) showMetrics();
    }
    status.set('Done. Select a character to see its alternatives.', 'ok');
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
void picker.refresh();
await selectModel();
