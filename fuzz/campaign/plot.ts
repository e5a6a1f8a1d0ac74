// A line plot as inline SVG: a page that carries its own plots opens from
// disk, offline, years later, with nothing to load.

export const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

export interface Series {
  /** Goes into `data-series`, so tests and people can tell lines apart. */
  id: string;
  label: string;
  color: string;
  points: Array<[number, number]>;
}

export interface Plot {
  /** Goes into `data-plot`. */
  id: string;
  title: string;
  x: string;
  y: string;
  series: Series[];
  /** Vertical dashed lines, e.g. where a campaign was resumed. */
  marks?: Array<{ x: number; label: string }>;
  /** More attributes for the plot's element, e.g. which input it shows. */
  attrs?: Record<string, string>;
}

const W = 600;
const H = 280;
const LEFT = 64;
const RIGHT = 16;
const TOP = 36;
const BOTTOM = 44;

/** Round figures that cover [0, max] in about five steps. */
export function ticks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let i = 0; i * step < max + step * 1e-9; i++) out.push(round(i * step));
  if (out[out.length - 1] < max) out.push(round(out.length * step));
  return out;
}

const round = (n: number): number => Number(n.toPrecision(12));

/** Short enough for an axis: 1500, 25k, 1.2M, 0.25. */
export function figure(n: number): string {
  const a = Math.abs(n);
  if (a >= 1e6) return `${round(n / 1e6)}M`;
  if (a >= 1e4) return `${round(n / 1e3)}k`;
  return String(round(Number(n.toFixed(2))));
}

const attrs = (a: Record<string, string> = {}): string => Object.entries(a).map(([k, v]) => ` ${esc(k)}="${esc(v)}"`).join('');

export function linePlot(p: Plot): string {
  const head = `<h3>${esc(p.title)}</h3>`;
  if (Math.max(0, ...p.series.map((s) => s.points.length)) < 2) {
    return `<figure class="plot-box">${head}<p class="plot empty" data-plot="${esc(p.id)}"${attrs(p.attrs)}>not enough samples yet</p></figure>`;
  }
  const all = p.series.flatMap((s) => s.points);
  const xt = ticks(Math.max(...all.map(([x]) => x)));
  const yt = ticks(Math.max(...all.map(([, y]) => y)));
  const xmax = xt[xt.length - 1];
  const ymax = yt[yt.length - 1];
  const px = (x: number): number => LEFT + (x / xmax) * (W - LEFT - RIGHT);
  const py = (y: number): number => H - BOTTOM - (y / ymax) * (H - TOP - BOTTOM);
  const f = (n: number): string => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" class="plot" data-plot="${esc(p.id)}"${attrs(p.attrs)} width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${esc(`${p.title}: ${p.y} against ${p.x}`)}">`,
  ];
  for (const y of yt) {
    out.push(`<line class="grid" x1="${LEFT}" y1="${f(py(y))}" x2="${W - RIGHT}" y2="${f(py(y))}"/>`);
    out.push(`<text class="tick" x="${LEFT - 6}" y="${f(py(y) + 4)}" text-anchor="end">${esc(figure(y))}</text>`);
  }
  for (const x of xt) {
    out.push(`<line class="axis" x1="${f(px(x))}" y1="${H - BOTTOM}" x2="${f(px(x))}" y2="${H - BOTTOM + 5}"/>`);
    out.push(`<text class="tick" x="${f(px(x))}" y="${H - BOTTOM + 18}" text-anchor="middle">${esc(figure(x))}</text>`);
  }
  out.push(`<line class="axis" x1="${LEFT}" y1="${H - BOTTOM}" x2="${W - RIGHT}" y2="${H - BOTTOM}"/>`);
  out.push(`<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${H - BOTTOM}"/>`);
  out.push(`<text class="axis-label" x="${(LEFT + W - RIGHT) / 2}" y="${H - 6}" text-anchor="middle">${esc(p.x)}</text>`);
  out.push(`<text class="axis-label" x="14" y="${(TOP + H - BOTTOM) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(TOP + H - BOTTOM) / 2})">${esc(p.y)}</text>`);
  for (const m of p.marks ?? []) {
    out.push(`<line class="mark" x1="${f(px(m.x))}" y1="${TOP}" x2="${f(px(m.x))}" y2="${H - BOTTOM}"><title>${esc(m.label)}</title></line>`);
  }
  let lx = LEFT;
  for (const s of p.series) {
    out.push(`<line x1="${lx}" y1="14" x2="${lx + 18}" y2="14" stroke="${esc(s.color)}" stroke-width="3"/>`);
    out.push(`<text class="legend" x="${lx + 24}" y="18">${esc(s.label)}</text>`);
    lx += 40 + s.label.length * 7;
  }
  for (const s of p.series) {
    if (s.points.length === 0) continue;
    const pts = s.points.map(([x, y]) => `${f(px(x))},${f(py(y))}`).join(' ');
    out.push(`<polyline data-series="${esc(s.id)}" fill="none" stroke="${esc(s.color)}" stroke-width="2.5" stroke-linejoin="round" points="${pts}"><title>${esc(s.label)}</title></polyline>`);
  }
  out.push('</svg>');
  return `<figure class="plot-box">${head}${out.join('\n')}</figure>`;
}
