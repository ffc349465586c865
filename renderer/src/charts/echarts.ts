// ECharts, imported piece by piece so the bundle carries only what the views draw.
import * as echarts from 'echarts/core';
import { BarChart, LineChart } from 'echarts/charts';
import {
  BrushComponent,
  GridComponent,
  LegendComponent,
  MarkLineComponent,
  MarkPointComponent,
  TooltipComponent,
} from 'echarts/components';
import { CanvasRenderer } from 'echarts/renderers';

echarts.use([
  LineChart,
  BarChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  BrushComponent,
  MarkLineComponent,
  MarkPointComponent,
  CanvasRenderer,
]);

export { echarts };
export type { EChartsCoreOption } from 'echarts/core';

/** Calm series colours that read on the dark background. */
export const palette = [
  '#5b9bd5',
  '#70ad47',
  '#e0a030',
  '#c55a5a',
  '#9e7cc1',
  '#4bb3b3',
  '#d17fb0',
  '#8f9c4a',
  '#6f86c9',
  '#c9825a',
  '#5fae86',
  '#b0a24f',
  '#7a7a9e',
];

export const axisStyle = {
  axisLine: { lineStyle: { color: '#4a5160' } },
  axisLabel: { color: '#9aa3b2', fontFamily: 'monospace', fontSize: 10 },
  splitLine: { lineStyle: { color: '#262b35' } },
};
