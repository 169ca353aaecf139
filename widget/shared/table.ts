/** Snapshot (columnar JSON, null where missing) -> the core's FeatureTable (Float64Array, NaN where missing). */
import type { FeatureTable, Snapshot } from '../../src/types.js';

/**
 * Builds a FeatureTable with the requested `features` (default: all of the snapshot's) in that order.
 * Throws when a requested feature is not in the snapshot, naming the ones that are.
 */
export function snapshotToTable(snapshot: Snapshot, features: readonly string[] = snapshot.features): FeatureTable {
  const n = snapshot.ids.length;
  const width = snapshot.features.length;
  const source = features.map((feature) => {
    const index = snapshot.features.indexOf(feature);
    if (index < 0) {
      throw new Error(`Feature "${feature}" is not in the snapshot (available: ${snapshot.features.join(', ')})`);
    }
    return index;
  });
  const values = new Float64Array(n * features.length);
  for (let row = 0; row < n; row += 1) {
    const base = row * width;
    const out = row * features.length;
    for (let j = 0; j < source.length; j += 1) {
      const value = snapshot.values[base + (source[j] as number)];
      values[out + j] = value === null || value === undefined ? Number.NaN : value;
    }
  }
  const nps = new Float64Array(n);
  for (let row = 0; row < n; row += 1) {
    const value = snapshot.nps[row];
    nps[row] = value === null || value === undefined ? Number.NaN : value;
  }
  return { ids: snapshot.ids.slice(), columns: [...features], values, nps };
}

/** `snapshot.values[index]`, null where missing: `null` as the server sends it, NaN as the cache loads it. */
export function snapshotValue(snapshot: Snapshot, index: number): number | null {
  const value = snapshot.values[index];
  return value === null || value === undefined || Number.isNaN(value) ? null : value;
}

/** One contact's feature values by key (null where missing). */
export function snapshotRow(snapshot: Snapshot, row: number): Record<string, number | null> {
  const width = snapshot.features.length;
  const out: Record<string, number | null> = {};
  snapshot.features.forEach((feature, j) => {
    out[feature] = snapshotValue(snapshot, row * width + j);
  });
  return out;
}
