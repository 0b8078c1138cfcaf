// Fine-tune: the user's text trains the chosen model in the worker — settings suggested from the text's size,
// progress, ETA and results beside the controls, live training and validation loss, cancel, the best validation
// checkpoint kept, a before/after sample with the same seed, and save / download / load back in the model's own
// precision. The text and settings survive a reload.
import { TinyLM, type FineTuneProgress } from 'tinylm-js';
import { fineTuneKeepingBest } from '../finetune/best_checkpoint.js';
import { filePrecision, precisionName, type Precision } from '../finetune/precision.js';
import { loadPage, savePage, suggestedSettings, type Settings } from '../finetune/settings.js';
import { lossChart, type LossChart } from '../shared/chart.js';
import { icons } from '../shared/icons.js';
import { pageFrame } from '../shared/layout.js';
import { loadingIndicator } from '../shared/loading.js';
import { choiceTitle, describe, loadChoice, modelPicker, shippedModels, startEngine } from '../shared/models.js';
import { button, element, emptyState, errorText, formatBytes, formatNumber, formatSeconds, labelled, statusLine } from '../shared/ui.js';

startEngine();
const main = pageFrame('Fine-tune', 'Teach the model your own writing. Training runs in a Web Worker in this tab: nothing is ' +
  'uploaded. The settings follow the size of your text, the best checkpoint on held-out text is kept, and the result can be ' +
  'saved in this browser or downloaded.');

const exampleText = `It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the other way.\n`.repeat(6);
const saved = loadPage();

const picker = modelPicker('Start from', { preferred: saved.model });
const text = labelled('Training text (paste, or drop a .txt file here)', element('textarea', { rows: '12' }));
const fileInput = labelled('…or choose a .txt file', element('input', { type: 'file', accept: '.txt,.md,text/plain' }));
const sizeNote = element('p', { class: 'note', 'data-testid': 'size-note' });
const steps = labelled('Steps', element('input', { type: 'number', min: '1', max: '5000' }));
const rate = labelled('Learning rate', element('input', { type: 'number', min: '0.00001', max: '0.1', step: '0.0001' }));
const resetSettings = button('Use the suggested settings', () => applySuggestion(true), { class: 'ghost small' });
const trainButton = button('Fine-tune', () => void train(), { disabled: '' }, icons.play);
const cancelButton = button('Cancel', () => controller?.abort(), { class: 'secondary', disabled: '' }, icons.stop);
const progress = element('progress', { max: '1', value: '0', 'aria-label': 'Training progress', hidden: '', 'data-testid': 'train-progress' });
const progressText = element('p', { class: 'metrics', 'data-testid': 'progress-text' });
const status = statusLine('Loading the model…', 'busy');
const result = element('div', { class: 'callout', hidden: '', 'data-testid': 'result', 'aria-live': 'polite' });
const loading = loadingIndicator();
const chartBox = element('div', { class: 'chart', role: 'img', 'aria-label': 'Training and validation loss by step' },
  emptyState('No training yet', 'Press Fine-tune: training loss (each step’s batch) and validation loss (your text’s last 10%, held out) are drawn here.', icons.chart));
const before = element('div', { class: 'output', 'aria-label': 'Sample before fine-tuning' }, element('span', { class: 'placeholder', text: 'A sample from the model before training appears here.' }));
const after = element('div', { class: 'output', 'aria-label': 'Sample after fine-tuning' }, element('span', { class: 'placeholder', text: 'The same prompt and seed after training.' }));
const saveName = labelled('Save as', element('input', { type: 'text', pattern: '[A-Za-z0-9_-][A-Za-z0-9._-]*' }));
const saveButton = button('Save in this browser', () => void save(), { class: 'secondary' });
const downloadButton = button('Download .safetensors', () => void download(), { class: 'secondary' }, icons.download);
const loadInput = labelled('Load a .safetensors file', element('input', { type: 'file', accept: '.safetensors' }));
const keepStatus = statusLine('');
const modelInfo = element('p', { class: 'note' });

const settingsPanel = element('section', { class: 'panel controls', 'aria-label': 'Training' },
  element('h2', { text: 'Training' }), picker.element, modelInfo, loading.element,
  element('div', { class: 'row' }, steps.element, rate.element), resetSettings,
  element('div', { class: 'buttons' }, trainButton, cancelButton), status.element, progress, progressText, result);
const keepPanel = element('section', { class: 'panel controls', 'aria-label': 'Keep it' },
  element('h2', { text: 'Keep it' }), saveName.element, element('div', { class: 'buttons' }, saveButton, downloadButton), loadInput.element, keepStatus.element);
