import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface ChartSeries {
  readonly label: string;
  readonly color: string;
}

/**
 * A uPlot time chart sized to its container. `data` is [times in seconds, ...one array per
 * series]; updates reuse the plot (setData), so a wall screen redrawing every two seconds
 * allocates almost nothing. The figures are also given as text next to each chart.
 */
export function TimeChart({
  title,
  series,
  data,
  height = 140,
  windowS = 300,
}: {
  title: string;
  series: readonly ChartSeries[];
  data: readonly (readonly number[])[];
  height?: number;
  /** Seconds of history on the x axis (a fixed window, so the first samples do not span years). */
  windowS?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);

  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = { stroke: "#b4bac6", grid: { stroke: "#343a47", width: 1 }, ticks: { stroke: "#343a47" } };
    const u = new uPlot(
      {
        width: Math.max(200, el.clientWidth),
        height,
        legend: { show: false },
        cursor: { show: false },
        axes: [axis, { ...axis, size: 48 }],
        scales: {
          x: { time: true, range: (_u, _min, max) => [max - windowS, max] },
          y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] },
        },
        series: [
          {},
          ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } })),
        ],
      },
      data as uPlot.AlignedData,
      el,
    );
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = undefined;
    };
  }, [series.map((s) => s.label).join("|"), height]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div ref={box} class="chart" role="img" aria-label={title} />;
}

/** A rolling window of samples for charts: [t, ...values], oldest dropped past `max`. */
export function pushSample(
  data: readonly (readonly number[])[],
  sample: readonly number[],
  max = 180,
): number[][] {
  return sample.map((v, i) => {
    const prev = data[i] ?? [];
    const next = prev.length >= max ? prev.slice(prev.length - max + 1) : prev.slice();
    next.push(v);
    return next;
  });
}
