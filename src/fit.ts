/**
 * `fit`: from a FeatureTable to a named, explained, versioned segmentation model (METHOD.md sections 2–6).
 *
 * prepare (no-recent-orders group, imputation, rejections) -> scale (z-score or min-max; the scaler goes
 * into the model) -> k-means with seeded restarts, or Ward -> for `k: 'auto'`, every k in 2..8 (bounded by
 * the distinct usable rows) scored by mean silhouette (exact up to 3000 rows, a seeded sample above) ->
 * names from the centres' profiles -> strategy -> KPIs -> rules -> holdout stability.
 *
 * Stability (the paper's Training/Holdout check): a seeded split keeps `holdout` (default 30%) of the rows
 * aside, clusters the rest with the same k, method and seed, assigns the held-out rows to the nearest of
 * those centres and compares the result with the full fit's labels on the same rows (adjusted Rand index
 * and the share of rows that agree once cluster numbers are matched). Rows are standardised with the full
 * data's scaler in both fits, so only the clustering varies. Above STABILITY_SAMPLE rows the split is drawn
 * inside a seeded sample of that size.
 *
 * Large tables: above AUTO_K_SAMPLE rows, k-means restarts run on a seeded sample of that size, and Lloyd
 * then runs on all rows from the sample's best centres; the model's "initial" centres are the sample run's
 * k-means++ start. For k = auto the search over k runs on a seeded sample of K_SEARCH_SAMPLE rows.
 *
 * Pure and deterministic: the same table and options give byte-identical JSON. `fitSteps` is the same fit
 * as a generator that hands out the work another thread may do (the k search, the holdout re-fit); `fit`
 * does that work itself.
 */
import { adjustedRandIndex, matchLabels } from './cluster/agreement.js';
import { kmeans } from './cluster/kmeans.js';
import { countDistinctRows, nearestCentroid } from './cluster/nearest.js';
import { silhouette } from './cluster/silhouette.js';
import { ward } from './cluster/ward.js';
import { explainSegments } from './explain.js';
import { computeKpis, KPI_OTHER_GROUP, KPI_UNASSIGNED } from './kpis.js';
import { nameSegments } from './naming.js';
import { prepare } from './prepare.js';
import { createRng, deriveSeed, permutation, sampleIndices } from './random.js';
import { applyScaler, columnMoments, fitScaler, unscaleRow } from './scaler.js';
import { recommend } from './strategy.js';
import { DEFAULT_FEATURES, MODEL_VERSION, NO_RECENT_ORDERS } from './types.js';
import type {
  Assignment,
  DendrogramMerge,
  FeatureTable,
  FitOptions,
  FitResult,
  Method,
  Model,
  ModelQuality,
  PackedAssignments,
  ProgressEvent,
  Segment,
} from './types.js';

/** Largest k that `k: 'auto'` tries. */
export const MAX_AUTO_K = 8;
export const DEFAULT_CREATED_AT = '1970-01-01T00:00:00.000Z';
const DEFAULT_HOLDOUT = 0.3;
const SILHOUETTE_SAMPLE = 3000;
// Salts for deriveSeed, so each seeded step draws its own independent stream.
const SALT_SILHOUETTE = 101;
const SALT_HOLDOUT = 202;
const SALT_EXPLAIN = 303;
const SALT_K_SAMPLE = 404;
/** Above this many rows, k-means restarts run on a seeded sample of this size (see `cluster`). */
export const AUTO_K_SAMPLE = 50000;
/**
 * Above this many rows, `k: 'auto'` compares k values on a seeded sample of this size. Silhouette is read
 * on 3,000 rows anyway; centres from 20,000 rows are as good a basis for ranking k as from 50,000, at 40%
 * of the cost (the search was half of a 1M-row fit). The chosen k is then fitted on every row.
 */
export const K_SEARCH_SAMPLE = 20000;
/**
 * Above this many rows the holdout check re-fits on a seeded sample of this size (70/30 inside it): the
 * agreement of a 100,000-row sample estimates that of a million rows closely, at a tenth of the cost.
 */
export const STABILITY_SAMPLE = 100000;
const SALT_STABILITY_SAMPLE = 505;

/** One clustering of the rows (labels, standardised centres): what the k search hands back per k. */
export interface Clustering {
  k: number;
  labels: Int32Array;
  /** k x d, standardised. */
  centroids: Float64Array;
  initialCentroids?: Float64Array;
  inertia: number;
  iterations: number;
  merges?: DendrogramMerge[];
  sampleSize?: number;
}

