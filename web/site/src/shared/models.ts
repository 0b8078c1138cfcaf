// Which models a page can use: the shipped ones listed in models/index.json (copied next to the pages by the
// build) and the ones the user saved in this browser (IndexedDB, through TinyLM.save). A <select> offers both;
// the shipped entry with "default": true is chosen first.
import { TinyLM } from 'tinylm-js';
import { element } from './ui.js';

export interface ShippedModel {
  file: string;          // relative to models/
  title: string;
  arch: string | undefined;
  tokenizer: string | undefined;  // 'char' | 'word' | 'bpe'
  description: string | undefined;
  isDefault: boolean;
}

const modelsBase = () => new URL('models/', location.href);

let indexPromise: Promise<ShippedModel[]> | undefined;

// models/index.json is a list of entries (or { models: [...] }); each names its file (`file`, `path` or `url`) and
// may carry a name/title, arch, description and "default": true.
export function shippedModels(): Promise<ShippedModel[]> {
  return (indexPromise ??= fetch(new URL('index.json', modelsBase()))
    .then((response) => {
      if (!response.ok) throw new Error(`models/index.json: HTTP ${response.status}`);
      return response.json();
    })
    .then((index: unknown) => {
      const entries = (Array.isArray(index) ? index : (index as { models?: unknown[] }).models ?? []) as Array<Record<string, unknown>>;
      const models = entries.map((entry): ShippedModel => {
        const file = String(entry.file ?? entry.path ?? entry.url ?? `${String(entry.name)}.safetensors`);
        const config = (entry.config ?? {}) as Record<string, unknown>;
        return {
          file,
          title: String(entry.title ?? entry.name ?? file.replace(/\.safetensors$/, '')),
          arch: (entry.arch ?? config.arch) as string | undefined,
          tokenizer: entry.tokenizer as string | undefined,
          description: (entry.description ?? entry.summary) as string | undefined,
          isDefault: entry.default === true,
        };
      });
      return models.sort((a, b) => Number(b.isDefault) - Number(a.isDefault));
    }));
}

export async function defaultShippedModel(): Promise<ShippedModel> {
  const models = await shippedModels();
  if (models.length === 0) throw new Error('models/index.json lists no models');
  return models[0];
}

export const shippedUrl = (model: ShippedModel) => new URL(model.file, modelsBase()).href;

// A choice is 'shipped:<file>' or 'stored:<name>', the value of the picker's <option>s.
export async function loadChoice(choice: string): Promise<TinyLM> {
  const [kind, name] = [choice.slice(0, choice.indexOf(':')), choice.slice(choice.indexOf(':') + 1)];
  return kind === 'stored' ? TinyLM.load(name) : TinyLM.load(new URL(name, modelsBase()).href);
}

export function choiceTitle(choice: string, shipped: ShippedModel[]): string {
  const name = choice.slice(choice.indexOf(':') + 1);
  return choice.startsWith('stored:') ? `${name} (saved in this browser)` : shipped.find((m) => m.file === name)?.title ?? name;
}

export interface ModelPicker {
  element: HTMLElement;
  select: HTMLSelectElement;
  shipped: ShippedModel[];
  refresh(selected?: string): Promise<void>;
}

export async function modelPicker(label = 'Model'): Promise<ModelPicker> {
  const select = element('select', { id: 'model-picker' });
  const wrapper = element('div', { class: 'field' }, element('label', { for: 'model-picker', text: label }), select);
  const shipped = await shippedModels().catch(() => [] as ShippedModel[]);
  const picker: ModelPicker = {
    element: wrapper,
    select,
    shipped,
    async refresh(selected) {
      const stored = await TinyLM.storedModels().catch(() => [] as string[]);
      const previous = selected ?? select.value;
      const group = (label: string, options: Array<[string, string]>) =>
        element('optgroup', { label }, ...options.map(([value, text]) => element('option', { value, text })));
      select.replaceChildren(
        group('Shipped', shipped.map((m) => [`shipped:${m.file}`, `${m.title}${m.arch ? ` · ${m.arch}` : ''}`])),
        ...(stored.length ? [group('Saved in this browser', stored.map((name) => [`stored:${name}`, name]))] : []),
      );
      if (previous && [...select.options].some((option) => option.value === previous)) select.value = previous;
    },
  };
  await picker.refresh();
  return picker;
}

export function describe(lm: TinyLM): string {
  const { arch, parameterCount, vocabSize, tokenizerKind } = lm.info;
  const config = lm.info.config as { num_layers?: number; hidden_size?: number };
  const shape = config.num_layers && config.hidden_size ? ` ${config.num_layers}×${config.hidden_size}` : '';
  return `${arch}${shape}, ${(parameterCount / 1e6).toFixed(2)} M parameters, ${tokenizerKind} tokenizer, ${vocabSize} tokens`;
}
