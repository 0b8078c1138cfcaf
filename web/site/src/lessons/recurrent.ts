// One recurrent-network lesson (RNN, LSTM, GRU): the equations rendered with KaTeX next to heatmaps of the real
// model's hidden state and gates per character of the reader's text. The page first draws a precomputed example
// (tools/precompute-lessons.mjs), then replaces it with live results from the model once it has loaded.
import katex from 'katex';
import 'katex/dist/katex.min.css';
import { TinyLM } from 'tinylm-js';
import { drawHeatmap } from '../shared/heatmap.js';
import { inspectAsTyped } from '../shared/live_inspection.js';
import { pageFrame } from '../shared/layout.js';
import { loadChoice, shippedModels } from '../shared/models.js';
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

export function renderMath(tex: string): HTMLElement {
  const node = element('div', { class: 'math' });
  node.innerHTML = katex.renderToString(tex, { displayMode: true, throwOnError: false, output: 'htmlAndMathml' });
  return node;
}

// The model the live view uses: a shipped one of this architecture, or a small one trained here and now.
async function lessonModel(lesson: RecurrentLesson, report: (text: string) => void): Promise<{ lm: TinyLM; source: string }> {
  const shipped = await shippedModels().catch(() => []);
  const match = shipped.find((model) => model.arch === lesson.arch) ?? shipped.find((model) => model.isDefault && model.arch === undefined);
  if (match) {
    const lm = await loadChoice(`shipped:${match.file}`);
    if (lm.info.arch === lesson.arch) return { lm, source: `the shipped model “${match.title}”` };
    await lm.dispose();
  }
  report(`No shipped ${lesson.arch.toUpperCase()} model: training a small one in this tab (a few seconds)…`);
  const lm = await TinyLM.create({ arch: lesson.arch, layers: 1, hidden: 64, embed: 16 }, lesson.training);
  await lm.fineTune(lesson.training, { steps: 150, batchSize: 8, seqLen: 32, learningRate: 5e-3, validationSplit: 0,
    onProgress: (p) => p.step % 10 === 0 && report(`Training a small ${lesson.arch.toUpperCase()} in this tab: step ${p.step}/${p.steps}, loss ${p.loss.toFixed(2)}`) });
  return { lm, source: `a 1×64 ${lesson.arch.toUpperCase()} trained in this tab for 150 steps on this page's text` };
}

export async function renderRecurrentLesson(lesson: RecurrentLesson): Promise<void> {
  const main = pageFrame(lesson.title, lesson.lead);
  const maths = element('section', { 'aria-label': 'Equations' }, element('h2', { text: 'The equations' }));
  for (const { tex, text } of lesson.equations) maths.append(renderMath(tex), element('p', { class: 'note', text }));

  const input = labelled('Text to run through the model (up to 80 characters)', element('input', { type: 'text', maxlength: '80', value: lesson.example.text }));
  const layer = labelled('Layer', element('select', {}));
  const quantity = labelled('Show', element('select', {}));
  const badge = element('span', { class: 'badge', 'data-live': 'false', 'data-testid': 'heatmap-source' });
  const status = statusLine('Loading the model…');
  const canvas = element('canvas', { 'data-testid': 'heatmap' });
  const about = element('p', { class: 'note' });
  const view = element('section', { 'aria-label': 'Live view' }, element('h2', { text: 'Inside the model' }), input.element,
    element('div', { class: 'buttons' }, layer.element, quantity.element), badge, status.element, element('div', { class: 'heatmap' }, canvas), about,
    element('p', { class: 'note', text: 'Rows are the 16 units whose hidden state varies most over your text (unit numbers on the left); columns are your characters.' }));
  main.append(element('div', { class: 'lesson' }, maths, view));

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
    const { lm, source } = await lessonModel(lesson, (text) => status.set(text));
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
