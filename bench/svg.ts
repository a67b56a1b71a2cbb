/** A small SVG line-chart writer for the harness (no plotting dependency). */

/** One named line. */
export interface Series {
  name: string;
  points: [number, number][];
}

/** One chart panel. */
export interface Chart {
  title: string;
  xLabel: string;
  yLabel: string;
  logX: boolean;
  yMax?: number;
  series: Series[];
}

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b'];
const PANEL = { width: 560, height: 360, left: 70, right: 20, top: 40, bottom: 50 };

/** Escapes text for SVG. */
function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Axis ticks: powers of ten on a log axis, else 5 even steps. */
function ticks(min: number, max: number, log: boolean): number[] {
  if (log) {
    const out: number[] = [];
    for (let e = Math.floor(Math.log10(min)); e <= Math.ceil(Math.log10(max)); e++) out.push(10 ** e);
    return out;
  }
  return Array.from({ length: 6 }, (_, i) => min + ((max - min) * i) / 5);
}

/** Short tick label: 1k, 10M, 0.5. */
function tickLabel(value: number): string {
  if (value >= 1e6) return `${+(value / 1e6).toFixed(1)}M`;
  if (value >= 1e3) return `${+(value / 1e3).toFixed(1)}k`;
  return `${+value.toFixed(2)}`;
}

/** Renders one panel at (x, y). */
function panel(chart: Chart, x: number, y: number): string {
  const all = chart.series.flatMap((s) => s.points).filter(([px]) => !chart.logX || px > 0);
  const xs = all.map(([px]) => px);
  const xMin = chart.logX ? 10 ** Math.floor(Math.log10(Math.min(...xs, 1))) : 0;
  const xMax = chart.logX ? 10 ** Math.ceil(Math.log10(Math.max(...xs, 10))) : Math.max(...xs, 1);
  const yMax = chart.yMax ?? Math.max(...all.map(([, py]) => py), 1);
  const w = PANEL.width - PANEL.left - PANEL.right;
  const h = PANEL.height - PANEL.top - PANEL.bottom;
  const sx = (v: number): number => x + PANEL.left + (chart.logX ? (Math.log10(v) - Math.log10(xMin)) / (Math.log10(xMax) - Math.log10(xMin)) : (v - xMin) / (xMax - xMin)) * w;
  const sy = (v: number): number => y + PANEL.top + h - (v / yMax) * h;
  const parts = [`<text x="${x + PANEL.width / 2}" y="${y + 22}" text-anchor="middle" font-weight="bold">${esc(chart.title)}</text>`];
  parts.push(`<rect x="${x + PANEL.left}" y="${y + PANEL.top}" width="${w}" height="${h}" fill="none" stroke="#888"/>`);
  for (const t of ticks(xMin, xMax, chart.logX)) {
    parts.push(`<line x1="${sx(t)}" y1="${y + PANEL.top}" x2="${sx(t)}" y2="${y + PANEL.top + h}" stroke="#eee"/>`);
    parts.push(`<text x="${sx(t)}" y="${y + PANEL.top + h + 16}" text-anchor="middle" font-size="11">${tickLabel(t)}</text>`);
  }
  for (const t of ticks(0, yMax, false)) {
    parts.push(`<line x1="${x + PANEL.left}" y1="${sy(t)}" x2="${x + PANEL.left + w}" y2="${sy(t)}" stroke="#eee"/>`);
    parts.push(`<text x="${x + PANEL.left - 6}" y="${sy(t) + 4}" text-anchor="end" font-size="11">${tickLabel(t)}</text>`);
  }
  parts.push(`<text x="${x + PANEL.left + w / 2}" y="${y + PANEL.height - 10}" text-anchor="middle" font-size="12">${esc(chart.xLabel)}</text>`);
  parts.push(`<text transform="translate(${x + 16} ${y + PANEL.top + h / 2}) rotate(-90)" text-anchor="middle" font-size="12">${esc(chart.yLabel)}</text>`);
  chart.series.forEach((s, i) => {
    const colour = COLOURS[i % COLOURS.length] ?? '#000';
    const pts = s.points.filter(([px]) => !chart.logX || px > 0).map(([px, py]) => `${sx(px).toFixed(1)},${sy(py).toFixed(1)}`);
    if (pts.length > 0) parts.push(`<polyline fill="none" stroke="${colour}" stroke-width="2" points="${pts.join(' ')}"/>`);
    parts.push(`<text x="${x + PANEL.left + 8}" y="${y + PANEL.top + 16 + i * 15}" fill="${colour}" font-size="12">${esc(s.name)}</text>`);
  });
  return parts.join('\n');
}

/** An SVG document with the charts side by side. */
export function renderCharts(charts: Chart[]): string {
  const width = PANEL.width * charts.length;
  const body = charts.map((chart, i) => panel(chart, i * PANEL.width, 0)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}
