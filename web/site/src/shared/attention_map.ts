// One head's attention as a square map: row q is the position asking, column k the position attended to, the
// cell's colour the weight (figure background → blue). Above the diagonal is the future, which a causal model
// never sees: drawn in the masked colour. The canvas carries a text summary (each position's strongest link) for
// screen readers. The map is one tab stop: the arrow keys move a cursor between the cells a position can see,
// a pointer (mouse, pen or a tap) picks the cell under it, and the chosen cell is described in words.
import { sharpCanvas } from './canvas.js';
import { css, figureColours, mix } from './figures.js';
import { element, visiblePiece } from './ui.js';

export interface AttentionMap {
  pieces: string[];       // (N) the tokens' text
  weights: Float32Array;  // (N, N) row-major: weights[q * N + k]
}

const cell = 18;
const margin = 22;

// The strongest link of each position, as text: "“h” → “w” 0.61; …".
export function describeAttention(map: AttentionMap): string {
  const N = map.pieces.length;
  return map.pieces.map((piece, q) => {
    let best = 0;
    for (let k = 1; k <= q; k++) if (map.weights[q * N + k] > map.weights[q * N + best]) best = k;
    return `“${visiblePiece(piece)}” → “${visiblePiece(map.pieces[best])}” ${map.weights[q * N + best].toFixed(2)}`;
  }).join('; ');
}

export interface AttentionView {
  element: HTMLElement;   // the focusable map and the sentence describing the chosen cell
  canvas: HTMLCanvasElement;
  draw(map: AttentionMap, caption: string): void;
}

export function attentionView(): AttentionView {
  const canvas = element('canvas', { 'data-testid': 'attention-map' });
  const readout = element('p', { class: 'note', id: 'attention-readout', 'aria-live': 'polite', 'data-testid': 'attention-readout',
    text: 'Pick a cell (arrow keys, pointer or tap) to read its weight.' });
  const surface = element('div', { class: 'attention-surface', tabindex: '0', role: 'group', 'aria-roledescription': 'attention map',
    'aria-describedby': readout.id }, canvas);
  let map: AttentionMap | undefined;
  let caption = '';
  let cursor = { q: 0, k: 0 };
  let cursorShown = false;

  function describeCell(): void {
    if (!map) return;
    const { q, k } = cursor;
    const weight = map.weights[q * map.pieces.length + k];
    readout.textContent = `“${visiblePiece(map.pieces[q])}” (position ${q + 1}) gives ${(weight * 100).toFixed(1)}% of its attention ` +
      `to “${visiblePiece(map.pieces[k])}” (position ${k + 1}).`;
  }

  function render(): void {
    if (!map) return;
    const { pieces, weights } = map;
    const N = pieces.length;
    const colours = figureColours();
    const size = margin + N * cell;
    const context = sharpCanvas(canvas, size, size, colours.background);
    context.font = '12px "JetBrains Mono Variable", ui-monospace, monospace';
    context.textAlign = 'center';
    context.fillStyle = css(colours.ink);
    pieces.forEach((piece, n) => {
      context.fillText(visiblePiece(piece), margin + n * cell + cell / 2, 15);       // keys along the top
      context.fillText(visiblePiece(piece), margin / 2, margin + n * cell + 13);     // queries down the side
    });
    for (let q = 0; q < N; q++) {
      for (let k = 0; k < N; k++) {
        context.fillStyle = k > q ? css(colours.masked) : mix(colours.background, colours.positive, weights[q * N + k] ** 0.6);
        context.fillRect(margin + k * cell, margin + q * cell, cell - 1, cell - 1);
      }
    }
    if (cursorShown) {
      context.strokeStyle = css(colours.cursor);
      context.lineWidth = 2.5;
      context.strokeRect(margin + cursor.k * cell - 1, margin + cursor.q * cell - 1, cell + 1, cell + 1);
    }
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `${caption}. Strongest link per position: ${describeAttention(map)}`);
    surface.setAttribute('aria-label', `${caption}: use the arrow keys to move between cells`);
  }

  function moveTo(q: number, k: number): void {
    if (!map) return;
    const N = map.pieces.length;
    const row = Math.max(0, Math.min(N - 1, q));
    cursor = { q: row, k: Math.max(0, Math.min(row, k)) };  // a position only sees itself and the past
    cursorShown = true;
    render();
    describeCell();
  }

  surface.addEventListener('keydown', (event) => {
    if (!map) return;
    const { q, k } = cursor;
    const moves: Record<string, [number, number]> = {
      ArrowUp: [q - 1, k], ArrowDown: [q + 1, k], ArrowLeft: [q, k - 1], ArrowRight: [q, k + 1],
      Home: [q, 0], End: [q, q], PageUp: [0, 0], PageDown: [map.pieces.length - 1, k],
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    moveTo(...moves[event.key]);
  });
  surface.addEventListener('focus', () => moveTo(cursor.q, cursor.k));
  const pointAt = (event: PointerEvent) => {
    const k = Math.floor((event.offsetX - margin) / cell);
    const q = Math.floor((event.offsetY - margin) / cell);
    if (map && q >= 0 && q < map.pieces.length && k >= 0 && k <= q) moveTo(q, k);
  };
  canvas.addEventListener('pointermove', pointAt);
  canvas.addEventListener('pointerdown', pointAt);

  return {
    element: element('div', { class: 'attention' }, surface, readout),
    canvas,
    draw(next, nextCaption) {
      map = next;
      caption = nextCaption;
      const N = map.pieces.length;
      if (cursor.q >= N) cursor = { q: N - 1, k: Math.min(cursor.k, N - 1) };
      render();
      if (cursorShown) describeCell();
    },
  };
}
