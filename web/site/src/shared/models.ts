// Which models a page can use: the shipped ones listed in models/index.json (built into the page by the Vite
// config as 'virtual:tinylm-models', so no request stands between navigation and the model download; the files
// are copied next to the pages) and the ones the user saved in this browser (IndexedDB, through TinyLM.save). A
// <select> offers both by display name. Shipped downloads report their progress (bytes and percent).
import { TinyLM } from 'tinylm-js';
import shippedIndex from 'virtual:tinylm-models';
import { element, formatBytes } from './ui.js';

export interface ShippedModel {
  file: string;          // relative to models/
  title: string;         // display name
  arch: string | undefined;
  tokenizer: string | undefined;  // 'char' | 'word' | 'bpe'
  description: string | undefined;
  bytes: number | undefined;      // the file's size, for download progress
  dtype: string | undefined;      // how its weights are stored: 'int8' | 'f16' | 'f32'
  isDefault: boolean;    // the playground's and the lessons' default
  isChat: boolean;       // the chat page's offline default
  chatFormat: boolean;   // trained on one turn per line (its replies are turns)
}

const modelsBase = () => new URL('models/', location.href);

const archNames: Record<string, string> = { lstm: 'LSTM', gru: 'GRU', rnn_tanh: 'RNN (tanh)', rnn_relu: 'RNN (ReLU)', gpt: 'GPT', llama: 'Llama', ngram: 'n-gram' };
export const archName = (arch: string) => archNames[arch] ?? arch;

// Starts the engine (the worker and its WebAssembly) without waiting, so it gets ready while the model downloads
// instead of after: a page calls it first thing. Any failure shows up again, with its message, on the first load.
let engineStarted = false;
export function startEngine(): void {
  if (engineStarted) return;
  engineStarted = true;
  TinyLM.memory().catch(() => {});
}

export const shippedModels: ShippedModel[] = (shippedIndex as Array<Record<string, unknown>>).map((entry) => ({
  file: String(entry.file),
  title: String(entry.title ?? entry.name),
  arch: entry.arch as string | undefined,
  tokenizer: entry.tokenizer as string | undefined,
  description: entry.description as string | undefined,
  bytes: typeof entry.bytes === 'number' ? entry.bytes : undefined,
  dtype: entry.dtype as string | undefined,
  isDefault: entry.default === true,
  isChat: entry.chat === true,
  chatFormat: entry.format === 'turns',
})).sort((a, b) => Number(b.isDefault) - Number(a.isDefault));

export function defaultShippedModel(): ShippedModel {
  if (shippedModels.length === 0) throw new Error('models/index.json lists no models');
  return shippedModels[0];
}

export const shippedUrl = (model: ShippedModel) => new URL(model.file, modelsBase()).href;

export interface LoadProgress { loaded: number; total: number | undefined }

// The file's bytes, reporting progress as they arrive. `total` comes from the index (the response may be
// compressed on the wire, so its Content-Length is not the size of what the body stream yields).
async function download(url: string, total: number | undefined, onProgress?: (progress: LoadProgress) => void): Promise<Uint8Array> {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  if (!response.body || !onProgress) return new Uint8Array(await response.arrayBuffer());
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.length;
    onProgress({ loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

// A choice is 'shipped:<file>' or 'stored:<name>', the value of the picker's <option>s.
export async function loadChoice(choice: string, onProgress?: (progress: LoadProgress) => void): Promise<TinyLM> {
  const kind = choice.slice(0, choice.indexOf(':'));
  const name = choice.slice(choice.indexOf(':') + 1);
  if (kind === 'stored') return TinyLM.load(name);
  const shipped = shippedModels.find((model) => model.file === name);
  return TinyLM.load(await download(new URL(name, modelsBase()).href, shipped?.bytes, onProgress));
}

export function choiceTitle(choice: string): string {
  const name = choice.slice(choice.indexOf(':') + 1);
  return choice.startsWith('stored:') ? `${name} (saved in this browser)` : shippedModels.find((m) => m.file === name)?.title ?? name;
}

export interface ModelPicker {
  element: HTMLElement;
  select: HTMLSelectElement;
  refresh(selected?: string): Promise<void>;
}

// `filter` limits the shipped models offered; `preferred` is chosen first when present.
export function modelPicker(label = 'Model', options: { filter?: (model: ShippedModel) => boolean; preferred?: string } = {}): ModelPicker {
  const select = element('select', { id: 'model-picker' });
  const wrapper = element('div', { class: 'field' }, element('label', { for: 'model-picker', text: label }), select);
  const offered = shippedModels.filter(options.filter ?? (() => true));
  const group = (text: string, entries: Array<[string, string]>) =>
    element('optgroup', { label: text }, ...entries.map(([value, name]) => element('option', { value, text: name })));
  const fill = (stored: string[], selected: string | undefined) => {
    select.replaceChildren(
      group('Shipped with the site', offered.map((m) => [`shipped:${m.file}`, m.title])),
      ...(stored.length ? [group('Saved in this browser', stored.map((name) => [`stored:${name}`, name]))] : []),
    );
    if (selected && [...select.options].some((option) => option.value === selected)) select.value = selected;
  };
  fill([], options.preferred);
  return {
    element: wrapper,
    select,
    async refresh(selected) {
      const stored = await TinyLM.storedModels().catch(() => [] as string[]);
      fill(stored, selected ?? select.value);
    },
  };
}

export function describe(lm: TinyLM): string {
  const { arch, parameterCount, vocabSize, tokenizerKind, contextSize } = lm.info;
  const config = lm.info.config as { num_layers?: number; hidden_size?: number; embed_size?: number };
  const width = arch === 'llama' ? config.hidden_size : config.embed_size;
  const shape = arch === 'gpt' || arch === 'llama'
    ? ` · ${config.num_layers} layers × ${width} wide, ${contextSize}-token context`
    : config.num_layers && config.hidden_size ? ` · ${config.num_layers} × ${config.hidden_size} units` : '';
  const unit = tokenizerKind === 'char' ? 'characters' : tokenizerKind === 'bpe' || tokenizerKind === 'hf' ? 'BPE tokens' : `${tokenizerKind} tokens`;
  const source = lm.info.source ? ` · ${lm.info.source.dtype.toUpperCase()} weights, ${formatBytes(lm.info.source.bytes)} downloaded` : '';
  return `${archName(arch)}${shape} · ${(parameterCount / 1e6).toFixed(2)} M parameters · ${vocabSize} ${unit}${source}`;
}
