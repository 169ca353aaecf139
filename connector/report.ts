/**
 * What `fit` and `assign` print: a plain-text report for people (the paper's Fig. 1 and Fig. 2 as
 * tables: initial and final centres in original units, sizes; then names, strategies, KPIs, rules and
 * quality figures) and the JSON shapes for scripts (`--json`). Pure functions from results to text.
 */
import type { AssignReport } from '../src/assign.js';
import { STRATEGIES, TECHNOLOGIES } from '../src/strategy.js';
import { NO_RECENT_ORDERS } from '../src/types.js';
import type { Assignment, FitResult, Model, RejectedRow, Segment } from '../src/types.js';

/** Rejected rows listed in full in the text report; the rest are counted. */
const MAX_LISTED_REJECTS = 10;

/** Locale-independent number text: 1,234,567 / 351.6 / 17.06 / 0.789; an em dash for missing. */
export function formatValue(v: number | null | undefined): string {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  const digits = a >= 1000 ? 0 : a >= 100 ? 1 : 2;
  const [int, frac] = v.toFixed(digits).split('.');
  const grouped = int!.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return frac === undefined ? grouped : `${grouped}.${frac}`;
}

/** A whole count with thousands separators: 1,000,000. */
export function count(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function percent(fraction: number, digits = 0): string {
  return Number.isFinite(fraction) ? `${(fraction * 100).toFixed(digits)}%` : '—';
}

/**
 * A plain-text table, columns two spaces apart. `align` has one letter per column, `l` or `r`; by default
 * the first column is left-aligned and the others (numbers) right-aligned.
 */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[], align?: string): string {
  const widths = header.map((h, j) => Math.max(h.length, ...rows.map((r) => (r[j] ?? '').length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, j) => ((align ? align[j] === 'l' : j === 0) ? c.padEnd(widths[j]!) : c.padStart(widths[j]!)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n') + '\n';
}

function centresTable(
  model: Model,
  pick: (s: Segment) => Record<string, number> | undefined,
  extraRows: readonly (readonly string[])[] = [],
): string | null {
  if (model.segments.some((s) => pick(s) === undefined)) return null;
  const header = ['feature', ...model.segments.map((s) => s.label)];
  const rows = model.features.map((f) => [f, ...model.segments.map((s) => formatValue(pick(s)![f]))]);
  return formatTable(header, [...rows, ...extraRows]);
}

function methodName(model: Model): string {
  return model.method === 'kmeans' ? 'k-means' : 'Ward hierarchical clustering';
}

function rejectedLines(rejected: readonly RejectedRow[]): string {
  if (rejected.length === 0) return '';
  const lines = rejected.slice(0, MAX_LISTED_REJECTS).map((r) => {
    const where = r.line === undefined ? '' : ` (line ${r.line})`;
    return `  - ${r.id}${where}${r.field ? `, ${r.field}` : ''}: ${r.reason}`;
  });
  if (rejected.length > MAX_LISTED_REJECTS) lines.push(`  ... and ${rejected.length - MAX_LISTED_REJECTS} more (see --json)`);
  return lines.join('\n') + '\n';
}

function segmentSection(segment: Segment, index: number, total: number): string {
  const out: string[] = [];
  const share = total > 0 ? segment.size / total : NaN;
  const kind =
    segment.archetype === null
      ? `${segment.id}; descriptive, strategy of the nearest archetype "${segment.strategy.basis}"`
      : segment.archetype === segment.id
        ? segment.id
        : `${segment.id}; ${segment.archetype}`;
  out.push(`${index + 1}. ${segment.label} [${kind}]: ${count(segment.size)} customers (${percent(share)})`);
  out.push(`   Why: ${segment.why}`);
  const strategy = segment.strategy;
  out.push(`   Strategy, priority ${strategy.priority}: ${strategy.summary}`);
  for (const action of STRATEGIES[strategy.basis]?.actions ?? []) out.push(`     - ${action}`);
  out.push('   Technologies and the KPIs they move:');
  for (const key of strategy.technologies) {
    const tech = TECHNOLOGIES[key];
    out.push(`     - ${tech?.name ?? key} (${key}): ${tech?.kpis.join(', ') ?? ''}`);
  }
  const k = segment.kpis;
  const nps = k.nps === null ? 'no ratings' : `${k.nps > 0 ? '+' : ''}${k.nps.toFixed(0)} (${count(k.npsResponses)} responses)`;
  out.push(
    `   KPIs: revenue ${formatValue(k.revenue)} (${percent(k.revenueShare, 1)} of all), CLV ${formatValue(k.clv)}, NPS ${nps}`,
  );
  if (segment.rule) {
    const r = segment.rule;
    out.push(
      `   Rule: ${r.text} (accuracy ${percent(r.accuracy, 1)}, precision ${percent(r.precision, 1)}, ` +
        `recall ${percent(r.recall, 1)}, F1 ${r.f1.toFixed(2)})`,
    );
  }
  return out.join('\n') + '\n';
}

function qualitySection(model: Model): string {
  const q = model.quality;
  const out: string[] = ['Quality'];
  out.push(`  Silhouette ${q.silhouette.toFixed(3)} (mean over ${count(q.silhouetteSampleSize)} customers; 1 is perfectly separated)`);
  const iterations = model.method === 'kmeans' ? ` after ${q.iterations} iteration${q.iterations === 1 ? '' : 's'}` : '';
  out.push(`  Inertia ${formatValue(q.inertia)} (within-segment sum of squares, standardised units)${iterations}`);
  if (q.stability) {
    const s = q.stability;
    out.push(
      `  Stability: training/holdout split ${count(s.trainingSize)}/${count(s.holdoutSize)}: the holdout customers land in the same ` +
        `segments for ${percent(s.agreement, 1)} of them (adjusted Rand index ${s.ari.toFixed(3)})`,
    );
  }
  if (q.explanation) out.push(`  The rules reproduce ${percent(q.explanation.accuracy, 1)} of the segment assignments`);
  let text = out.join('\n') + '\n';
  if (q.kSearch && q.kSearch.length > 0) {
    text += '\n  k search (highest silhouette wins):\n';
    const rows = q.kSearch.map((r) => [`${r.k}${r.k === model.k ? ' (chosen)' : ''}`, r.silhouette.toFixed(3), formatValue(r.inertia)]);
    text += formatTable(['k', 'silhouette', 'inertia'], rows)
      .split('\n')
      .map((l) => (l.length > 0 ? `    ${l}` : l))
      .join('\n');
  }
  return text;
}

export interface FitReportContext {
  input: string;
}

/** The human-readable fit report. */
export function formatFitReport(result: FitResult, context: FitReportContext): string {
  const { model } = result;
  const d = model.data;
  const parts: string[] = [];
  parts.push(
    `Smart Segments: ${model.k} segment${model.k === 1 ? '' : 's'} by ${methodName(model)} (seed ${model.seed}, ${model.scaler.kind} scaling) ` +
      `from ${context.input}\n` +
      `Features: ${model.features.join(', ')}\n` +
      `${count(d.rows)} customers: ${count(d.clustered)} clustered (${count(d.imputed)} with imputed values), ` +
      `${count(d.noRecentOrders)} with no recent orders, ${count(d.rejected.length)} rejected\n`,
  );
  const sizes = ['size', ...model.segments.map((s) => `${count(s.size)} (${percent(d.clustered > 0 ? s.size / d.clustered : NaN)})`)];
  const final = centresTable(model, (s) => s.centroid, [sizes]);
  if (final) parts.push('Final cluster centres (original units)\n' + final);
  const initial = centresTable(model, (s) => s.initialCentroid);
  if (initial) parts.push('Initial cluster centres (original units)\n' + initial);
  parts.push('Segments\n' + model.segments.map((s, i) => segmentSection(s, i, d.clustered)).join('\n'));
  parts.push(qualitySection(model));
  const extra: string[] = [];
  if (d.noRecentOrders > 0) {
    extra.push(
      `No recent orders: ${count(d.noRecentOrders)} customers have no orders in the window; they form the segment ` +
        `"${NO_RECENT_ORDERS}" and are not clustered.`,
    );
  }
  if (d.rejected.length > 0) extra.push(`Rejected rows: ${count(d.rejected.length)}\n` + rejectedLines(d.rejected).trimEnd());
  if (extra.length > 0) parts.push(extra.join('\n') + '\n');
  return parts.join('\n');
}

function counts(assignments: readonly Assignment[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of assignments) out[a.segment] = (out[a.segment] ?? 0) + 1;
  return out;
}

/**
 * The `fit --json` object: model summary, segments, quality, data counts and one assignment per customer.
 * A pure function of the data and the options (no timestamp), so the same seed prints the same bytes; the
 * model file written with --out carries its createdAt.
 */
export function fitJson(result: FitResult, input: string): Record<string, unknown> {
  const { model, assignments } = result;
  const q = model.quality;
  return {
    input,
    k: model.k,
    method: model.method,
    seed: model.seed,
    scaler: model.scaler.kind,
    features: model.features,
    silhouette: q.silhouette,
    silhouetteSampleSize: q.silhouetteSampleSize,
    inertia: q.inertia,
    iterations: q.iterations,
    stability: q.stability ?? null,
    kSearch: q.kSearch ?? null,
    explanationAccuracy: q.explanation?.accuracy ?? null,
    rows: model.data.rows,
    clustered: model.data.clustered,
    imputed: model.data.imputed,
    noRecentOrders: model.data.noRecentOrders,
    rejected: model.data.rejected,
    segments: model.segments.map((s) => ({
      id: s.id,
      archetype: s.archetype,
      label: s.label,
      why: s.why,
      color: s.color,
      size: s.size,
      centroid: s.centroid,
      initialCentroid: s.initialCentroid ?? null,
      strategy: {
        basis: s.strategy.basis,
        priority: s.strategy.priority,
        technologies: s.strategy.technologies,
        summary: s.strategy.summary,
        actions: STRATEGIES[s.strategy.basis]?.actions ?? [],
      },
      kpis: s.kpis,
      rule: s.rule ?? null,
    })),
    counts: counts(assignments),
    assignments: assignments.map((a) => ({ id: a.id, segment: a.segment })),
  };
}

/** The `assign --json` object. */
export function assignJson(model: Model, report: AssignReport, input: string): Record<string, unknown> {
  return {
    input,
    model: { createdAt: model.createdAt, method: model.method, k: model.k, features: model.features },
    rows: report.assignments.length + report.rejected.length,
    noRecentOrders: report.noRecentOrders,
    imputed: report.imputed,
    rejected: report.rejected,
    counts: counts(report.assignments),
    assignments: report.assignments.map((a) => ({
      id: a.id,
      segment: a.segment,
      distance: Number.isFinite(a.distance) ? a.distance : null,
      imputed: a.imputed,
    })),
  };
}

/** The human-readable assignment table with a per-segment summary. */
export function formatAssignReport(model: Model, report: AssignReport, input: string): string {
  const labels = new Map(model.segments.map((s) => [s.id, s.label]));
  labels.set(NO_RECENT_ORDERS, 'No recent orders');
  const rows = report.assignments.map((a) => [
    a.id,
    a.segment,
    labels.get(a.segment) ?? a.segment,
    Number.isFinite(a.distance) ? a.distance.toFixed(3) : '—',
    a.imputed ? 'yes' : '',
  ]);
  let text = formatTable(['id', 'segment', 'label', 'distance', 'imputed'], rows, 'lllrl');
  const c = counts(report.assignments);
  text +=
    `\n${count(report.assignments.length)} customers from ${input} assigned with the ${model.method} model of ${model.createdAt}: ` +
    Object.entries(c)
      .map(([id, n]) => `${id} ${count(n)}`)
      .join(', ') +
    `; ${count(report.imputed)} with imputed values, ${count(report.rejected.length)} rejected\n`;
  text += rejectedLines(report.rejected);
  return text;
}
