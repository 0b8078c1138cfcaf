// Fine-tune: the user's text trains the chosen model in the worker, with progress, ETA, live training and
// validation loss, cancel, a before/after sample with the same seed, and save / download / load back.
import { TinyLM, type FineTuneProgress } from 'tinylm-js';
import { lossChart } from '../shared/chart.js';
import { pageFrame } from '../shared/layout.js';
import { describe, loadChoice, modelPicker } from '../shared/models.js';
import { button, element, errorText, formatBytes, formatNumber, formatSeconds, labelled, statusLine } from '../shared/ui.js';

const main = pageFrame('Fine-tune', 'Teach the model your own writing. Training runs in a Web Worker in this tab: ' +
  'nothing is uploaded. A few hundred steps on a page of text take well under a minute.');

const picker = await modelPicker('Start from');
const text = labelled('Training text (paste, or drop a .txt file here)', element('textarea', { rows: '8' }));
const fileInput = labelled('…or choose a .txt file', element('input', { type: 'file', accept: '.txt,text/plain' }));
const steps = labelled('Steps', element('input', { type: 'number', min: '1', max: '5000', value: '100' }));
const rate = labelled('Learning rate', element('input', { type: 'number', min: '0.00001', max: '0.1', step: '0.0001', value: '0.002' }));
const sizeNote = element('p', { class: 'note' });
const trainButton = button('Fine-tune', () => void train());
const cancelButton = button('Cancel', () => controller?.abort(), { class: 'secondary', disabled: '' });
const progress = element('progress', { max: '1', value: '0', 'aria-label': 'Training progress' });
const progressText = element('div', { class: 'metrics', 'aria-live': 'off' });
const status = statusLine('Loading the model…');
const chartBox = element('div', { class: 'chart', 'aria-label': 'Training and validation loss by step', role: 'img' });
const before = element('div', { class: 'output', 'aria-label': 'Sample before fine-tuning' });
const after = element('div', { class: 'output', 'aria-label': 'Sample after fine-tuning' });
const saveName = labelled('Save as', element('input', { type: 'text', value: 'my-model', pattern: '[A-Za-z0-9_-][A-Za-z0-9._-]*' }));
const saveButton = button('Save in this browser', () => void save(), { class: 'secondary' });
const downloadButton = button('Download .safetensors', () => void download(), { class: 'secondary' });
const loadInput = labelled('Load a .safetensors file', element('input', { type: 'file', accept: '.safetensors' }));
const modelInfo = element('p', { class: 'note' });

main.append(
  element('div', { class: 'columns' },
    element('section', { 'aria-label': 'Training text' }, text.element, fileInput.element, sizeNote),
    element('section', { class: 'controls', 'aria-label': 'Training settings' }, picker.element, modelInfo, steps.element, rate.element,
      element('div', { class: 'buttons' }, trainButton, cancelButton))),
  status.element, progress, progressText,
  element('h2', { text: 'Loss' }), chartBox,
  element('p', { class: 'note', text: 'Training loss is measured on each step\'s batch; validation loss on the last 10% of your text, which is held out of training ' +
    '(the example text repeats one paragraph, so its held-out part is not new to the model; paste your own to see real generalisation). ' +
    'When validation loss stops falling while training loss keeps dropping, the model is memorising.' }),
  element('h2', { text: 'Before and after (same prompt, same seed)' }),
  element('div', { class: 'columns' }, element('div', {}, element('h3', { text: 'Before' }), before), element('div', {}, element('h3', { text: 'After' }), after)),
  element('h2', { text: 'Keep it' }),
  element('div', { class: 'buttons' }, saveName.element, saveButton, downloadButton), loadInput.element,
);

const chart = lossChart(chartBox, [{ label: 'training', stroke: '#0b5cad' }, { label: 'validation', stroke: '#b3261e' }]);

text.control.value = `It was the best of times, it was the worst of times, it was the age of wisdom, it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it was the season of Light, it was the season of Darkness, it was the spring of hope, it was the winter of despair, we had everything before us, we had nothing before us, we were all going direct to Heaven, we were all going direct the other way.\n`.repeat(6);

let lm: TinyLM | undefined;
let controller: AbortController | undefined;
const sampleSeed = 7;

// Defaults from the text's size: about three passes over it in batches of 16×64 characters, within 20…300 steps.
function suggestSettings(): void {
  const characters = text.control.value.length;
  const suggested = Math.min(300, Math.max(20, Math.round((3 * characters) / (16 * 64))));
  steps.control.value = String(suggested);
  rate.control.value = characters < 20_000 ? '0.002' : '0.001';
  sizeNote.textContent = `${characters.toLocaleString()} characters → suggested ${suggested} steps at learning rate ${rate.control.value}.`;
}

