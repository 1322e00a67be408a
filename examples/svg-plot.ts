/**
 * A small SVG line chart writer, with no dependency: a frame, an x axis and
 * up to two y axes (left and right) with "nice" ticks (steps of 1, 2 or 5
 * times a power of ten, as in Heckbert's "Nice numbers for graph labels"),
 * one polyline per series, optional markers, and a legend. Enough for a
 * training curve; deliberately left out: log scales, dates, styling options.
 * Every string printed into the SVG is escaped.
 */

/** One series: its name (for the legend), points `[x, y]`, colour, which y axis it uses, and whether to draw markers. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
  readonly color: string;
  readonly axis?: "left" | "right";
  readonly markers?: boolean;
}

/** A chart: a title, axis labels, and the series. */
export interface Chart {
  readonly title: string;
  readonly xLabel: string;
  readonly leftLabel: string;
  readonly rightLabel?: string;
  readonly series: readonly Series[];
  readonly width?: number;
  readonly height?: number;
}

/**
 * About `count` evenly spaced round numbers that cover `[lo, hi]`.
 *
 * @example
 * niceTicks(0, 0.93, 5); // [0, 0.2, 0.4, 0.6, 0.8, 1]
 */
export function niceTicks(lo: number, hi: number, count = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (!(hi > lo)) [lo, hi] = [lo - 1, lo + 1];
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  // a step below the spacing of doubles at lo (values near 1e16) cannot move a tick: the ends stand in
  if (!(step > 0) || !Number.isFinite(step) || lo + step === lo) return [lo, hi];
  const first = Math.floor(lo / step + 1e-9) * step;
  const ticks: number[] = [];
  // each tick from its index, not by repeated addition, and never more than a screenful
  for (let i = 0; i <= MAX_TICKS; i++) {
    const t = first + i * step;
    if (t > hi + step * (1 - 1e-9)) break;
    ticks.push(Number(t.toPrecision(12)));
  }
  return ticks;
}

/** The most ticks an axis gets. */
const MAX_TICKS = 100;

/** `text` safe inside an SVG text node or attribute. */
export function escapeXml(text: string): string {
  // control characters other than tab and newlines are not allowed in XML 1.0 at all: they are dropped
  return text
    .replace(/[\x00-\x08\x0B\x0C\x0E-\x1F]/g, "")
    .replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&#39;" })[c] ?? c);
}

/** A number as a coordinate: two decimals, no exponent. */
const at = (x: number): string => (Number.isFinite(x) ? x.toFixed(2) : "0");

/** A tick label: up to four significant digits, without trailing zeros. */
const label = (x: number): string => String(Number(x.toPrecision(4)));

/**
 * The chart as an SVG document.
 *
 * @example
 * lineChart({ title: "Training", xLabel: "epoch", leftLabel: "loss", series: [{ name: "loss", points: [[0, 2.3], [1, 0.4]], color: "#1f77b4" }] });
 */
