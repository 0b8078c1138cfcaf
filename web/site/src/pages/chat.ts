// Chat: a conversation with a small model, in the turn format of chat/format.ts, honest about what the chosen
// model can do. The context follows the model (its window, in its own units) and is shown exactly; the user's
// message always reaches it; replies end at a turn boundary and never just repeat the user; profile, settings,
// conversation and the model learned from the user persist in this browser and can be cleared.
import type { TinyLM } from 'tinylm-js';
import { echoesUser, finishReply, planContext, type ContextPlan, type Measure, type Turn } from '../chat/format.js';
import { hasChatTemplate, planHubContext, type HubContextPlan } from '../chat/hub_chat.js';
import { readAdapter, removeAdapter, writeAdapter } from '../chat/adapter_store.js';
import { learnedAdapter, learnFromConversation } from '../chat/learning.js';
import { logView } from '../chat/log_view.js';
import { defaultState, forgetLearnedModel, learnedModelName, loadState, saveState } from '../chat/store.js';
import { hubModels, hubPanel, loadHubModel } from '../shared/hub_models.js';
import { icons } from '../shared/icons.js';
import { pageFrame } from '../shared/layout.js';
import { loadingIndicator } from '../shared/loading.js';
import { choiceTitle, describe, loadChoice, modelPicker, shippedModels, startEngine } from '../shared/models.js';
import { button, element, errorText, formatBytes, labelled, slider, statusLine } from '../shared/ui.js';
import '../chat/chat.css';

startEngine();
const main = pageFrame('Chat', 'Talk with a small model that runs in this tab. The default was trained on the dialogue of ' +
  'Jane Austen’s novels: it answers in turns, in her manner, but it has no knowledge, memory or reasoning beyond the few ' +
  'hundred characters it reads — it continues the conversation the way her characters might.');

const state = loadState();
const chatDefault = shippedModels.find((model) => model.isChat) ?? shippedModels[0];
const picker = modelPicker('Model', { preferred: state.model || `shipped:${chatDefault.file}` });
const modelNote = element('p', { class: 'note', 'data-testid': 'model-note' });
const modelInfo = element('p', { class: 'note' });
const name = labelled('Your name', element('input', { type: 'text', autocomplete: 'given-name' }));
const opening = labelled('An opening line about you', element('textarea', { rows: '2' }), 'The model reads it first, when it fits.');
const budget = slider('Context budget', { min: 32, max: 2000, step: 1, value: 600 });
const temperature = slider('Temperature', { min: 0.1, max: 1.5, step: 0.05, value: state.temperature, format: (v) => v.toFixed(2) });
const message = labelled('Message', element('textarea', { rows: '2', placeholder: 'Write to the model…' }));
const sendButton = element('button', { type: 'submit', disabled: '' }, 'Send');
sendButton.insertAdjacentHTML('afterbegin', icons.send);
const learnButton = button('Learn from this conversation', () => void learn(), { class: 'secondary' });
const forgetButton = button('Forget what it learned', () => void forget(), { class: 'secondary' });
const clearButton = button('Clear the conversation', () => clearConversation(), { class: 'ghost' }, icons.trash);
const status = statusLine('Loading the model…', 'busy');
const loading = loadingIndicator();
const meterText = element('span', { 'data-testid': 'context-usage' });
const meter = element('meter', { min: '0', max: '1', value: '0', 'aria-label': 'Context used' });
const trimNote = element('p', { class: 'note', 'data-testid': 'trim-note' });
const contextView = element('pre', { class: 'output context', 'data-testid': 'context', tabindex: '0', 'aria-label': 'The exact text the model reads' });
const log = logView((text) => {
  message.control.value = text;
  void send();
});
const form = element('form', { class: 'composer' }, message.element, sendButton);
const hub = hubPanel(hubModels.find((model) => model.chat)!.id, (id) => void selectHubModel(id));

