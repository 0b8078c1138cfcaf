// A heatmap of one quantity per (unit, character): columns are the characters of the text, rows are units of the
// hidden state or of one gate. Sigmoid gates are drawn 0 → 1 on a white-to-blue scale, tanh values −1 → 1 on a
// red-white-blue scale. The canvas carries a text summary for screen readers.
import { sharpCanvas } from './canvas.js';

export interface HeatmapData {
  pieces: string[];     // (N) the characters
  values: Float32Array; // (N, U) row-major: values[n * units + u]
  units: number;        // U
  range: 'unit' | 'signed';  // [0, 1] or [−1, 1]
}

const cell = 16;
const labelHeight = 18;
const gutter = 34;

function colour(value: number, range: HeatmapData['range']): string {
  if (range === 'unit') {
    const t = Math.min(1, Math.max(0, value));
    return `rgb(${Math.round(255 - 244 * t)},${Math.round(255 - 163 * t)},${Math.round(255 - 82 * t)})`;
  }
  const t = Math.min(1, Math.max(-1, value));
  const a = Math.abs(t);
  return t >= 0
    ? `rgb(${Math.round(255 - 244 * a)},${Math.round(255 - 163 * a)},${Math.round(255 - 82 * a)})`
    : `rgb(${Math.round(255 - 77 * a)},${Math.round(255 - 231 * a)},${Math.round(255 - 212 * a)})`;
}

export function drawHeatmap(canvas: HTMLCanvasElement, data: HeatmapData, caption: string): void {
  const { pieces, values, units } = data;
  const context = sharpCanvas(canvas, gutter + pieces.length * cell, labelHeight + units * cell);
  context.font = '12px ui-monospace, Menlo, monospace';
  context.textAlign = 'center';
  context.fillStyle = '#1b1f24';
  pieces.forEach((piece, n) => context.fillText(piece === ' ' ? '␣' : piece === '\n' ? '↵' : piece, gutter + n * cell + cell / 2, 13));
  context.textAlign = 'right';
  context.font = '10px system-ui, sans-serif';
  for (let u = 0; u < units; u++) {
    if (u % 4 === 0) context.fillText(String(u), gutter - 4, labelHeight + u * cell + 11);
    for (let n = 0; n < pieces.length; n++) {
      context.fillStyle = colour(values[n * units + u], data.range);
      context.fillRect(gutter + n * cell, labelHeight + u * cell, cell - 1, cell - 1);
    }
    context.fillStyle = '#1b1f24';
  }
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', caption);
}
