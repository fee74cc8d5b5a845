import { useEffect, useRef } from 'react';

export interface BarSeries {
  readonly label: string;
  readonly values: readonly number[];
  readonly colour: string;
}

/**
 * A horizontal bar chart (Chart.js, loaded on first use so the board's initial JS does not carry
 * it). The canvas is an image to assistive technology; the table beside it carries the numbers.
 */
export function BarChart({
  title,
  labels,
  series,
}: {
  title: string;
  labels: readonly string[];
  series: readonly BarSeries[];
}) {
  const canvas = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    let chart: { destroy(): void } | undefined;
    let live = true;
    void import('./chart-setup.js').then(({ Chart }) => {
      if (!live || !canvas.current) return;
      chart = new Chart(canvas.current, {
        type: 'bar',
        data: {
          labels: [...labels],
          datasets: series.map((s) => ({ label: s.label, data: [...s.values], backgroundColor: s.colour })),
        },
        options: { indexAxis: 'y', animation: false, responsive: true, maintainAspectRatio: false },
      });
    });
    return () => {
      live = false;
      chart?.destroy();
    };
  }, [labels, series]);
  return (
    <div className="chart">
      <canvas ref={canvas} role="img" aria-label={title} />
    </div>
  );
}