name.control.value = state.name;
opening.control.value = state.opening;
main.append(element('div', { class: 'workbench' },
  element('section', { class: 'stack', 'aria-label': 'Conversation' },
    element('div', { class: 'card chat' }, log.element, form), status.element, loading.element,
    element('div', { class: 'context-usage' }, meterText, meter), trimNote,
    element('details', { class: 'panel' }, element('summary', { text: 'The exact text the model reads' }), contextView)),
  element('aside', { class: 'controls', 'aria-label': 'Settings' },
    element('div', { class: 'panel controls' }, element('h2', { text: 'Model' }), picker.element, hub.element, modelNote, modelInfo, budget.element, temperature.element),
    foldable('You', name.element, opening.element),
    foldable('Learning and memory',
      element('p', { class: 'note', text: 'Everything here stays in this browser. Learning fine-tunes the model on this conversation, in the tab, and keeps the result for your next visit. A model from the Hub learns a small LoRA adapter instead of changing its own weights.' }),
      element('div', { class: 'buttons' }, learnButton, forgetButton, clearButton)))));

// A settings panel that is open on wide screens and folded on phones, so the conversation comes right after the model.
function foldable(title: string, ...content: HTMLElement[]): HTMLElement {
  const panel = element('details', { class: 'panel settings' }, element('summary', { text: title }), element('div', { class: 'controls' }, ...content));
  if (!matchMedia('(max-width: 760px)').matches) panel.setAttribute('open', '');
  return panel;
}

let lm: TinyLM | undefined;
let hubId: string | undefined;  // the Hugging Face model in use, when it is one
let busy = false;
let measure: Measure = async (text) => [...text].length;
let units = 'characters';
const modelName = 'Model';

const persist = () => saveState({ ...state, name: name.control.value, opening: opening.control.value, temperature: temperature.value(),
  budget: budget.value(), model: picker.select.value });

function renderLog(): void {
  log.render(state.turns, { user: name.control.value || 'You', model: modelName });
  void refreshContext();
}

// The exact text the model read for its latest reply (with a message being sent, the text it is about to read):
// the plan for the conversation up to the newest user turn.
async function refreshContext(): Promise<ContextPlan | undefined> {
  let lastUser = state.turns.length - 1;
  while (lastUser >= 0 && state.turns[lastUser].speaker !== 'user') lastUser--;
  if (lastUser < 0) {
    contextView.textContent = opening.control.value.trim() ? `${opening.control.value.trim()}\n` : '';
    meterText.textContent = `Context budget: ${budget.value()} ${units}`;
    meter.value = 0;
    trimNote.textContent = '';
    return undefined;
  }
  const turns = state.turns.slice(0, lastUser + 1);
  const plan = lm && hasChatTemplate(lm)
    ? await planHubContext(lm, turns, opening.control.value, budget.value())
    : await planContext(turns, opening.control.value, budget.value(), measure);
  contextView.textContent = plan.text;
  meter.value = Math.min(1, plan.used / budget.value());
  meterText.textContent = `Context: ${plan.used} of ${budget.value()} ${units}`;
  const trimmed = plan.firstTurn;
  log.markTrimmed(trimmed);
  trimNote.textContent = [
    trimmed > 0 ? `${trimmed} older turn${trimmed === 1 ? '' : 's'} no longer fit and ${trimmed === 1 ? 'is' : 'are'} dimmed.` : '',
    opening.control.value.trim() && !plan.openingIncluded ? 'Your opening line does not fit beside your message.' : '',
    plan.messageCut ? 'Your message is longer than the budget: the model reads its end.' : '',
  ].filter(Boolean).join(' ');
  return plan;
}

// One reply: up to three samples, refusing an empty one or one that only repeats the user; cut to a turn.
async function reply(plan: ContextPlan): Promise<Turn> {
  if ('messages' in plan) return hubReply(plan as HubContextPlan);
  const view = log.startReply(modelName);
  const userLines = state.turns.filter((turn) => turn.speaker === 'user').map((turn) => turn.text);
  const maxTokens = 300;
  let refused: 'empty' | 'echo' = 'empty';
  for (let attempt = 0; attempt < 3; attempt++) {
    let raw = '';
    let sampled = 0;
    for await (const step of lm!.generateSteps(plan.text, {
      maxTokens, temperature: temperature.value(), stop: ['\n'], repetitionPenalty: 1.1, truncatePrompt: true,
      seed: Math.floor(Math.random() * 2 ** 31), alternatives: 0,
    })) {
      if (step.token >= 0) sampled++;
      raw += step.piece;
      view.show(raw);
    }
    const text = finishReply(raw, sampled < maxTokens);
    if (text === '') refused = 'empty';
    else if (echoesUser(text, userLines)) refused = 'echo';
    else {
      const turn: Turn = { speaker: 'model', text, ended: sampled < maxTokens ? 'turn' : 'cut' };
      view.finish(turn);
      return turn;
    }
    view.show(attempt < 2 ? '' : raw);
  }
  const turn: Turn = { speaker: 'model', text: refused === 'echo' ? '(no reply: it could only repeat your words; try again)' : '', empty: true };
  view.finish(turn);
  return turn;
}

