/**
 * From a FeatureTable to the numeric matrix that clusters.
 *
 * Policy (the README repeats it word for word):
 * - Customers whose `purchase_frequency` is 0 (when the table has that column) form the explicit
 *   "no recent orders" group (segment id `no_recent_orders`). They are never clustered as zeros: a customer
 *   with no orders has no average order and no satisfaction worth averaging, and a pile of zeros would
 *   pull one centre towards the origin.
 * - Other missing values (empty cells, NaN) are imputed with the column median of the usable rows (when
 *   assigning with a fitted model: the model's stored medians), and the row is flagged as imputed.
 * - Rows are rejected, with a reason naming the customer id and the field, when every selected feature is
 *   missing or a value is impossible: a negative frequency, amount, distance, recency or total; a
 *   satisfaction outside 1..5; an infinite number.
 * - An unknown feature name is an error that lists the available columns; so is a table with no usable row.
 */
import type { FeatureTable, RejectedRow } from './types.js';

export interface PrepareOptions {
  /** Medians to impute with (original units, by feature), e.g. a fitted model's `imputation`. */
  imputation?: Record<string, number>;
  /** Return an empty matrix instead of throwing when no row is usable (assigning new customers). */
  allowEmpty?: boolean;
}

export interface Prepared {
  /** Selected features, in column order of `X`. */
  features: string[];
  /** Usable rows x features, original units, row-major, never NaN. */
  X: Float64Array;
  n: number;
  d: number;
  /** Table row of each X row. */
  rows: Int32Array;
  /** Per X row: 1 when any value was imputed. */
  imputed: Uint8Array;
  /** The medians used for imputation, by feature. */
  medians: Record<string, number>;
  /** Table rows in the no-recent-orders group. */
  noRecentOrders: Int32Array;
  rejected: RejectedRow[];
}

const NON_NEGATIVE = new Set(['purchase_frequency', 'avg_order_amount', 'distance_km', 'recency_days', 'monetary_total']);
const FREQUENCY = 'purchase_frequency';

/** Why `value` is impossible for `feature`, or null when it is fine (NaN, meaning missing, is fine here). */
export function impossibleValue(feature: string, value: number): string | null {
  if (value === Infinity || value === -Infinity) return `${feature} is ${value > 0 ? '' : '-'}Infinity`;
  if (Number.isNaN(value)) return null;
  if (NON_NEGATIVE.has(feature) && value < 0) return `${feature} is ${value}, below 0`;
  if (feature === 'satisfaction' && (value < 1 || value > 5)) return `satisfaction is ${value}, outside 1..5`;
  return null;
}

/** Rearranges `a` so that a[k] is the k-th smallest, smaller values before it (3-way quickselect, O(n)). */
function select(a: Float64Array, k: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const x = a[lo]!;
    const y = a[(lo + hi) >> 1]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    // Dutch national flag: [lo, lt) < pivot, [lt, i) == pivot, (gt, hi] > pivot. Copes with many ties.
    let lt = lo;
    let gt = hi;
    let i = lo;
    while (i <= gt) {
      const v = a[i]!;
      if (v < pivot) {
        a[i++] = a[lt]!;
        a[lt++] = v;
      } else if (v > pivot) {
        a[i] = a[gt]!;
        a[gt--] = v;
      } else i++;
    }
    if (k < lt) hi = lt - 1;
    else if (k > gt) lo = gt + 1;
    else return pivot;
  }
  return a[k]!;
}

/** Median of the values, ignoring NaN; NaN when there are none. */
export function median(values: ArrayLike<number>): number {
  const a = new Float64Array(values.length);
  let m = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v === v) a[m++] = v;
  }
  return medianInPlace(a.subarray(0, m));
}

/** Median of `work` (no NaN), rearranging it; NaN when empty. */
function medianInPlace(work: Float64Array): number {
  const m = work.length;
  if (m === 0) return NaN;
  const h = m >> 1;
  const upper = select(work, h);
  if (m % 2 === 1) return upper;
  let lower = -Infinity;
  for (let i = 0; i < h; i++) if (work[i]! > lower) lower = work[i]!;
  return (lower + upper) / 2;
}

/** Below this many values a column's median is a plain quickselect over a copy. */
const BRACKET_MIN = 1 << 16;
/** Values the bracketing sample draws, evenly spaced over the rows. */
const BRACKET_SAMPLE = 4096;

