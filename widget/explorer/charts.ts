/**
 * The explorer's charts: pure functions from numbers to SVG templates. Each chart is an `<svg role="img">`
 * with a `<title>` and an `aria-label`; the element renders a data table next to it as the text alternative.
 */
import { html, svg, nothing } from 'lit';
import type { SVGTemplateResult, TemplateResult } from 'lit';
import type { DendrogramMerge } from '../../src/types.js';

const INK = '#33475b';
const GRID = '#dfe3eb';
const MUTED = '#516f90';

/** Plot frame shared by the x/y charts. */
interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

/** About `count` round tick values covering [min, max]. */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min === max) return [min];
  const raw = (max - min) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  // The round step nearest to the raw one (in ratio), so the count stays close to `count`.
  let step = power;
  for (const m of [1, 2, 2.5, 5, 10]) {
    if (Math.abs(Math.log((m * power) / raw)) < Math.abs(Math.log(step / raw))) step = m * power;
  }
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) {
    ticks.push(Math.abs(v) < step * 1e-9 ? 0 : Number(v.toPrecision(12)));
  }
  return ticks;
}

/** Short tick text: 12,000 -> "12k", 0.25 -> "0.25". */
export function tickLabel(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${Number((value / 1e6).toPrecision(3))}M`;
  if (abs >= 1e4) return `${Number((value / 1e3).toPrecision(3))}k`;
  return String(Number(value.toPrecision(4)));
}

function scale(domainMin: number, domainMax: number, rangeMin: number, rangeMax: number): (v: number) => number {
  const span = domainMax - domainMin || 1;
  return (v) => rangeMin + ((v - domainMin) / span) * (rangeMax - rangeMin);
}

function extent(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
  }
  if (min === Infinity) return [0, 1];
  if (min === max) return [min - 1, max + 1];
  // Non-negative measures read best from zero when zero is not far off.
  if (min >= 0 && min <= (max - min) * 0.5) return [0, max];
  return [min, max];
}

function axes(
  frame: Frame,
  xTicks: number[],
  yTicks: number[],
  x: (v: number) => number,
  y: (v: number) => number,
  xLabel: string,
  yLabel: string,
  xFormat: (v: number) => string = tickLabel,
  yFormat: (v: number) => string = tickLabel,
): SVGTemplateResult {
  const bottom = frame.height - frame.bottom;
  const right = frame.width - frame.right;
  return svg`
    <g class="grid" aria-hidden="true">
      ${yTicks.map((t) => svg`<line x1=${frame.left} x2=${right} y1=${y(t)} y2=${y(t)} stroke=${GRID} />`)}
    </g>
    <g class="axis" aria-hidden="true" font-size="12" fill=${MUTED}>
      <line x1=${frame.left} x2=${right} y1=${bottom} y2=${bottom} stroke=${MUTED} />
      <line x1=${frame.left} x2=${frame.left} y1=${frame.top} y2=${bottom} stroke=${MUTED} />
      ${xTicks.map((t) => svg`<text x=${x(t)} y=${bottom + 16} text-anchor="middle">${xFormat(t)}</text>`)}
      ${yTicks.map((t) => svg`<text x=${frame.left - 6} y=${y(t) + 4} text-anchor="end">${yFormat(t)}</text>`)}
      <text x=${(frame.left + right) / 2} y=${frame.height - 6} text-anchor="middle" fill=${INK} font-size="13">${xLabel}</text>
      <text transform="translate(14 ${(frame.top + bottom) / 2}) rotate(-90)" text-anchor="middle" fill=${INK} font-size="13">${yLabel}</text>
    </g>`;
}

export interface ScatterSeries {
  label: string;
  color: string;
  xs: ArrayLike<number>;
  ys: ArrayLike<number>;
}

/**
 * Scatter plot, one series per segment. Points are drawn as one path per series (zero-length round-capped
 * segments), so 5,000 points cost a handful of DOM nodes.
 */
export function scatterChart(options: {
  series: ScatterSeries[];
  xLabel: string;
  yLabel: string;
  label: string;
}): TemplateResult {
  const frame: Frame = { width: 800, height: 380, left: 58, right: 16, top: 12, bottom: 44 };
  const allX: number[] = [];
  const allY: number[] = [];
  for (const s of options.series) {
    for (let i = 0; i < s.xs.length; i++) allX.push(s.xs[i] as number);
    for (let i = 0; i < s.ys.length; i++) allY.push(s.ys[i] as number);
  }
  const [x0, x1] = extent(allX);
  const [y0, y1] = extent(allY);
  const xTicks = niceTicks(x0, x1);
  const yTicks = niceTicks(y0, y1);
  const xMin = Math.min(x0, xTicks[0] ?? x0);
  const xMax = Math.max(x1, xTicks[xTicks.length - 1] ?? x1);
  const yMin = Math.min(y0, yTicks[0] ?? y0);
  const yMax = Math.max(y1, yTicks[yTicks.length - 1] ?? y1);
  const x = scale(xMin, xMax, frame.left + 4, frame.width - frame.right - 4);
  const y = scale(yMin, yMax, frame.height - frame.bottom - 4, frame.top + 4);
  const paths = options.series.map((s) => {
    let d = '';
    for (let i = 0; i < s.xs.length; i++) {
      const vx = s.xs[i] as number;
      const vy = s.ys[i] as number;
      if (Number.isFinite(vx) && Number.isFinite(vy)) d += `M${x(vx).toFixed(1)} ${y(vy).toFixed(1)}h0`;
    }
    return svg`<path d=${d} stroke=${s.color} stroke-width="4" stroke-linecap="round" stroke-opacity="0.6" fill="none"><title>${s.label}</title></path>`;
  });
  return html`<svg class="chart" role="img" aria-label=${options.label} viewBox="0 0 ${frame.width} ${frame.height}" preserveAspectRatio="xMidYMid meet">
    <title>${options.label}</title>
    ${axes(frame, xTicks, yTicks, x, y, options.xLabel, options.yLabel)}
    <g class="points">${paths}</g>
  </svg>`;
}

/** Silhouette (line, left axis) and inertia (bars, right axis) for each k tried; the chosen k is marked. */
export function kSearchChart(options: {
  points: readonly { k: number; silhouette: number; inertia: number }[];
  chosen: number;
  label: string;
  silhouetteLabel: string;
  inertiaLabel: string;
  kLabel: string;
  accent?: string;
}): TemplateResult {
  const frame: Frame = { width: 800, height: 280, left: 52, right: 58, top: 24, bottom: 44 };
  const accent = options.accent ?? '#0091ae';
  const pts = [...options.points].sort((a, b) => a.k - b.k);
  const ks = pts.map((p) => p.k);
  const kMin = Math.min(...ks);
  const kMax = Math.max(...ks);
  const slot = (frame.width - frame.left - frame.right) / Math.max(1, kMax - kMin + 1);
  const x = (k: number) => frame.left + (k - kMin + 0.5) * slot;
  const sMax = Math.max(0.1, ...pts.map((p) => p.silhouette));
  const sMin = Math.min(0, ...pts.map((p) => p.silhouette));
  const sTicks = niceTicks(sMin, sMax, 4);
  const sTop = Math.max(sMax, sTicks[sTicks.length - 1] ?? sMax);
  const y = scale(sMin, sTop, frame.height - frame.bottom, frame.top);
  const iMax = Math.max(1e-12, ...pts.map((p) => p.inertia));
  const iTicks = niceTicks(0, iMax, 4);
  const iTop = Math.max(iMax, iTicks[iTicks.length - 1] ?? iMax);
  const yi = scale(0, iTop, frame.height - frame.bottom, frame.top);
  const bottom = frame.height - frame.bottom;
  const line = pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.k).toFixed(1)} ${y(p.silhouette).toFixed(1)}`).join('');
  return html`<svg class="chart" role="img" aria-label=${options.label} viewBox="0 0 ${frame.width} ${frame.height}">
    <title>${options.label}</title>
    ${axes(frame, [], sTicks, x, y, options.kLabel, options.silhouetteLabel, tickLabel, (v) => v.toFixed(2))}
    <g aria-hidden="true" font-size="11" fill=${MUTED}>
      ${ks.map((k) => svg`<text x=${x(k)} y=${bottom + 16} text-anchor="middle" font-weight=${k === options.chosen ? '700' : '400'}>${k}</text>`)}
      ${iTicks.map((t) => svg`<text x=${frame.width - frame.right + 6} y=${yi(t) + 4}>${tickLabel(t)}</text>`)}
      <text transform="translate(${frame.width - 8} ${(frame.top + bottom) / 2}) rotate(90)" text-anchor="middle" fill=${INK} font-size="12">${options.inertiaLabel}</text>
    </g>
    <g aria-hidden="true">
      ${pts.map((p) => svg`<rect x=${x(p.k) - slot * 0.3} width=${slot * 0.6} y=${yi(p.inertia)} height=${bottom - yi(p.inertia)}
        fill=${p.k === options.chosen ? '#ffd7c9' : '#eaf0f6'} stroke=${p.k === options.chosen ? '#ff7a59' : '#cbd6e2'} />`)}
      <path d=${line} fill="none" stroke=${accent} stroke-width="2.5" />
      ${pts.map((p) => svg`<circle cx=${x(p.k)} cy=${y(p.silhouette)} r=${p.k === options.chosen ? 6 : 4} fill=${p.k === options.chosen ? '#ff7a59' : accent} stroke="#fff" stroke-width="1.5" />`)}
    </g>
  </svg>`;
}

