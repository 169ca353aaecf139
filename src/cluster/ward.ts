/**
 * Agglomerative clustering with Ward linkage and Euclidean distance (seed 003, Statistica's method).
 *
 * The nearest-neighbour chain algorithm over a condensed m x m matrix of squared distances, updated with
 * the Lance-Williams formula for Ward; merges are reported in scipy's `linkage` convention (sorted by
 * height, ids >= m name earlier merges, height = scipy's Ward distance sqrt(2|A||B|/(|A|+|B|)) ||cA - cB||).
 * O(m^2) memory, so above `maxPoints` rows a seeded random sample is clustered hierarchically and the
 * other rows join the nearest centre of the cut.
 */
import type { DendrogramMerge } from '../types.js';
import { createRng, sampleIndices as drawSample } from '../random.js';
import { assignRows, checkK, checkMatrix } from './nearest.js';

export interface WardOptions {
  k: number;
  seed: number;
  /** Largest number of rows clustered hierarchically; default 2000. */
  maxPoints?: number;
}

export interface WardResult {
  /** Cluster of every one of the n rows, 0..k-1 numbered by first appearance among the clustered rows. */
  labels: Int32Array;
  /** k x d means of all rows per label. */
  centroids: Float64Array;
  sizes: Int32Array;
  /** The tree over the clustered sample (leaf i = row sampleIndices[i]). */
  merges: DendrogramMerge[];
  /** Rows that were clustered hierarchically, ascending. */
  sampleIndices: Uint32Array;
}

const DEFAULT_MAX_POINTS = 2000;

/** Index of pair (i, j), i != j, in a condensed upper-triangular m x m matrix. */
function condensed(m: number, i: number, j: number): number {
  if (i > j) {
    const t = i;
    i = j;
    j = t;
  }
  return m * i - (i * (i + 1)) / 2 + j - i - 1;
}

/**
 * The Ward dendrogram of the m x d rows of Y, in scipy `linkage` form. Follows scipy's `nn_chain`
 * (including its tie-breaking: the chain starts at the lowest active cluster and prefers the previous
 * chain element), then sorts merges by height and relabels them with a union-find as scipy's `label` does.
 */
export function wardLinkage(Y: Float64Array, m: number, d: number): DendrogramMerge[] {
  checkMatrix(Y, m, d);
  if (m < 2) return [];
  const D = new Float64Array((m * (m - 1)) / 2);
  for (let i = 0, p = 0; i < m; i++) {
    for (let j = i + 1; j < m; j++, p++) {
      let s = 0;
      for (let c = 0; c < d; c++) {
        const t = Y[i * d + c]! - Y[j * d + c]!;
        s += t * t;
      }
      D[p] = s;
    }
  }
  const size = new Int32Array(m).fill(1);
  const chain = new Int32Array(m);
  let chainLength = 0;
  const rawA = new Int32Array(m - 1);
  const rawB = new Int32Array(m - 1);
  const rawH = new Float64Array(m - 1);
  for (let step = 0; step < m - 1; step++) {
    if (chainLength === 0) {
      chainLength = 1;
      for (let i = 0; i < m; i++) {
        if (size[i]! > 0) {
          chain[0] = i;
          break;
        }
      }
    }
    let x: number;
    let y = 0;
    let currentMin: number;
    for (;;) {
      x = chain[chainLength - 1]!;
      if (chainLength > 1) {
        y = chain[chainLength - 2]!;
        currentMin = D[condensed(m, x, y)]!;
      } else {
        currentMin = Infinity;
      }
      for (let i = 0; i < m; i++) {
        if (size[i] === 0 || i === x) continue;
        const dist = D[condensed(m, x, i)]!;
        if (dist < currentMin) {
          currentMin = dist;
          y = i;
        }
      }
      if (chainLength > 1 && y === chain[chainLength - 2]) break;
      chain[chainLength++] = y;
    }
    chainLength -= 2;
    if (x > y) {
      const t = x;
      x = y;
      y = t;
    }
    const nx = size[x]!;
    const ny = size[y]!;
    rawA[step] = x;
    rawB[step] = y;
    rawH[step] = Math.sqrt(currentMin);
    size[x] = 0;
    size[y] = nx + ny;
    // Lance-Williams for Ward on squared distances.
    for (let i = 0; i < m; i++) {
      const ni = size[i]!;
      if (ni === 0 || i === y) continue;
      const pxi = condensed(m, i, x);
      const pyi = condensed(m, i, y);
      D[pyi] = ((ni + nx) * D[pxi]! + (ni + ny) * D[pyi]! - ni * currentMin) / (ni + nx + ny);
    }
  }
  // Stable sort by height, then name clusters as scipy does.
  const order = Array.from({ length: m - 1 }, (_, i) => i).sort((a, b) => rawH[a]! - rawH[b]! || a - b);
  const parent = new Int32Array(2 * m - 1).fill(-1);
  const clusterSize = new Int32Array(2 * m - 1).fill(1);
  const find = (v: number): number => {
    let root = v;
    while (parent[root]! !== -1) root = parent[root]!;
    while (parent[v]! !== -1 && parent[v] !== root) {
      const up = parent[v]!;
      parent[v] = root;
      v = up;
    }
    return root;
  };
  const merges: DendrogramMerge[] = [];
  order.forEach((s, i) => {
    const ra = find(rawA[s]!);
    const rb = find(rawB[s]!);
    const id = m + i;
    parent[ra] = id;
    parent[rb] = id;
    clusterSize[id] = clusterSize[ra]! + clusterSize[rb]!;
    merges.push({ a: Math.min(ra, rb), b: Math.max(ra, rb), height: rawH[s]!, size: clusterSize[id]! });
  });
  return merges;
}