main.append(element('div', { class: 'workbench' },
  element('section', { class: 'stack', 'aria-label': 'Your text and the results' },
    element('div', { class: 'card stack' }, text.element, fileInput.element, sizeNote),
    element('section', { class: 'card', 'aria-labelledby': 'loss-title' }, element('h2', { id: 'loss-title', text: 'Loss', style: 'margin-top:0' }), chartBox,
      element('p', { class: 'note', text: 'When validation loss stops falling while training loss keeps dropping, the model is memorising your text rather than learning its style; the page then keeps the checkpoint where validation was lowest.' })),
    element('section', { class: 'card', 'aria-labelledby': 'samples-title' }, element('h2', { id: 'samples-title', text: 'Before and after (same prompt, same seed)', style: 'margin-top:0' }),
      element('div', { class: 'split' }, element('div', {}, element('h3', { text: 'Before' }), before), element('div', {}, element('h3', { text: 'After' }), after)))),
  element('aside', { class: 'controls' }, settingsPanel, keepPanel)));

let chart: LossChart | undefined;
let lm: TinyLM | undefined;
let precision: Precision = 'f32';
let controller: AbortController | undefined;
const sampleSeed = 7;

text.control.value = saved.text ?? exampleText;
saveName.control.value = saved.saveName ?? 'my-model';

const currentSettings = (): Settings => ({
  ...suggestedSettings(text.control.value.length),
  steps: Number(steps.control.value), learningRate: Number(rate.control.value),
});

function persist(): void {
  const suggestion = suggestedSettings(text.control.value.length);
  savePage({
    text: text.control.value, model: picker.select.value, saveName: saveName.control.value,
    steps: Number(steps.control.value) === suggestion.steps ? null : Number(steps.control.value),
    learningRate: Number(rate.control.value) === suggestion.learningRate ? null : Number(rate.control.value),
  });
}

// The suggestion follows the text; settings the reader typed stay until "Use the suggested settings".
function applySuggestion(force: boolean): void {
  const characters = text.control.value.length;
  const suggestion = suggestedSettings(characters);
  for (const [control, value] of [[steps.control, suggestion.steps], [rate.control, suggestion.learningRate]] as const) {
    if (force) delete control.dataset.edited;
    if (!control.dataset.edited) control.value = String(value);
  }
  sizeNote.textContent = `${characters.toLocaleString('en')} characters → suggested ${suggestion.steps} steps of ${suggestion.batchSize} × ${suggestion.seqLen} ` +
    `characters at learning rate ${suggestion.learningRate} (about ${Math.max(1, Math.round((suggestion.steps * suggestion.batchSize * suggestion.seqLen) / (characters * 0.9)))} passes over the text).`;
  persist();
}

async function readFile(file: File): Promise<void> {
  if (!/\.(txt|text|md)$/i.test(file.name) && !file.type.startsWith('text/')) {
    status.set(`“${file.name}” is not a plain-text file: drop or choose a .txt file.`, 'error');
    return;
  }
  text.control.value = await file.text();
  applySuggestion(false);
  status.set(`Read “${file.name}” (${formatBytes(file.size)}).`, 'ok');
}

// Swaps in another model only once it has loaded: a file that is not a model leaves the current one in place.
// The precision to keep is the one the file was stored in (info.dtype); a fine-tuned model restored from a
// full-precision snapshot (best_checkpoint.ts) keeps its original's.
async function use(load: () => Promise<TinyLM>, label: string, nextPrecision?: Precision): Promise<void> {
  trainButton.disabled = true;
  status.set(`Loading ${label}…`, 'busy');
  try {
    const next = await load();
    await lm?.dispose();
    lm = next;
    precision = nextPrecision ?? lm.info.dtype;
    modelInfo.textContent = `${describe(lm)} · stored in ${precisionName[precision]}`;
    status.set('Ready.', 'ok');
  } catch (error) {
    status.set(lm ? `Could not load ${label}: ${errorText(error)}. The model you had is still loaded.` : `Could not load ${label}: ${errorText(error)}`, 'error');
  } finally {
    trainButton.disabled = !lm;
    loading.done();
  }
}

const samplePrompt = () => text.control.value.slice(0, 24);

async function sample(target: HTMLElement): Promise<void> {
  if (!lm) return;
  const shownPrompt = element('span', { class: 'prompt', text: samplePrompt() });
  const written = element('span');
  target.replaceChildren(shownPrompt, written);
  for await (const piece of lm.generate(samplePrompt(), { maxTokens: 160, temperature: 0.7, seed: sampleSeed })) written.textContent += piece;
}

function showProgress(p: FineTuneProgress, validation: number | null): void {
  progress.value = p.step / p.steps;
  progressText.replaceChildren(
    element('span', {}, 'step ', element('b', { text: `${p.step}/${p.steps}` })),
    element('span', {}, 'loss ', element('b', { text: formatNumber(p.loss) })),
    element('span', {}, 'validation ', element('b', { text: p.validationLoss === null ? '—' : formatNumber(p.validationLoss) })),
    element('span', {}, element('b', { text: Math.round(p.tokensPerSecond).toLocaleString('en') }), ' tokens/s'),
    element('span', {}, 'ETA ', element('b', { text: formatSeconds(p.etaSeconds) })));
  chart ??= lossChart(chartBox, [{ label: 'training', colour: '--accent' }, { label: 'validation', colour: '--fig-negative' }]);
  chart.add(p.step, [p.loss, validation]);
}

function clearProgress(): void {
  progress.hidden = true;
  progress.value = 0;
  progressText.replaceChildren();
}

