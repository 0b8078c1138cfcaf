// Loss curves drawn by uPlot: training loss every step, validation loss where it was measured (gaps elsewhere).
// Series colours are theme variables (e.g. '--accent'), resolved when drawn, so the chart follows the theme.
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { css, themeColour } from './figures.js';
import { onThemeChange } from './theme.js';

export interface LossChart {
  add(step: number, values: Array<number | null>): void;
  reset(): void;
  points(): number;
}

// The container's children (an empty state) are replaced by the chart.
export function lossChart(container: HTMLElement, series: Array<{ label: string; colour: string }>, yLabel = 'loss (nats/char)'): LossChart {
  container.replaceChildren();
  const data: Array<Array<number | null>> = [[], ...series.map(() => [])];
  const width = () => Math.max(260, container.clientWidth - 8);
  const colour = (name: string) => () => css(themeColour(name));
  const axis = (label: string): uPlot.Axis => ({
    label, stroke: colour('--text-muted'), grid: { stroke: colour('--border'), width: 1 }, ticks: { stroke: colour('--border'), width: 1 },
  });
  const plot = new uPlot(
    {
      width: width(),
      height: 240,
      scales: { x: { time: false } },
      legend: { live: false },  // series names only: no '--' values before the pointer is on the chart
      axes: [axis('step'), axis(yLabel)],
      series: [{ label: 'step' }, ...series.map((s) => ({ label: s.label, stroke: colour(s.colour), width: 2, spanGaps: true, points: { show: false } }))],
    },
    data as uPlot.AlignedData,
    container,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 240 })).observe(container);
  onThemeChange(() => plot.redraw(false, true));
  let pending = false;
  const redraw = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {  // at most one redraw per frame, however fast progress events arrive
      pending = false;
      plot.setData(data as uPlot.AlignedData);
    });
  };
  return {
    add(step, values) {
      data[0].push(step);
      values.forEach((value, index) => data[index + 1].push(value));
      redraw();
    },
    reset() {
      for (const column of data) column.length = 0;
      redraw();
    },
    points: () => data[0].length,
  };
}
