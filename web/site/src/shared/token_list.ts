// Generated text as one tab stop: a listbox whose options are the tokens, with a roving tabindex — Tab reaches
// the selected token, the arrow keys (and Home/End) move between tokens, and selecting one (focus, hover or tap)
// tells the page which token to explain. A whitespace or empty token is named for screen readers ("space", "new line",
// "part of a character").
import { element } from './ui.js';

export interface TokenList {
  element: HTMLElement;                       // role=listbox, inline inside the text it continues
  append(piece: string): number;              // adds a token, returns its index
  clear(): void;
  count(): number;
  select(index: number, focus?: boolean): void;
}

const spokenNames: Record<string, string> = { ' ': 'space', '\n': 'new line', '\t': 'tab' };

export function tokenList(label: string, onSelect: (index: number) => void): TokenList {
  const list = element('span', { role: 'listbox', 'aria-label': label, 'aria-orientation': 'horizontal' });
  let selected = -1;
  const options = () => list.children as HTMLCollectionOf<HTMLElement>;

  function select(index: number, focus = false): void {
    const all = options();
    if (index < 0 || index >= all.length) return;
    const holder = selected >= 0 && selected < all.length ? selected : 0;  // the option holding the tab stop
    all[holder].setAttribute('aria-selected', 'false');
    all[holder].tabIndex = -1;
    selected = index;
    all[index].setAttribute('aria-selected', 'true');
    all[index].tabIndex = 0;
    if (focus) all[index].focus();
    onSelect(index);
  }

  list.addEventListener('keydown', (event) => {
    const last = options().length - 1;
    const moves: Record<string, number> = {
      ArrowRight: selected + 1, ArrowDown: selected + 1, ArrowLeft: selected - 1, ArrowUp: selected - 1, Home: 0, End: last,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    select(Math.max(0, Math.min(last, moves[event.key])), true);
  });
  const pick = (event: Event, focus: boolean) => {
    const index = (event.target as HTMLElement).dataset?.index;
    if (index !== undefined) select(Number(index), focus);
  };
  list.addEventListener('mouseover', (event) => pick(event, false));
  list.addEventListener('click', (event) => pick(event, true));
  list.addEventListener('focusin', (event) => pick(event, false));

  return {
    element: list,
    append(piece) {
      const index = options().length;
      const option = element('span', { role: 'option', 'aria-selected': 'false', 'data-index': String(index), text: piece });
      option.tabIndex = index === 0 ? 0 : -1;  // the first token holds the tab stop until another is selected
      // A BPE token may show nothing yet (it ends inside a character the next token completes) or only whitespace.
      if (piece.trim() === '') option.setAttribute('aria-label', spokenNames[piece] ?? (piece === '' ? 'part of a character' : `${[...piece].length} whitespace characters`));
      list.append(option);
      return index;
    },
    clear() {
      list.replaceChildren();
      selected = -1;
    },
    count: () => options().length,
    select,
  };
}
