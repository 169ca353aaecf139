/**
 * Comparing two clusterings: the adjusted Rand index (Hubert & Arabie 1985) for the holdout stability
 * check, an optimal label matching for "fraction of customers in the same segment", and an optimal
 * centre matching so a re-fit keeps the names and colours of the segments it had before.
 */
import { checkMatrix } from './nearest.js';

/**
 * Adjusted Rand index of two labelings of the same rows (any integer labels), by the Hubert-Arabie
 * formula on the contingency table: (index - expected) / (max - expected) with index = sum C(n_ij, 2),
 * expected = sum C(a_i, 2) sum C(b_j, 2) / C(n, 2), max = (sum C(a_i, 2) + sum C(b_j, 2)) / 2.
 * 1 for identical partitions up to renaming (also when both put every row in one cluster or every row
 * alone, and for fewer than two rows), about 0 for independent ones, possibly negative.
 */
export function adjustedRandIndex(a: Int32Array, b: Int32Array): number {
  if (a.length !== b.length) throw new RangeError(`label arrays differ in length: ${a.length} and ${b.length}`);
  const n = a.length;
  const rowIndex = new Map<number, number>();
  const colIndex = new Map<number, number>();
  const cells = new Map<number, number>();
  const rowSums: number[] = [];
  const colSums: number[] = [];
  for (let i = 0; i < n; i++) {
    let r = rowIndex.get(a[i]!);
    if (r === undefined) {
      r = rowIndex.size;
      rowIndex.set(a[i]!, r);
      rowSums.push(0);
    }
    let c = colIndex.get(b[i]!);
    if (c === undefined) {
      c = colIndex.size;
      colIndex.set(b[i]!, c);
      colSums.push(0);
    }
    rowSums[r]!++;
    colSums[c]!++;
    const key = r * n + c; // r, c < n, so exact below 2^53 for any realistic n
    cells.set(key, (cells.get(key) ?? 0) + 1);
  }
  // Pair counts are integers below 2^53 for n up to ~1e8, so these sums are exact.
  const pairs = (m: number): number => (m * (m - 1)) / 2;
  let index = 0;
  for (const count of cells.values()) index += pairs(count);
  let sumA = 0;
  for (const v of rowSums) sumA += pairs(v);
  let sumB = 0;
  for (const v of colSums) sumB += pairs(v);
  if (n < 2) return 1;
  const expected = (sumA * sumB) / pairs(n);
  const max = (sumA + sumB) / 2;
  if (max === expected) return 1;
  return (index - expected) / (max - expected);
}

/**
 * Minimum-cost assignment (Hungarian algorithm, O(rows^2 cols)) for a rows x cols cost matrix with
 * rows <= cols. Returns the column of each row.
 */
export function hungarian(cost: Float64Array, rows: number, cols: number): Int32Array {
  if (rows > cols) throw new RangeError('hungarian needs rows <= cols');
  const INF = Infinity;
  const u = new Float64Array(rows + 1);
  const v = new Float64Array(cols + 1);
  const p = new Int32Array(cols + 1); // p[j]: row (1-based) matched to column j, 0 = none
  const way = new Int32Array(cols + 1);
  const minv = new Float64Array(cols + 1);
  const used = new Uint8Array(cols + 1);
  for (let i = 1; i <= rows; i++) {
    p[0] = i;
    let j0 = 0;
    minv.fill(INF);
    used.fill(0);
    do {
      used[j0] = 1;
      const i0 = p[j0]!;
      let delta = INF;
      let j1 = 0;
      for (let j = 1; j <= cols; j++) {
        if (used[j]) continue;
        const cur = cost[(i0 - 1) * cols + (j - 1)]! - u[i0]! - v[j]!;
        if (cur < minv[j]!) {
          minv[j] = cur;
          way[j] = j0;
        }
        if (minv[j]! < delta) {
          delta = minv[j]!;
          j1 = j;
        }
      }
      for (let j = 0; j <= cols; j++) {
        if (used[j]) {
          u[p[j]!] = u[p[j]!]! + delta;
          v[j] = v[j]! - delta;
        } else {
          minv[j] = minv[j]! - delta;
        }
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0]!;
      p[j0] = p[j1]!;
      j0 = j1;
    } while (j0 !== 0);
  }
  const assignment = new Int32Array(rows).fill(-1);
  for (let j = 1; j <= cols; j++) if (p[j]! > 0) assignment[p[j]! - 1] = j - 1;
  return assignment;
}

/**
 * The renaming of b's labels (0..k-1) that agrees with a (0..k-1) on the most rows, found optimally
 * with the Hungarian algorithm on the k x k contingency table; `agreement` is the fraction of rows whose
 * renamed b label equals a's (0 for empty input).
 */
export function matchLabels(a: Int32Array, b: Int32Array, k: number): { mapping: Int32Array; agreement: number } {
  if (a.length !== b.length) throw new RangeError(`label arrays differ in length: ${a.length} and ${b.length}`);
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  const n = a.length;
  const table = new Float64Array(k * k); // [b label][a label]
  for (let i = 0; i < n; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (!(x >= 0 && x < k)) throw new RangeError(`row ${i}: first labeling has ${x}, outside 0..${k - 1}`);
    if (!(y >= 0 && y < k)) throw new RangeError(`row ${i}: second labeling has ${y}, outside 0..${k - 1}`);
    table[y * k + x] = table[y * k + x]! + 1;
  }
  const cost = new Float64Array(k * k);
  for (let p = 0; p < k * k; p++) cost[p] = -table[p]!;
  const mapping = hungarian(cost, k, k);
  let same = 0;
  for (let y = 0; y < k; y++) same += table[y * k + mapping[y]!]!;
  return { mapping, agreement: n === 0 ? 0 : same / n };
}

/**
 * Pairs the centres of a new fit with those of the previous one, minimising the total squared distance
 * between paired centres. Returns, for each new centre, the index of its previous centre, or -1 when
 * there are more new centres than previous ones and it was left unpaired.
 */
export function matchCentroids(prev: Float64Array, next: Float64Array, kPrev: number, kNext: number, d: number): Int32Array {
  checkMatrix(prev, kPrev, d, 'previous centroids');
  checkMatrix(next, kNext, d, 'new centroids');
  const result = new Int32Array(kNext).fill(-1);
  if (kPrev === 0 || kNext === 0) return result;
  const dist = (i: number, j: number): number => {
    let s = 0;
    for (let c = 0; c < d; c++) {
      const t = next[i * d + c]! - prev[j * d + c]!;
      s += t * t;
    }
    return s;
  };
  if (kNext <= kPrev) {
    const cost = new Float64Array(kNext * kPrev);
    for (let i = 0; i < kNext; i++) for (let j = 0; j < kPrev; j++) cost[i * kPrev + j] = dist(i, j);
    return hungarian(cost, kNext, kPrev);
  }
  const cost = new Float64Array(kPrev * kNext);
  for (let j = 0; j < kPrev; j++) for (let i = 0; i < kNext; i++) cost[j * kNext + i] = dist(i, j);
  const prevToNext = hungarian(cost, kPrev, kNext);
  for (let j = 0; j < kPrev; j++) result[prevToNext[j]!] = j;
  return result;
}