/** Height between the merges that leaves `k` clusters (0 when the tree has fewer than k leaves). */
export function cutHeight(merges: readonly DendrogramMerge[], k: number): number {
  const m = merges.length;
  if (k <= 1) return (merges[m - 1]?.height ?? 0) * 1.05;
  const below = merges[m - k]?.height ?? 0;
  const above = merges[m - k + 1]?.height ?? below;
  return (below + above) / 2;
}

interface DendroNode {
  x: number;
  height: number;
}

/**
 * Ward dendrogram, truncated to its last `maxLeaves` clusters (scipy's "lastp"): each truncated branch is
 * drawn as one leaf labelled with its size. A dashed line marks the cut at `k` clusters.
 */
export function dendrogramChart(options: {
  merges: readonly DendrogramMerge[];
  leaves: number;
  k: number;
  label: string;
  heightLabel: string;
  maxLeaves?: number;
  accent?: string;
}): TemplateResult {
  const frame: Frame = { width: 800, height: 300, left: 52, right: 16, top: 16, bottom: 40 };
  const { merges, leaves: n } = options;
  const m = merges.length;
  const accent = options.accent ?? '#ff7a59';
  const p = Math.max(2, Math.min(options.maxLeaves ?? 30, m + 1));
  const firstShown = m - (p - 1);
  const isShown = (id: number) => id >= n + firstShown;
  const sizeOf = (id: number) => (id < n ? 1 : (merges[id - n]?.size ?? 1));
  // Leaf order by an explicit-stack DFS from the root (no recursion: trees can be deep).
  const order: number[] = [];
  const stack = m > 0 ? [n + m - 1] : [];
  while (stack.length) {
    const id = stack.pop() as number;
    if (isShown(id)) {
      const merge = merges[id - n] as DendrogramMerge;
      stack.push(merge.b, merge.a);
    } else {
      order.push(id);
    }
  }
  const top = merges[m - 1]?.height ?? 1;
  const yTicks = niceTicks(0, top, 4);
  const yTop = Math.max(top, yTicks[yTicks.length - 1] ?? top);
  const y = scale(0, yTop, frame.height - frame.bottom, frame.top);
  const slot = (frame.width - frame.left - frame.right) / Math.max(1, order.length);
  const nodes = new Map<number, DendroNode>();
  order.forEach((id, i) => nodes.set(id, { x: frame.left + (i + 0.5) * slot, height: 0 }));
  let d = '';
  for (let i = firstShown; i < m; i++) {
    const merge = merges[i] as DendrogramMerge;
    const a = nodes.get(merge.a);
    const b = nodes.get(merge.b);
    if (!a || !b) continue;
    const h = y(merge.height);
    d += `M${a.x.toFixed(1)} ${y(a.height).toFixed(1)}V${h.toFixed(1)}H${b.x.toFixed(1)}V${y(b.height).toFixed(1)}`;
    nodes.set(n + i, { x: (a.x + b.x) / 2, height: merge.height });
  }
  const cut = y(cutHeight(merges, options.k));
  const bottom = frame.height - frame.bottom;
  const showSizes = order.length <= 30;
  return html`<svg class="chart" role="img" aria-label=${options.label} viewBox="0 0 ${frame.width} ${frame.height}">
    <title>${options.label}</title>
    ${axes(frame, [], yTicks, (v) => v, y, '', options.heightLabel)}
    <path d=${d} fill="none" stroke=${INK} stroke-width="1.25" aria-hidden="true" />
    <line x1=${frame.left} x2=${frame.width - frame.right} y1=${cut} y2=${cut} stroke=${accent} stroke-width="2" stroke-dasharray="6 4" aria-hidden="true" />
    <text x=${frame.width - frame.right - 4} y=${cut - 6} text-anchor="end" font-size="12" fill="#b93b17" aria-hidden="true">k = ${options.k}</text>
    ${showSizes
      ? svg`<g font-size="9" fill=${MUTED} aria-hidden="true">${order.map((id) => {
          const node = nodes.get(id) as DendroNode;
          const size = sizeOf(id);
          return svg`<text x=${node.x} y=${bottom + 14} text-anchor="middle">${size > 1 ? String(size) : nothing}</text>`;
        })}</g>`
      : nothing}
  </svg>`;
}

