/** One line of a chart: (x, y) points, drawn in order. */
export interface CurveSeries {
  name: string;
  points: Array<[number, number]>;
}

/** Title, axis labels, size and y scale of a chart drawn by `renderCurveSvg`. */
export interface CurveOptions {
  title?: string;
  xLabel?: string;
  yLabel?: string;
  /** Width of the SVG in pixels (default 720). */
  width?: number;
  /** Height of the SVG in pixels (default 420). */
  height?: number;
  /** Plot y on a log10 axis (all y must be > 0). */
  logY?: boolean;
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#17becf'];

/** About `count` round tick values covering [lo, hi] (1, 2, 5 x 10^k steps). */
export function niceTicks(lo: number, hi: number, count = 8): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * magnitude >= raw) ?? 10) * magnitude;
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step - 1e-9) * step; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function label(v: number): string {
  const a = Math.abs(v);
  if (a === 0) return '0';
  if (a >= 1e4 || a < 1e-3) return v.toExponential(1);
  return String(Number(v.toPrecision(4)));
}

function escapeXml(s: string): string {
  return s.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * A line chart as a standalone SVG document: axes with round ticks and labels, a title, one
 * coloured polyline per series and a legend. Non-finite points are skipped.
 */
export function renderCurveSvg(series: readonly CurveSeries[], options: CurveOptions = {}): string {
  const width = options.width ?? 720;
  const height = options.height ?? 420;
  const margin = { left: 70, right: 20, top: 40, bottom: 50 };
  const plotW = width - margin.left - margin.right;
  const plotH = height - margin.top - margin.bottom;
  const ty = (y: number) => (options.logY ? Math.log10(y) : y);
  const clean = series.map((s) => ({ name: s.name, points: s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(ty(y))) }));
  const all = clean.flatMap((s) => s.points);
  let [x0, x1] = all.length ? [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))] : [0, 1];
  let [y0, y1] = all.length ? [Math.min(...all.map((p) => ty(p[1]))), Math.max(...all.map((p) => ty(p[1])))] : [0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
  if (y1 === y0) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const px = (x: number) => margin.left + ((x - x0) / (x1 - x0)) * plotW;
  const py = (y: number) => margin.top + plotH - ((y - y0) / (y1 - y0)) * plotH;
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  if (options.title)
    out.push(`<text x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`);
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${f(px(t))}" y1="${margin.top}" x2="${f(px(t))}" y2="${margin.top + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f(px(t))}" y="${margin.top + plotH + 16}" text-anchor="middle">${label(t)}</text>`);
  }
  const yTicks = options.logY ? niceTicks(y0, y1).filter((t) => Number.isInteger(t)) : niceTicks(y0, y1);
  for (const t of yTicks.length ? yTicks : niceTicks(y0, y1)) {
    out.push(`<line x1="${margin.left}" y1="${f(py(t))}" x2="${margin.left + plotW}" y2="${f(py(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${margin.left - 6}" y="${f(py(t) + 4)}" text-anchor="end">${label(options.logY ? 10 ** t : t)}</text>`);
  }
  out.push(`<rect x="${margin.left}" y="${margin.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  if (options.xLabel)
    out.push(`<text x="${margin.left + plotW / 2}" y="${height - 12}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
  if (options.yLabel) {
    out.push(
      `<text transform="translate(16 ${margin.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}</text>`,
    );
  }
  if (clean.length > 0) {
    const longest = Math.max(...clean.map((s) => s.name.length));
    out.push(
      `<rect x="${margin.left + plotW - 158}" y="${margin.top + 2}" width="${Math.min(150, 40 + longest * 7)}" height="${clean.length * 18 + 4}" fill="white" fill-opacity="0.85"/>`,
    );
  }
  clean.forEach((s, i) => {
    const color = COLORS[i % COLORS.length];
    const d = s.points.map(([x, y]) => `${f(px(x))},${f(py(ty(y)))}`).join(' ');
    if (s.points.length === 1) {
      const [x, y] = s.points[0] as [number, number];
      out.push(`<circle cx="${f(px(x))}" cy="${f(py(ty(y)))}" r="3" fill="${color}"/>`);
    } else if (s.points.length > 1) {
      out.push(`<polyline points="${d}" fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round"/>`);
    }
    const ly = margin.top + 14 + i * 18;
    const lx = margin.left + plotW - 150;
    out.push(`<line x1="${lx}" y1="${ly - 4}" x2="${lx + 22}" y2="${ly - 4}" stroke="${color}" stroke-width="3"/>`);
    out.push(`<text x="${lx + 28}" y="${ly}">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
