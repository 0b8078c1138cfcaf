// API docs by example: each snippet is the code shown (highlighted at build time), run in this page against the
// real package when the reader presses Run, with its output printed beneath (STYLE rule 18). The expected output
// is shown before running.
import * as tinylm from 'tinylm-js';
import snippets, { install } from './api_snippets.mjs?highlight';
import { codeBlock } from '../shared/code_block.js';
import { icons } from '../shared/icons.js';
import { pageFrame } from '../shared/layout.js';
import { defaultShippedModel, shippedUrl, startEngine } from '../shared/models.js';
import { button, element, errorText } from '../shared/ui.js';

startEngine();
const page = pageFrame('API', 'The tinylm-js package by example. Every snippet below runs here, against the real engine in a worker.');
const main = element('div', { class: 'docs-content' });
const contents = element('nav', { class: 'docs-toc', 'aria-label': 'On this page' }, element('p', { class: 'eyebrow', text: 'On this page' }),
  element('ul', {}, ...snippets.map((snippet, index) => element('li', {}, element('a', { href: `#snippet-${index}`, text: snippet.title })))));
page.append(element('div', { class: 'docs' }, contents, main));
main.append(
  element('p', { class: 'note' }, 'In the snippets, ', element('code', { text: 'modelUrl' }), ' is the site’s default model and ',
    element('code', { text: 'log' }), ' prints below the snippet.'),
  element('div', { class: 'split' }, codeBlock(install[0], 'Install'), codeBlock(install[1], 'Import')));

const AsyncFunction = Object.getPrototypeOf(async () => {}).constructor as new (...args: string[]) => (...values: unknown[]) => Promise<void>;
const modelUrl = shippedUrl(defaultShippedModel());

for (const [index, snippet] of snippets.entries()) {
  const result = element('pre', { class: 'result', 'aria-live': 'polite', 'data-testid': `result-${index}`, 'data-state': 'expected', text: `Expected: ${snippet.expected}` });
  const run = button('Run', async () => {
    run.disabled = true;
    const lines: string[] = [];
    const log = (...values: unknown[]) => {
      lines.push(values.map(String).join(' '));
      result.textContent = lines.join('\n');
    };
    result.textContent = 'Running…';
    result.dataset.state = 'running';
    const models: tinylm.TinyLM[] = [];
    // The snippet's own TinyLM, which remembers what it loaded or created so the page can dispose of it afterwards.
    const TinyLM = new Proxy(tinylm.TinyLM, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== 'load' && property !== 'create') return value;
        return async (...args: unknown[]) => {
          const lm: tinylm.TinyLM = await (value as (...values: unknown[]) => Promise<tinylm.TinyLM>).apply(target, args);
          models.push(lm);
          return lm;
        };
      },
    });
    try {
      await new AsyncFunction('TinyLM', 'modelUrl', 'log', snippet.code)(TinyLM, modelUrl, log);
      if (lines.length === 0) result.textContent = '(no output)';
      result.dataset.state = 'done';
    } catch (error) {
      result.textContent = `Error: ${errorText(error)}`;
      result.dataset.state = 'error';
    } finally {
      for (const lm of models) await lm.dispose();
      run.disabled = false;
    }
  }, { 'aria-label': `Run: ${snippet.title}` }, icons.play);
  const heading = element('h2', { id: `snippet-${index}` }, element('code', { text: snippet.title }));
  main.append(element('section', { class: 'snippet', 'aria-labelledby': heading.id },
    heading, element('p', { text: snippet.about }), codeBlock(snippet, snippet.title), element('div', { class: 'buttons' }, run), result));
}
