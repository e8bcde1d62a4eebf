/**
 * A tiny SVG line plot, enough for the benchmark's one figure: latency percentiles (log scale) against offered
 * load, one panel per catalog size, txrank against the baseline. No dependencies; the output is a
 * self-contained SVG file that GitHub renders inline.
 */

export interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  points: { x: number; y: number }[];
}

export interface Panel {
  title: string;
  series: Series[];
  /** Horizontal reference lines (e.g. the SLO). */
  hlines?: { y: number; label: string; color: string }[];
}

const W = 460;
const H = 340;
const M = { l: 56, r: 14, t: 30, b: 46 };

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceTicksLinear(max: number): number[] {
  const raw = max / 5;
  const mag = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = 0; v <= max + 1e-9; v += step) out.push(v);
  return out;
}

function fmt(v: number): string {
  if (v >= 1000) return `${v / 1000}k`;
  return String(Math.round(v * 1000) / 1000);
}

function panelSvg(p: Panel, ox: number, yMin: number, yMax: number, xMax: number): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const lx = (x: number): number => ox + M.l + (x / xMax) * pw;
  const ly = (y: number): number => {
    const c = Math.min(Math.max(y, yMin), yMax);
    return M.t + ph - ((Math.log10(c) - Math.log10(yMin)) / (Math.log10(yMax) - Math.log10(yMin))) * ph;
  };
  const parts: string[] = [];
  parts.push(`<text x="${ox + W / 2}" y="18" text-anchor="middle" font-size="13" font-weight="bold">${esc(p.title)}</text>`);
  parts.push(`<rect x="${ox + M.l}" y="${M.t}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
  for (let e = Math.ceil(Math.log10(yMin)); e <= Math.floor(Math.log10(yMax)); e++) {
    const v = Math.pow(10, e);
    parts.push(`<line x1="${ox + M.l}" x2="${ox + M.l + pw}" y1="${ly(v)}" y2="${ly(v)}" stroke="#eee"/>`);
    parts.push(`<text x="${ox + M.l - 4}" y="${ly(v) + 4}" text-anchor="end" font-size="10">${fmt(v)}</text>`);
  }
  for (const t of niceTicksLinear(xMax)) {
    parts.push(`<line x1="${lx(t)}" x2="${lx(t)}" y1="${M.t + ph}" y2="${M.t + ph + 4}" stroke="#999"/>`);
    parts.push(`<text x="${lx(t)}" y="${M.t + ph + 15}" text-anchor="middle" font-size="10">${fmt(t)}</text>`);
  }
  parts.push(`<text x="${ox + M.l + pw / 2}" y="${H - 8}" text-anchor="middle" font-size="11">offered load (decisions/s)</text>`);
  parts.push(`<text x="${ox + 14}" y="${M.t + ph / 2}" text-anchor="middle" font-size="11" transform="rotate(-90 ${ox + 14} ${M.t + ph / 2})">latency (ms, log)</text>`);
  for (const h of p.hlines ?? []) {
    parts.push(`<line x1="${ox + M.l}" x2="${ox + M.l + pw}" y1="${ly(h.y)}" y2="${ly(h.y)}" stroke="${h.color}" stroke-dasharray="2 3"/>`);
    parts.push(`<text x="${ox + M.l + pw - 2}" y="${ly(h.y) - 3}" text-anchor="end" font-size="9" fill="${h.color}">${esc(h.label)}</text>`);
  }
  let legendY = M.t + 12;
  for (const s of p.series) {
    const pts = s.points.filter((q) => Number.isFinite(q.y)).map((q) => `${lx(q.x).toFixed(1)},${ly(q.y).toFixed(1)}`);
    if (pts.length > 0) {
      parts.push(`<polyline fill="none" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''} points="${pts.join(' ')}"/>`);
      for (const q of pts) {
        const [x, y] = q.split(',');
        parts.push(`<circle cx="${x}" cy="${y}" r="2.2" fill="${s.color}"/>`);
      }
    }
    parts.push(`<line x1="${ox + M.l + 8}" x2="${ox + M.l + 26}" y1="${legendY - 3}" y2="${legendY - 3}" stroke="${s.color}" stroke-width="1.8"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    parts.push(`<text x="${ox + M.l + 30}" y="${legendY}" font-size="10">${esc(s.label)}</text>`);
    legendY += 13;
  }
  return parts.join('\n');
}

/** Panels side by side with a shared log y axis. */
export function renderPlot(panels: Panel[], caption: string): string {
  const ys = panels.flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q.y))).filter((y) => Number.isFinite(y) && y > 0);
  const yMin = Math.pow(10, Math.floor(Math.log10(Math.min(0.1, ...ys))));
  const yMax = Math.pow(10, Math.ceil(Math.log10(Math.max(20, ...ys))));
  const width = W * panels.length;
  const body = panels
    .map((p, i) => {
      const xMax = Math.max(1, ...p.series.flatMap((s) => s.points.map((q) => q.x))) * 1.05;
      return panelSvg(p, i * W, yMin, yMax, xMax);
    })
    .join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${H + 20}" viewBox="0 0 ${width} ${H + 20}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    body,
    `<text x="8" y="${H + 14}" font-size="10" fill="#555">${esc(caption)}</text>`,
    `</svg>`,
    '',
  ].join('\n');
}
