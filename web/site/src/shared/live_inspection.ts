// The learn pages' live views: inspect the reader's text with the model now and again 200 ms after each
// keystroke. An answer that arrives after a newer request was made is dropped, so a slow inspection never
// overwrites the view of newer text.
import type { Inspection, TinyLM } from 'tinylm-js';
import { errorText } from './ui.js';

export async function inspectAsTyped(lm: TinyLM, input: HTMLInputElement, show: (inspection: Inspection) => void,
  report: (message: string) => void): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let request = 0;
  const refresh = async () => {
    const text = input.value;
    if (!text) return;
    const mine = ++request;
    const inspection = await lm.inspect(text);
    if (mine === request) show(inspection);
  };
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void refresh().catch((error) => report(errorText(error))), 200);
  });
  await refresh();
}
