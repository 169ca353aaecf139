/**
 * Feature scaling, kept in the model so new customers are scaled exactly as the training data were.
 * z-score is what SPSS applies when the paper "normalises the data" (METHOD.md section 2); min-max is
 * offered for features with hard bounds such as the 1-5 satisfaction score.
 */
import type { Scaler, ScalerKind } from './types.js';
import { checkMatrix } from './cluster/nearest.js';

/**
 * Per-column mean and population standard deviation of `X` (n x d, row-major), in two row-major passes
 * (one for the sums, one for the squared deviations, which do not cancel catastrophically for large
 * means). Each column's sums run over the rows in order, as a column-by-column loop would add them.
 */
export function columnMoments(X: Float64Array, n: number, d: number): { mean: number[]; sd: number[] } {
  const sum = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) sum[j] = sum[j]! + X[o + j]!;
  }
  const mean = Array.from(sum, (s) => s / n);
  const m = Float64Array.from(mean);
  const ss = new Float64Array(d);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) {
      const t = X[o + j]! - m[j]!;
      ss[j] = ss[j]! + t * t;
    }
  }
  return { mean, sd: Array.from(ss, (s) => Math.sqrt(s / n)) };
}

/**
 * Learns per-column offset and scale from `X` (n x d, row-major, no NaN).
 * zscore: offset = mean, scale = population standard deviation; minmax: offset = min, scale = max - min.
 * A constant column gets scale 1 so it maps to 0 instead of dividing by zero. `moments`, when the caller
 * has them already (`columnMoments` of the same X), saves the z-score's two passes.
 */
export function fitScaler(X: Float64Array, n: number, d: number, kind: ScalerKind, moments?: { mean: number[]; sd: number[] }): Scaler {
  checkMatrix(X, n, d);
  if (n < 1) throw new RangeError('fitScaler needs at least one row');
  if (kind === 'zscore') {
    const { mean, sd } = moments ?? columnMoments(X, n, d);
    return { kind, offset: [...mean], scale: sd.map((s) => (s > 0 ? s : 1)) };
  }
  if (kind === 'minmax') {
    const lo = new Float64Array(d).fill(Infinity);
    const hi = new Float64Array(d).fill(-Infinity);
    for (let i = 0; i < n; i++) {
      const o = i * d;
      for (let j = 0; j < d; j++) {
        const v = X[o + j]!;
        if (v < lo[j]!) lo[j] = v;
        if (v > hi[j]!) hi[j] = v;
      }
    }
    const offset = Array.from(lo);
    const scale = Array.from(hi, (h, j) => (h - lo[j]! > 0 ? h - lo[j]! : 1));
    return { kind, offset, scale };
  }
  throw new RangeError(`unknown scaler kind: ${String(kind)} (expected 'zscore' or 'minmax')`);
}

function checkScaler(s: Scaler, d: number): void {
  if (s.offset.length !== d || s.scale.length !== d) {
    throw new RangeError(`scaler has ${s.offset.length} offsets and ${s.scale.length} scales, data has ${d} columns`);
  }
}

/** Returns a new matrix with x' = (x - offset[j]) / scale[j]. */
export function applyScaler(s: Scaler, X: Float64Array, n: number, d: number): Float64Array {
  checkMatrix(X, n, d);
  checkScaler(s, d);
  const out = new Float64Array(n * d);
  const off = Float64Array.from(s.offset);
  const sc = Float64Array.from(s.scale);
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) out[o + j] = (X[o + j]! - off[j]!) / sc[j]!;
  }
  return out;
}

/** Maps one scaled row back to original units: x = x' * scale[j] + offset[j]. */
export function unscaleRow(s: Scaler, row: ArrayLike<number>): number[] {
  checkScaler(s, row.length);
  const out: number[] = [];
  for (let j = 0; j < row.length; j++) out.push(row[j]! * s.scale[j]! + s.offset[j]!);
  return out;
}