// A reply from an instruct model: its chat template renders the messages and generation ends at its end-of-turn
// token. A reply that reaches the token limit is cut to a sentence or word as in the turn format.
async function hubReply(plan: HubContextPlan): Promise<Turn> {
  const view = log.startReply(modelName);
  const maxTokens = 300;
  let raw = '';
  for await (const piece of lm!.chat(plan.messages, { maxTokens, temperature: temperature.value(), repetitionPenalty: 1.1,
    truncatePrompt: true, seed: Math.floor(Math.random() * 2 ** 31) })) {
    raw += piece;
    view.show(raw);
  }
  const endedTurn = lm!.lastChatStats()?.stopReason !== 'max_tokens';
  const text = finishReply(raw, endedTurn);
  const turn: Turn = text === '' ? { speaker: 'model', text: '', empty: true }
    : endedTurn ? { speaker: 'model', text, ended: 'turn', said: raw } : { speaker: 'model', text, ended: 'cut' };
  view.finish(turn);
  return turn;
}

async function send(): Promise<void> {
  const text = message.control.value.replace(/\s+/g, ' ').trim();
  if (!lm || !text || busy) return;
  busy = true;
  sendButton.disabled = true;
  message.control.value = '';
  state.turns.push({ speaker: 'user', text });
  log.render(state.turns, { user: name.control.value || 'You', model: modelName });
  try {
    const plan = (await refreshContext())!;
    status.set('Writing a reply…', 'busy');
    state.turns.push(await reply(plan));
    status.set('Your turn.', 'ok');
  } catch (error) {
    status.set(`The model could not answer: ${errorText(error)}`, 'error');
  } finally {
    persist();
    await refreshContext();
    busy = false;
    sendButton.disabled = false;
    message.control.focus();
  }
}

// The budget follows the model: a GPT's window (less room to start its reply), in its own units; a recurrent
// model reads any length but remembers the last few hundred characters best.
function fitBudget(model: TinyLM, saved: number | null): void {
  const { contextSize, tokenizerKind } = model.info;
  units = tokenizerKind === 'char' ? 'characters' : 'tokens';
  measure = tokenizerKind === 'char' ? async (text) => [...text].length : async (text) => (await model.encode(text)).length;
  const window = contextSize > 0 ? contextSize - 16 : 2000;
  budget.input.min = String(Math.min(32, window));
  budget.input.max = String(window);
  budget.set(Math.min(window, saved ?? (contextSize > 0 ? window : 600)));
  budget.element.querySelector('label')!.textContent = `Context budget (${units})`;
}

async function selectModel(savedBudget: number | null = null): Promise<void> {
  sendButton.disabled = true;
  status.set('Loading the model…', 'busy');
  const previous = lm;
  lm = undefined;
  hubId = undefined;
  await previous?.dispose();
  const choice = picker.select.value;
  const shipped = shippedModels.find((model) => `shipped:${model.file}` === choice);
  modelNote.textContent = choice === `stored:${learnedModelName}`
    ? 'The chat model after learning from your conversations in this browser.'
    : shipped?.description ?? 'A model saved in this browser.';
  try {
    loading.start(choiceTitle(choice));
    lm = await loadChoice(choice, loading.update);
    modelInfo.textContent = describe(lm);
    fitBudget(lm, savedBudget);
    status.set(shipped && !shipped.chatFormat && !choice.startsWith('stored:')
      ? 'Ready. This model was trained on prose, not conversation: expect a line of its book rather than a reply.' : 'Ready: your turn.',
    shipped && !shipped.chatFormat ? 'warn' : 'ok');
    sendButton.disabled = false;
    persist();
    await refreshContext();
  } catch (error) {
    status.set(`Could not load the model: ${errorText(error)}`, 'error');
  } finally {
    loading.done();
  }
}

