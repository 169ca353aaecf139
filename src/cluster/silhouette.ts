/**
 * Mean silhouette coefficient (Rousseeuw 1987), as scikit-learn's `silhouette_score` with Euclidean
 * distance: s(i) = (b - a) / max(a, b), where a is the mean distance to the other members of i's cluster
 * and b the lowest mean distance to another cluster; members of singleton clusters score 0. Exact over
 * the rows when n <= maxSample, otherwise exact over a seeded random sample of maxSample rows.
 */
import { createRng, sampleIndices } from '../random.js';
import { checkMatrix } from './nearest.js';

export interface SilhouetteOptions {
  seed: number;
  /** Default 3000: O(maxSample^2) distances. */
  maxSample?: number;
}

export interface SilhouetteResult {
  /** Mean over the sampled rows; 0 when fewer than two clusters are present in the sample. */
  score: number;
  sampleSize: number;
  /** Mean silhouette of the sampled members of each cluster 0..k-1 (0 for a cluster absent from the sample). */
  perCluster: number[];
}

const DEFAULT_MAX_SAMPLE = 3000;

export function silhouette(
  X: Float64Array,
  n: number,
  d: number,
  labels: Int32Array,
  k: number,
  options: SilhouetteOptions,
): SilhouetteResult {
  checkMatrix(X, n, d);
  const maxSample = options.maxSample ?? DEFAULT_MAX_SAMPLE;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (!Number.isInteger(maxSample) || maxSample < 2) throw new RangeError(`maxSample must be an integer >= 2, got ${maxSample}`);
  if (labels.length !== n) throw new RangeError(`expected ${n} labels, got ${labels.length}`);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    if (!(c >= 0 && c < k)) throw new RangeError(`row ${i} has label ${c}, outside 0..${k - 1}`);
  }
  const rows = n <= maxSample ? null : sampleIndices(createRng(options.seed), n, maxSample).sort();
  const m = rows ? rows.length : n;
  const counts = new Float64Array(k);
  for (let s = 0; s < m; s++) counts[labels[rows ? rows[s]! : s]!]!++;
  // The sampled rows grouped by cluster (in sample order within a cluster): cluster c holds positions
  // start[c]..start[c + 1] - 1 of Y, so each row's distances to one cluster add up in a register.
  const start = new Int32Array(k + 1);
  for (let c = 0; c < k; c++) start[c + 1] = start[c]! + counts[c]!;
  const next = Int32Array.from(start.subarray(0, k));
  const lab = new Int32Array(m);
  const Y = new Float64Array(m * d);
  for (let s = 0; s < m; s++) {
    const r = rows ? rows[s]! : s;
    const c = labels[r]!;
    const p = next[c]!++;
    lab[p] = c;
    Y.set(X.subarray(r * d, r * d + d), p * d);
  }
  // sums[s * k + c] = sum of distances from row s (grouped order) to the members of cluster c. Each pair
  // once: row i's sum over a cluster accumulates in a local, row j's share goes straight to its slot.
  const sums = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    const li = lab[i]!;
    const oi = i * d;
    for (let c = li; c < k; c++) {
      const from = c === li ? i + 1 : start[c]!;
      const to = start[c + 1]!;
      let acc = 0;
      if (d === 4) {
        const y0 = Y[oi]!;
        const y1 = Y[oi + 1]!;
        const y2 = Y[oi + 2]!;
        const y3 = Y[oi + 3]!;
        for (let j = from; j < to; j++) {
          const oj = j * 4;
          const t0 = y0 - Y[oj]!;
          const t1 = y1 - Y[oj + 1]!;
          const t2 = y2 - Y[oj + 2]!;
          const t3 = y3 - Y[oj + 3]!;
          const dist = Math.sqrt(t0 * t0 + t1 * t1 + (t2 * t2 + t3 * t3));
          acc += dist;
          sums[j * k + li] = sums[j * k + li]! + dist;
        }
      } else {
        for (let j = from; j < to; j++) {
          let q = 0;
          for (let e = 0; e < d; e++) {
            const t = Y[oi + e]! - Y[j * d + e]!;
            q += t * t;
          }
          const dist = Math.sqrt(q);
          acc += dist;
          sums[j * k + li] = sums[j * k + li]! + dist;
        }
      }
      sums[i * k + c] = sums[i * k + c]! + acc;
    }
  }
  let present = 0;
  for (let c = 0; c < k; c++) if (counts[c]! > 0) present++;
  const perSum = new Float64Array(k);
  let total = 0;
  if (present >= 2) {
    for (let i = 0; i < m; i++) {
      const li = lab[i]!;
      const own = counts[li]!;
      if (own <= 1) continue; // singleton clusters score 0
      const a = sums[i * k + li]! / (own - 1);
      let b = Infinity;
      for (let c = 0; c < k; c++) {
        if (c === li || counts[c] === 0) continue;
        const mean = sums[i * k + c]! / counts[c]!;
        if (mean < b) b = mean;
      }
      const max = a > b ? a : b;
      const s = max > 0 ? (b - a) / max : 0;
      perSum[li] = perSum[li]! + s;
      total += s;
    }
  }
  const perCluster: number[] = [];
  for (let c = 0; c < k; c++) perCluster.push(present >= 2 && counts[c]! > 0 ? perSum[c]! / counts[c]! : 0);
  return { score: present >= 2 ? total / m : 0, sampleSize: m, perCluster };
}
