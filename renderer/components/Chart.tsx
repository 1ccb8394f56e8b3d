import { useEffect, useRef } from 'react';
import type uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/**
 * A live line chart (uPlot, loaded on first use). The latest value is also written out as text,
 * so the numbers are there for screen readers and before the chart library has loaded.
 */
let canvasWorks: boolean | undefined;
/** Whether this DOM can draw on a canvas (test DOMs cannot); checked once. */
function canDraw(): boolean {
  canvasWorks ??= (() => {
    try {
      return !!document.createElement('canvas').getContext('2d');
    } catch {
      return false;
    }
  })();
  return canvasWorks;
}

export function Chart({
  label,
  xs,
  ys,
  unit,
  digits,
  color,
}: {
  label: string;
  xs: readonly number[];
  ys: readonly number[];
  unit?: string;
  digits: number;
  color: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  /** The latest points, for a chart created after uPlot has loaded. */
  const data = useRef<[number[], number[]]>([xs as number[], ys as number[]]);

  useEffect(() => {
    let disposed = false;
    let ro: ResizeObserver | undefined;
    if (!canDraw()) return; // The text readout below still shows the values.
    void import('uplot').then(
      ({ default: UPlot }) => {
        const el = box.current;
        if (disposed || !el) return;
        const css = getComputedStyle(el);
        const stroke = css.getPropertyValue('--text-muted').trim() || '#888';
        const grid = css.getPropertyValue('--border').trim() || '#8884';
        const axis = { stroke, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
        try {
          plot.current = new UPlot(
            {
              width: Math.max(200, el.clientWidth),
              height: 180,
              legend: { show: false },
              cursor: { drag: { x: false, y: false } },
              scales: { x: { time: false } },
              axes: [axis, { ...axis, size: 56 }],
              series: [{ label: 'step' }, { label, stroke: color, width: 2, points: { show: false } }],
            },
            data.current,
            el,
          );
        } catch {
          return;
        }
        if (typeof ResizeObserver !== 'function') return;
        ro = new ResizeObserver(() => plot.current?.setSize({ width: Math.max(200, el.clientWidth), height: 180 }));
        ro.observe(el);
      },
      () => {},
    );
    return () => {
      disposed = true;
      ro?.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
  }, [label, color]);

  useEffect(() => {
    data.current = [xs as number[], ys as number[]];
    plot.current?.setData(data.current);
  }, [xs, ys]);

  const last = ys.length > 0 ? ys[ys.length - 1]! : undefined;
  return (
    <figure className="chart" aria-label={`${label} chart`}>
      <figcaption>
        <span>{label}</span>
        <output aria-label={`Latest ${label}`}>{last === undefined ? '—' : `${last.toFixed(digits)}${unit ? ` ${unit}` : ''}`}</output>
      </figcaption>
      <div ref={box} className="chart-box" />
    </figure>
  );
}