function abortError(): Error {
  const e = new Error('Fit was cancelled');
  e.name = 'AbortError';
  return e;
}

function sumSquares(Z: Float64Array, n: number, d: number, labels: Int32Array, C: Float64Array): number {
  let s = 0;
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    for (let j = 0; j < d; j++) {
      const t = Z[i * d + j]! - C[c * d + j]!;
      s += t * t;
    }
  }
  return s;
}

function cluster(
  Z: Float64Array,
  n: number,
  d: number,
  k: number,
  method: Method,
  seed: number,
  restarts: number | undefined,
  signal: FitOptions['signal'],
): Clustering {
  if (method === 'ward') {
    const w = ward(Z, n, d, { k, seed });
    return {
      k,
      labels: w.labels,
      centroids: w.centroids,
      inertia: sumSquares(Z, n, d, w.labels, w.centroids),
      iterations: 0,
      merges: w.merges,
      sampleSize: w.sampleIndices.length,
    };
  }
  if (n > AUTO_K_SAMPLE) {
    // Restarts only choose a start: run them on a seeded sample, then Lloyd on all rows from the best
    // sample centres (a few iterations), instead of several full runs over a million rows.
    const pick = sampleIndices(createRng(deriveSeed(seed, SALT_K_SAMPLE)), n, AUTO_K_SAMPLE).sort();
    const sample = rowsOf(Z, d, pick);
    if (countDistinctRows(sample, AUTO_K_SAMPLE, d, k) >= k) {
      const start = kmeans(sample, AUTO_K_SAMPLE, d, { k, seed, ...(restarts !== undefined ? { restarts } : {}), ...(signal ? { signal } : {}) });
      const r = kmeans(Z, n, d, { k, seed, init: start.centroids, ...(signal ? { signal } : {}) });
      return { k, labels: r.labels, centroids: r.centroids, initialCentroids: start.initialCentroids, inertia: r.inertia, iterations: start.iterations + r.iterations };
    }
  }
  const r = kmeans(Z, n, d, { k, seed, ...(restarts !== undefined ? { restarts } : {}), ...(signal ? { signal } : {}) });
  return {
    k,
    labels: r.labels,
    centroids: r.centroids,
    initialCentroids: r.initialCentroids,
    inertia: r.inertia,
    iterations: r.iterations,
  };
}

