// Chat: a persona (name, interests, style) and the conversation become the model's context in a plain turn format;
// turns that no longer fit the context budget are shown dimmed. "Learn from this conversation" fine-tunes the model
// on the user's own turns, in the worker.
import type { TinyLM } from 'tinylm-js';
import { pageFrame } from '../shared/layout.js';
import { describe, loadChoice, modelPicker } from '../shared/models.js';
import { button, element, errorText, labelled, slider, statusLine } from '../shared/ui.js';

const main = pageFrame('Chat', 'A conversation with a tiny character-level model. Be clear about what it is: a model of ' +
  'under a million parameters that learned spelling, rhythm and common words from one novel. It does not understand ' +
  'you, remember facts or reason; it continues text in the style it has seen. Your profile and the recent turns are ' +
  'simply written in front of its reply, and fine-tuning on your turns makes it sound a little more like you.');

const picker = await modelPicker();
const name = labelled('Your name', element('input', { type: 'text', value: 'Ada', autocomplete: 'given-name' }));
const interests = labelled('Interests', element('input', { type: 'text', value: 'the sea, whales, old ships' }));
const style = labelled('Style', element('input', { type: 'text', value: 'short, plain sentences' }));
const budget = slider('Context budget (characters)', { min: 200, max: 3000, step: 100, value: 800 });
const temperature = slider('Temperature', { min: 0.1, max: 1.5, step: 0.05, value: 0.6, format: (v) => v.toFixed(2) });
const log = element('div', { class: 'chat-log', role: 'log', 'aria-label': 'Conversation', 'aria-live': 'polite' });
const message = labelled('Message', element('input', { type: 'text', value: 'Tell me about the sea.' }));
const sendButton = button('Send', () => void send());
const learnButton = button('Learn from this conversation', () => void learn(), { class: 'secondary' });
const status = statusLine('Loading the model…');
const trimNote = element('p', { class: 'note', 'aria-live': 'polite' });
const contextView = element('pre', { class: 'output', 'aria-label': 'The exact text the model sees' });
const form = element('form', { class: 'buttons' }, message.element, sendButton);

main.append(element('div', { class: 'columns' },
  element('section', { 'aria-label': 'Conversation' }, log, trimNote, form, element('div', { class: 'buttons' }, learnButton), status.element,
    element('details', {}, element('summary', { text: 'The context the model sees' }), contextView)),
  element('section', { class: 'controls', 'aria-label': 'Profile and settings' }, picker.element, name.element, interests.element,
    style.element, budget.element, temperature.element)));

interface Turn { speaker: 'user' | 'model'; text: string; node: HTMLElement }
const turns: Turn[] = [];
let lm: TinyLM | undefined;
const modelName = 'TinyLM';

// The turn format: a profile header, then one line per turn, "Name: text", ending with "TinyLM:" for the reply.
function profile(): string {
  return `A conversation between ${name.control.value} and ${modelName}.\n${name.control.value} likes ${interests.control.value}. ` +
    `${name.control.value} writes in ${style.control.value}.\n\n`;
}
const line = (turn: Pick<Turn, 'speaker' | 'text'>) => `${turn.speaker === 'user' ? name.control.value : modelName}: ${turn.text}\n`;

// The newest turns that fit the budget after the profile; older ones are marked as outside the context.
function buildContext(): string {
  let room = budget.value() - profile().length - `${modelName}:`.length;
  let first = turns.length;
  while (first > 0 && line(turns[first - 1]).length <= room) room -= line(turns[--first]).length;
  turns.forEach((turn, index) => {
    turn.node.classList.toggle('trimmed', index < first);
    turn.node.title = index < first ? 'No longer in the model\'s context window' : '';
  });
  const trimmed = first > 0 ? `${first} older turn${first === 1 ? '' : 's'} no longer fit the context and are dimmed.` : '';
  trimNote.textContent = trimmed;
  const context = profile() + turns.slice(first).map(line).join('') + `${modelName}:`;
  contextView.textContent = context;
  return context;
}

function addTurn(speaker: Turn['speaker'], text: string): Turn {
  const node = element('div', { class: `turn ${speaker}` }, element('span', { class: 'who', text: speaker === 'user' ? name.control.value : modelName }), text);
  log.append(node);
  log.scrollTop = log.scrollHeight;
  const turn = { speaker, text, node };
  turns.push(turn);
  return turn;
}

async function send(): Promise<void> {
  const text = message.control.value.trim();
  if (!lm || !text) return;
  message.control.value = '';
  sendButton.disabled = true;
  addTurn('user', text);
  const context = buildContext();
  const reply = addTurn('model', '');
  try {
    // truncatePrompt: a GPT's window is shorter than the budget may be; it then reads the newest part.
    for await (const piece of lm.generate(context, { maxTokens: 160, temperature: temperature.value(), stop: ['\n'], repetitionPenalty: 1.1, truncatePrompt: true })) {
      reply.text += piece;
      reply.node.lastChild!.textContent = reply.text;
    }
    reply.text = reply.text.trim() || '…';
    reply.node.lastChild!.textContent = reply.text;
    buildContext();
  } catch (error) {
    status.set(`The model could not answer: ${errorText(error)}`, 'error');
  } finally {
    sendButton.disabled = false;
    message.control.focus();
  }
}

async function learn(): Promise<void> {
  const own = turns.filter((turn) => turn.speaker === 'user').map(line).join('');
  if (!lm || own.length < 20) {
    status.set('Write a few messages first: the model learns from your turns.', 'error');
    return;
  }
  learnButton.disabled = true;
  // A chat is short: the turns are repeated to fill a few training batches (the model sees the same lines again).
  const corpus = own.repeat(Math.ceil(2000 / own.length));
  try {
    const report = await lm.fineTune(corpus, {
      steps: 40, batchSize: 8, seqLen: 32, learningRate: 2e-3, validationSplit: 0, keepPartial: true,
      onProgress: (p) => status.set(`Learning from your ${turns.filter((t) => t.speaker === 'user').length} turns: step ${p.step}/${p.steps}, loss ${p.loss.toFixed(3)}`),
    });
    status.set(`Learned from your turns: ${report.steps} steps, loss ${report.loss.toFixed(3)}. Replies now lean towards your wording.`, 'ok');
  } catch (error) {
    status.set(`Could not learn: ${errorText(error)}`, 'error');
  } finally {
    learnButton.disabled = false;
  }
}

// A character-level GPT reads at most contextSize characters: the budget cannot usefully exceed that, and the
// dimming must show what the model really sees. (Recurrent models have no such limit; a BPE GPT's window is
// counted in tokens, so its prompt slides instead — truncatePrompt above.)
function fitBudgetToModel(model: TinyLM): void {
  const { contextSize, tokenizerKind } = model.info;
  const limit = contextSize > 0 && tokenizerKind === 'char' ? contextSize : 3000;
  budget.input.min = String(Math.min(200, limit));
  budget.input.max = String(limit);
  if (budget.value() > limit) budget.set(limit);
  buildContext();
}

async function selectModel(): Promise<void> {
  sendButton.disabled = true;
  const previous = lm;
  lm = undefined;
  await previous?.dispose();
  try {
    lm = await loadChoice(picker.select.value);
    fitBudgetToModel(lm);
    status.set(`Ready: ${describe(lm)}.`, 'ok');
    sendButton.disabled = false;
  } catch (error) {
    status.set(`Could not load the model: ${errorText(error)}`, 'error');
  }
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});
picker.select.addEventListener('change', () => void selectModel());
for (const field of [name.control, interests.control, style.control, budget.input]) field.addEventListener('input', () => buildContext());
buildContext();
await selectModel();
