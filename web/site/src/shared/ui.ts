// Small DOM helpers shared by the pages: labelled controls, a status line read out by screen readers, formatting.

export function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attributes: Record<string, string> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'text') node.textContent = value;
    else node.setAttribute(name, value);
  }
  node.append(...children);
  return node;
}

let controlCount = 0;

export interface Slider {
  element: HTMLElement;
  input: HTMLInputElement;
  value(): number;
  set(value: number): void;
}

// A range input with its label and the current value shown next to it (an <output> tied to the input).
export function slider(label: string, options: { min: number; max: number; step: number; value: number; format?: (v: number) => string; hint?: string }): Slider {
  const id = `control-${++controlCount}`;
  const format = options.format ?? String;
  const input = element('input', {
    type: 'range', id, min: String(options.min), max: String(options.max), step: String(options.step), value: String(options.value),
  });
  const output = element('output', { for: id, text: format(options.value) });
  input.addEventListener('input', () => (output.textContent = format(Number(input.value))));
  const wrapper = element('div', { class: 'slider' }, element('label', { for: id, text: label }), output, input);
  if (options.hint) {
    const hint = element('span', { class: 'hint', id: `${id}-hint`, text: options.hint });
    input.setAttribute('aria-describedby', hint.id);
    wrapper.append(hint);
  }
  return {
    element: wrapper,
    input,
    value: () => Number(input.value),
    set(value) {
      input.value = String(value);
      output.textContent = format(value);
    },
  };
}

export function labelled<T extends HTMLElement>(label: string, control: T, hint?: string): { element: HTMLElement; control: T } {
  control.id ||= `control-${++controlCount}`;
  const wrapper = element('div', { class: 'field' }, element('label', { for: control.id, text: label }), control);
  if (hint) {
    const note = element('span', { class: 'hint', id: `${control.id}-hint`, text: hint });
    control.setAttribute('aria-describedby', note.id);
    wrapper.append(note);
  }
  return { element: wrapper, control };
}

export function button(text: string, onClick: () => void, attributes: Record<string, string> = {}, icon?: string): HTMLButtonElement {
  const node = element('button', { type: 'button', ...attributes, text });
  if (icon) node.insertAdjacentHTML('afterbegin', icon);
  node.addEventListener('click', onClick);
  return node;
}

export type StatusKind = 'error' | 'ok' | 'warn' | 'busy' | '';

// A polite live region: status changes are announced without moving focus. `kind` colours its dot.
export function statusLine(initial = '', initialKind: StatusKind = ''): { element: HTMLElement; set(text: string, kind?: StatusKind): void } {
  const node = element('p', { class: 'status', role: 'status', 'aria-live': 'polite', text: initial, 'data-kind': initialKind });
  return {
    element: node,
    set(text, kind = '') {
      node.textContent = text;
      node.dataset.kind = kind;
    },
  };
}

export function errorText(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) {
    const code = (error as { code?: string }).code;
    return code ? `${code}: ${(error as Error).message}` : (error as Error).message;
  }
  return String(error);
}

export const formatNumber = (value: number, digits = 3) => (Number.isFinite(value) ? value.toFixed(digits) : '—');

export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds)) return '—';
  if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
}

export function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

// A designed empty state: an illustration, what will appear here, and how to make it appear.
export function emptyState(title: string, text: string, illustration = ''): HTMLElement {
  const node = element('div', { class: 'empty' });
  node.innerHTML = illustration;
  node.append(element('strong', { text: title }), element('span', { text }));
  return node;
}

// Shows control characters of generated text as visible symbols (a token that is a newline or a space).
export function visiblePiece(piece: string): string {
  return piece.replace(/\n/g, '↵').replace(/\t/g, '⇥').replace(/ /g, '␣');
}
