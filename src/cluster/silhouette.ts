/**
 * Mean silhouette coefficient (Rousseeuw 1987), as scikit-learn's `silhouette_score` with Euclidean
 * distance: s(i) = (b - a) / max(a, b), where a is the mean distance to the other members of i's cluster
 * and b the lowest mean distance to another cluster; members of singleton clusters score 0. Exact over
 * the rows when n <= maxSample, otherwise exact over a seeded random sample of maxSample rows.
 */
import { createRng, permutation } from '../random.js';
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
  const rows = n <= maxSample ? null : permutation(createRng(options.seed), n).slice(0, maxSample).sort();
  const m = rows ? rows.length : n;
  const row = (s: number): number => (rows ? rows[s]! : s);
  const lab = new Int32Array(m);
  const counts = new Float64Array(k);
  const Y = new Float64Array(m * d);
  for (let s = 0; s < m; s++) {
    const r = row(s);
    lab[s] = labels[r]!;
    counts[labels[r]!]!++;
    Y.set(X.subarray(r * d, r * d + d), s * d);
  }
  // sums[s * k + c] = sum of distances from sampled row s to the sampled members of cluster c.
  const sums = new Float64Array(m * k);
  for (let i = 0; i < m; i++) {
    const li = lab[i]!;
    for (let j = i + 1; j < m; j++) {
      let q = 0;
      for (let c = 0; c < d; c++) {
        const t = Y[i * d + c]! - Y[j * d + c]!;
        q += t * t;
      }
      const dist = Math.sqrt(q);
      sums[i * k + lab[j]!] = sums[i * k + lab[j]!]! + dist;
      sums[j * k + li] = sums[j * k + li]! + dist;
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