async function train(): Promise<void> {
  if (!lm) return;
  const settings = currentSettings();
  controller = new AbortController();
  trainButton.disabled = true;
  cancelButton.disabled = false;
  chart?.reset();
  progress.hidden = false;
  progress.value = 0;
  result.hidden = true;
  after.replaceChildren(element('span', { class: 'placeholder', text: 'Training…' }));
  let lastValidation: number | null = null;
  try {
    status.set('Sampling before training…', 'busy');
    await sample(before);
    status.set('Training…', 'busy');
    const run = await fineTuneKeepingBest(lm, text.control.value, settings, (p) => {
      // Validation is measured every evalEvery steps; draw it only there so its line shows real points.
      showProgress(p, p.validationLoss !== lastValidation ? p.validationLoss : null);
      lastValidation = p.validationLoss;
    }, (step) => status.set(step > 0 ? `Going back to the best checkpoint (step ${step})…` : 'Going back to the weights from before training…', 'busy'),
    controller.signal);
    lm = run.lm;
    const change = run.initialLoss && run.bestLoss ? ((run.bestLoss - run.initialLoss) / run.initialLoss) * 100 : 0;
    const summary = run.initialLoss === null
      ? `Trained ${run.steps} steps in ${formatSeconds(run.seconds)}, without validation (${run.validationSkipped ?? 'none held out'}): paste more text to measure how well it generalises.`
      : `Validation loss ${formatNumber(run.initialLoss)} → ${formatNumber(run.bestLoss ?? NaN)} nats/char (${change >= 0 ? '+' : '−'}${Math.abs(change).toFixed(1)}%) in ${formatSeconds(run.seconds)}.`;
    const rose = run.rose
      ? run.bestStep === 0
        ? ` Validation only rose (to ${formatNumber(run.finalLoss ?? NaN)}): the model is back to its weights from before. Try fewer steps or a lower learning rate.`
        : ` Validation was lowest at step ${run.bestStep} and rose to ${formatNumber(run.finalLoss ?? NaN)} by step ${run.steps}: the model from step ${run.bestStep} is kept.`
      : '';
    result.textContent = summary + rose;
    result.hidden = false;
    result.classList.toggle('warn', run.rose);
    status.set(run.rose ? 'Done: validation rose, so the best checkpoint was kept.' : 'Done.', run.rose ? 'warn' : 'ok');
    await sample(after);
  } catch (error) {
    clearProgress();
    chart?.reset();
    if ((error as Error).name === 'AbortError') {
      status.set('Cancelled: the model is back to its weights from before this run.', 'ok');
      await sample(after).catch(() => {});
    } else {
      status.set(`Training failed: ${errorText(error)}`, 'error');
    }
  } finally {
    trainButton.disabled = !lm;
    cancelButton.disabled = true;
    controller = undefined;
  }
}

async function save(): Promise<void> {
  if (!lm) return;
  try {
    const name = saveName.control.value;
    await lm.save(name, { dtype: precision });
    await picker.refresh();
    keepStatus.set(`Saved as '${name}' in this browser: every page's model list offers it now.`, 'ok');
  } catch (error) {
    keepStatus.set(`Could not save: ${errorText(error)}`, 'error');
  }
}

async function download(): Promise<void> {
  if (!lm) return;
  const bytes = await lm.export({ dtype: precision });
  const link = element('a', { href: URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' })), download: `${saveName.control.value}.safetensors` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  keepStatus.set(`Downloaded ${formatBytes(bytes.length)} (${precisionName[filePrecision(bytes)]}).`, 'ok');
}

text.control.addEventListener('input', () => applySuggestion(false));
for (const control of [steps.control, rate.control]) {
  control.addEventListener('input', () => {
    control.dataset.edited = 'true';
    persist();
  });
}
saveName.control.addEventListener('input', persist);
fileInput.control.addEventListener('change', () => fileInput.control.files?.[0] && void readFile(fileInput.control.files[0]));
for (const target of [text.control, main]) {
  target.addEventListener('dragover', (event) => event.preventDefault());
  target.addEventListener('drop', (event) => {
    event.preventDefault();
    const file = (event as DragEvent).dataTransfer?.files[0];
    if (file) void readFile(file);
  });
}
loadInput.control.addEventListener('change', async () => {
  const file = loadInput.control.files?.[0];
  if (!file) return;
  const bytes = new Uint8Array(await file.arrayBuffer());
  await use(() => TinyLM.load(bytes), `“${file.name}”`);
});
picker.select.addEventListener('change', () => {
  persist();
  loading.start(choiceTitle(picker.select.value));
  void use(() => loadChoice(picker.select.value, loading.update), 'the model');
});

for (const [control, value] of [[steps.control, saved.steps], [rate.control, saved.learningRate]] as const) {
  if (!value) continue;
  control.value = String(value);
  control.dataset.edited = 'true';
}
applySuggestion(false);
await picker.refresh(saved.model);
loading.start(choiceTitle(picker.select.value));
await use(() => loadChoice(picker.select.value, loading.update), 'the model');
