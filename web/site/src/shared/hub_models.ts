// "Load from the Hugging Face Hub": a model id field with suggestions (GPT-2, SmolLM2) and their download sizes, and
// a Load button. The files come from https://huggingface.co, or from the host named by the page's `?hub=` query
// parameter (a mirror, or the end-to-end tests' local server in the Hub's layout), and stay in the browser's cache
// for the next visit. Progress goes to the page's loading indicator.
import { TinyLM } from 'tinylm-js';
import type { LoadProgress } from './models.js';
import { button, element, formatBytes, labelled } from './ui.js';

export interface HubModel {
  id: string;
  title: string;
  bytes: number;  // about what the download weighs (weights and tokenizer files)
  chat: boolean;  // has a chat template
}

// Download sizes estimated from each model's parameters and stored precision (SmolLM2: BF16, 2 bytes a parameter;
// GPT-2: F32, plus the 4 MB attention-mask buffer each block's file carries), plus its tokenizer files (about 3 MB).
export const hubModels: HubModel[] = [
  { id: 'HuggingFaceTB/SmolLM2-135M-Instruct', title: 'SmolLM2 135M Instruct (chat)', bytes: 272e6, chat: true },
  { id: 'HuggingFaceTB/SmolLM2-135M', title: 'SmolLM2 135M', bytes: 272e6, chat: false },
  { id: 'openai-community/gpt2', title: 'GPT-2 124M', bytes: 551e6, chat: false },
  { id: 'distilbert/distilgpt2', title: 'DistilGPT-2 82M', bytes: 356e6, chat: false },
];

// The Hub host the page uses: ?hub=<URL> when given, else the package's default.
export function hubHost(): string | undefined {
  return new URLSearchParams(location.search).get('hub') ?? undefined;
}

export function loadHubModel(id: string, onProgress: (progress: LoadProgress) => void, signal?: AbortSignal): Promise<TinyLM> {
  return TinyLM.load(`hf:${id}`, { hubHost: hubHost(), onProgress, signal });
}

export interface HubPanel {
  element: HTMLElement;
  input: HTMLInputElement;
  setBusy(busy: boolean): void;
}

// `preferred` is the id the field starts with; onLoad(id) runs when the user asks for a model.
export function hubPanel(preferred: string, onLoad: (id: string) => void): HubPanel {
  const suggestions = element('datalist', { id: 'hub-models' },
    ...hubModels.map((model) => element('option', { value: model.id, label: `${model.title} · about ${formatBytes(model.bytes)}` })));
  const field = labelled('Hugging Face model id', element('input', { type: 'text', list: 'hub-models', spellcheck: 'false',
    autocomplete: 'off', value: preferred, 'data-testid': 'hub-model-id' }));
  const size = element('p', { class: 'note', 'data-testid': 'hub-size' });
  const describeSize = () => {
    const known = hubModels.find((model) => model.id === field.control.value.trim());
    size.textContent = known
      ? `${known.title}: about ${formatBytes(known.bytes)} to download, kept in this browser afterwards.`
      : 'A GPT-2 or Llama-family (SmolLM2, TinyStories) checkpoint with safetensors weights; its size shows as it downloads.';
  };
  const load = button('Load from the Hub', () => {
    const id = field.control.value.trim();
    if (id) onLoad(id);
  }, { class: 'secondary' });
  field.control.addEventListener('input', describeSize);
  field.control.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      load.click();
    }
  });
  describeSize();
  const host = hubHost();
  return {
    element: element('fieldset', { class: 'hub' },
      element('legend', { text: 'Or load one from the Hugging Face Hub' }), field.element, suggestions, size, load,
      ...(host ? [element('p', { class: 'note', text: `Files come from ${host} (the page's ?hub= parameter).` })] : [])),
    input: field.control,
    setBusy(busy) {
      load.disabled = busy;
    },
  };
}
