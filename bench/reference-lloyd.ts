/**
 * The plain reference: textbook Lloyd's algorithm over arrays of arrays, no bounds, no specialisation.
 * It is what the optimised k-means in src/cluster/kmeans.ts must agree with (same start, same inertia)
 * and the floor its speed is compared against. Stopping rule as scikit-learn's Lloyd and ours: labels
 * unchanged (strict convergence), or the summed squared centre shift at most `tolerance x` the mean
 * per-feature variance; then one last assignment so labels and inertia belong to the final centres.
 * Empty clusters keep their centre (the bench's data never empties one; ours would re-seed it).
 */
export interface ReferenceResult {
  centroids: number[][];
  labels: Int32Array;
  inertia: number;
  iterations: number;
}

function squaredDistance(a: readonly number[], b: readonly number[]): number {
  let s = 0;
  for (let j = 0; j < a.length; j++) {
    const t = a[j]! - b[j]!;
    s += t * t;
  }
  return s;
}

function meanVariance(rows: readonly number[][], d: number): number {
  let total = 0;
  for (let j = 0; j < d; j++) {
    let sum = 0;
    for (const r of rows) sum += r[j]!;
    const mean = sum / rows.length;
    let ss = 0;
    for (const r of rows) ss += (r[j]! - mean) * (r[j]! - mean);
    total += ss / rows.length;
  }
  return total / d;
}

/** Assigns every row to its nearest centre (ties: the lower index); returns the inertia. */
function assignAll(rows: readonly number[][], centres: readonly number[][], labels: Int32Array): { inertia: number; changed: boolean } {
  let inertia = 0;
  let changed = false;
  for (let i = 0; i < rows.length; i++) {
    let best = 0;
    let bestDistance = Infinity;
    for (let c = 0; c < centres.length; c++) {
      const s = squaredDistance(rows[i]!, centres[c]!);
      if (s < bestDistance) {
        bestDistance = s;
        best = c;
      }
    }
    if (labels[i] !== best) changed = true;
    labels[i] = best;
    inertia += bestDistance;
  }
  return { inertia, changed };
}

export function referenceLloyd(rows: readonly number[][], init: readonly number[][], options: { tolerance?: number; maxIterations?: number } = {}): ReferenceResult {
  const k = init.length;
  const d = init[0]!.length;
  const threshold = (options.tolerance ?? 1e-4) * meanVariance(rows, d);
  const maxIterations = options.maxIterations ?? 300;
  let centres = init.map((c) => [...c]);
  const labels = new Int32Array(rows.length).fill(-1);
  let iterations = 0;
  let settled = false;
  let inertia = 0;
  for (let it = 1; it <= maxIterations; it++) {
    const step = assignAll(rows, centres, labels);
    inertia = step.inertia;
    const sums = Array.from({ length: k }, () => new Array<number>(d).fill(0));
    const counts = new Array<number>(k).fill(0);
    for (let i = 0; i < rows.length; i++) {
      const c = labels[i]!;
      counts[c]!++;
      for (let j = 0; j < d; j++) sums[c]![j]! += rows[i]![j]!;
    }
    const next = sums.map((s, c) => (counts[c]! > 0 ? s.map((v) => v / counts[c]!) : [...centres[c]!]));
    let shift = 0;
    for (let c = 0; c < k; c++) shift += squaredDistance(next[c]!, centres[c]!);
    centres = next;
    iterations = it;
    if (!step.changed) {
      settled = true;
      break;
    }
    if (shift <= threshold) break;
  }
  if (!settled) inertia = assignAll(rows, centres, labels).inertia;
  return { centroids: centres, labels, inertia, iterations };
}
