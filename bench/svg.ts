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

/**
 * Series i is drawn in STYLES[i]: colour (Okabe-Ito, told apart with colour blindness too),
 * dash pattern and point marker, so lines on top of each other (several responders answering
 * 100 %) stay visible; each is also drawn narrower than the one before it.
 */
export const STYLES: readonly { colour: string; dash: string; marker: Marker }[] = [
  { colour: '#0072B2', dash: '', marker: 'circle' },
  { colour: '#009E73', dash: '9 4', marker: 'square' },
  { colour: '#000000', dash: '2 3', marker: 'triangle' },
  { colour: '#D55E00', dash: '10 3 2 3', marker: 'diamond' },
  { colour: '#E69F00', dash: '5 5', marker: 'cross' },
  { colour: '#CC79A7', dash: '1 3 6 3', marker: 'plus' },
];
type Marker = 'circle' | 'square' | 'triangle' | 'diamond' | 'cross' | 'plus';
/** Points are marked only on sparse series (the sweep), not on a 150-point CDF. */
const MARK_AT_MOST = 20;
const PANEL = { width: 560, height: 360, left: 70, right: 20, top: 40, bottom: 50 };
const LEGEND = { columns: 3, rowHeight: 20, top: 8, swatch: 36 };

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

/** The style of series i (cycling past the last). */
function style(i: number): (typeof STYLES)[number] {
  return STYLES[i % STYLES.length] ?? { colour: '#000', dash: '', marker: 'circle' };
}

/** A marker of `shape` centred at (cx, cy). */
function marker(shape: Marker, cx: number, cy: number, colour: string): string {
  const r = 3.5;
  const at = (points: [number, number][]): string => points.map(([dx, dy]) => `${(cx + dx).toFixed(1)},${(cy + dy).toFixed(1)}`).join(' ');
  switch (shape) {
    case 'circle':
      return `<circle cx="${cx.toFixed(1)}" cy="${cy.toFixed(1)}" r="${r}" fill="${colour}"/>`;
    case 'square':
      return `<rect x="${(cx - r).toFixed(1)}" y="${(cy - r).toFixed(1)}" width="${2 * r}" height="${2 * r}" fill="none" stroke="${colour}" stroke-width="1.5"/>`;
    case 'triangle':
      return `<polygon points="${at([[0, -r - 1], [r + 1, r], [-r - 1, r]])}" fill="none" stroke="${colour}" stroke-width="1.5"/>`;
    case 'diamond':
      return `<polygon points="${at([[0, -r - 1], [r + 1, 0], [0, r + 1], [-r - 1, 0]])}" fill="${colour}"/>`;
    case 'cross':
      return `<path d="M${at([[-r, -r]])}L${at([[r, r]])}M${at([[-r, r]])}L${at([[r, -r]])}" stroke="${colour}" stroke-width="2"/>`;
    case 'plus':
      return `<path d="M${at([[0, -r - 1]])}L${at([[0, r + 1]])}M${at([[-r - 1, 0]])}L${at([[r + 1, 0]])}" stroke="${colour}" stroke-width="2"/>`;
  }
}

/** A series' line: wider for earlier series, so a later one drawn on top leaves its edges showing. */
function line(i: number, points: string): string {
  const { colour, dash } = style(i);
  const width = Math.max(1.5, 4.5 - i * 0.6).toFixed(1);
  return `<polyline fill="none" stroke="${colour}" stroke-width="${width}"${dash === '' ? '' : ` stroke-dasharray="${dash}"`} stroke-linejoin="round" points="${points}"/>`;
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
    const points = s.points.filter(([px]) => !chart.logX || px > 0).map(([px, py]): [number, number] => [sx(px), sy(py)]);
    if (points.length > 0) parts.push(line(i, points.map(([px, py]) => `${px.toFixed(1)},${py.toFixed(1)}`).join(' ')));
    if (points.length <= MARK_AT_MOST) for (const [px, py] of points) parts.push(marker(style(i).marker, px, py, style(i).colour));
  });
  return parts.join('\n');
}

/** One legend for every panel, under them: the series names of the first chart, in its order. */
function legend(names: readonly string[], width: number, y: number): string {
  const columnWidth = width / LEGEND.columns;
  return names
    .map((name, i) => {
      const x = PANEL.left + (i % LEGEND.columns) * columnWidth;
      const rowY = y + LEGEND.top + Math.floor(i / LEGEND.columns) * LEGEND.rowHeight;
      const points = `${x},${rowY} ${x + LEGEND.swatch},${rowY}`;
      return [
        line(i, points),
        marker(style(i).marker, x + LEGEND.swatch / 2, rowY, style(i).colour),
        `<text x="${x + LEGEND.swatch + 8}" y="${rowY + 4}" font-size="12">${esc(name)}</text>`,
      ].join('\n');
    })
    .join('\n');
}

/** An SVG document with the charts side by side and their shared legend below. */
export function renderCharts(charts: Chart[]): string {
  const width = PANEL.width * charts.length;
  const names = charts[0]?.series.map((s) => s.name) ?? [];
  const legendHeight = names.length === 0 ? 0 : LEGEND.top + Math.ceil(names.length / LEGEND.columns) * LEGEND.rowHeight;
  const height = PANEL.height + legendHeight;
  const body = charts.map((chart, i) => panel(chart, i * PANEL.width, 0)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n${legend(names, width - PANEL.left, PANEL.height)}\n</svg>\n`;
}
