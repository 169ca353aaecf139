/**
 * k-means (Lloyd's algorithm) with greedy k-means++ seeding, over flat row-major Float64Arrays.
 *
 * It follows scikit-learn's `KMeans(algorithm="lloyd")` where that matters to users: greedy k-means++
 * with 2 + floor(ln k) local trials, a tolerance relative to the data's variance, strict convergence when
 * no label changes, empty clusters re-seeded with the points farthest from their centres, and the run
 * with the lowest inertia kept over several seeded restarts. It exists beside ml-kmeans because a
 * million contacts must fit in seconds: no allocation per iteration, sums accumulated in place, inner
 * loops specialised for small d, k-means++ candidates scored together in one pass, and Hamerly's
 * bounds (with a safety margin, so the results stay those of plain Lloyd) to skip distances that
 * cannot change a label. Only + - * / and Math.sqrt touch the data, in a fixed order, so results are
 * identical byte for byte in Node, Chromium and a Web Worker.
 */
import { createRng, deriveSeed, type Rng } from '../random.js';
import { assignRows, checkDistinct, checkK, checkMatrix } from './nearest.js';

export type KMeansAlgorithm = 'lloyd' | 'hamerly';

export interface KMeansOptions {
  k: number;
  seed: number;
  /** Independent k-means++ starts; the lowest inertia wins (ties: the earliest). Default 4. */
  restarts?: number;
  /** Default 300. */
  maxIterations?: number;
  /**
   * Default 1e-4, relative as in scikit-learn: the run stops when the sum of squared centre shifts in
   * one iteration is at most `tolerance x` the mean per-feature (population) variance of X. 0 means
   * "until no centre moves".
   */
  tolerance?: number;
  /** k x d explicit starting centres; disables k-means++ and restarts. */
  init?: Float64Array;
  /**
   * 'hamerly' (default) skips distance computations that triangle-inequality bounds prove useless
   * (Hamerly 2010); its bounds carry a safety margin so every label, centre and inertia is identical,
   * byte for byte, to plain 'lloyd'. Kept selectable for checking and benchmarking. At k = 3 with d = 4
   * both run the same branch-free kernel (see `isFused3x4`), which beats the bounds there.
   */
  algorithm?: KMeansAlgorithm;
  /** Called after each assignment step with the inertia against the centres of that step. */
  onIteration?: (iteration: number, inertia: number) => void;
  /** Cooperative cancellation, checked before every iteration; throws an Error named 'AbortError'. */
  signal?: { readonly aborted: boolean };
}

export interface KMeansResult {
  /** k x d final centres. */
  centroids: Float64Array;
  /** k x d starting centres of the winning run. */
  initialCentroids: Float64Array;
  labels: Int32Array;
  sizes: Int32Array;
  /** Sum of squared distances of rows to their centres. */
  inertia: number;
  /** Lloyd iterations of the winning run. */
  iterations: number;
  converged: boolean;
  /** Runs performed. */
  restarts: number;
}

const DEFAULTS = { restarts: 4, maxIterations: 300, tolerance: 1e-4, algorithm: 'hamerly' } as const;

function abortError(): Error {
  const e = new Error('k-means was cancelled');
  e.name = 'AbortError';
  return e;
}

/** floor(ln k) for a positive integer k, without Math.log (whose last bit may differ between engines). */
function floorLn(k: number): number {
  let m = 0;
  for (let e = Math.E; e <= k; e *= Math.E) m++;
  return m;
}

/** Mean over columns of the population variance of each column. */
export function meanColumnVariance(X: Float64Array, n: number, d: number): number {
  if (n === 0) return 0;
  if (d === 4) return meanColumnVariance4(X, n);
  let total = 0;
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (let i = 0; i < n; i++) sum += X[i * d + j]!;
    const mean = sum / n;
    let ss = 0;
    for (let i = 0; i < n; i++) {
      const t = X[i * d + j]! - mean;
      ss += t * t;
    }
    total += ss / n;
  }
  return total / d;
}

/**
 * `meanColumnVariance` for d = 4 in two row-major passes with a local accumulator per column instead of
 * two strided passes per column (a third of the time at 1M rows). Each column is still summed in row
 * order and the totals combined in column order, so the bits are the same.
 */
