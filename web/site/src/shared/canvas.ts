// A canvas sized in CSS pixels and drawn at the screen's pixel density, cleared to the figure background: the 2-D
// context to draw on.
import { css, type Rgb } from './figures.js';

export function sharpCanvas(canvas: HTMLCanvasElement, width: number, height: number, background: Rgb): CanvasRenderingContext2D {
  const ratio = window.devicePixelRatio || 1;
  canvas.width = width * ratio;
  canvas.height = height * ratio;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const context = canvas.getContext('2d')!;
  context.setTransform(ratio, 0, 0, ratio, 0, 0);
  context.fillStyle = css(background);
  context.fillRect(0, 0, width, height);
  return context;
}
