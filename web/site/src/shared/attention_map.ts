// One head's attention as a square map: row q is the position asking, column k the position attended to, the
// cell's blue the weight (0 white → 1 dark blue). Above the diagonal is the future, which a causal model never
// sees: drawn grey. The canvas carries a text summary (each position's strongest link) for screen readers, and
// reports the cell under the pointer through onHover.
import { sharpCanvas } from './canvas.js';
import { visiblePiece } from './ui.js';

export interface AttentionMap {
  pieces: string[];       // (N) the tokens' text
  weights: Float32Array;  // (N, N) row-major: weights[q * N + k]
}

const cell = 18;
const margin = 22;

function blue(weight: number): string {
  const t = Math.min(1, Math.max(0, weight)) ** 0.6;  // a gamma so that small but real weights stay visible
  return `rgb(${Math.round(255 - 244 * t)},${Math.round(255 - 163 * t)},${Math.round(255 - 82 * t)})`;
}

// The strongest link of each position, as text: "“h” → “w” 0.61; …".
export function describeAttention(map: AttentionMap): string {
  const N = map.pieces.length;
  return map.pieces.map((piece, q) => {
    let best = 0;
    for (let k = 1; k <= q; k++) if (map.weights[q * N + k] > map.weights[q * N + best]) best = k;
    return `“${visiblePiece(piece)}” → “${visiblePiece(map.pieces[best])}” ${map.weights[q * N + best].toFixed(2)}`;
  }).join('; ');
}

export function drawAttention(canvas: HTMLCanvasElement, map: AttentionMap, caption: string,
  onHover?: (q: number, k: number, weight: number) => void): void {
  const { pieces, weights } = map;
  const N = pieces.length;
  const size = margin + N * cell;
  const context = sharpCanvas(canvas, size, size);
  context.font = '12px ui-monospace, Menlo, monospace';
  context.textAlign = 'center';
  context.fillStyle = '#1b1f24';
  pieces.forEach((piece, n) => {
    context.fillText(visiblePiece(piece), margin + n * cell + cell / 2, 15);       // keys along the top
    context.fillText(visiblePiece(piece), margin / 2, margin + n * cell + 13);     // queries down the side
  });
  for (let q = 0; q < N; q++) {
    for (let k = 0; k < N; k++) {
      context.fillStyle = k > q ? '#eef0f2' : blue(weights[q * N + k]);
      context.fillRect(margin + k * cell, margin + q * cell, cell - 1, cell - 1);
    }
  }
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `${caption}. Strongest link per position: ${describeAttention(map)}`);
  canvas.onpointermove = onHover
    ? (event) => {
        const k = Math.floor((event.offsetX - margin) / cell);
        const q = Math.floor((event.offsetY - margin) / cell);
        if (q >= 0 && q < N && k >= 0 && k <= q) onHover(q, k, weights[q * N + k]);
      }
    : null;
}