function meanColumnVariance4(X: Float64Array, n: number): number {
  let a0 = 0;
  let a1 = 0;
  let a2 = 0;
  let a3 = 0;
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    a0 += X[o]!;
    a1 += X[o + 1]!;
    a2 += X[o + 2]!;
    a3 += X[o + 3]!;
  }
  const m0 = a0 / n;
  const m1 = a1 / n;
  const m2 = a2 / n;
  const m3 = a3 / n;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    const t0 = X[o]! - m0;
    const t1 = X[o + 1]! - m1;
    const t2 = X[o + 2]! - m2;
    const t3 = X[o + 3]! - m3;
    s0 += t0 * t0;
    s1 += t1 * t1;
    s2 += t2 * t2;
    s3 += t3 * t3;
  }
  let total = 0;
  total += s0 / n;
  total += s1 / n;
  total += s2 / n;
  total += s3 / n;
  return total / 4;
}

/**
 * Resolves sampling targets against the cumulative sum of `w` in index order: pick[t] is the first row
 * whose cumulative weight exceeds target[t] (never a zero-weight row). `order` lists the targets in
 * ascending order. Targets that rounding leaves at or above the total take the last row with weight.
 * Returns the total weight. When `row >= 0`, first sets w[i] = min(w[i], squared distance to that row)
 * in the same pass.
 */
function updateAndSample(
  X: Float64Array,
  n: number,
  d: number,
  row: number,
  w: Float64Array,
  targets: Float64Array,
  order: Int32Array,
  picks: Int32Array,
): number {
  const trials = targets.length;
  let lastPositive = -1;
  let cum = 0;
  let next = 0;
  const o = row * d;
  if (row < 0) {
    for (let i = 0; i < n; i++) {
      const v = w[i]!;
      if (v > 0) lastPositive = i;
      cum += v;
      while (next < trials && cum > targets[order[next]!]!) picks[order[next++]!] = i;
    }
  } else if (d === 4) {
    const c0 = X[o]!;
    const c1 = X[o + 1]!;
    const c2 = X[o + 2]!;
    const c3 = X[o + 3]!;
    for (let i = 0; i < n; i++) {
      const q = 4 * i;
      const t0 = X[q]! - c0;
      const t1 = X[q + 1]! - c1;
      const t2 = X[q + 2]! - c2;
      const t3 = X[q + 3]! - c3;
      const s = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
      let v = w[i]!;
      if (s < v) {
        v = s;
        w[i] = s;
      }
      if (v > 0) lastPositive = i;
      cum += v;
      while (next < trials && cum > targets[order[next]!]!) picks[order[next++]!] = i;
    }
  } else {
    for (let i = 0; i < n; i++) {
      const q = i * d;
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = X[q + j]! - X[o + j]!;
        s += t * t;
      }
      let v = w[i]!;
      if (s < v) {
        v = s;
        w[i] = s;
      }
      if (v > 0) lastPositive = i;
      cum += v;
      while (next < trials && cum > targets[order[next]!]!) picks[order[next++]!] = i;
    }
  }
  while (next < trials) picks[order[next++]!] = lastPositive < 0 ? n - 1 : lastPositive;
  return cum;
}

/**
 * For each candidate row, the potential sum_i min(w[i], squared distance from row i to the candidate),
 * all candidates in one pass over X, summed in index order.
 */
function candidatePotentials(X: Float64Array, n: number, d: number, w: Float64Array, picks: Int32Array, pots: Float64Array): void {
  const trials = picks.length;
  const cand = new Float64Array(trials * d);
  for (let t = 0; t < trials; t++) cand.set(X.subarray(picks[t]! * d, picks[t]! * d + d), t * d);
  pots.fill(0);
  if (d === 4) {
    for (let i = 0; i < n; i++) {
      const q = 4 * i;
      const x0 = X[q]!;
      const x1 = X[q + 1]!;
      const x2 = X[q + 2]!;
      const x3 = X[q + 3]!;
      const b = w[i]!;
      for (let t = 0; t < trials; t++) {
        const c = 4 * t;
        const t0 = x0 - cand[c]!;
        const t1 = x1 - cand[c + 1]!;
        const t2 = x2 - cand[c + 2]!;
        const t3 = x3 - cand[c + 3]!;
        const s = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
        pots[t] = pots[t]! + (s < b ? s : b);
      }
    }
  } else {
    for (let i = 0; i < n; i++) {
      const q = d * i;
      const b = w[i]!;
      for (let t = 0; t < trials; t++) {
        const c = d * t;
        let s = 0;
        for (let j = 0; j < d; j++) {
          const u = X[q + j]! - cand[c + j]!;
          s += u * u;
        }
        pots[t] = pots[t]! + (s < b ? s : b);
      }
    }
  }
}