// A model from the Hugging Face Hub (hub_models.ts). An instruct model chats through its own template; any other
// continues the conversation in the turn format.
async function selectHubModel(id: string): Promise<void> {
  if (busy) return;
  busy = true;
  sendButton.disabled = true;
  hub.setBusy(true);
  status.set(`Loading ${id} from the Hugging Face Hub…`, 'busy');
  const previous = lm;
  lm = undefined;
  await previous?.dispose();
  try {
    loading.start(id);
    lm = await loadHubModel(id, loading.update);
    hubId = id;
    modelNote.textContent = hasChatTemplate(lm)
      ? `${id} from the Hugging Face Hub: an instruct model, answering through its own chat template.`
      : `${id} from the Hugging Face Hub: it has no chat template, so it continues the conversation as text.`;
    const learned = await readAdapter(id);
    if (learned) {
      try {
        await lm.loadAdapter(learned, { name: learnedAdapter });
        modelNote.textContent += ` With what it learned from you (a ${formatBytes(learned.byteLength)} LoRA adapter kept in this browser).`;
      } catch (error) {
        modelNote.textContent += ` The adapter it learned from you could not be read again (${errorText(error)}); it answers without it.`;
      }
    }
    modelInfo.textContent = describe(lm);
    fitBudget(lm, null);
    status.set(hasChatTemplate(lm) ? 'Ready: your turn.' : 'Ready. This model was not trained to chat: expect a continuation rather than a reply.',
      hasChatTemplate(lm) ? 'ok' : 'warn');
    sendButton.disabled = false;
    await refreshContext();
  } catch (error) {
    status.set(`Could not load ${id}: ${errorText(error)}`, 'error');
  } finally {
    loading.done();
    hub.setBusy(false);
    busy = false;
  }
}

async function learn(): Promise<void> {
  if (!lm || busy) return;
  if (state.turns.filter((turn) => turn.speaker === 'user').length < 2) {
    status.set('Write a few messages first: the model learns from the conversation.', 'error');
    return;
  }
  busy = true;
  learnButton.disabled = true;
  try {
    const report = await learnFromConversation(lm, state.turns, (step, steps, loss) =>
      status.set(`Learning from this conversation: step ${step} of ${steps}, loss ${loss.toFixed(3)}`, 'busy'));
    if (report.adapterBytes && hubId) {
      await writeAdapter(hubId, report.adapterBytes);
      status.set(`Learned from your ${report.turns} messages (${report.steps} steps, loss ${report.loss.toFixed(3)}): a ` +
        `${formatBytes(report.adapterBytes.byteLength)} LoRA adapter, saved in this browser beside ${hubId}.`, 'ok');
      return;
    }
    await lm.save(learnedModelName);
    if (!picker.select.value.startsWith(`stored:${learnedModelName}`)) state.learnedFrom = picker.select.value;
    await picker.refresh(`stored:${learnedModelName}`);
    persist();
    status.set(`Learned from your ${report.turns} messages (${report.steps} steps, loss ${report.loss.toFixed(3)}) and saved it in this browser.`, 'ok');
  } catch (error) {
    status.set(`Could not learn: ${errorText(error)}`, 'error');
  } finally {
    busy = false;
    learnButton.disabled = false;
  }
}

async function forget(): Promise<void> {
  if (lm && hubId) {
    await removeAdapter(hubId);
    if ((await lm.listAdapters()).names.includes(learnedAdapter)) await lm.removeAdapter(learnedAdapter);
    status.set(`Forgotten: ${hubId} answers without what it learned, and the adapter is removed from this browser.`, 'ok');
    return;
  }
  const wasLearned = picker.select.value === `stored:${learnedModelName}`;
  await forgetLearnedModel();
  await picker.refresh(wasLearned ? state.learnedFrom ?? `shipped:${chatDefault.file}` : undefined);
  state.learnedFrom = null;
  if (wasLearned) await selectModel(budget.value());
  persist();
  status.set('Forgotten: the learned model is removed from this browser.', 'ok');
}

function clearConversation(): void {
  state.turns = [];
  persist();
  renderLog();
  status.set('Conversation cleared.', 'ok');
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void send();
});
message.control.addEventListener('keydown', (event) => {
  if (event.key === 'Enter' && !event.shiftKey) {  // Enter sends, Shift+Enter starts a new line
    event.preventDefault();
    void send();
  }
});
picker.select.addEventListener('change', () => void selectModel());
for (const field of [name.control, opening.control, budget.input, temperature.input]) {
  field.addEventListener('input', () => {
    persist();
    if (field === name.control) renderLog();
    else void refreshContext();
  });
}

renderLog();
await picker.refresh(state.model || undefined);
await selectModel(state.budget ?? defaultState.budget);
