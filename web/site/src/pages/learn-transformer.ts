// Learn: the Transformer — scaled dot-product attention explained on a worked example. The engine's wasm build
// offers recurrent models only for now, so this page computes attention on four small example vectors (shown in
// full) rather than on a model; live attention views come with the GPT model.
import { renderMath } from '../lessons/recurrent.js';
import { pageFrame } from '../shared/layout.js';
import { element } from '../shared/ui.js';

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

const cellStyle = (weight: number) => `background: rgba(11, 92, 173, ${weight.toFixed(3)}); color: ${weight > 0.5 ? '#ffffff' : '#1b1f24'}`;
const grid = element('table', { 'data-testid': 'attention' },
  element('caption', { text: 'Attention weights: row = the token asking, column = the token attended to (causal: no looking ahead)' }),
  element('thead', {}, element('tr', {}, element('th', { text: '' }), ...tokens.map((token) => element('th', { scope: 'col', text: token })))),
  element('tbody', {}, ...weights.map((row, i) => element('tr', {}, element('th', { scope: 'row', text: tokens[i] }),
    ...row.map((weight, j) => element('td', { style: j <= i ? cellStyle(weight) : '', text: j <= i ? weight.toFixed(2) : '—' }))))));
const vectors = (rows: number[][]) => rows.map((row) => `(${row.map((v) => v.toFixed(2)).join(', ')})`).join('  ');

main.append(element('div', { class: 'lesson' },
  element('section', { 'aria-label': 'Equations' },
    renderMath(String.raw`Q = XW_Q,\quad K = XW_K,\quad V = XW_V`),
    element('p', { class: 'note', text: 'Each position’s vector x is projected three ways.' }),
    renderMath(String.raw`\operatorname{Attention}(Q, K, V) = \operatorname{softmax}\!\left(\frac{QK^\top}{\sqrt{d_k}} + M\right) V`),
    element('p', { class: 'note', text: 'Scores are dot products scaled by √d_k so the softmax does not saturate; the mask M is −∞ above the diagonal, so a position never sees the future.' }),
    renderMath(String.raw`\text{block}(x) = x + \operatorname{MLP}(\operatorname{LN}(x + \operatorname{MHA}(\operatorname{LN}(x))))`),
    element('p', { class: 'note', text: 'A pre-LN Transformer block (as in GPT-2): multi-head attention and an MLP, each with a residual connection. tinylm’s GPT uses this block with learned positions and tied embeddings.' })),
  element('section', { 'aria-label': 'Worked example' },
    element('h2', { text: 'A worked example' }),
    element('p', { class: 'note', text: `Four tokens with two-dimensional vectors chosen by hand — queries ${vectors(queries)}; keys ${vectors(keys)}; values ${vectors(values)}. The table is computed from them in this page with the formula on the left.` }),
    element('div', { class: 'alternatives' }, grid),
    element('p', { class: 'note', text: `Outputs (weighted sums of values): ${vectors(outputs)}. “it” attends most to “whale”: its query points the way the whale's key does.` }),
    element('p', { class: 'note', text: 'The engine’s browser build runs recurrent models today; live attention maps from a real model on your text come with the GPT model.' }))));