/** Draws `targets.length` targets in [0, pot) and lists them in ascending order (insertion sort: a handful). */
function drawTargets(rng: Rng, pot: number, targets: Float64Array, order: Int32Array): void {
  const trials = targets.length;
  for (let t = 0; t < trials; t++) {
    targets[t] = rng() * pot;
    order[t] = t;
  }
  for (let a = 1; a < trials; a++) {
    const v = order[a]!;
    let b = a - 1;
    while (b >= 0 && targets[order[b]!]! > targets[v]!) {
      order[b + 1] = order[b]!;
      b--;
    }
    order[b + 1] = v;
  }
}

/**
 * Seeded greedy k-means++ (Arthur & Vassilvitskii 2007, with scikit-learn's 2 + floor(ln k) local
 * trials): each new centre is the best of several candidates drawn with probability proportional to the
 * squared distance to the nearest chosen centre. Two passes over X per centre (all candidates are scored
 * in one; the winner's distances are folded in while the next candidates are drawn), one n-length buffer.
 * Returns k x d centres (copies of rows of X).
 */
export function kmeansPlusPlus(X: Float64Array, n: number, d: number, k: number, rng: Rng): Float64Array {
  checkMatrix(X, n, d);
  checkK(k, n);
  return seedPlusPlus(X, n, d, k, rng);
}

/** `kmeansPlusPlus` without the input checks (the caller has made them); `signal` is checked per centre. */
function seedPlusPlus(X: Float64Array, n: number, d: number, k: number, rng: Rng, signal?: { readonly aborted: boolean }): Float64Array {
  const C = new Float64Array(k * d);
  const trials = 2 + floorLn(k);
  const first = Math.min(n - 1, Math.floor(rng() * n));
  C.set(X.subarray(first * d, first * d + d), 0);
  if (k === 1) return C;
  const closest = new Float64Array(n).fill(Infinity);
  const targets = new Float64Array(trials);
  const order = new Int32Array(trials);
  const picks = new Int32Array(trials);
  const pots = new Float64Array(trials);
  // The first potential is only known after a pass, so the first targets need a pass of their own.
  const none = new Float64Array(0);
  let pot = updateAndSample(X, n, d, first, closest, none, new Int32Array(0), new Int32Array(0));
  drawTargets(rng, pot, targets, order);
  updateAndSample(X, n, d, -1, closest, targets, order, picks);
  for (let c = 1; c < k; c++) {
    if (signal?.aborted) throw abortError();
    candidatePotentials(X, n, d, closest, picks, pots);
    let bestTrial = 0;
    for (let t = 1; t < trials; t++) if (pots[t]! < pots[bestTrial]!) bestTrial = t;
    const winner = picks[bestTrial]!;
    C.set(X.subarray(winner * d, winner * d + d), c * d);
    if (c === k - 1) break;
    pot = pots[bestTrial]!;
    drawTargets(rng, pot, targets, order);
    updateAndSample(X, n, d, winner, closest, targets, order, picks);
  }
  return C;
}

/**
 * One pass of Lloyd's algorithm: labels every row with its nearest centre in `C`, accumulates the new
 * centre sums into `sums` and sizes into `counts` (both zeroed here). Returns the inertia against `C`
 * and whether any label changed.
 */