/** Two horizontal 0..1 bars: adjusted Rand index and percent agreement on the holdout. */
export function stabilityChart(options: {
  bars: readonly { label: string; value: number; text: string }[];
  label: string;
  color?: string;
}): TemplateResult {
  const width = 800;
  const row = 34;
  const labelWidth = 190;
  const height = options.bars.length * row + 8;
  const color = options.color ?? '#0091ae';
  const span = width - labelWidth - 70;
  return html`<svg class="chart chart--compact" role="img" aria-label=${options.label} viewBox="0 0 ${width} ${height}">
    <title>${options.label}</title>
    <g aria-hidden="true" font-size="13">
      ${options.bars.map((bar, i) => {
        const v = Math.max(0, Math.min(1, bar.value));
        const yy = 4 + i * row;
        return svg`
          <text x="0" y=${yy + 19} fill=${INK}>${bar.label}</text>
          <rect x=${labelWidth} y=${yy + 4} width=${span} height="20" rx="3" fill="#eaf0f6" />
          <rect x=${labelWidth} y=${yy + 4} width=${span * v} height="20" rx="3" fill=${color} />
          <text x=${labelWidth + span + 8} y=${yy + 19} fill=${INK} font-weight="600">${bar.text}</text>`;
      })}
    </g>
  </svg>`;
}