function validate(options: FitOptions): void {
  const { k, method, seed } = options;
  if (k !== 'auto' && (typeof k !== 'number' || !Number.isInteger(k) || k < 1)) {
    throw new RangeError(`k must be a positive integer or 'auto', got ${String(k)}`);
  }
  if (method !== 'kmeans' && method !== 'ward') throw new RangeError(`method must be 'kmeans' or 'ward', got ${String(method)}`);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${String(seed)}`);
  const scaler = options.scaler ?? 'zscore';
  if (scaler !== 'zscore' && scaler !== 'minmax') throw new RangeError(`scaler must be 'zscore' or 'minmax', got ${String(scaler)}`);
  const holdout = options.holdout ?? DEFAULT_HOLDOUT;
  if (!(holdout >= 0 && holdout < 1)) throw new RangeError(`holdout must be in [0, 1), got ${holdout}`);
  if (options.restarts !== undefined && (!Number.isInteger(options.restarts) || options.restarts < 1)) {
    throw new RangeError(`restarts must be a positive integer, got ${options.restarts}`);
  }
}

/** Every silhouette of a fit reads the same seeded sample of rows. */
function silhouetteOptions(seed: number): { seed: number; maxSample: number } {
  return { seed: deriveSeed(seed, SALT_SILHOUETTE), maxSample: SILHOUETTE_SAMPLE };
}

function rowsOf(Z: Float64Array, d: number, idx: ArrayLike<number>): Float64Array {
  const out = new Float64Array(idx.length * d);
  for (let i = 0; i < idx.length; i++) out.set(Z.subarray(idx[i]! * d, idx[i]! * d + d), i * d);
  return out;
}

function record(features: readonly string[], values: readonly number[]): Record<string, number> {
  return Object.fromEntries(features.map((f, j) => [f, values[j]!]));
}

/**
 * The k search's work, handed out by `fitSteps`: cluster the n x d standardised sample `Z` with each k of
 * `ks` and score it by mean silhouette. Plain data (typed arrays and numbers), so it can cross to a worker.
 */
export interface KSearchRequest {
  Z: Float64Array;
  n: number;
  d: number;
  ks: number[];
  method: Method;
  seed: number;
  restarts?: number;
}

/** One k of a KSearchRequest, scored. */
export interface KSearchOutcome {
  k: number;
  silhouette: number;
  clustering: Clustering;
}

/**
 * Runs (part of) a k search: each k of `request.ks` in turn, the same computation whoever runs it, so a
 * search split between threads gives the same outcomes, byte for byte, as one thread running it all.
 * `onK` is called before each k (progress, cancellation).
 */
export function searchK(request: KSearchRequest, onK?: (k: number) => void, signal?: FitOptions['signal']): KSearchOutcome[] {
  const { Z, n, d, method, seed, restarts } = request;
  return request.ks.map((k) => {
    onK?.(k);
    const clustering = cluster(Z, n, d, k, method, seed, restarts, signal);
    const score = silhouette(Z, n, d, clustering.labels, k, silhouetteOptions(seed)).score;
    return { k, silhouette: score, clustering };
  });
}

/**
 * The holdout check's re-fit (see the module comment), handed out by `fitSteps`: cluster the training rows
 * with k as the full fit did, then label the held-out rows with the nearest of those centres.
 */
export interface HoldoutRequest {
  /** trainingSize x d and holdoutSize x d, standardised. */
  train: Float64Array;
  trainingSize: number;
  held: Float64Array;
  holdoutSize: number;
  d: number;
  k: number;
  method: Method;
  seed: number;
  restarts?: number;
}

/** The held-out rows' labels from the training rows' clustering; null when those have fewer than k distinct rows. */
export function holdoutLabels(request: HoldoutRequest, signal?: FitOptions['signal']): Int32Array | null {
  const { train, trainingSize, held, holdoutSize, d, k, method, seed, restarts } = request;
  if (countDistinctRows(train, trainingSize, d, k) < k) return null;
  const part = cluster(train, trainingSize, d, k, method, seed, restarts, signal);
  return nearestCentroid(held, holdoutSize, d, part.centroids, k).labels;
}

/**
 * What `fitSteps` hands out. 'search': answer with the KSearchOutcome of every k asked. 'holdout': the
 * re-fit may start now (answer undefined) and run while the fit names, scores and explains the segments;
 * 'holdout-result' then asks for its labels (answer `holdoutLabels` of that request).
 */
export type FitStep = { kind: 'search'; request: KSearchRequest } | { kind: 'holdout'; request: HoldoutRequest } | { kind: 'holdout-result' };
export type FitStepAnswer = KSearchOutcome[] | Int32Array | null | undefined;

/** Fits a segmentation model; see the module comment. Throws RangeError for bad options or data. */
export function fit(table: FeatureTable, options: FitOptions): FitResult {
  const steps = fitSteps(table, options);
  let step = steps.next();
  let holdout: HoldoutRequest | null = null;
  while (!step.done) {
    const next = step.value;
    let answer: FitStepAnswer;
    if (next.kind === 'search') {
      const last = next.request.ks[next.request.ks.length - 1]!;
      answer = searchK(
        next.request,
        (k) => {
          if (options.signal?.aborted) throw abortError();
          options.onProgress?.({ stage: 'cluster', fraction: 0.1 + (0.45 * (k - 2)) / Math.max(1, last - 1), message: `trying k = ${k}` });
        },
        options.signal,
      );
    } else if (next.kind === 'holdout') {
      // One thread: run it when its result is asked for, so the stages' progress reads in order.
      holdout = next.request;
    } else {
      answer = holdoutLabels(holdout!, options.signal);
      holdout = null;
    }
    step = steps.next(answer);
  }
  return step.value;
}

/**
 * `fit` as a generator that hands its parallel work out (FitStep): for `k: 'auto'` the k search (the
 * outcomes of every k asked, in any order), and the holdout check's re-fit, which may run while the fit
 * goes on; then it returns the FitResult. `fit` answers each step on its own thread; the explorer's worker
 * shares the k search with a helper worker and gives it the re-fit (two cores). Either way the model is
 * the same, byte for byte.
 */
export function* fitSteps(table: FeatureTable, options: FitOptions): Generator<FitStep, FitResult, FitStepAnswer> {
  validate(options);
  const { method, seed, signal } = options;
  const features = options.features ?? [...DEFAULT_FEATURES];
  const scalerKind = options.scaler ?? 'zscore';
  const holdout = options.holdout ?? DEFAULT_HOLDOUT;
  const report = (stage: string, fraction: number, message?: string): void => {
    if (signal?.aborted) throw abortError();
    const event: ProgressEvent = message === undefined ? { stage, fraction } : { stage, fraction, message };
    options.onProgress?.(event);
  };

  report('prepare', 0);
  const prep = prepare(table, features);
  const { X, n, d } = prep;

  const distinctLimit = options.k === 'auto' ? MAX_AUTO_K : options.k;
  const distinct = countDistinctRows(X, n, d, distinctLimit);
  if (options.k === 'auto') {
    if (distinct < 2) {
      throw new RangeError(`k = auto needs at least 2 distinct usable rows, found ${distinct}`);
    }
  } else if (options.k > distinct) {
    throw new RangeError(`k = ${options.k} is larger than the number of distinct usable rows (${distinct}); choose k <= ${distinct}`);
  }

  report('scale', 0.05, `${n} customers, ${d} features`);
  // Column means and deviations name the segments too (z-scores of the centres), so they are read once.
  const stats = columnMoments(X, n, d);
  const scaler = fitScaler(X, n, d, scalerKind, stats);
  const Z = applyScaler(scaler, X, n, d);

  let chosen: Clustering;
  let kSearch: ModelQuality['kSearch'];
  let kSearchSampleSize: number | undefined;
  if (options.k === 'auto') {
    // Above K_SEARCH_SAMPLE rows the k search runs on a seeded sample and only the chosen k is fitted on
    // everything: silhouette is sampled anyway, and seven full k-means runs on a million rows cost a minute.
    let Zs = Z;
    let ns = n;
    let kMax = Math.min(MAX_AUTO_K, distinct);
    if (n > K_SEARCH_SAMPLE) {
      const pick = sampleIndices(createRng(deriveSeed(seed, SALT_K_SAMPLE)), n, K_SEARCH_SAMPLE).sort();
      const sample = rowsOf(Z, d, pick);
      const sampleDistinct = countDistinctRows(sample, K_SEARCH_SAMPLE, d, MAX_AUTO_K);
      if (sampleDistinct >= 2) {
        Zs = sample;
        ns = K_SEARCH_SAMPLE;
        kMax = Math.min(kMax, sampleDistinct);
        kSearchSampleSize = ns;
      }
    }
    const ks: number[] = [];
    for (let k = 2; k <= kMax; k++) ks.push(k);
    const request: KSearchRequest = { Z: Zs, n: ns, d, ks, method, seed, ...(options.restarts !== undefined ? { restarts: options.restarts } : {}) };
    const outcomes = (yield { kind: 'search', request }) as KSearchOutcome[];
    kSearch = [];
    let best: { c: Clustering; s: number } | null = null;
    for (const k of ks) {
      const outcome = outcomes.find((o) => o.k === k);
      if (!outcome) throw new Error(`the k search returned no outcome for k = ${k}`);
      const c = outcome.clustering;
      kSearch.push({ k, silhouette: outcome.silhouette, inertia: c.inertia });
      if (!best || outcome.silhouette > best.s) best = { c, s: outcome.silhouette };
    }
    if (Zs === Z) {
      chosen = best!.c;
    } else if (method === 'kmeans') {
      // The sample's winning centres are an excellent start: Lloyd on all rows from them converges in a
      // few iterations, where fresh restarts on a million rows would cost seconds (see BENCHMARKS.md).
      report('cluster', 0.55, `k = ${best!.c.k} on all ${n} rows`);
      const r = kmeans(Z, n, d, { k: best!.c.k, seed, init: best!.c.centroids, ...(signal ? { signal } : {}) });
      chosen = { k: best!.c.k, labels: r.labels, centroids: r.centroids, initialCentroids: best!.c.initialCentroids ?? r.initialCentroids, inertia: r.inertia, iterations: best!.c.iterations + r.iterations };
    } else {
      report('cluster', 0.55, `k = ${best!.c.k} on all ${n} rows`);
      chosen = cluster(Z, n, d, best!.c.k, method, seed, options.restarts, signal);
    }
  } else {
    report('cluster', 0.1, `k = ${options.k}`);
    chosen = cluster(Z, n, d, options.k, method, seed, options.restarts, signal);
  }
  const k = chosen.k;

  // The holdout check's split (Training/Holdout), handed out now so its re-fit can run alongside naming,
  // scoring and explaining. Large tables: the split is drawn inside a seeded sample (STABILITY_SAMPLE rows).
  let holdoutPlan: { held: Uint32Array; holdoutSize: number; trainingSize: number } | null = null;
  {
    const pool = n > STABILITY_SAMPLE ? sampleIndices(createRng(deriveSeed(seed, SALT_STABILITY_SAMPLE)), n, STABILITY_SAMPLE) : null;
    const m = pool ? pool.length : n;
    const holdoutSize = Math.round(m * holdout);
    const trainingSize = m - holdoutSize;
    if (holdoutSize >= 1 && trainingSize >= k) {
      const local = permutation(createRng(deriveSeed(seed, SALT_HOLDOUT)), m);
      const perm = pool ? Uint32Array.from(local, (i) => pool[i]!) : local;
      const held = Uint32Array.from(perm.subarray(0, holdoutSize)).sort();
      const train = Uint32Array.from(perm.subarray(holdoutSize)).sort();
      const request: HoldoutRequest = {
        train: rowsOf(Z, d, train),
        trainingSize,
        held: rowsOf(Z, d, held),
        holdoutSize,
        d,
        k,
        method,
        seed,
        ...(options.restarts !== undefined ? { restarts: options.restarts } : {}),
      };
      yield { kind: 'holdout', request };
      holdoutPlan = { held, holdoutSize, trainingSize };
    }
  }

  report('name', 0.65);
  const original = new Float64Array(k * d);
  for (let c = 0; c < k; c++) original.set(unscaleRow(scaler, chosen.centroids.subarray(c * d, c * d + d)), c * d);
  const provisionalSizes = new Int32Array(k);
  for (let i = 0; i < n; i++) provisionalSizes[chosen.labels[i]!]!++;
  const names = nameSegments({
    features,
    centroids: original,
    k,
    sizes: provisionalSizes,
    mean: stats.mean,
    sd: stats.sd,
    ...(options.previous ? { previous: options.previous } : {}),
  });

  // Segments in display order; labels renumbered to match.
  const position = new Int32Array(k);
  names.forEach((name, s) => (position[name.cluster] = s));
  const centroids = new Float64Array(k * d);
  names.forEach((name, s) => centroids.set(chosen.centroids.subarray(name.cluster * d, name.cluster * d + d), s * d));
  let labels: Int32Array;
  let squared: Float64Array;
  if (method === 'kmeans') {
    // A last assignment step against the stored centres, so `assign(model, table)` reproduces these labels.
    // Into the clustering's own label buffer (no longer needed): 4 MB less fresh memory at a million rows.
    const nearest = nearestCentroid(Z, n, d, centroids, k, chosen.labels);
    labels = nearest.labels;
    squared = nearest.distances;
  } else {
    labels = new Int32Array(n);
    squared = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const s = position[chosen.labels[i]!]!;
      labels[i] = s;
      let sq = 0;
      for (let j = 0; j < d; j++) {
        const t = Z[i * d + j]! - centroids[s * d + j]!;
        sq += t * t;
      }
      squared[i] = sq;
    }
  }
  const sizes = new Int32Array(k);
  let inertia = 0;
  for (let i = 0; i < n; i++) {
    sizes[labels[i]!]!++;
    inertia += squared[i]!;
  }

  report('quality', 0.7);
  const sil = k >= 2 ? silhouette(Z, n, d, labels, k, silhouetteOptions(seed)) : { score: 0, sampleSize: 0 };

  report('kpis', 0.75);
  const rowCount = table.ids.length;
  // Per table row: its segment's index in `names`, KPI_OTHER_GROUP (no recent orders) or KPI_UNASSIGNED.
  const segmentOfRow = new Int16Array(rowCount).fill(KPI_UNASSIGNED);
  for (let i = 0; i < n; i++) segmentOfRow[prep.rows[i]!] = labels[i]!;
  for (const r of prep.noRecentOrders) segmentOfRow[r] = KPI_OTHER_GROUP;
  const kpis = computeKpis(
    table,
    segmentOfRow,
    names.map((s) => s.id),
    {
      ...(options.relationshipYears !== undefined ? { relationshipYears: options.relationshipYears } : {}),
      ...(options.windowMonths !== undefined ? { windowMonths: options.windowMonths } : {}),
    },
  );

  report('explain', 0.8);
  const explanation = explainSegments(X, n, d, features, labels, k, { seed: deriveSeed(seed, SALT_EXPLAIN) });

  let stability: ModelQuality['stability'];
  if (holdoutPlan) {
    report('stability', 0.85, `training ${holdoutPlan.trainingSize}, holdout ${holdoutPlan.holdoutSize}`);
    const predicted = (yield { kind: 'holdout-result' }) as Int32Array | null;
    if (predicted) {
      const reference = Int32Array.from(holdoutPlan.held, (i) => labels[i]!);
      stability = {
        ari: adjustedRandIndex(reference, predicted),
        agreement: matchLabels(reference, predicted, k).agreement,
        holdoutSize: holdoutPlan.holdoutSize,
        trainingSize: holdoutPlan.trainingSize,
      };
    }
  }

  report('model', 0.95);
  const segments: Segment[] = names.map((name, s) => {
    const centre = Array.from(original.subarray(name.cluster * d, name.cluster * d + d));
    const rule = explanation.rules[s]!;
    const segment: Segment = {
      id: name.id,
      archetype: name.archetype,
      label: name.label,
      why: name.why,
      color: name.color,
      size: sizes[s]!,
      centroid: record(features, centre),
      strategy: recommend(name.basis),
      kpis: kpis[name.id]!,
      rule: { text: rule.text, accuracy: rule.accuracy, precision: rule.precision, recall: rule.recall, f1: rule.f1 },
    };
    if (chosen.initialCentroids) {
      const init = chosen.initialCentroids.subarray(name.cluster * d, name.cluster * d + d);
      segment.initialCentroid = record(features, unscaleRow(scaler, init));
    }
    return segment;
  });

  const quality: ModelQuality = {
    silhouette: sil.score,
    silhouetteSampleSize: sil.sampleSize,
    inertia,
    iterations: chosen.iterations,
    ...(kSearch ? { kSearch } : {}),
    ...(kSearchSampleSize !== undefined ? { kSearchSampleSize } : {}),
    ...(stability ? { stability } : {}),
    explanation: { accuracy: explanation.accuracy, confusion: explanation.confusion, labels: names.map((s) => s.id) },
  };

  let imputedRows = 0;
  for (let i = 0; i < n; i++) imputedRows += prep.imputed[i]!;
  const model: Model = {
    kind: 'smart-segments-model',
    version: MODEL_VERSION,
    createdAt: options.createdAt ?? DEFAULT_CREATED_AT,
    method,
    k,
    seed,
    features: [...features],
    scaler,
    imputation: prep.medians,
    centroids: names.map((_, s) => Array.from(centroids.subarray(s * d, s * d + d))),
    segments,
    quality,
    ...(chosen.merges ? { dendrogram: { merges: chosen.merges, leaves: chosen.sampleSize ?? n } } : {}),
    data: {
      rows: rowCount,
      clustered: n,
      imputed: imputedRows,
      noRecentOrders: prep.noRecentOrders.length,
      rejected: prep.rejected,
    },
  };

  // Table order: clustered rows (prep.rows, ascending) merged with the no-recent-orders rows (ascending).
  const noRecent = prep.noRecentOrders;
  const count = n + noRecent.length;
  const packed: PackedAssignments = {
    rows: new Int32Array(count),
    segments: new Int16Array(count),
    distances: new Float64Array(count),
    imputed: new Uint8Array(count),
  };
  for (let o = 0, i = 0, q = 0; o < count; o++) {
    if (q < noRecent.length && (i >= n || noRecent[q]! < prep.rows[i]!)) {
      packed.rows[o] = noRecent[q++]!;
      packed.segments[o] = -1;
      packed.distances[o] = NaN;
    } else {
      packed.rows[o] = prep.rows[i]!;
      packed.segments[o] = labels[i]!;
      packed.distances[o] = Math.sqrt(squared[i]!);
      packed.imputed[o] = prep.imputed[i++]!;
    }
  }
  if (options.packed) {
    report('done', 1);
    return { model, assignments: [], packed };
  }
  const assignments: Assignment[] = Array.from(packed.rows, (r, a) => {
    const s = packed.segments[a]!;
    return { id: table.ids[r]!, segment: s < 0 ? NO_RECENT_ORDERS : names[s]!.id, distance: packed.distances[a]!, imputed: packed.imputed[a] === 1 };
  });
  report('done', 1);
  return { model, assignments };
}
