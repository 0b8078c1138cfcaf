// Every page's frame: a skip link; the header with the logo, the site navigation (current page marked with
// aria-current; folded behind a Menu button on narrow screens) and the theme toggle; the page heading; for the
// lessons, a row of links between them; the footer, with a place for the engine's runtime facts. Pages are
// separate HTML files, so each works from a static host without a router.
import './styles/tokens.css';
import './styles/base.css';
import './styles/components.css';
import './styles/layout.css';
import { icons, logo } from './icons.js';
import { runtimeDescription } from './runtime.js';
import { currentTheme, onThemeChange, setTheme } from './theme.js';
import { element } from './ui.js';

interface PageLink { file: string; label: string }

const primary: PageLink[] = [
  { file: 'index.html', label: 'Playground' },
  { file: 'finetune.html', label: 'Fine-tune' },
  { file: 'chat.html', label: 'Chat' },
  { file: 'learn-rnn.html', label: 'Learn' },
  { file: 'api.html', label: 'API' },
];

const lessons: PageLink[] = [
  { file: 'learn-rnn.html', label: 'RNN' },
  { file: 'learn-lstm.html', label: 'LSTM' },
  { file: 'learn-gru.html', label: 'GRU' },
  { file: 'learn-transformer.html', label: 'Transformer' },
  { file: 'learn-training.html', label: 'Training' },
  { file: 'learn-sampling.html', label: 'Sampling' },
];

// The small line above each page's title.
const eyebrows: Record<string, string> = {
  'index.html': 'Run a model', 'finetune.html': 'Teach it your text', 'chat.html': 'Talk to it', 'api.html': 'Package reference',
};

const currentFile = () => location.pathname.split('/').pop() || 'index.html';

function navigation(): { nav: HTMLElement; menuButton: HTMLButtonElement } {
  const current = currentFile();
  const inLessons = lessons.some((lesson) => lesson.file === current);
  const list = element('ul', {}, ...primary.map(({ file, label }) => {
    const link = element('a', { href: `./${file}`, text: label });
    if (file === current) link.setAttribute('aria-current', 'page');
    else if (label === 'Learn' && inLessons) link.dataset.section = 'true';
    return element('li', {}, link);
  }));
  const nav = element('nav', { class: 'site-nav', id: 'site-nav', 'aria-label': 'Site' }, list);
  const menuButton = element('button', { type: 'button', class: 'ghost menu-button', 'aria-expanded': 'false', 'aria-controls': 'site-nav' });
  const setOpen = (open: boolean) => {
    nav.dataset.open = String(open);
    menuButton.setAttribute('aria-expanded', String(open));
    menuButton.innerHTML = `${open ? icons.close : icons.menu}<span>Menu</span>`;
  };
  setOpen(false);
  menuButton.addEventListener('click', () => setOpen(nav.dataset.open !== 'true'));
  nav.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && nav.dataset.open === 'true') {
      setOpen(false);
      menuButton.focus();
    }
  });
  return { nav, menuButton };
}

function themeToggle(): HTMLButtonElement {
  const toggle = element('button', { type: 'button', class: 'ghost theme-toggle' });
  const render = () => {
    const next = currentTheme() === 'dark' ? 'light' : 'dark';
    toggle.innerHTML = next === 'dark' ? icons.moon : icons.sun;
    toggle.setAttribute('aria-label', `Switch to the ${next} theme`);
    toggle.title = `Switch to the ${next} theme`;
  };
  toggle.addEventListener('click', () => setTheme(currentTheme() === 'dark' ? 'light' : 'dark'));
  onThemeChange(render);
  render();
  return toggle;
}

let runtimeNote: HTMLElement | undefined;

// The footer's line about where the engine runs (e.g. "Runs on 4 threads"); pages may replace it.
export function setRuntimeNote(text: string): void {
  if (runtimeNote) runtimeNote.textContent = text;
}

export function pageFrame(title: string, lead: string): HTMLElement {
  document.title = `${title} · tinylm`;
  const current = currentFile();
  const lesson = lessons.find((entry) => entry.file === current);
  const { nav, menuButton } = navigation();
  const brand = element('a', { class: 'brand', href: './index.html', 'aria-label': 'tinylm home' });
  brand.innerHTML = `${logo}<span class="wordmark" aria-hidden="true">tiny<span>lm</span></span>`;
  const header = element('header', { class: 'site-header' },
    element('a', { class: 'skip', href: '#main', text: 'Skip to content' }),
    element('div', { class: 'inner' }, brand, nav, element('div', { class: 'header-tools' }, themeToggle(), menuButton)));

  const head = element('div', { class: 'page-head' },
    element('p', { class: 'eyebrow', text: lesson ? `Learn · ${lesson.label}` : eyebrows[current] ?? 'tinylm' }),
    element('h1', { text: title }),
    element('p', { class: 'lead', text: lead }));
  const main = element('main', { id: 'main', class: 'page', tabindex: '-1' }, head);
  if (lesson) {
    main.append(element('nav', { 'aria-label': 'Lessons' }, element('ul', { class: 'subnav' }, ...lessons.map(({ file, label }) =>
      element('li', {}, element('a', { href: `./${file}`, text: label, ...(file === current ? { 'aria-current': 'page' } : {}) }))))));
  }
  runtimeNote = element('p', { class: 'runtime', 'data-slot': 'runtime' });
  setRuntimeNote(runtimeDescription());
  const footer = element('footer', { class: 'site-footer' }, element('div', { class: 'inner' },
    element('p', {}, element('strong', { text: 'tinylm' }), ' · small language models that train and run in the browser · MIT'),
    runtimeNote));
  document.body.replaceChildren(header, main, footer);
  return main;
}
