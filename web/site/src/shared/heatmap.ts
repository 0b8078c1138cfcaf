// A heatmap of one quantity per (unit, character): columns are the characters of the text, rows are units of the
// hidden state or of one gate. Sigmoid gates are drawn 0 → 1 from the figure background to blue, tanh values
// −1 → 1 from red through the background to blue (the theme's figure colours). The canvas carries a text summary
// for screen readers.
import { sharpCanvas } from './canvas.js';
import { css, figureColours, mix, type FigureColours } from './figures.js';
import { visiblePiece } from './ui.js';

export interface HeatmapData {
  pieces: string[];     // (N) the characters
  values: Float32Array; // (N, U) row-major: values[n * units + u]
  units: number;        // U
  range: 'unit' | 'signed';  // [0, 1] or [−1, 1]
}

const cell = 16;
const labelHeight = 18;
const gutter = 34;

function colour(value: number, range: HeatmapData['range'], colours: FigureColours): string {
  if (range === 'unit') return mix(colours.background, colours.positive, value);
  return value >= 0 ? mix(colours.background, colours.positive, value) : mix(colours.background, colours.negative, -value);
}

export function drawHeatmap(canvas: HTMLCanvasElement, data: HeatmapData, caption: string): void {
  const { pieces, values, units } = data;
  const colours = figureColours();
  const context = sharpCanvas(canvas, gutter + pieces.length * cell, labelHeight + units * cell, colours.background);
  context.font = '12px "JetBrains Mono Variable", ui-monospace, monospace';
  context.textAlign = 'center';
  context.fillStyle = css(colours.ink);
  pieces.forEach((piece, n) => context.fillText(visiblePiece(piece), gutter + n * cell + cell / 2, 13));
  context.textAlign = 'right';
  context.font = '10px "Inter Variable", system-ui, sans-serif';
  for (let u = 0; u < units; u++) {
    if (u % 4 === 0) context.fillText(String(u), gutter - 4, labelHeight + u * cell + 11);
    for (let n = 0; n < pieces.length; n++) {
      context.fillStyle = colour(values[n * units + u], data.range, colours);
      context.fillRect(gutter + n * cell, labelHeight + u * cell, cell - 1, cell - 1);
    }
    context.fillStyle = css(colours.ink);
  }
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', caption);
}