/**
 * The median of each column of the n x d row-major `X`, ignoring NaN (NaN for a column with no value): the
 * exact order statistics, as `median` of each column. Large columns are bracketed first (Floyd and Rivest's
 * idea): per column, two values from an evenly spaced sample of 4,096 that the median almost surely lies
 * between; then ONE pass over X counts, per column, the values below, at and above them and keeps those
 * strictly between (~6% of the rows); a quickselect of those gives the median. No copy of a column (8 MB at
 * a million rows) is made. When a bracket misses (possible only for unusual orderings of the rows), that
 * column falls back to a quickselect of a copy.
 */
export function columnMedians(X: Float64Array, n: number, d: number): number[] {
  const counts = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let c = 0; c < d; c++) if (X[o + c] === X[o + c]) counts[c]!++;
  }
  const out: number[] = new Array<number>(d).fill(NaN);
  const lo = new Float64Array(d);
  const hi = new Float64Array(d);
  const bracketed: number[] = [];
  for (let c = 0; c < d; c++) {
    if (counts[c]! < BRACKET_MIN) continue;
    const sample = new Float64Array(BRACKET_SAMPLE);
    let taken = 0;
    for (let t = 0; t < BRACKET_SAMPLE; t++) {
      const v = X[Math.floor((t * n) / BRACKET_SAMPLE) * d + c]!;
      if (v === v) sample[taken++] = v;
    }
    if (taken === 0) continue;
    const sorted = sample.subarray(0, taken).sort();
    // The sample's quantile 1/2 has a standard error of about 0.5 sqrt(taken) places: four of them each way.
    const spread = Math.ceil(2 * Math.sqrt(taken)) + 1;
    const at = Math.floor(((counts[c]! >> 1) / counts[c]!) * taken);
    lo[c] = sorted[Math.max(0, at - spread)]!;
    hi[c] = sorted[Math.min(taken - 1, at + spread)]!;
    bracketed.push(c);
  }
  const solved = new Uint8Array(d);
  if (bracketed.length > 0) {
    const cols = Int32Array.from(bracketed);
    const b = cols.length;
    const caps = Int32Array.from(cols, (c) => Math.ceil(counts[c]! / 8));
    const between = Array.from(caps, (cap) => new Float64Array(cap));
    // Per bracketed column: values below lo, equal to lo, strictly between (kept), equal to hi.
    const below = new Float64Array(b);
    const atLo = new Float64Array(b);
    const inside = new Int32Array(b);
    const atHi = new Float64Array(b);
    const full = new Uint8Array(b);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let e = 0; e < b; e++) {
        const c = cols[e]!;
        const v = X[o + c]!;
        if (v < lo[c]!) below[e]!++;
        else if (v === lo[c]) atLo[e]!++;
        else if (v < hi[c]!) {
          if (inside[e] === caps[e]) full[e] = 1;
          else between[e]![inside[e]!++] = v;
        } else if (v === hi[c]) atHi[e]!++;
      }
    }
    for (let e = 0; e < b; e++) {
      if (full[e]) continue;
      const c = cols[e]!;
      const kept = between[e]!.subarray(0, inside[e]);
      // The sorted column: [< lo] [= lo] (lo, hi) [= hi] [> hi]; a rank outside the middle three is a miss.
      const rank = (r: number): number | null => {
        const r0 = r - below[e]!;
        if (r0 < 0) return null;
        if (r0 < atLo[e]!) return lo[c]!;
        if (r0 < atLo[e]! + kept.length) return select(kept, r0 - atLo[e]!);
        if (r0 < atLo[e]! + kept.length + atHi[e]!) return hi[c]!;
        return null;
      };
      const m = counts[c]!;
      const h = m >> 1;
      const upper = rank(h);
      const lower = m % 2 === 1 ? upper : rank(h - 1);
      if (upper === null || lower === null) continue;
      out[c] = m % 2 === 1 ? upper : (lower + upper) / 2;
      solved[c] = 1;
    }
  }
  for (let c = 0; c < d; c++) {
    if (solved[c] || counts[c] === 0) continue;
    const work = new Float64Array(counts[c]!);
    let w = 0;
    for (let i = 0; i < n; i++) {
      const v = X[i * d + c]!;
      if (v === v) work[w++] = v;
    }
    out[c] = medianInPlace(work);
  }
  return out;
}