function assignAndAccumulate(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  sums: Float64Array,
  counts: Int32Array,
): { inertia: number; changed: boolean } {
  sums.fill(0);
  counts.fill(0);
  let inertia = 0;
  let changed = false;
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
      if (labels[i] !== lab) {
        labels[i] = lab;
        changed = true;
      }
      inertia += best;
      counts[lab]!++;
      sums[2 * lab] = sums[2 * lab]! + x0;
      sums[2 * lab + 1] = sums[2 * lab + 1]! + x1;
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
      if (labels[i] !== lab) {
        labels[i] = lab;
        changed = true;
      }
      inertia += best;
      counts[lab]!++;
      const q = 3 * lab;
      sums[q] = sums[q]! + x0;
      sums[q + 1] = sums[q + 1]! + x1;
      sums[q + 2] = sums[q + 2]! + x2;
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
      if (labels[i] !== lab) {
        labels[i] = lab;
        changed = true;
      }
      inertia += best;
      counts[lab]!++;
      const q = 4 * lab;
      sums[q] = sums[q]! + x0;
      sums[q + 1] = sums[q + 1]! + x1;
      sums[q + 2] = sums[q + 2]! + x2;
      sums[q + 3] = sums[q + 3]! + x3;
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
      if (labels[i] !== lab) {
        labels[i] = lab;
        changed = true;
      }
      inertia += best;
      counts[lab]!++;
      const q = d * lab;
      for (let j = 0; j < d; j++) sums[q + j] = sums[q + j]! + X[o + j]!;
    }
  }
  return { inertia, changed };
}

/** Scratch of `assignAndAccumulate3x4`: the three distances of the current row, read back by index. */
const dist3 = new Float64Array(3);

/**
 * `assignAndAccumulate` for k = 3 and d = 4 (the product's default fit), with the same results bit for
 * bit, in about half the time. On overlapping clusters the nearest centre is unpredictable, so the
 * `if (s < best)` of the generic loop mispredicts on a large share of rows and costs more than the
 * distances; here nothing branches on the data:
 * - the comparisons become 0/1 integers (`+(a < b)` compiles to a flag set, not a jump), and the
 *   winning distance is read back from `dist3` by index (a multiply-and-add select would turn an
 *   overflowed distance, Infinity x 0, into NaN);
 * - every row is added to all three clusters' sums, multiplied by an exact 0 or 1 weight: x * 1 = x and
 *   x * 0 = +-0, and adding a zero leaves a sum that started at +0 unchanged, so each cluster's sum is
 *   still its own rows in index order. The sums live in locals, not in `sums[4 * lab + j]`, whose
 *   store-to-load chain through memory serialised consecutive rows of the same cluster.
 * Ties go to the lower index, as in the generic loop (strict comparisons in the same order).
 */
function assignAndAccumulate3x4(
  X: Float64Array,
  n: number,
  C: Float64Array,
  labels: Int32Array,
  sums: Float64Array,
  counts: Int32Array,
): { inertia: number; changed: boolean } {
  const a0 = C[0]!;
  const a1 = C[1]!;
  const a2 = C[2]!;
  const a3 = C[3]!;
  const b0 = C[4]!;
  const b1 = C[5]!;
  const b2 = C[6]!;
  const b3 = C[7]!;
  const c0 = C[8]!;
  const c1 = C[9]!;
  const c2 = C[10]!;
  const c3 = C[11]!;
  const dist = dist3;
  let s00 = 0;
  let s01 = 0;
  let s02 = 0;
  let s03 = 0;
  let s10 = 0;
  let s11 = 0;
  let s12 = 0;
  let s13 = 0;
  let s20 = 0;
  let s21 = 0;
  let s22 = 0;
  let s23 = 0;
  let n1 = 0;
  let n2 = 0;
  let inertia = 0;
  let diff = 0; // OR of old ^ new label over the rows: non-zero once any label changed
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    const x0 = X[o]!;
    const x1 = X[o + 1]!;
    const x2 = X[o + 2]!;
    const x3 = X[o + 3]!;
    let t0 = x0 - a0;
    let t1 = x1 - a1;
    let t2 = x2 - a2;
    let t3 = x3 - a3;
    const d0 = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
    t0 = x0 - b0;
    t1 = x1 - b1;
    t2 = x2 - b2;
    t3 = x3 - b3;
    const d1 = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
    t0 = x0 - c0;
    t1 = x1 - c1;
    t2 = x2 - c2;
    t3 = x3 - c3;
    const d2 = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
    dist[0] = d0;
    dist[1] = d1;
    dist[2] = d2;
    const l01 = +(d1 < d0); // nearest of centres 0 and 1
    const w2 = +(d2 < dist[l01]!); // centre 2 beats it
    const w1 = l01 & (w2 ^ 1);
    const w0 = 1 - w1 - w2;
    const lab = w1 + 2 * w2;
    diff |= labels[i]! ^ lab;
    labels[i] = lab;
    inertia += dist[lab]!;
    n1 += w1;
    n2 += w2;
    s00 += x0 * w0;
    s01 += x1 * w0;
    s02 += x2 * w0;
    s03 += x3 * w0;
    s10 += x0 * w1;
    s11 += x1 * w1;
    s12 += x2 * w1;
    s13 += x3 * w1;
    s20 += x0 * w2;
    s21 += x1 * w2;
    s22 += x2 * w2;
    s23 += x3 * w2;
  }
  sums[0] = s00;
  sums[1] = s01;
  sums[2] = s02;
  sums[3] = s03;
  sums[4] = s10;
  sums[5] = s11;
  sums[6] = s12;
  sums[7] = s13;
  sums[8] = s20;
  sums[9] = s21;
  sums[10] = s22;
  sums[11] = s23;
  counts[0] = n - n1 - n2;
  counts[1] = n1;
  counts[2] = n2;
  return { inertia, changed: diff !== 0 };
}