async function readFile(file: File): Promise<void> {
  if (!/\.(txt|text|md)$/i.test(file.name) && !file.type.startsWith('text/')) {
    status.set(`“${file.name}” is not a plain-text file: drop or choose a .txt file.`, 'error');
    return;
  }
  text.control.value = await file.text();
  suggestSettings();
  status.set(`Read “${file.name}” (${formatBytes(file.size)}).`, 'ok');
}

text.control.addEventListener('input', suggestSettings);
fileInput.control.addEventListener('change', () => fileInput.control.files?.[0] && void readFile(fileInput.control.files[0]));
for (const target of [text.control, main]) {
  target.addEventListener('dragover', (event) => event.preventDefault());
  target.addEventListener('drop', (event) => {
    event.preventDefault();
    const file = (event as DragEvent).dataTransfer?.files[0];
    if (file) void readFile(file);
  });
}

async function use(model: Promise<TinyLM>, label: string): Promise<void> {
  trainButton.disabled = true;
  status.set(`Loading ${label}…`);
  const previous = lm;
  lm = undefined;
  await previous?.dispose();
  try {
    lm = await model;
    modelInfo.textContent = describe(lm);
    status.set('Ready.', 'ok');
    trainButton.disabled = false;
  } catch (error) {
    status.set(`Could not load the model: ${errorText(error)}`, 'error');
  }
}

const samplePrompt = () => text.control.value.slice(0, 24);

async function sample(target: HTMLElement): Promise<void> {
  if (!lm) return;
  let written = '';
  target.textContent = samplePrompt();
  for await (const piece of lm.generate(samplePrompt(), { maxTokens: 160, temperature: 0.7, seed: sampleSeed })) {
    written += piece;
    target.textContent = samplePrompt() + written;
  }
}

function showProgress(p: FineTuneProgress): void {
  progress.value = p.step / p.steps;
  progressText.textContent = `step ${p.step}/${p.steps} · loss ${formatNumber(p.loss)} · validation ${p.validationLoss === null ? '—' : formatNumber(p.validationLoss)}` +
    ` · ${Math.round(p.tokensPerSecond).toLocaleString()} tokens/s · ETA ${formatSeconds(p.etaSeconds)}`;
  chart.add(p.step, [p.loss, p.validationLoss]);
}

async function train(): Promise<void> {
  if (!lm) return;
  controller = new AbortController();
  trainButton.disabled = true;
  cancelButton.disabled = false;
  chart.reset();
  progress.value = 0;
  after.textContent = '';
  let lastValidation: number | null = null;
  try {
    status.set('Sampling before training…');
    await sample(before);
    status.set('Training…');
    const report = await lm.fineTune(text.control.value, {
      steps: Number(steps.control.value), learningRate: Number(rate.control.value), signal: controller.signal,
      evalEvery: Math.max(1, Math.ceil(Number(steps.control.value) / 10)),
      onProgress: (p) => {
        // Validation is measured every evalEvery steps; draw it only at those steps so its line shows real points.
        showProgress({ ...p, validationLoss: p.validationLoss !== lastValidation ? p.validationLoss : null });
        lastValidation = p.validationLoss;
      },
    });
    status.set(`Done: ${report.steps} steps in ${formatSeconds(report.seconds)}; validation loss ${formatNumber(report.initialValidationLoss ?? NaN)} → ` +
      `${formatNumber(report.validationLoss ?? NaN)} nats/char.`, 'ok');
    await sample(after);
  } catch (error) {
    if ((error as Error).name === 'AbortError') {
      status.set('Cancelled: the model is back to its weights from before this run.', 'ok');
      await sample(after).catch(() => {});
    } else {
      status.set(`Training failed: ${errorText(error)}`, 'error');
    }
  } finally {
    trainButton.disabled = false;
    cancelButton.disabled = true;
    controller = undefined;
  }
}

async function save(): Promise<void> {
  if (!lm) return;
  try {
    await lm.save(saveName.control.value);
    await picker.refresh();
    status.set(`Saved as '${saveName.control.value}' in this browser. Every page's model list offers it now.`, 'ok');
  } catch (error) {
    status.set(`Could not save: ${errorText(error)}`, 'error');
  }
}

async function download(): Promise<void> {
  if (!lm) return;
  const bytes = await lm.export();
  const link = element('a', { href: URL.createObjectURL(new Blob([bytes as BlobPart], { type: 'application/octet-stream' })), download: `${saveName.control.value}.safetensors` });
  link.click();
  setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  status.set(`Downloaded ${formatBytes(bytes.length)}.`, 'ok');
}

loadInput.control.addEventListener('change', () => {
  const file = loadInput.control.files?.[0];
  if (file) void use(TinyLM.load(file), file.name);
});
picker.select.addEventListener('change', () => void use(loadChoice(picker.select.value), 'the model'));
suggestSettings();
await use(loadChoice(picker.select.value), 'the model');
