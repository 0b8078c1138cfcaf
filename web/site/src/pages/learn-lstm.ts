// Learn: the LSTM — its four gates and two states, with the real model's gates per character.
import example from '../lessons/examples/lstm.json';
import { renderRecurrentLesson } from '../lessons/recurrent.js';
import { lessonCorpus } from '../lessons/corpus.js';

await renderRecurrentLesson({
  arch: 'lstm',
  title: 'The LSTM',
  lead: 'A long short-term memory network keeps a cell state c that gates decide, per unit and per character, to keep, ' +
    'overwrite or reveal. Type below and watch the real model’s gates open and close.',
  equations: [
    { tex: String.raw`i_t = \sigma(W_{ii} x_t + b_{ii} + W_{hi} h_{t-1} + b_{hi})`, text: 'Input gate: how much of the new candidate to write into the cell.' },
    { tex: String.raw`f_t = \sigma(W_{if} x_t + b_{if} + W_{hf} h_{t-1} + b_{hf})`, text: 'Forget gate: how much of the old cell to keep (1 = keep everything).' },
    { tex: String.raw`g_t = \tanh(W_{ig} x_t + b_{ig} + W_{hg} h_{t-1} + b_{hg})`, text: 'Candidate: the new content, between −1 and 1.' },
    { tex: String.raw`o_t = \sigma(W_{io} x_t + b_{io} + W_{ho} h_{t-1} + b_{ho})`, text: 'Output gate: how much of the cell to show as the hidden state.' },
    { tex: String.raw`c_t = f_t \odot c_{t-1} + i_t \odot g_t \qquad h_t = o_t \odot \tanh(c_t)`, text: 'The cell is updated by addition, which is why gradients survive many steps back in time.' },
    { tex: String.raw`p(x_{t+1} \mid x_{\le t}) = \operatorname{softmax}(W_{\text{head}}\, h^{(L)}_t + b)`, text: 'The last layer’s hidden state predicts the next character (PyTorch’s gate order i, f, g, o; the same weights load in PyTorch).' },
  ],
  gates: {
    i: { label: 'input gate i', range: 'unit', about: 'Input gate (0 → 1, white → blue): blue cells write new content into the cell at that character.' },
    f: { label: 'forget gate f', range: 'unit', about: 'Forget gate (0 → 1): blue keeps the memory, white wipes it. Watch units that reset at spaces or punctuation.' },
    g: { label: 'candidate g', range: 'signed', about: 'Candidate (−1 red → +1 blue): the content offered to the cell at each character.' },
    o: { label: 'output gate o', range: 'unit', about: 'Output gate (0 → 1): how much of each unit’s memory shows in the hidden state.' },
  },
  hidden: { label: 'hidden state h', range: 'signed', about: 'Hidden state (−1 red → +1 blue): what the layer passes on, to the next layer and to the next character.' },
  example,
  training: lessonCorpus,
});