/** Squared distance between row o/d of X and row q/d of C, summed in the same order as the Lloyd kernels. */
function sqDist(X: Float64Array, o: number, C: Float64Array, q: number, d: number): number {
  switch (d) {
    case 2: {
      const t0 = X[o]! - C[q]!;
      const t1 = X[o + 1]! - C[q + 1]!;
      return t0 * t0 + t1 * t1;
    }
    case 3: {
      const t0 = X[o]! - C[q]!;
      const t1 = X[o + 1]! - C[q + 1]!;
      const t2 = X[o + 2]! - C[q + 2]!;
      return t0 * t0 + t1 * t1 + t2 * t2;
    }
    case 4: {
      const t0 = X[o]! - C[q]!;
      const t1 = X[o + 1]! - C[q + 1]!;
      const t2 = X[o + 2]! - C[q + 2]!;
      const t3 = X[o + 3]! - C[q + 3]!;
      return t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
    }
    default: {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const t = X[o + j]! - C[q + j]!;
        s += t * t;
      }
      return s;
    }
  }
}

/*
 * Safety margins of the Hamerly bounds. Lower bounds are shrunk and centre shifts inflated by far more
 * than the rounding error of the operations that produce them, and a row is only skipped when its
 * squared distance is below the bound by a relative 1e-9: whenever a row is skipped, the exact Lloyd
 * step would pick the same centre with no tie, so both algorithms produce the same bytes.
 */
const SHRINK = 1 - 1e-12;
const INFLATE = 1 + 1e-12;
const DECAY = 1 - 1e-15;
const SKIP = 1 - 1e-9;

/** Per-run state of the Hamerly bounds. */
interface Bounds {
  /** Lower bound on the distance from each row to every centre other than its own. */
  lower: Float64Array;
  /** Half the distance from each centre to its nearest other centre (shrunk). */
  halfGap: Float64Array;
  /** Largest centre shift of the last update, the centre that made it, and the largest of the others. */
  maxShift: number;
  maxShiftCentre: number;
  otherShift: number;
}

function updateHalfGaps(C: Float64Array, k: number, d: number, halfGap: Float64Array): void {
  for (let a = 0; a < k; a++) {
    let nearest = Infinity;
    for (let b = 0; b < k; b++) {
      if (b === a) continue;
      const s = sqDist(C, a * d, C, b * d, d);
      if (s < nearest) nearest = s;
    }
    halfGap[a] = (Math.sqrt(nearest) / 2) * SHRINK;
  }
}

function updateShifts(prev: Float64Array, next: Float64Array, k: number, d: number, bounds: Bounds): void {
  let max = 0;
  let arg = -1;
  let other = 0;
  for (let c = 0; c < k; c++) {
    const s = Math.sqrt(sqDist(next, c * d, prev, c * d, d)) * INFLATE;
    if (s > max) {
      other = max;
      max = s;
      arg = c;
    } else if (s > other) {
      other = s;
    }
  }
  bounds.maxShift = max;
  bounds.maxShiftCentre = arg;
  bounds.otherShift = other;
}

