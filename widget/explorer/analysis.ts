/**
 * Pure helpers behind the explorer's views: the movement matrix between two segmentations and the seeded
 * subsample the scatter plot draws.
 */
import { createRng, permutation } from '../../src/random.js';
import type { Assignment } from '../../src/types.js';

export interface Movement {
  /** Row keys: segments of the published model (in first-seen order of `order`, then others). */
  from: string[];
  /** Column keys: segments of the new fit. */
  to: string[];
  /** counts[i][j]: contacts in from[i] before and to[j] now. */
  counts: number[][];
  /** Contacts present in both segmentations. */
  compared: number;
  /** Contacts whose segment id changed. */
  moved: number;
}

/**
 * How many contacts moved between segments: `before` (published model) against `after` (new fit), matched
 * by contact id. Contacts in only one of the two are ignored. Ids order the rows/columns as given by
 * `fromOrder` / `toOrder`, then any other ids in order of appearance.
 */
export function movementMatrix(
  before: readonly Assignment[],
  after: readonly Assignment[],
  fromOrder: readonly string[] = [],
  toOrder: readonly string[] = [],
): Movement {
  const previous = new Map<string, string>();
  for (const a of before) previous.set(a.id, a.segment);
  const pairs: [string, string][] = [];
  for (const a of after) {
    const was = previous.get(a.id);
    if (was !== undefined) pairs.push([was, a.segment]);
  }
  const from = orderKeys(fromOrder, pairs.map((p) => p[0]));
  const to = orderKeys(toOrder, pairs.map((p) => p[1]));
  const fromIndex = new Map(from.map((key, i) => [key, i]));
  const toIndex = new Map(to.map((key, i) => [key, i]));
  const counts = from.map(() => to.map(() => 0));
  let moved = 0;
  for (const [was, now] of pairs) {
    const row = counts[fromIndex.get(was) ?? 0];
    const j = toIndex.get(now) ?? 0;
    if (row) row[j] = (row[j] ?? 0) + 1;
    if (was !== now) moved++;
  }
  return { from, to, counts, compared: pairs.length, moved };
}

function orderKeys(preferred: readonly string[], seen: readonly string[]): string[] {
  const present = new Set(seen);
  const keys = preferred.filter((key) => present.has(key));
  const known = new Set(keys);
  for (const key of seen) {
    if (!known.has(key)) {
      known.add(key);
      keys.push(key);
    }
  }
  return keys;
}

/**
 * Row indices to draw: all of them when n <= max, else a seeded random `max` of them in ascending order
 * (so the picture is stable for a given seed and unbiased across segments).
 */
export function subsample(n: number, max: number, seed: number): Uint32Array {
  if (n <= max) return Uint32Array.from({ length: n }, (_, i) => i);
  return permutation(createRng(seed), n).slice(0, max).sort();
}
