// LoRA adapter names, checked; here rather than in adapters.ts because every generate() call checks its adapter
// option, while adapters.ts loads on the first adapter call or LoRA fine-tune.
import { TinyLMError } from './errors.js';

// Names follow stored model names: letters, digits, '.', '_' and '-', starting with a letter or digit.
export function checkAdapterName(name: unknown, call: string): string {
  if (typeof name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) {
    throw new TinyLMError('INVALID_ARGUMENT', `${call}: '${String(name)}' is not a valid adapter name: use letters, digits, '.', '_' or '-'`);
  }
  return name;
}

// generate()'s adapter option on the wire: undefined (the active adapter), null (the bare base) or a name.
export function adapterChoice(adapter: string | null | undefined): { adapter?: string | null } {
  if (adapter === undefined) return {};
  return { adapter: adapter === null ? null : checkAdapterName(adapter, 'generate() option adapter') };
}
