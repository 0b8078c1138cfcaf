// Loss curves drawn by uPlot: training loss every step, validation loss where it was measured (gaps elsewhere).
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface LossChart {
  add(step: number, values: Array<number | null>): void;
  reset(): void;
  points(): number;
}

export function lossChart(container: HTMLElement, series: Array<{ label: string; stroke: string }>, yLabel = 'loss (nats/char)'): LossChart {
  const data: Array<Array<number | null>> = [[], ...series.map(() => [])];
  const width = () => Math.max(260, container.clientWidth - 8);
  const plot = new uPlot(
    {
      width: width(),
      height: 260,
      scales: { x: { time: false } },
      axes: [{ label: 'step' }, { label: yLabel }],
      series: [{ label: 'step' }, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: true, points: { show: false } }))],
    },
    data as uPlot.AlignedData,
    container,
  );
  new ResizeObserver(() => plot.setSize({ width: width(), height: 260 })).observe(container);
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