/** The Hamerly counterpart of `assignAndAccumulate`, with the same results. */
function assignAndAccumulateBounded(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  sums: Float64Array,
  counts: Int32Array,
  bounds: Bounds,
): { inertia: number; changed: boolean } {
  sums.fill(0);
  counts.fill(0);
  const { lower, halfGap, maxShift, maxShiftCentre, otherShift } = bounds;
  let inertia = 0;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const o = i * d;
    const a = labels[i]!;
    let lab = a;
    let best = 0;
    let full = true;
    if (a >= 0) {
      const l = lower[i]! * DECAY - (a === maxShiftCentre ? otherShift : maxShift);
      lower[i] = l;
      best = sqDist(X, o, C, a * d, d);
      const g = halfGap[a]!;
      const m = g > l ? g : l;
      full = !(m > 0 && best < m * m * SKIP);
    }
    if (full) {
      // Start from centre 0 as plain Lloyd does: if every distance overflows to Infinity, no comparison
      // succeeds and the row must still go to centre 0 (not stay at -1, unassigned, on the first pass).
      lab = 0;
      best = Infinity;
      let second = Infinity;
      for (let c = 0; c < k; c++) {
        const s = sqDist(X, o, C, c * d, d);
        if (s < best) {
          second = best;
          best = s;
          lab = c;
        } else if (s < second) {
          second = s;
        }
      }
      lower[i] = Math.sqrt(second) * SHRINK;
      if (lab !== a) {
        labels[i] = lab;
        changed = true;
      }
    }
    inertia += best;
    counts[lab]!++;
    const q = lab * d;
    for (let j = 0; j < d; j++) sums[q + j] = sums[q + j]! + X[o + j]!;
  }
  return { inertia, changed };
}

/** `assignAndAccumulateBounded` unrolled for d = 4, the default feature count. */
function assignAndAccumulateBounded4(
  X: Float64Array,
  n: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  sums: Float64Array,
  counts: Int32Array,
  bounds: Bounds,
): { inertia: number; changed: boolean } {
  sums.fill(0);
  counts.fill(0);
  const { lower, halfGap, maxShift, maxShiftCentre, otherShift } = bounds;
  let inertia = 0;
  let changed = false;
  for (let i = 0; i < n; i++) {
    const o = 4 * i;
    const x0 = X[o]!;
    const x1 = X[o + 1]!;
    const x2 = X[o + 2]!;
    const x3 = X[o + 3]!;
    const a = labels[i]!;
    let lab = a;
    let best = 0;
    let full = true;
    if (a >= 0) {
      const l = lower[i]! * DECAY - (a === maxShiftCentre ? otherShift : maxShift);
      lower[i] = l;
      const q = 4 * a;
      const t0 = x0 - C[q]!;
      const t1 = x1 - C[q + 1]!;
      const t2 = x2 - C[q + 2]!;
      const t3 = x3 - C[q + 3]!;
      best = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
      const g = halfGap[a]!;
      const m = g > l ? g : l;
      full = !(m > 0 && best < m * m * SKIP);
    }
    if (full) {
      // Start from centre 0 as plain Lloyd does: if every distance overflows to Infinity, no comparison
      // succeeds and the row must still go to centre 0 (not stay at -1, unassigned, on the first pass).
      lab = 0;
      best = Infinity;
      let second = Infinity;
      for (let c = 0; c < k; c++) {
        const q = 4 * c;
        const t0 = x0 - C[q]!;
        const t1 = x1 - C[q + 1]!;
        const t2 = x2 - C[q + 2]!;
        const t3 = x3 - C[q + 3]!;
        const s = t0 * t0 + t1 * t1 + t2 * t2 + t3 * t3;
        if (s < best) {
          second = best;
          best = s;
          lab = c;
        } else if (s < second) {
          second = s;
        }
      }
      lower[i] = Math.sqrt(second) * SHRINK;
      if (lab !== a) {
        labels[i] = lab;
        changed = true;
      }
    }
    inertia += best;
    counts[lab]!++;
    const q = 4 * lab;
    sums[q] = sums[q]! + x0;
    sums[q + 1] = sums[q + 1]! + x1;
    sums[q + 2] = sums[q + 2]! + x2;
    sums[q + 3] = sums[q + 3]! + x3;
  }
  return { inertia, changed };
}

/**
 * Gives every empty cluster the row farthest from its (old) centre, taken from a cluster that keeps at
 * least one row, as scikit-learn does; the farthest rows go to the empty clusters in index order.
 * Returns whether anything moved.
 */
