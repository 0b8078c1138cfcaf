// Learn: the Transformer — scaled dot-product attention worked through on four hand-made vectors, then the real
// thing: every head's attention in the shipped character-level GPT, computed in the tab on the text the reader
// types (TinyLM.inspect).
import { TinyLM } from 'tinylm-js';
import { lessonCorpus } from '../lessons/corpus.js';
import { renderMath } from '../lessons/recurrent.js';
import { asciiTypographic } from '../shared/charset.mjs';
import { attentionView } from '../shared/attention_map.js';
import { scrollingFigure } from '../shared/figures.js';
import { inspectAsTyped } from '../shared/live_inspection.js';
import { pageFrame } from '../shared/layout.js';
import { loadingIndicator } from '../shared/loading.js';
import { loadChoice, shippedModels, startEngine } from '../shared/models.js';
import { onThemeChange } from '../shared/theme.js';
import { element, errorText, labelled, statusLine, visiblePiece } from '../shared/ui.js';

startEngine();
const main = pageFrame('The Transformer', 'A Transformer reads all positions at once. Each position asks a question (query), ' +
  'every earlier position offers a label (key) and content (value), and attention mixes the contents by how well the labels answer the question.');

// A worked example: four tokens with 2-dimensional queries, keys and values, chosen by hand so the arithmetic is
// easy to follow. Causal masking lets each token attend to itself and the tokens before it.
const tokens = ['The', 'whale', 'swam', 'it'];
const queries = [[1, 0], [0, 1], [1, 1], [0.2, 2]];
const keys = [[1, 0], [0, 2], [1, 1], [0.5, 0.5]];
const values = [[1, 0], [0, 1], [0.5, 0.5], [0.2, 0.2]];
const scale = 1 / Math.sqrt(2);
const weights = queries.map((query, i) => {
  const scores = keys.map((key, j) => (j <= i ? (query[0] * key[0] + query[1] * key[1]) * scale : -Infinity));
  const largest = Math.max(...scores);
  const exps = scores.map((score) => Math.exp(score - largest));
  const total = exps.reduce((sum, value) => sum + value, 0);
  return exps.map((value) => value / total);
});
const outputs = weights.map((row) => [0, 1].map((d) => row.reduce((sum, weight, j) => sum + weight * values[j][d], 0)));

// The weight as a tint of the figure's blue, at most half strength so the number on it keeps its contrast.
const cellStyle = (weight: number) => `background: color-mix(in srgb, var(--fig-positive) ${(weight * 50).toFixed(0)}%, var(--fig-bg))`;
const grid = element('table', { 'data-testid': 'attention' },
  element('caption', { text: 'Attention weights: row = the token asking, column = the token attended to (causal: no looking ahead)' }),
  element('thead', {}, element('tr', {}, element('th', {}, element('span', { class: 'visually-hidden', text: 'asking ↓, attended to →' })), ...tokens.map((token) => element('th', { scope: 'col', text: token })))),
  element('tbody', {}, ...weights.map((row, i) => element('tr', {}, element('th', { scope: 'row', text: tokens[i] }),
    ...row.map((weight, j) => element('td', { style: j <= i ? cellStyle(weight) : '', text: j <= i ? weight.toFixed(2) : '—' }))))));
const vectors = (rows: number[][]) => rows.map((row) => `(${row.map((v) => v.toFixed(2)).join(', ')})`).join('  ');

main.append(element('div', { class: 'lesson' },
  element('section', { class: 'prose', 'aria-label': 'Equations' },
    renderMath(String.raw`Q = XW_Q,\quad K = XW_K,\quad V = XW_V`),
    element('p', { class: 'note', text: 'Each position’s vector x is projected three ways.' }),
    renderMath(String.raw`\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right) V`),
    element('p', { class: 'note', text: 'Scores are dot products scaled by √d_k so the softmax does not saturate; the mask M is −∞ above the diagonal, so a position never sees the future.' }),
    renderMath(String.raw`\text{block}(x) = x + \operatorname{MLP}(\operatorname{LN}(x + \operatorname{MHA}(\operatorname{LN}(x))))`),
    element('p', { class: 'note', text: 'A pre-LN Transformer block (as in GPT-2): multi-head attention and an MLP, each with a residual connection. tinylm’s GPT uses this block with learned positions and tied embeddings.' })),
  element('section', { class: 'card stack', 'aria-labelledby': 'worked-title' },
    element('h2', { id: 'worked-title', text: 'A worked example', style: 'margin:0' }),
    element('p', { class: 'note', text: `Four tokens with two-dimensional vectors chosen by hand — queries ${vectors(queries)}; keys ${vectors(keys)}; values ${vectors(values)}. The table is computed from them in this page with the formula on the left.` }),
    scrollingFigure(grid, 'Worked example: attention weights'),
    element('p', { class: 'note', text: `Outputs (weighted sums of values): ${vectors(outputs)}. “it” attends most to “whale”: its query points the way the whale's key does.` }))));

