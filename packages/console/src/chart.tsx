import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface Series {
  label: string;
  values: number[];
}

/**
 * A daily trend drawn by uPlot. The canvas is an image to assistive technology, so the figure
 * carries its own summary in words (and the numbers are in the tables around it).
 */
export function TrendChart({ title, dates, series }: { title: string; dates: string[]; series: Series[] }) {
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = ref.current;
    if (!el || dates.length === 0) return;
    const colors = ['#2457c5', '#b8430f', '#2f7d32'];
    const plot = new uPlot(
      {
        width: Math.max(280, Math.min(720, el.clientWidth || 640)),
        height: 200,
        scales: { x: { time: true } },
        axes: [{}, { label: 'credits' }],
        series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: colors[i % colors.length], width: 2 }))],
      },
      [dates.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000), ...series.map((s) => s.values)],
      el,
    );
    return () => plot.destroy();
  }, [dates, series]);
  const summary = series
    .map((s) => `${s.label}: ${s.values.reduce((a, b) => a + b, 0).toLocaleString('en-US')} credits in total`)
    .join('; ');
  return (
    <figure className="chart">
      <div ref={ref} role="img" aria-label={`${title}, ${dates[0] ?? ''} to ${dates.at(-1) ?? ''}. ${summary}`} />
      <figcaption>
        {title}
        {dates.length === 0 ? ': no usage yet.' : `: ${summary}.`}
      </figcaption>
    </figure>
  );
}