function relocateEmpty(
  X: Float64Array,
  n: number,
  d: number,
  C: Float64Array,
  k: number,
  labels: Int32Array,
  sums: Float64Array,
  counts: Int32Array,
  dist: Float64Array,
  lower?: Float64Array,
): boolean {
  let empty = 0;
  for (let c = 0; c < k; c++) if (counts[c] === 0) empty++;
  if (empty === 0) return false;
  for (let i = 0; i < n; i++) {
    const lab = labels[i]!;
    let s = 0;
    for (let j = 0; j < d; j++) {
      const t = X[i * d + j]! - C[lab * d + j]!;
      s += t * t;
    }
    dist[i] = s;
  }
  let moved = false;
  for (let c = 0; c < k; c++) {
    if (counts[c] !== 0) continue;
    let far = -1;
    let farDist = 0;
    for (let i = 0; i < n; i++) {
      if (dist[i]! > farDist && counts[labels[i]!]! > 1) {
        farDist = dist[i]!;
        far = i;
      }
    }
    if (far < 0) continue; // nothing to give: the centre stays where it was
    const old = labels[far]!;
    for (let j = 0; j < d; j++) {
      const v = X[far * d + j]!;
      sums[old * d + j] = sums[old * d + j]! - v;
      sums[c * d + j] = v;
    }
    counts[old]!--;
    counts[c] = 1;
    labels[far] = c;
    dist[far] = -1;
    // Its centre is no longer its nearest: let the next step compute all its distances.
    if (lower) lower[far] = -Infinity;
    moved = true;
  }
  return moved;
}

/**
 * Whether k = 3, d = 4 runs `assignAndAccumulate3x4` in both modes. On the bench's overlapping clusters
 * (1M rows) it takes about 15 ms a pass against about 28 ms for the bounded kernel, although the bounds
 * skip over 80% of the rows after the second iteration: with three centres a skipped row still pays one
 * distance, the bound's load and store and a branch, which is most of a branch-free full scan. Its
 * results are those of plain Lloyd, so 'hamerly' loses nothing by it.
 */
function isFused3x4(d: number, k: number): boolean {
  return d === 4 && k === 3;
}

interface LloydRun {
  centroids: Float64Array;
  inertia: number;
  iterations: number;
  converged: boolean;
}

function lloyd(
  X: Float64Array,
  n: number,
  d: number,
  k: number,
  init: Float64Array,
  maxIterations: number,
  threshold: number,
  labels: Int32Array,
  scratch: Float64Array,
  lower: Float64Array | null,
  options: KMeansOptions,
): LloydRun {
  let centres = Float64Array.from(init);
  let next = new Float64Array(k * d);
  const counts = new Int32Array(k);
  labels.fill(-1);
  let iterations = 0;
  let converged = false;
  let settled = false; // labels and centres are mutually consistent: no final assignment needed
  let inertia = 0;
  let relocatedBefore = false;
  const fused = isFused3x4(d, k);
  const bounds: Bounds | null =
    !fused && (options.algorithm ?? DEFAULTS.algorithm) === 'hamerly'
      ? { lower: lower ?? new Float64Array(n), halfGap: new Float64Array(k), maxShift: 0, maxShiftCentre: -1, otherShift: 0 }
      : null;
  for (let it = 1; it <= maxIterations; it++) {
    if (options.signal?.aborted) throw abortError();
    let step: { inertia: number; changed: boolean };
    if (fused) {
      step = assignAndAccumulate3x4(X, n, centres, labels, next, counts);
    } else if (bounds) {
      updateHalfGaps(centres, k, d, bounds.halfGap);
      step =
        d === 4
          ? assignAndAccumulateBounded4(X, n, centres, k, labels, next, counts, bounds)
          : assignAndAccumulateBounded(X, n, d, centres, k, labels, next, counts, bounds);
    } else {
      step = assignAndAccumulate(X, n, d, centres, k, labels, next, counts);
    }
    inertia = step.inertia;
    options.onIteration?.(it, inertia);
    const relocated = relocateEmpty(X, n, d, centres, k, labels, next, counts, scratch, bounds?.lower);
    let shift = 0;
    for (let c = 0; c < k; c++) {
      const size = counts[c]!;
      for (let j = 0; j < d; j++) {
        const p = c * d + j;
        const v = size > 0 ? next[p]! / size : centres[p]!;
        next[p] = v;
        const t = v - centres[p]!;
        shift += t * t;
      }
    }
    if (bounds) updateShifts(centres, next, k, d, bounds);
    const swap = centres;
    centres = next;
    next = swap;
    iterations = it;
    if (!step.changed && !relocated && !relocatedBefore) {
      // Same labels as the previous step, so the same sums: the centres did not move.
      converged = true;
      settled = true;
      break;
    }
    if (shift <= threshold) {
      converged = true;
      break;
    }
    relocatedBefore = relocated;
  }
  if (!settled) {
    if (fused) {
      // Same labels and inertia as assignRows (the sums it leaves in `next` are scratch here).
      inertia = assignAndAccumulate3x4(X, n, centres, labels, next, counts).inertia;
    } else if (bounds) {
      // The bounds still hold for the final centres: most rows skip (same labels and inertia as assignRows).
      updateHalfGaps(centres, k, d, bounds.halfGap);
      inertia = (
        d === 4
          ? assignAndAccumulateBounded4(X, n, centres, k, labels, next, counts, bounds)
          : assignAndAccumulateBounded(X, n, d, centres, k, labels, next, counts, bounds)
      ).inertia;
    } else {
      inertia = assignRows(X, n, d, centres, k, labels, scratch);
    }
  }
  return { centroids: centres, inertia, iterations, converged };
}