/** Checks that the table is well formed and every feature is one of its columns; returns column indices. */
export function resolveFeatures(table: FeatureTable, features: readonly string[]): number[] {
  const width = table.columns.length;
  if (table.values.length !== table.ids.length * width) {
    throw new RangeError(
      `Malformed table: ${table.ids.length} ids x ${width} columns needs ${table.ids.length * width} values, got ${table.values.length}`,
    );
  }
  if (features.length === 0) throw new RangeError('No features selected: choose at least one column to cluster on');
  const seen = new Set<string>();
  return features.map((f) => {
    if (seen.has(f)) throw new RangeError(`Feature "${f}" is selected twice`);
    seen.add(f);
    const j = table.columns.indexOf(f);
    if (j < 0) {
      throw new RangeError(`Unknown feature "${f}"; available columns: ${table.columns.join(', ') || '(none)'}`);
    }
    return j;
  });
}

/** Applies the policy above; see the module comment. */
export function prepare(table: FeatureTable, features: readonly string[], options: PrepareOptions = {}): Prepared {
  const cols = resolveFeatures(table, features);
  const width = table.columns.length;
  const d = cols.length;
  const total = table.ids.length;
  const values = table.values;
  const freqCol = table.columns.indexOf(FREQUENCY);
  const checked = freqCol >= 0 && !features.includes(FREQUENCY) ? [...cols, freqCol] : cols;
  // Per checked column: 0 any finite value, 1 non-negative, 2 within 1..5 (resolved once, not per cell).
  const kinds = checked.map((j) => (NON_NEGATIVE.has(table.columns[j]!) ? 1 : table.columns[j] === 'satisfaction' ? 2 : 0));
  const nChecked = checked.length;

  // One pass over the table: check each row and copy a usable row's features into X (NaN kept for now).
  const usable = new Int32Array(total);
  const X0 = new Float64Array(total * d);
  let missing = 0;
  let n = 0;
  const noRecent: number[] = [];
  const rejected: RejectedRow[] = [];
  rows: for (let r = 0; r < total; r++) {
    const base = r * width;
    for (let c = 0; c < nChecked; c++) {
      const v = values[base + checked[c]!]!;
      if (v !== v) continue; // NaN: missing, imputed below
      const kind = kinds[c]!;
      if (v === Infinity || v === -Infinity || (kind === 1 && v < 0) || (kind === 2 && (v < 1 || v > 5))) {
        const field = table.columns[checked[c]!]!;
        const id = table.ids[r]!;
        rejected.push({ id, field, reason: `customer ${id}: ${impossibleValue(field, v)}` });
        continue rows;
      }
    }
    if (freqCol >= 0 && values[base + freqCol] === 0) {
      noRecent.push(r);
      continue;
    }
    let found = 0;
    for (let c = 0; c < d; c++) if (values[base + cols[c]!] === values[base + cols[c]!]) found++;
    if (found === 0) {
      const id = table.ids[r]!;
      rejected.push({ id, field: features.join(','), reason: `customer ${id}: every selected feature is missing (${features.join(', ')})` });
      continue;
    }
    missing += d - found;
    const out = n * d;
    for (let c = 0; c < d; c++) X0[out + c] = values[base + cols[c]!]!;
    usable[n++] = r;
  }

  if (n === 0 && !options.allowEmpty) {
    throw new RangeError(
      `No usable rows to cluster: ${total} rows, ${noRecent.length} with no recent orders, ${rejected.length} rejected` +
        (rejected[0] ? ` (first: ${rejected[0].reason})` : ''),
    );
  }

  const medians: Record<string, number> = {};
  const computed = options.imputation ? null : columnMedians(X0, n, d);
  for (let c = 0; c < d; c++) {
    const f = features[c]!;
    if (options.imputation) {
      const supplied = options.imputation[f];
      if (typeof supplied !== 'number' || !Number.isFinite(supplied)) {
        throw new RangeError(`No imputation median for feature "${f}"`);
      }
      medians[f] = supplied;
      continue;
    }
    medians[f] = computed![c]!;
  }

  // A view, not a copy: the rows past n were never written.
  const X = n === total ? X0 : X0.subarray(0, n * d);
  const imputed = new Uint8Array(n);
  if (missing > 0) {
    const fill = features.map((f) => medians[f]!);
    for (let i = 0; i < n; i++) {
      for (let c = 0; c < d; c++) {
        if (X[i * d + c] !== X[i * d + c]) {
          const v = fill[c]!;
          if (v !== v) throw new RangeError(`Feature "${features[c]}" has no value in any usable row, so it cannot be imputed`);
          X[i * d + c] = v;
          imputed[i] = 1;
        }
      }
    }
  }

  return {
    features: [...features],
    X,
    n,
    d,
    rows: n === total ? usable : usable.subarray(0, n),
    imputed,
    medians,
    noRecentOrders: Int32Array.from(noRecent),
    rejected,
  };
}