// ---- the live view: the real model's attention on the reader's text ------------------------------------------

const input = labelled('Text to run through the model (up to 48 characters)', element('input', { type: 'text', maxlength: '48', value: 'Call me Ishmael. The whale, the whale!' }));
const layer = labelled('Layer', element('select', {}));
const head = labelled('Head', element('select', {}));
const badge = element('span', { class: 'badge', 'data-live': 'false', 'data-testid': 'attention-source' });
const status = statusLine('Loading the model…', 'busy');
const loading = loadingIndicator();
const map = attentionView();
main.append(element('section', { class: 'card stack', 'aria-labelledby': 'live-title', style: 'margin-top:var(--space-6)' },
  element('h2', { id: 'live-title', text: 'Inside a real model', style: 'margin:0' }),
  element('p', { class: 'note', text: 'The same computation in a trained character-level GPT: each row is a character of your text, ' +
    'each blue cell how much that character’s query matched an earlier character’s key in one head. Heads of trained ' +
    'models tend to specialise (the previous character, the start of the word, a space): pick one to see what it does here. ' +
    'Move through the cells with the arrow keys, or point at or tap one.' }),
  input.element, element('div', { class: 'row' }, layer.element, head.element), element('div', {}, badge), status.element, loading.element,
  element('div', { class: 'figure' }, scrollingFigure(map.element, 'Attention map'))));

// The shipped character-level GPT, or (without one) a small GPT trained here on a paragraph.
async function attentionModel(): Promise<{ lm: TinyLM; source: string }> {
  const match = shippedModels.find((model) => model.arch === 'gpt' && model.tokenizer === 'char') ?? shippedModels.find((model) => model.arch === 'gpt');
  if (match) {
    loading.start(match.title);
    try {
      return { lm: await loadChoice(`shipped:${match.file}`, loading.update), source: `the shipped model “${match.title}”` };
    } finally {
      loading.done();
    }
  }
  status.set('No shipped GPT: training a small one in this tab (a few seconds)…', 'busy');
  const lm = await TinyLM.create({ arch: 'gpt', layers: 2, heads: 4, embed: 32, context: 64 }, lessonCorpus + asciiTypographic);
  await lm.fineTune(lessonCorpus, { steps: 150, batchSize: 8, seqLen: 64, learningRate: 3e-3, validationSplit: 0,
    onProgress: (p) => p.step % 10 === 0 && status.set(`Training a small GPT in this tab: step ${p.step}/${p.steps}, loss ${p.loss.toFixed(2)}`) });
  return { lm, source: 'a 2-layer GPT trained in this tab for 150 steps on a paragraph of Moby Dick' };
}

let inspection: Extract<Awaited<ReturnType<TinyLM['inspect']>>, { kind: 'attention' }> | undefined;

function draw(): void {
  if (!inspection) return;
  const { layers, heads, pieces, attention } = inspection;
  if (layer.control.options.length !== layers) {
    layer.control.replaceChildren(...Array.from({ length: layers }, (_, l) => element('option', { value: String(l), text: `layer ${l + 1}` })));
  }
  if (head.control.options.length !== heads + 1) {
    head.control.replaceChildren(element('option', { value: 'mean', text: 'mean of all heads' }),
      ...Array.from({ length: heads }, (_, h) => element('option', { value: String(h), text: `head ${h + 1}` })));
    head.control.value = '0';
  }
  const N = pieces.length;
  const l = Number(layer.control.value) || 0;
  const chosen = head.control.value;
  const matrix = (h: number) => attention.subarray(((l * heads + h) * N) * N, ((l * heads + h + 1) * N) * N);
  let weights: Float32Array;
  if (chosen === 'mean') {
    weights = new Float32Array(N * N);
    for (let h = 0; h < heads; h++) matrix(h).forEach((weight, i) => (weights[i] += weight / heads));
  } else {
    weights = matrix(Number(chosen));
  }
  const which = chosen === 'mean' ? `the mean of ${heads} heads` : `head ${Number(chosen) + 1}`;
  map.draw({ pieces, weights }, `Attention in layer ${l + 1}, ${which}, over “${pieces.map(visiblePiece).join('')}”`);
}
layer.control.addEventListener('change', draw);
head.control.addEventListener('change', draw);
onThemeChange(draw);

try {
  const { lm, source } = await attentionModel();
  await inspectAsTyped(lm, input.control, (result) => {
    if (result.kind !== 'attention') return;
    inspection = result;
    badge.textContent = `Live: ${source}`;
    badge.dataset.live = 'true';
    draw();
  }, (message) => status.set(message, 'error'));
  status.set('Live: type to see where each character looks.', 'ok');
} catch (error) {
  status.set(`The live model could not start: ${errorText(error)}`, 'error');
}
