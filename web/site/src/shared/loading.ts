// A model download shown as it happens: "Downloading Moby Dick LSTM · 412 KB of 893 KB (46%)" over a progress bar,
// hidden once the model is ready. The rest of the page stays usable meanwhile (precomputed examples, settings).
import type { LoadProgress } from './models.js';
import { element, formatBytes } from './ui.js';

export interface LoadingIndicator {
  element: HTMLElement;
  start(title: string): void;
  update(progress: LoadProgress): void;
  done(): void;
}

export function loadingIndicator(): LoadingIndicator {
  const text = element('span', { 'data-testid': 'load-progress-text' });
  const bar = element('progress', { max: '1', value: '0', 'aria-label': 'Model download' });
  const node = element('div', { class: 'load-progress', hidden: '' }, text, bar);
  let title = '';
  return {
    element: node,
    start(name) {
      title = name;
      node.hidden = false;
      bar.removeAttribute('value');  // indeterminate until the first bytes arrive
      text.textContent = `Downloading ${title}…`;
    },
    update({ loaded, total }) {
      if (total) {
        const fraction = Math.min(1, loaded / total);
        bar.value = fraction;
        text.textContent = `Downloading ${title} · ${formatBytes(loaded)} of ${formatBytes(total)} (${Math.round(fraction * 100)}%)`;
      } else {
        text.textContent = `Downloading ${title} · ${formatBytes(loaded)}`;
      }
    },
    done() {
      node.hidden = true;
    },
  };
}
