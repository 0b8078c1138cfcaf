// Every page's frame: a skip link, the site navigation (the current page marked with aria-current), and the <main>
// the page script fills. Pages are separate HTML files, so each works from a static host without a router.
import './site.css';

const pages: Array<[file: string, label: string]> = [
  ['index.html', 'Playground'],
  ['finetune.html', 'Fine-tune'],
  ['chat.html', 'Chat'],
  ['learn-rnn.html', 'Learn: RNN'],
  ['learn-lstm.html', 'LSTM'],
  ['learn-gru.html', 'GRU'],
  ['learn-transformer.html', 'Transformer'],
  ['learn-training.html', 'Training'],
  ['learn-sampling.html', 'Sampling'],
  ['api.html', 'API'],
];

export function pageFrame(title: string, lead: string): HTMLElement {
  document.title = `${title} · tinylm`;
  const current = location.pathname.split('/').pop() || 'index.html';
  const header = document.createElement('header');
  header.className = 'site-header';
  header.innerHTML = `<a class="skip" href="#main">Skip to content</a>
    <a class="brand" href="./index.html">tinylm</a>
    <nav aria-label="Site"><ul>${pages
      .map(([file, label]) => `<li><a href="./${file}"${file === current ? ' aria-current="page"' : ''}>${label}</a></li>`)
      .join('')}</ul></nav>`;
  const main = document.createElement('main');
  main.id = 'main';
  main.tabIndex = -1;
  main.innerHTML = `<h1>${title}</h1><p class="lead">${lead}</p>`;
  document.body.replaceChildren(header, main);
  return main;
}
