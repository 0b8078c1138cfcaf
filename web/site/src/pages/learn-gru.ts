// Learn: the GRU — two gates and one state, with the real model's gates per character.
import example from '../lessons/examples/gru.json';
import { renderRecurrentLesson } from '../lessons/recurrent.js';
import { lessonCorpus } from '../lessons/corpus.js';

await renderRecurrentLesson({
  arch: 'gru',
  title: 'The GRU',
  lead: 'A gated recurrent unit folds the LSTM’s cell into the hidden state: an update gate blends old and new, a reset ' +
    'gate decides how much of the past the new content may look at. Fewer weights, often similar quality.',
  equations: [
    { tex: String.raw`r_t = \sigma(W_{ir} x_t + b_{ir} + W_{hr} h_{t-1} + b_{hr})`, text: 'Reset gate: how much of the previous state the candidate sees.' },
    { tex: String.raw`z_t = \sigma(W_{iz} x_t + b_{iz} + W_{hz} h_{t-1} + b_{hz})`, text: 'Update gate: 1 keeps the old state, 0 takes the new candidate.' },
    { tex: String.raw`n_t = \tanh(W_{in} x_t + b_{in} + r_t \odot (W_{hn} h_{t-1} + b_{hn}))`, text: 'Candidate: note the reset gate multiplies the recurrent term including its bias b_hn, as in PyTorch.' },
    { tex: String.raw`h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1}`, text: 'The new state interpolates between candidate and old state, unit by unit.' },
  ],
  gates: {
    r: { label: 'reset gate r', range: 'unit', about: 'Reset gate (0 → 1, white → blue): white cells ignore the past when forming the candidate.' },
    z: { label: 'update gate z', range: 'unit', about: 'Update gate (0 → 1): blue keeps the old state, white replaces it with the candidate.' },
    n: { label: 'candidate n', range: 'signed', about: 'Candidate (−1 red → +1 blue): the new content proposed at each character.' },
  },
  hidden: { label: 'hidden state h', range: 'signed', about: 'Hidden state (−1 red → +1 blue): the only memory a GRU has.' },
  example,
  training: lessonCorpus,
});
