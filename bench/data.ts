/**
 * The benchmark's data, built identically in Node and in the browser worker (pure: src/ imports only):
 * the paper's synthetic customers (src/synthetic.ts), the four default features z-scored, and the
 * k-means++ start every implementation is given, from our seeded k-means++.
 */
import { kmeansPlusPlus } from '../src/cluster/kmeans.js';
import { createRng, deriveSeed } from '../src/random.js';
import { applyScaler, fitScaler } from '../src/scaler.js';
import { paperTable } from '../src/synthetic.js';
import { DEFAULT_FEATURES } from '../src/types.js';
import type { FeatureTable } from '../src/types.js';

export const BENCH_SEED = 20_240_601;
export const BENCH_K = 3;
/**
 * Spread of the synthetic clusters (paperTable's `noise`). The paper's own 0.12 separates the clusters so
 * well that every implementation converges in 2 iterations and the timings measure only set-up; 0.5
 * makes them overlap (13–20 Lloyd iterations), so the per-iteration speed is what is compared.
 */
export const BENCH_NOISE = 0.5;

export interface BenchMatrix {
  table: FeatureTable;
  /** n x d standardised (the four default features), row-major. */
  Z: Float64Array;
  n: number;
  d: number;
  /** k x d starting centres shared by every implementation. */
  init: Float64Array;
}

export function benchMatrix(n: number, seed = BENCH_SEED, k = BENCH_K, noise = BENCH_NOISE): BenchMatrix {
  const { table } = paperTable({ n, seed, noise });
  const width = table.columns.length;
  const cols = DEFAULT_FEATURES.map((f) => table.columns.indexOf(f));
  const d = cols.length;
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = table.values[i * width + cols[j]!]!;
  const Z = applyScaler(fitScaler(X, n, d, 'zscore'), X, n, d);
  const init = kmeansPlusPlus(Z, n, d, k, createRng(deriveSeed(seed, 1)));
  return { table, Z, n, d, init };
}

export function toRows(M: Float64Array, rows: number, d: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from(M.subarray(i * d, i * d + d)));
  return out;
}
