/**
 * The reference implementation: mljs' ml-kmeans behind our flat-matrix signature. Tests check our Lloyd's
 * against it and the benchmark times it; the product itself never calls it (it is not re-exported from
 * `src/index.ts`, so it stays out of the widget bundle). This is the only module that imports ml-kmeans.
 */
import { kmeans as mlKmeans } from 'ml-kmeans';
import { checkK, checkMatrix } from './nearest.js';

export interface MlKmeansOptions {
  seed: number;
  /** k x d starting centres; otherwise ml-kmeans' own k-means++. */
  init?: Float64Array;
  /** ABSOLUTE: stop when no centre moved by more than this squared distance. ml-kmeans' default 1e-6. */
  tolerance?: number;
  /** ml-kmeans' default 100. */
  maxIterations?: number;
}

function toRows(M: Float64Array, rows: number, d: number): number[][] {
  const out: number[][] = [];
  for (let i = 0; i < rows; i++) out.push(Array.from(M.subarray(i * d, i * d + d)));
  return out;
}

/** Runs ml-kmeans on X (n x d) and returns its result in our flat shape, with the inertia computed here. */
export function mlKmeansReference(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  options: MlKmeansOptions,
): { centroids: Float64Array; labels: Int32Array; inertia: number; iterations: number } {
  checkMatrix(X, n, d);
  checkK(k, n);
  if (options.init) checkMatrix(options.init, k, d, 'init');
  const result = mlKmeans(toRows(X, n, d), k, {
    seed: options.seed,
    initialization: options.init ? toRows(options.init, k, d) : 'kmeans++',
    ...(options.tolerance === undefined ? {} : { tolerance: options.tolerance }),
    ...(options.maxIterations === undefined ? {} : { maxIterations: options.maxIterations }),
  });
  const centroids = new Float64Array(k * d);
  result.centroids.forEach((c, i) => centroids.set(c, i * d));
  const labels = Int32Array.from(result.clusters);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = X[i * d + j]! - centroids[c * d + j]!;
      s += t * t;
    }
    inertia += s;
  }
  return { centroids, labels, inertia, iterations: result.iterations };
}
