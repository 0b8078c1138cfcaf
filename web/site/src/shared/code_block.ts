// A code block: highlighted at build time (the Vite config's `?highlight` imports run highlight.js over every
// `code` field and add its `html`), so pages ship no highlighter; a Copy button puts the source on the clipboard.
import { icons } from './icons.js';
import { element } from './ui.js';

export interface HighlightedCode {
  code: string;       // the source, as copied
  language: string;   // highlight.js language name
  html: string;       // the highlighted markup (escaped source inside <span class="hljs-…">)
}

const languageNames: Record<string, string> = { javascript: 'JavaScript', typescript: 'TypeScript', bash: 'shell', json: 'JSON' };

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // Without clipboard permission (an insecure origin, a denied prompt): copy through a selected text area.
    const area = element('textarea', { 'aria-hidden': 'true', style: 'position:fixed;opacity:0' });
    area.value = text;
    document.body.append(area);
    area.select();
    document.execCommand('copy');
    area.remove();
  }
}

export function codeBlock(source: HighlightedCode, label = 'Code'): HTMLElement {
  const code = element('code', { class: `hljs language-${source.language}` });
  code.innerHTML = source.html;
  const pre = element('pre', { tabindex: '0', 'aria-label': label }, code);
  const copy = element('button', { type: 'button', class: 'secondary small copy', 'aria-label': `Copy: ${label}` });
  const idle = () => (copy.innerHTML = `${icons.copy}<span>Copy</span>`);
  idle();
  copy.addEventListener('click', async () => {
    await copyText(source.code);
    copy.innerHTML = `${icons.check}<span>Copied</span>`;
    setTimeout(idle, 1800);
  });
  return element('div', { class: 'code-block' },
    element('div', { class: 'code-head' }, element('span', { class: 'language', 'aria-hidden': 'true', text: languageNames[source.language] ?? source.language }), copy),
    pre);
}
