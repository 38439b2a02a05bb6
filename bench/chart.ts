// A line chart as hand-written SVG: axes with ticks, the points joined, each labelled with its value. No browser needed.

export interface ChartPoint {
  x: number;
  y: number;
  /** The x axis label of the point (for example "7 days"). */
  label: string;
}

export interface Chart {
  title: string;
  xTitle: string;
  yTitle: string;
  /** One or more series sharing the axes. */
  series: { name: string; points: ChartPoint[] }[];
  /** A horizontal line marking a limit (for example 512 MiB), when there is one. */
  limit?: { y: number; label: string };
}

const WIDTH = 640;
const HEIGHT = 400;
const MARGIN = { left: 80, right: 30, top: 50, bottom: 70 };
const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd'];

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const compact = (value: number) =>
  Math.abs(value) >= 100 ? value.toFixed(0) : Math.abs(value) >= 10 ? value.toFixed(1) : value.toFixed(2);

/** Up to about six round tick values from 0 to at least `max`. */
function ticks(max: number): number[] {
  const rough = max / 5 || 1;
  const magnitude = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((factor) => factor * magnitude).find((candidate) => candidate >= rough) ?? rough;
  const out: number[] = [];
  for (let value = 0; value <= max + step * 0.999; value += step) out.push(Number(value.toPrecision(12)));
  return out;
}

/**
 * Renders the chart. x is placed on a linear scale (so a curve that is linear in the work looks straight), y from 0.
 */
export function renderChart(chart: Chart): string {
  const points = chart.series.flatMap((series) => series.points);
  const xMax = Math.max(...points.map((point) => point.x));
  const yTicks = ticks(Math.max(...points.map((point) => point.y), chart.limit?.y ?? 0));
  const yMax = yTicks[yTicks.length - 1] || 1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const sx = (x: number) => MARGIN.left + (x / (xMax || 1)) * plotWidth;
  const sy = (y: number) => MARGIN.top + plotHeight - (y / yMax) * plotHeight;
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escape(chart.title)}</text>`,
    // Axes.
    `<line x1="${MARGIN.left}" y1="${sy(0)}" x2="${MARGIN.left + plotWidth}" y2="${sy(0)}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${sy(0)}" stroke="black"/>`,
    `<text x="${MARGIN.left + plotWidth / 2}" y="${HEIGHT - 18}" text-anchor="middle">${escape(chart.xTitle)}</text>`,
    `<text x="18" y="${MARGIN.top + plotHeight / 2}" text-anchor="middle" transform="rotate(-90 18 ${MARGIN.top + plotHeight / 2})">${escape(chart.yTitle)}</text>`,
  ];
  for (const tick of yTicks) {
    out.push(
      `<line x1="${MARGIN.left - 5}" y1="${sy(tick)}" x2="${MARGIN.left + plotWidth}" y2="${sy(tick)}" stroke="#ddd"/>`,
    );
    out.push(`<text x="${MARGIN.left - 8}" y="${sy(tick) + 4}" text-anchor="end">${compact(tick)}</text>`);
  }
  const xLabels = new Map(points.map((point) => [point.x, point.label]));
  for (const [x, label] of xLabels) {
    out.push(`<line x1="${sx(x)}" y1="${sy(0)}" x2="${sx(x)}" y2="${sy(0) + 5}" stroke="black"/>`);
    out.push(`<text x="${sx(x)}" y="${sy(0) + 20}" text-anchor="middle">${escape(label)}</text>`);
  }
  if (chart.limit) {
    out.push(
      `<line x1="${MARGIN.left}" y1="${sy(chart.limit.y)}" x2="${MARGIN.left + plotWidth}" y2="${sy(chart.limit.y)}" stroke="#888" stroke-dasharray="6 4"/>`,
    );
    out.push(
      `<text x="${MARGIN.left + plotWidth - 4}" y="${sy(chart.limit.y) - 6}" text-anchor="end" fill="#555">${escape(chart.limit.label)}</text>`,
    );
  }
  chart.series.forEach((series, index) => {
    const colour = COLOURS[index % COLOURS.length];
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    out.push(
      `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${sorted.map((point) => `${sx(point.x).toFixed(1)},${sy(point.y).toFixed(1)}`).join(' ')}"/>`,
    );
    for (const point of sorted) {
      out.push(`<circle cx="${sx(point.x).toFixed(1)}" cy="${sy(point.y).toFixed(1)}" r="4" fill="${colour}"/>`);
      out.push(
        `<text x="${sx(point.x).toFixed(1)}" y="${(sy(point.y) - 9).toFixed(1)}" text-anchor="middle" fill="${colour}">${compact(point.y)}</text>`,
      );
    }
    // Legend.
    out.push(
      `<rect x="${MARGIN.left + 10}" y="${MARGIN.top + 8 + index * 18}" width="12" height="3" fill="${colour}"/>`,
    );
    out.push(`<text x="${MARGIN.left + 28}" y="${MARGIN.top + 13 + index * 18}">${escape(series.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