export function lineChart(chart: Chart): string {
  const width = chart.width ?? 720;
  const height = chart.height ?? 420;
  const margin = { left: 64, right: chart.rightLabel === undefined ? 24 : 64, top: 40, bottom: 52 };
  const plot = { x: margin.left, y: margin.top, w: width - margin.left - margin.right, h: height - margin.top - margin.bottom };
  const finite = (s: readonly Series[]): (readonly [number, number])[] => s.flatMap((x) => x.points.filter(([a, b]) => Number.isFinite(a) && Number.isFinite(b)));
  const all = finite(chart.series);
  const extent = (values: readonly number[]): [number, number] => {
    if (values.length === 0) return [0, 1];
    // a loop, not Math.min(...values): a spread of a long series overflows the stack
    let [lo, hi] = [Infinity, -Infinity];
    for (const v of values) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
    return [lo, hi];
  };
  const xTicks = niceTicks(...extent(all.map(([x]) => x)), 8);
  const axisTicks = (axis: "left" | "right"): number[] => {
    const ys = finite(chart.series.filter((s) => (s.axis ?? "left") === axis)).map(([, y]) => y);
    return niceTicks(...extent(ys), 5);
  };
  const ticks = { left: axisTicks("left"), right: axisTicks("right") };
  const first = (t: number[]): number => t[0] ?? 0;
  const last = (t: number[]): number => t[t.length - 1] ?? 1;
  const sx = (x: number): number => plot.x + ((x - first(xTicks)) / (last(xTicks) - first(xTicks) || 1)) * plot.w;
  const sy = (y: number, axis: "left" | "right"): number =>
    plot.y + plot.h - ((y - first(ticks[axis])) / (last(ticks[axis]) - first(ticks[axis]) || 1)) * plot.h;

  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${at(width / 2)}" y="22" text-anchor="middle" font-size="15">${escapeXml(chart.title)}</text>`);
  // grid and ticks
  for (const t of xTicks) {
    const x = at(sx(t));
    out.push(`<line x1="${x}" y1="${at(plot.y)}" x2="${x}" y2="${at(plot.y + plot.h)}" stroke="#eee"/>`);
    out.push(`<line x1="${x}" y1="${at(plot.y + plot.h)}" x2="${x}" y2="${at(plot.y + plot.h + 5)}" stroke="black"/>`);
    out.push(`<text x="${x}" y="${at(plot.y + plot.h + 18)}" text-anchor="middle">${escapeXml(label(t))}</text>`);
  }
  for (const t of ticks.left) {
    const y = at(sy(t, "left"));
    out.push(`<line x1="${at(plot.x)}" y1="${y}" x2="${at(plot.x + plot.w)}" y2="${y}" stroke="#eee"/>`);
    out.push(`<line x1="${at(plot.x - 5)}" y1="${y}" x2="${at(plot.x)}" y2="${y}" stroke="black"/>`);
    out.push(`<text x="${at(plot.x - 8)}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(label(t))}</text>`);
  }
  if (chart.rightLabel !== undefined) {
    for (const t of ticks.right) {
      const y = at(sy(t, "right"));
      out.push(`<line x1="${at(plot.x + plot.w)}" y1="${y}" x2="${at(plot.x + plot.w + 5)}" y2="${y}" stroke="black"/>`);
      out.push(`<text x="${at(plot.x + plot.w + 8)}" y="${y}" dominant-baseline="middle">${escapeXml(label(t))}</text>`);
    }
  }
  // frame and axis labels
  out.push(`<rect x="${at(plot.x)}" y="${at(plot.y)}" width="${at(plot.w)}" height="${at(plot.h)}" fill="none" stroke="black"/>`);
  out.push(`<text x="${at(plot.x + plot.w / 2)}" y="${at(height - 12)}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  const mid = at(plot.y + plot.h / 2);
  out.push(`<text x="16" y="${mid}" text-anchor="middle" transform="rotate(-90 16 ${mid})">${escapeXml(chart.leftLabel)}</text>`);
  if (chart.rightLabel !== undefined) {
    const x = at(width - 12);
    out.push(`<text x="${x}" y="${mid}" text-anchor="middle" transform="rotate(90 ${x} ${mid})">${escapeXml(chart.rightLabel)}</text>`);
  }
  // series
  for (const s of chart.series) {
    const axis = s.axis ?? "left";
    const points = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y)).map(([x, y]) => `${at(sx(x))},${at(sy(y, axis))}`);
    const color = escapeXml(s.color);
    out.push(`<polyline class="series" data-name="${escapeXml(s.name)}" fill="none" stroke="${color}" stroke-width="1.5" points="${points.join(" ")}"/>`);
    if (s.markers === true) {
      for (const p of points) {
        const [x, y] = p.split(",");
        out.push(`<circle cx="${x ?? "0"}" cy="${y ?? "0"}" r="3" fill="${color}"/>`);
      }
    }
  }
  // legend: a boxed list at the middle of the right side, where training curves seldom run
  const legendWidth = 170;
  const legendX = plot.x + plot.w - legendWidth - 10;
  const legendY = plot.y + plot.h / 2 - (18 * chart.series.length) / 2;
  out.push(`<rect x="${at(legendX)}" y="${at(legendY - 4)}" width="${legendWidth}" height="${at(18 * chart.series.length + 8)}" fill="white" fill-opacity="0.85" stroke="#ccc"/>`);
  chart.series.forEach((s, i) => {
    const y = legendY + 9 + 18 * i;
    const x = legendX + 8;
    out.push(`<line x1="${at(x)}" y1="${at(y)}" x2="${at(x + 24)}" y2="${at(y)}" stroke="${escapeXml(s.color)}" stroke-width="2"/>`);
    out.push(`<text x="${at(x + 30)}" y="${at(y)}" dominant-baseline="middle">${escapeXml(s.name)}</text>`);
  });
  out.push("</svg>");
  return `${out.join("\n")}\n`;
}