/**
 * Cuts a scipy-convention tree over `leaves` leaves into k clusters (undoing the last k - 1 merges).
 * Labels are 0..k-1, numbered by the first leaf of each cluster, as scipy's `cut_tree`.
 */
export function cutTree(merges: DendrogramMerge[], leaves: number, k: number): Int32Array {
  if (!Number.isInteger(leaves) || leaves < 1) throw new RangeError(`leaves must be a positive integer, got ${leaves}`);
  checkK(k, leaves);
  if (merges.length !== leaves - 1) {
    throw new RangeError(`a tree over ${leaves} leaves has ${leaves - 1} merges, got ${merges.length}`);
  }
  const parent = new Int32Array(2 * leaves - 1).fill(-1);
  for (let i = 0; i < leaves - k; i++) {
    const { a, b } = merges[i]!;
    const id = leaves + i;
    if (!(a >= 0 && a < id && b >= 0 && b < id) || parent[a] !== -1 || parent[b] !== -1) {
      throw new RangeError(`merge ${i} (${a}, ${b}) is not a valid linkage step`);
    }
    parent[a] = id;
    parent[b] = id;
  }
  const labelOf = new Map<number, number>();
  const labels = new Int32Array(leaves);
  for (let leaf = 0; leaf < leaves; leaf++) {
    let root = leaf;
    while (parent[root]! !== -1) root = parent[root]!;
    let lab = labelOf.get(root);
    if (lab === undefined) {
      lab = labelOf.size;
      labelOf.set(root, lab);
    }
    labels[leaf] = lab;
  }
  return labels;
}

function meansByLabel(X: Float64Array, n: number, d: number, labels: Int32Array, k: number): { centroids: Float64Array; sizes: Int32Array } {
  const centroids = new Float64Array(k * d);
  const sizes = new Int32Array(k);
  for (let i = 0; i < n; i++) {
    const c = labels[i]!;
    sizes[c]!++;
    for (let j = 0; j < d; j++) centroids[c * d + j] = centroids[c * d + j]! + X[i * d + j]!;
  }
  for (let c = 0; c < k; c++) for (let j = 0; j < d; j++) centroids[c * d + j] = centroids[c * d + j]! / sizes[c]!;
  return { centroids, sizes };
}

/**
 * Ward clustering of the n x d rows of X into k clusters. Up to `maxPoints` rows are clustered
 * hierarchically; beyond that a seeded sample is, the other rows going to the nearest sample centroid.
 * Centroids are the means of all rows per label.
 */
export function ward(X: Float64Array, n: number, d: number, options: WardOptions): WardResult {
  const { k, seed } = options;
  const maxPoints = options.maxPoints ?? DEFAULT_MAX_POINTS;
  checkMatrix(X, n, d);
  checkK(k, n);
  if (!Number.isInteger(maxPoints) || maxPoints < k) {
    throw new RangeError(`maxPoints must be an integer >= k (${k}), got ${maxPoints}`);
  }
  let sampleIndices: Uint32Array;
  if (n <= maxPoints) {
    sampleIndices = new Uint32Array(n);
    for (let i = 0; i < n; i++) sampleIndices[i] = i;
  } else {
    sampleIndices = drawSample(createRng(seed), n, maxPoints).sort();
  }
  const m = sampleIndices.length;
  const Y = new Float64Array(m * d);
  for (let s = 0; s < m; s++) Y.set(X.subarray(sampleIndices[s]! * d, sampleIndices[s]! * d + d), s * d);
  const merges = wardLinkage(Y, m, d);
  const sampleLabels = cutTree(merges, m, k);
  let labels: Int32Array;
  if (m === n) {
    labels = sampleLabels;
  } else {
    const sampleCentres = meansByLabel(Y, m, d, sampleLabels, k).centroids;
    labels = new Int32Array(n);
    assignRows(X, n, d, sampleCentres, k, labels, new Float64Array(n));
    // Sampled rows keep their place in the tree even where a centre of the cut is nearer.
    for (let s = 0; s < m; s++) labels[sampleIndices[s]!] = sampleLabels[s]!;
  }
  const { centroids, sizes } = meansByLabel(X, n, d, labels, k);
  return { labels, centroids, sizes, merges, sampleIndices };
}
