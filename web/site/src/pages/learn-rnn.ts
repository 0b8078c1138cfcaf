// Learn: the plain (Elman) RNN — one state, one nonlinearity, with the real model's state per character.
import example from '../lessons/examples/rnn_tanh.json';
import { renderRecurrentLesson } from '../lessons/recurrent.js';
import { lessonCorpus } from '../lessons/corpus.js';

await renderRecurrentLesson({
  arch: 'rnn_tanh',
  title: 'The recurrent neural network',
  lead: 'A recurrent network reads one character at a time and carries a hidden state from each character to the next. ' +
    'Everything it remembers about the text so far has to fit in that one vector.',
  equations: [
    { tex: String.raw`a_t = W_{ih} x_t + b_{ih} + W_{hh} h_{t-1} + b_{hh}`, text: 'The pre-activation mixes the current character’s embedding with the previous state.' },
    { tex: String.raw`h_t = \tanh(a_t)`, text: 'The new state, squashed into (−1, 1).' },
    { tex: String.raw`\frac{\partial h_t}{\partial h_{t-k}} = \prod_{j=t-k+1}^{t} \operatorname{diag}(1 - h_j^2)\, W_{hh}`, text: 'Gradients through k steps multiply k Jacobians: they shrink or explode, which is why plain RNNs forget quickly and why LSTMs and GRUs exist.' },
  ],
  gates: {
    a: { label: 'pre-activation a (clipped to ±1)', range: 'signed', about: 'Pre-activation (red negative, blue positive; values beyond ±1 saturate the tanh and are drawn at full colour).' },
  },
  hidden: { label: 'hidden state h', range: 'signed', about: 'Hidden state (−1 red → +1 blue): the network’s whole memory of the text so far.' },
  example,
  training: lessonCorpus,
});
