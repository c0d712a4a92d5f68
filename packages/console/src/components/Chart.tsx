/**
 * A time-series chart (uPlot, canvas): bars or lines over bucket start times. Clicking a bucket
 * calls `onPick` with its index — the analytics page then lists the runs behind that point. The
 * buckets are also listed in a visually hidden table for screen readers.
 */
import { useEffect, useRef } from 'react';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Bars are drawn stacked in the order given (the first at the bottom). */
  kind: 'bar' | 'line';
}

export interface ChartProps {
  title: string;
  /** Bucket start times, ms since the epoch. */
  x: number[];
  series: ChartSeries[];
  format: (v: number) => string;
  onPick?: (index: number) => void;
  height?: number;
}

export function Chart({ title, x, series, format, onPick, height = 200 }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const pick = useRef(onPick);
  pick.current = onPick;

  useEffect(() => {
    const el = host.current;
    if (!el) return;
    const bars = series.filter((s) => s.kind === 'bar');
    // Stacked bars: each bar series is drawn as the running total, the tallest first.
    const stacked: (number | null)[][] = [];
    let run = x.map(() => 0);
    for (const s of bars) {
      run = run.map((v, i) => v + (s.values[i] ?? 0));
      stacked.push([...run]);
    }
    const drawn = [
      ...bars.map((s, i) => ({ s, values: stacked[i] ?? [] })).reverse(),
      ...series.filter((s) => s.kind === 'line').map((s) => ({ s, values: s.values })),
    ];
    const barPaths = uPlot.paths.bars?.({ size: [0.8, 40] });
    const opts: uPlot.Options = {
      width: Math.max(300, el.clientWidth),
      height,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: { x: { time: true } },
      axes: [{}, { values: (_u, ticks) => ticks.map((t) => format(t)), size: 70 }],
      series: [
        {},
        ...drawn.map(({ s }) => ({
          label: s.label,
          stroke: s.color,
          fill: s.kind === 'bar' ? s.color : undefined,
          width: s.kind === 'bar' ? 0 : 2,
          spanGaps: s.kind === 'line',
          ...(s.kind === 'bar' && barPaths ? { paths: barPaths } : {}),
          points: { show: s.kind === 'line' },
          value: (_u: uPlot, v: number | null) => (v === null ? '—' : format(v)),
        })),
      ],
    };
    const data = [x.map((t) => t / 1000), ...drawn.map((d) => d.values)] as uPlot.AlignedData;
    const plot = new uPlot(opts, data, el);
    const onClick = () => {
      const idx = plot.cursor.idx;
      if (idx !== null && idx !== undefined) pick.current?.(idx);
    };
    plot.over.addEventListener('click', onClick);
    const resize = new ResizeObserver(() => plot.setSize({ width: Math.max(300, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.over.removeEventListener('click', onClick);
      plot.destroy();
    };
  }, [x, series, format, height]);

  return (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div ref={host} className="chart-canvas" data-testid={`chart-${title}`} />
      <table className="visually-hidden">
        <caption>{title}</caption>
        <tbody>
          {x.map((t, i) => (
            <tr key={t}>
              <th scope="row">{new Date(t).toISOString()}</th>
              {series.map((s) => (
                <td key={s.label}>
                  {s.label}: {s.values[i] === null || s.values[i] === undefined ? '—' : format(s.values[i] as number)}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
