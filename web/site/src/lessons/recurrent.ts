// One recurrent-network lesson (RNN, LSTM, GRU): the equations rendered with KaTeX next to heatmaps of the real
// model's hidden state and gates per character of the reader's text. The page first draws a precomputed example
// (tools/precompute-lessons.mjs), then replaces it with live results from the model once it has loaded.
import katex from 'katex';
import 'katex/dist/katex.min.css';
import { TinyLM } from 'tinylm-js';
import { asciiTypographic } from '../shared/charset.mjs';
import { scrollingFigure } from '../shared/figures.js';
import { drawHeatmap } from '../shared/heatmap.js';
import { inspectAsTyped } from '../shared/live_inspection.js';
import { pageFrame } from '../shared/layout.js';
import { loadingIndicator, type LoadingIndicator } from '../shared/loading.js';
import { archName, loadChoice, shippedModels, startEngine } from '../shared/models.js';
import { onThemeChange } from '../shared/theme.js';
import { element, errorText, labelled, statusLine, visiblePiece } from '../shared/ui.js';
import { summarise, type LessonInspection } from './summarise.mjs';

export interface Quantity {
  label: string;           // what the heatmap row block means
  range: 'unit' | 'signed';
  about: string;           // one sentence the reader sees under the heatmap
}

export interface RecurrentLesson {
  arch: 'lstm' | 'gru' | 'rnn_tanh';
  title: string;
  lead: string;
  equations: Array<{ tex: string; text: string }>;
  gates: Record<string, Quantity>;   // by gate name from Inspection.gateNames
  hidden: Quantity;
  example: LessonInspection & { source: string; text: string };
  training: string;                  // text for training a small model in the tab when no shipped one fits
}

let equations = 0;

// A display equation; on a narrow screen it scrolls sideways, with the scroll cue (figures.ts).
export function renderMath(tex: string): HTMLElement {
  const node = element('div', { class: 'math' });
  node.innerHTML = katex.renderToString(tex, { displayMode: true, throwOnError: false, output: 'htmlAndMathml' });
  return scrollingFigure(node, `Equation ${++equations}`);
}

// The model the live view uses: the shipped one of this architecture, or (without one) a small one trained here
// and now, its alphabet the full typing set so any character the reader types is its own token.
async function lessonModel(lesson: RecurrentLesson, report: (text: string) => void, loading: LoadingIndicator): Promise<{ lm: TinyLM; source: string }> {
  const match = shippedModels.find((model) => model.arch === lesson.arch);
  if (match) {
    loading.start(match.title);
    try {
      return { lm: await loadChoice(`shipped:${match.file}`, loading.update), source: `the shipped model “${match.title}”` };
    } finally {
      loading.done();
    }
  }
  const name = archName(lesson.arch);
  report(`No shipped ${name} model: training a small one in this tab (a few seconds)…`);
  const lm = await TinyLM.create({ arch: lesson.arch, layers: 1, hidden: 64, embed: 16 }, lesson.training + asciiTypographic);
  await lm.fineTune(lesson.training, { steps: 150, batchSize: 8, seqLen: 32, learningRate: 5e-3, validationSplit: 0,
    onProgress: (p) => p.step % 10 === 0 && report(`Training a small ${name} in this tab: step ${p.step}/${p.steps}, loss ${p.loss.toFixed(2)}`) });
  return { lm, source: `a 1×64 ${name} trained in this tab for 150 steps on this page's text` };
}

export async function renderRecurrentLesson(lesson: RecurrentLesson): Promise<void> {
  startEngine();
  const main = pageFrame(lesson.title, lesson.lead);
  const maths = element('section', { class: 'prose', 'aria-labelledby': 'equations-title' }, element('h2', { id: 'equations-title', text: 'The equations', style: 'margin-top:0' }));
  for (const { tex, text } of lesson.equations) maths.append(renderMath(tex), element('p', { text }));

  const input = labelled('Text to run through the model (up to 80 characters)', element('input', { type: 'text', maxlength: '80', value: lesson.example.text }));
  const layer = labelled('Layer', element('select', {}));
  const quantity = labelled('Show', element('select', {}));
  const badge = element('span', { class: 'badge', 'data-live': 'false', 'data-testid': 'heatmap-source' });
  const status = statusLine('Loading the model…', 'busy');
  const loading = loadingIndicator();
  const canvas = element('canvas', { 'data-testid': 'heatmap' });
  const about = element('span');
  const view = element('section', { class: 'live card stack', 'aria-labelledby': 'live-title' },
    element('h2', { id: 'live-title', text: 'Inside the model', style: 'margin:0' }), input.element,
    element('div', { class: 'row' }, layer.element, quantity.element), element('div', {}, badge), status.element, loading.element,
    element('figure', {}, element('div', { class: 'figure' }, scrollingFigure(canvas, 'Heatmap')), element('figcaption', {}, about,
      ' Rows are the 16 units whose hidden state varies most over your text (unit numbers on the left); columns are your characters.')));
  main.append(element('div', { class: 'lesson' }, maths, view));
  onThemeChange(() => draw());

  let shown: LessonInspection = lesson.example;
  const options = (data: LessonInspection) => [['h', lesson.hidden.label], ...data.gateNames.map((g) => [`g:${g}`, lesson.gates[g]?.label ?? g])];
  function draw(): void {
    const data = shown;
    if (layer.control.options.length !== data.layers) {
      layer.control.replaceChildren(...Array.from({ length: data.layers }, (_, l) => element('option', { value: String(l), text: `layer ${l + 1}` })));
    }
    if (quantity.control.options.length !== data.gateNames.length + 1) {
      quantity.control.replaceChildren(...options(data).map(([value, text]) => element('option', { value, text })));
    }
    const l = Number(layer.control.value) || 0;
    const chosen = quantity.control.value || 'h';
    const gate = chosen.startsWith('g:') ? chosen.slice(2) : undefined;
    const rows = gate === undefined ? data.hidden[l] : data.gates[l][data.gateNames.indexOf(gate)];
    const info = gate === undefined ? lesson.hidden : lesson.gates[gate];
    const units = data.units[l].length;
    const values = new Float32Array(data.pieces.length * units);
    rows.forEach((row, n) => row.forEach((value, k) => (values[n * units + k] = value)));
    drawHeatmap(canvas, { pieces: data.pieces, values, units, range: info.range },
      `${info.label}, layer ${l + 1}, ${units} units by ${data.pieces.length} characters of “${data.pieces.map(visiblePiece).join('')}”`);
    about.textContent = info.about;
  }
  layer.control.addEventListener('change', draw);
  quantity.control.addEventListener('change', draw);
  badge.textContent = `Precomputed example from ${lesson.example.source}`;
  draw();

  try {
    const { lm, source } = await lessonModel(lesson, (text) => status.set(text, 'busy'), loading);
    await inspectAsTyped(lm, input.control, (inspection) => {
      if (inspection.kind !== 'gates') return;
      shown = summarise(inspection);
      badge.textContent = `Live: ${source}`;
      badge.dataset.live = 'true';
      draw();
    }, (message) => status.set(message, 'error'));
    status.set('Live: type to see the model read your text.', 'ok');
  } catch (error) {
    status.set(`The live model could not start (${errorText(error)}); the precomputed example stays.`, 'error');
  }
}
