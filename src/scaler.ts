/**
 * Feature scaling, kept in the model so new customers are scaled exactly as the training data were.
 * z-score is what SPSS applies when the paper "normalises the data" (METHOD.md section 2); min-max is
 * offered for features with hard bounds such as the 1-5 satisfaction score.
 */
import type { Scaler, ScalerKind } from './types.js';
import { checkMatrix } from './cluster/nearest.js';

/**
 * Learns per-column offset and scale from `X` (n x d, row-major, no NaN).
 * zscore: offset = mean, scale = population standard deviation; minmax: offset = min, scale = max - min.
 * A constant column gets scale 1 so it maps to 0 instead of dividing by zero.
 */
export function fitScaler(X: Float64Array, n: number, d: number, kind: ScalerKind): Scaler {
  checkMatrix(X, n, d);
  if (n < 1) throw new RangeError('fitScaler needs at least one row');
  const offset: number[] = [];
  const scale: number[] = [];
  if (kind === 'zscore') {
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let i = 0; i < n; i++) sum += X[i * d + j]!;
      const mean = sum / n;
      // Two passes: the sum of squared deviations does not cancel catastrophically for large means.
      let ss = 0;
      for (let i = 0; i < n; i++) {
        const t = X[i * d + j]! - mean;
        ss += t * t;
      }
      const sd = Math.sqrt(ss / n);
      offset.push(mean);
      scale.push(sd > 0 ? sd : 1);
    }
  } else if (kind === 'minmax') {
    for (let j = 0; j < d; j++) {
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < n; i++) {
        const v = X[i * d + j]!;
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
      const range = hi - lo;
      offset.push(lo);
      scale.push(range > 0 ? range : 1);
    }
  } else {
    throw new RangeError(`unknown scaler kind: ${String(kind)} (expected 'zscore' or 'minmax')`);
  }
  return { kind, offset, scale };
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
  for (let j = 0; j < d; j++) {
    const off = s.offset[j]!;
    const sc = s.scale[j]!;
    for (let i = 0; i < n; i++) out[i * d + j] = (X[i * d + j]! - off) / sc;
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
