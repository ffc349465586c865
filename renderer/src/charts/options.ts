// ECharts options for the Live view, built from store data. Pure functions:
// no animation, no symbols — the charts redraw about twice a second in
// software rendering, so every drawn element counts.
import type { RateWindow } from '../stores/rate-history';
import type { LatencyHistogram } from '../stores/live';
import { fmtCompact, fmtUs } from '../format';
import { axisStyle, palette, type EChartsCoreOption } from './echarts';

const textStyle = { color: '#c5ccd8', fontSize: 11 };

/** Session time as m:ss, or h:mm:ss past the hour (long windows). */
function mmss(seconds: number): string {
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = Math.floor(seconds % 60);
  const ss = String(s).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** Alarm decorations of a rate chart: a threshold line and the crossings' times. */
export interface RateMarks {
  /** Requests/s (the stacked total's threshold); null: none. */
  line: number | null;
  /** Session seconds and short names of alarm crossings. */
  points: readonly { t: number; label: string }[];
}

const ALARM_COLOUR = '#e06060';

/** markLine/markPoint for the first series (they need one to hang on; coordinates are the chart's). */
function alarmMarks(w: RateWindow, marks: RateMarks | undefined): object {
  if (!marks) return {};
  const t = w.times;
  const width = t.length > 1 ? t[1]! - t[0]! : 1;
  const points = marks.points.flatMap((m) => {
    if (t.length === 0 || m.t <= t[0]! - width || m.t > t.at(-1)!) return [];
    const index = t.findIndex((end) => end >= m.t);
    return [{ name: m.label, coord: [index, 0], value: m.label }];
  });
  return {
    ...(marks.line !== null
      ? {
          markLine: {
            silent: true,
            symbol: 'none',
            animation: false,
            lineStyle: { color: ALARM_COLOUR, type: 'dashed' },
            label: {
              color: ALARM_COLOUR,
              position: 'insideEndTop',
              formatter: `alarm > ${fmtCompact(marks.line)}/s`,
            },
            data: [{ yAxis: marks.line, name: 'rate alarm' }],
          },
        }
      : {}),
    ...(points.length
      ? {
          markPoint: {
            silent: true,
            animation: false,
            symbol: 'pin',
            symbolSize: 26,
            itemStyle: { color: ALARM_COLOUR },
            label: { fontSize: 8, formatter: '!' },
            data: points,
          },
        }
      : {}),
  };
}

export function rateOption(w: RateWindow, marks?: RateMarks): EChartsCoreOption {
  return {
    animation: false,
    color: palette,
    textStyle,
    grid: { left: 52, right: 12, top: 28, bottom: 22 },
    legend: {
      type: 'scroll',
      top: 0,
      textStyle,
      itemWidth: 10,
      itemHeight: 8,
      pageTextStyle: textStyle,
    },
    tooltip: {
      trigger: 'axis',
      confine: true,
      valueFormatter: (v: unknown) => `${fmtCompact(Number(v))}/s`,
    },
    xAxis: {
      type: 'category',
      boundaryGap: false,
      data: w.times.map(mmss),
      ...axisStyle,
      splitLine: { show: false },
    },
    yAxis: {
      type: 'value',
      ...axisStyle,
      axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => fmtCompact(v) },
    },
    // Brushing picks a time range (EChart arms it); no toolbox button needed.
    brush: {
      xAxisIndex: 0,
      brushType: 'lineX',
      brushMode: 'single',
      transformable: false,
      brushStyle: { color: 'rgba(91,155,213,0.2)', borderColor: '#5b9bd5', borderWidth: 1 },
    },
    series: w.series.map((s, k) => ({
      ...(k === 0 ? alarmMarks(w, marks) : {}),
      id: s.key,
      name: s.label,
      type: 'line',
      stack: 'rate',
      showSymbol: false,
      sampling: 'lttb',
      lineStyle: { width: 1 },
      areaStyle: { opacity: 0.45 },
      emphasis: { disabled: true },
      data: s.values,
    })),
  };
}

/** Bucket i counts latencies from edgesUs[i] up to edgesUs[i + 1] (labelled by its lower edge). */
export function latencyOption(h: LatencyHistogram | null): EChartsCoreOption {
  const edges = h?.edgesUs ?? [];
  const counts = h?.counts ?? [];
  const labels = counts.map((_, i) => fmtUs(edges[i] ?? 0));
  return {
    animation: false,
    textStyle,
    grid: { left: 52, right: 12, top: 10, bottom: 24 },
    tooltip: { trigger: 'axis', confine: true },
    xAxis: {
      type: 'category',
      data: labels,
      ...axisStyle,
      // One label per decade (the core's edges are four per decade).
      axisLabel: { ...axisStyle.axisLabel, interval: 3 },
    },
    yAxis: {
      type: 'value',
      minInterval: 1,
      ...axisStyle,
      axisLabel: { ...axisStyle.axisLabel, formatter: (v: number) => fmtCompact(v) },
    },
    series: [
      {
        id: 'latency',
        type: 'bar',
        data: counts,
        itemStyle: { color: '#5b9bd5' },
        barCategoryGap: '15%',
        emphasis: { disabled: true },
      },
    ],
  };
}
