// The conversation as the reader sees it: turns in a role=log region that follows a streaming reply (scrolls with
// it unless the reader scrolled up; announced politely once complete), older turns that no longer fit the
// model's context dimmed, and an empty state with a few openers to try.
import { element, emptyState } from '../shared/ui.js';
import type { Turn } from './format.js';

export interface LogView {
  element: HTMLElement;
  render(turns: Turn[], names: { user: string; model: string }): void;
  startReply(modelName: string): { show(text: string): void; finish(turn: Turn): void };
  markTrimmed(firstIncluded: number): void;
}

const openers = ['Good morning! How do you do?', 'Do you like dancing?', 'What do you think of him?'];

export function logView(onOpener: (text: string) => void): LogView {
  const log = element('div', { class: 'chat-log', role: 'log', 'aria-label': 'Conversation', 'aria-live': 'polite', tabindex: '0' });
  const nodes: HTMLElement[] = [];
  const nearBottom = () => log.scrollTop + log.clientHeight >= log.scrollHeight - 48;
  const follow = (wasNearBottom: boolean) => {
    if (wasNearBottom) log.scrollTop = log.scrollHeight;
  };

  const turnNode = (turn: Turn, name: string) => {
    const text = turn.empty ? turn.text || '(no reply: the model ended its turn at once)' : turn.text;
    return element('div', { class: `turn ${turn.speaker}${turn.empty ? ' empty' : ''}`, ...(turn.ended ? { 'data-ended': turn.ended } : {}) },
      element('span', { class: 'who', text: name }), element('span', { class: 'text', text }));
  };

  function empty(): HTMLElement {
    const node = emptyState('Start the conversation', 'Write a message below, or try one of these:');
    node.append(element('div', { class: 'buttons' }, ...openers.map((text) => {
      const chip = element('button', { type: 'button', class: 'secondary small', text });
      chip.addEventListener('click', () => onOpener(text));
      return chip;
    })));
    return node;
  }

  return {
    element: log,
    render(turns, names) {
      nodes.length = 0;
      nodes.push(...turns.map((turn) => turnNode(turn, turn.speaker === 'user' ? names.user : names.model)));
      log.replaceChildren(...(nodes.length ? nodes : [empty()]));
      log.scrollTop = log.scrollHeight;
    },
    startReply(modelName) {
      const wasNearBottom = nearBottom() || nodes.length === 0;
      if (nodes.length === 0) log.replaceChildren();
      const node = turnNode({ speaker: 'model', text: '' }, modelName);
      const text = node.querySelector('.text')!;
      const caret = element('span', { class: 'caret', 'aria-hidden': 'true' });
      node.append(caret);
      log.setAttribute('aria-busy', 'true');  // announce the reply once, when it is complete
      log.append(node);
      nodes.push(node);
      follow(wasNearBottom);
      return {
        show(value) {
          const stay = nearBottom();
          text.textContent = value;
          follow(stay);
        },
        finish(turn) {
          const stay = nearBottom();
          const done = turnNode(turn, modelName);
          node.replaceWith(done);
          nodes[nodes.length - 1] = done;
          log.setAttribute('aria-busy', 'false');
          follow(stay);
        },
      };
    },
    markTrimmed(firstIncluded) {
      nodes.forEach((node, index) => {
        const trimmed = index < firstIncluded;
        node.classList.toggle('trimmed', trimmed);
        node.title = trimmed ? 'No longer in the model’s context' : '';
      });
    },
  };
}