/**
 * Clusters the n x d rows of X into k groups. Throws RangeError for NaN/infinite cells, k outside 1..n
 * or k greater than the number of distinct rows.
 */
export function kmeans(X: Float64Array, n: number, d: number, options: KMeansOptions): KMeansResult {
  const { k, seed } = options;
  const restarts = options.restarts ?? DEFAULTS.restarts;
  const maxIterations = options.maxIterations ?? DEFAULTS.maxIterations;
  const tolerance = options.tolerance ?? DEFAULTS.tolerance;
  checkMatrix(X, n, d);
  checkK(k, n);
  if (!Number.isInteger(restarts) || restarts < 1) throw new RangeError(`restarts must be a positive integer, got ${restarts}`);
  if (!Number.isInteger(maxIterations) || maxIterations < 1) {
    throw new RangeError(`maxIterations must be a positive integer, got ${maxIterations}`);
  }
  if (!(tolerance >= 0)) throw new RangeError(`tolerance must be >= 0, got ${tolerance}`);
  if (options.init) checkMatrix(options.init, k, d, 'init');
  checkDistinct(X, n, d, k);

  const threshold = tolerance * meanColumnVariance(X, n, d);
  const scratch = new Float64Array(n);
  const lower = (options.algorithm ?? DEFAULTS.algorithm) === 'hamerly' && !isFused3x4(d, k) ? new Float64Array(n) : null;
  if (options.algorithm !== undefined && options.algorithm !== 'lloyd' && options.algorithm !== 'hamerly') {
    throw new RangeError(`unknown k-means algorithm: ${String(options.algorithm)} (expected 'lloyd' or 'hamerly')`);
  }
  const runs = options.init ? 1 : restarts;
  let labels = new Int32Array(n);
  // One run needs one label buffer (fresh memory costs ~1-4 ms a MB to touch here: 4 MB at a million rows).
  let bestLabels = runs > 1 ? new Int32Array(n) : labels;
  let best: LloydRun | undefined;
  let bestInit = new Float64Array(0);
  for (let r = 0; r < runs; r++) {
    const init = options.init ?? seedPlusPlus(X, n, d, k, createRng(deriveSeed(seed, r)), options.signal);
    const run = lloyd(X, n, d, k, init, maxIterations, threshold, labels, scratch, lower, options);
    if (!best || run.inertia < best.inertia) {
      best = run;
      bestInit = Float64Array.from(init);
      const swap = bestLabels;
      bestLabels = labels;
      labels = swap;
    }
  }
  const winner = best!;
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) sizes[bestLabels[i]!]!++;
  return {
    centroids: winner.centroids,
    initialCentroids: bestInit,
    labels: bestLabels,
    sizes,
    inertia: winner.inertia,
    iterations: winner.iterations,
    converged: winner.converged,
    restarts: runs,
  };
}
