/**
 * Nearest-centre assignment over flat row-major matrices, and the input checks every numeric routine of
 * `src/cluster` shares. The inner loops are specialised for d = 2, 3, 4 (the usual feature counts) and
 * use only + - * so the same input gives the same bytes in Node, Chromium and a Web Worker.
 */

/**
 * Rejects a matrix whose length does not match `n x d` or that holds a NaN or infinite value, naming the
 * first offending cell (0-based row and column) so the caller can map it back to a record and a field.
 */
export function checkMatrix(X: Float64Array, n: number, d: number, name = 'X'): void {
  if (!Number.isInteger(n) || n < 0) throw new RangeError(`${name}: row count must be a non-negative integer, got ${n}`);
  if (!Number.isInteger(d) || d < 1) throw new RangeError(`${name}: column count must be a positive integer, got ${d}`);
  if (X.length !== n * d) {
    throw new RangeError(`${name}: expected ${n} x ${d} = ${n * d} values, got ${X.length}`);
  }
  for (let p = 0; p < X.length; p++) {
    const v = X[p]!;
    // v - v is NaN exactly when v is NaN or +-Infinity: one comparison in the common case.
    if (v - v !== 0) {
      const row = Math.floor(p / d);
      throw new RangeError(`${name}: row ${row}, column ${p - row * d} is ${v} (missing values must be imputed first)`);
    }
  }
}

/** Rejects a cluster count that is not an integer in 1..n. */
export function checkK(k: number, n: number): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (k > n) throw new RangeError(`k = ${k} exceeds the number of rows (${n})`);
}

/**
 * Number of distinct rows, counting at most up to `limit` (scanning stops once `limit` are found, so the
 * usual case costs a handful of rows; data with fewer distinct rows than `limit` costs O(n limit d)).
 */
export function countDistinctRows(X: Float64Array, n: number, d: number, limit: number): number {
  const found: number[] = [];
  for (let i = 0; i < n && found.length < limit; i++) {
    const oi = i * d;
    let seen = false;
    for (const f of found) {
      const of = f * d;
      let same = true;
      for (let j = 0; j < d; j++) {
        if (X[oi + j] !== X[of + j]) {
          same = false;
          break;
        }
      }
      if (same) {
        seen = true;
        break;
      }
    }
    if (!seen) found.push(i);
  }
  return found.length;
}

/** Rejects `k` greater than the number of distinct rows, which no clustering into k groups can honour. */
export function checkDistinct(X: Float64Array, n: number, d: number, k: number): void {
  const distinct = countDistinctRows(X, n, d, k);
  if (distinct < k) {
    throw new RangeError(`k = ${k} exceeds the number of distinct rows (${distinct}); choose k <= ${distinct}`);
  }
}

/** Squared Euclidean distance between row `i` of `X` and row `c` of `C` (both `d` columns). */
export function squaredDistance(X: ArrayLike<number>, i: number, C: ArrayLike<number>, c: number, d: number): number {
  let s = 0;
  const oi = i * d;
  const oc = c * d;
  for (let j = 0; j < d; j++) {
    const t = X[oi + j]! - C[oc + j]!;
    s += t * t;
  }
  return s;
}

/**
 * Labels each row with its nearest centre (squared Euclidean; ties go to the lowest centre index).
 * `labels` and `distances` may be passed in to avoid allocating; `distances` receives squared distances
 * and `inertia` is their sum.
 */
export function nearestCentroid(
  X: Float64Array,
  n: number,
  d: number,
  centroids: Float64Array,
  k: number,
  labels: Int32Array = new Int32Array(n),
  distances: Float64Array = new Float64Array(n),
): { labels: Int32Array; distances: Float64Array; inertia: number } {
  checkMatrix(X, n, d);
  checkMatrix(centroids, k, d, 'centroids');
  if (k < 1) throw new RangeError('nearestCentroid needs at least one centre');
  if (labels.length < n || distances.length < n) throw new RangeError('labels/distances buffers are shorter than n');
  const inertia = assignRows(X, n, d, centroids, k, labels, distances);
  return { labels, distances, inertia };
}

/** The unchecked kernel behind `nearestCentroid` (callers have validated their inputs). */
export function assignRows(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  distances: Float64Array,
): number {
  let inertia = 0;
  if (d === 2) {
    for (let i = 0; i < n; i++) {
      const x0 = X[2 * i]!;
      const x1 = X[2 * i + 1]!;
      let best = Infinity;
      let lab = 0;
      for (let c = 0; c < k; c++) {
        const t0 = x0 - C[2 * c]!;
        const t1 = x1 - C[2 * c + 1]!;
        const s = t0 * t0 + t1 * t1;
        if (s < best) {
          best = s;
          lab = c;
        }
      }
      labels[i] = lab;
      distances[i] = best;
      inertia += best;
    }
  } else if (d === 3) {
    for (let i = 0; i < n; i++) {
      const o = 3 * i;
      const x0 = X[o]!;
      const x1 = X[o + 1]!;
      const x2 = X[o + 2]!;
      let best = Infinity;
      let lab = 0;
      for (let c = 0; c < k; c++) {
        const q = 3 * c;
        const t0 = x0 - C[q]!;
        const t1 = x1 - C[q + 1]!;
        const t2 = x2 - C[q + 2]!;
        const s = t0 * t0 + t1 * t1 + t2 * t2;
        if (s < best) {
          best = s;
          lab = c;
        }
      }
      labels[i] = lab;
      distances[i] = best;
      inertia += best;
    }
  } else if (d === 4) {
    for (let i = 0; i < n; i++) {
      const o = 4 * i;
      const x0 = X[o]!;
      const x1 = X[o + 1]!;
      const x2 = X[o + 2]!;
      const x3 = X[o + 3]!;
      let best = Infinity;
      let lab = 0;
      for (let c = 0; c < k; c++) {
        const q = 4 * c;
        const t0 = x0 - C[q]!;
        const t1 = x1 - C[q + 1]!;
        const t2 = x2 - C[q + 2]!;
        const t3 = x3 - C[q + 3]!;
        const s = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
        if (s < best) {
          best = s;
          lab = c;
        }
      }
      labels[i] = lab;
      distances[i] = best;
      inertia += best;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const o = d * i;
      let best = Infinity;
      let lab = 0;
      for (let c = 0; c < k; c++) {
        const q = d * c;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const t = X[o + j]! - C[q + j]!;
          s += t * t;
        }
        if (s < best) {
          best = s;
          lab = c;
        }
      }
      labels[i] = lab;
      distances[i] = best;
      inertia += best;
    }
  }
  return inertia;
}
