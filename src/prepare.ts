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

/** Median of the finite values; NaN when there are none. */
export function median(values: ArrayLike<number>): number {
  const sorted = Float64Array.from(values).filter((v) => !Number.isNaN(v)).sort();
  const m = sorted.length;
  if (m === 0) return NaN;
  const h = m >> 1;
  return m % 2 === 1 ? sorted[h]! : (sorted[h - 1]! + sorted[h]!) / 2;
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
  const freqCol = table.columns.indexOf(FREQUENCY);
  const checked = freqCol >= 0 && !features.includes(FREQUENCY) ? [...cols, freqCol] : cols;

  const usable: number[] = [];
  const noRecent: number[] = [];
  const rejected: RejectedRow[] = [];
  for (let r = 0; r < total; r++) {
    const base = r * width;
    const id = table.ids[r]!;
    let problem: RejectedRow | null = null;
    for (const j of checked) {
      const reason = impossibleValue(table.columns[j]!, table.values[base + j]!);
      if (reason !== null) {
        problem = { id, field: table.columns[j]!, reason: `customer ${id}: ${reason}` };
        break;
      }
    }
    if (problem) {
      rejected.push(problem);
      continue;
    }
    if (freqCol >= 0 && table.values[base + freqCol] === 0) {
      noRecent.push(r);
      continue;
    }
    let present = 0;
    for (const j of cols) if (!Number.isNaN(table.values[base + j]!)) present++;
    if (present === 0) {
      rejected.push({
        id,
        field: features.join(','),
        reason: `customer ${id}: every selected feature is missing (${features.join(', ')})`,
      });
      continue;
    }
    usable.push(r);
  }

  const n = usable.length;
  if (n === 0 && !options.allowEmpty) {
    throw new RangeError(
      `No usable rows to cluster: ${total} rows, ${noRecent.length} with no recent orders, ${rejected.length} rejected` +
        (rejected[0] ? ` (first: ${rejected[0].reason})` : ''),
    );
  }

  const medians: Record<string, number> = {};
  const column = new Float64Array(n);
  for (let c = 0; c < d; c++) {
    const f = features[c]!;
    const supplied = options.imputation?.[f];
    if (options.imputation) {
      if (typeof supplied !== 'number' || !Number.isFinite(supplied)) {
        throw new RangeError(`No imputation median for feature "${f}"`);
      }
      medians[f] = supplied;
      continue;
    }
    for (let i = 0; i < n; i++) column[i] = table.values[usable[i]! * width + cols[c]!]!;
    medians[f] = median(column);
  }

  const X = new Float64Array(n * d);
  const imputed = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const base = usable[i]! * width;
    for (let c = 0; c < d; c++) {
      let v = table.values[base + cols[c]!]!;
      if (Number.isNaN(v)) {
        v = medians[features[c]!]!;
        if (Number.isNaN(v)) {
          throw new RangeError(`Feature "${features[c]}" has no value in any usable row, so it cannot be imputed`);
        }
        imputed[i] = 1;
      }
      X[i * d + c] = v;
    }
  }

  return {
    features: [...features],
    X,
    n,
    d,
    rows: Int32Array.from(usable),
    imputed,
    medians,
    noRecentOrders: Int32Array.from(noRecent),
    rejected,
  };
}
