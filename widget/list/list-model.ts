/**
 * The list's data logic, DOM-free: per-row segment ids, search text, segment counts, filtering and sorting
 * over row indices (Int32Array), so 100,000 contacts filter and sort without creating per-row objects.
 */
import type { Snapshot } from '../../src/types.js';
import { snapshotValue } from '../shared/table.js';

export type SortKey = 'name' | 'email' | 'city' | 'segment' | string;
export type SortDirection = 'ascending' | 'descending';
export interface SortState {
  key: SortKey;
  direction: SortDirection;
}

export type AssignmentMap = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export class ListModel {
  readonly snapshot: Snapshot;
  /** Segment id per row ('' where none). */
  readonly segments: string[];
  /** Lower-cased "first last email city" per row. */
  private readonly search: string[];
  private readonly width: number;
  private readonly ranks = new Map<string, Int32Array>();

  constructor(snapshot: Snapshot, assignments?: AssignmentMap | null) {
    this.snapshot = snapshot;
    this.width = snapshot.features.length;
    const n = snapshot.ids.length;
    const lookup =
      assignments instanceof Map ? (id: string) => assignments.get(id) : assignments ? (id: string) => (assignments as Record<string, string>)[id] : null;
    this.segments = new Array<string>(n);
    this.search = new Array<string>(n);
    for (let i = 0; i < n; i += 1) {
      const id = snapshot.ids[i] as string;
      this.segments[i] = (lookup ? lookup(id) : undefined) ?? snapshot.segments[i] ?? '';
      this.search[i] = `${snapshot.firstnames[i] ?? ''} ${snapshot.lastnames[i] ?? ''} ${snapshot.emails[i] ?? ''} ${snapshot.cities[i] ?? ''}`.toLowerCase();
    }
  }

  get size(): number {
    return this.snapshot.ids.length;
  }

  name(row: number): string {
    return `${this.snapshot.firstnames[row] ?? ''} ${this.snapshot.lastnames[row] ?? ''}`.trim();
  }

  value(row: number, feature: string): number | null {
    const j = this.snapshot.features.indexOf(feature);
    if (j < 0) return null;
    return snapshotValue(this.snapshot, row * this.width + j);
  }

  /** Contacts per segment id over all rows. */
  counts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const id of this.segments) counts.set(id, (counts.get(id) ?? 0) + 1);
    return counts;
  }

  /** Rows matching the segment ('' = all) and every word of the query, in snapshot order. */
  filter(segment: string, query: string): Int32Array {
    const words = query.toLowerCase().split(/\s+/).filter(Boolean);
    const out = new Int32Array(this.size);
    let count = 0;
    for (let i = 0; i < this.size; i += 1) {
      if (segment && this.segments[i] !== segment) continue;
      if (words.length > 0) {
        const text = this.search[i] as string;
        let ok = true;
        for (const word of words) {
          if (!text.includes(word)) {
            ok = false;
            break;
          }
        }
        if (!ok) continue;
      }
      out[count] = i;
      count += 1;
    }
    return out.slice(0, count);
  }

  /** Sorts rows in place (stable; missing numbers last in both directions) and returns them. */
  sort(rows: Int32Array, sort: SortState | null, segmentLabel: (id: string) => string = (id) => id): Int32Array {
    if (!sort) return rows;
    const sign = sort.direction === 'ascending' ? 1 : -1;
    const n = this.size;
    const ordered = Array.from(rows);
    const j = this.snapshot.features.indexOf(sort.key);
    if (j >= 0) {
      const column = new Float64Array(n);
      for (let i = 0; i < n; i += 1) {
        const v = this.snapshot.values[i * this.width + j];
        column[i] = v === null || v === undefined ? Number.NaN : v;
      }
      ordered.sort((a, b) => {
        const va = column[a] as number;
        const vb = column[b] as number;
        const ma = Number.isNaN(va);
        const mb = Number.isNaN(vb);
        if (ma || mb) return ma === mb ? a - b : ma ? 1 : -1;
        return va === vb ? a - b : (va - vb) * sign;
      });
    } else {
      const rank = this.rank(sort.key, segmentLabel);
      ordered.sort((a, b) => {
        const ra = rank[a] as number;
        const rb = rank[b] as number;
        // rank -1 = empty text: last in both directions
        if (ra < 0 || rb < 0) return ra === rb ? a - b : ra < 0 ? 1 : -1;
        return ra === rb ? a - b : (ra - rb) * sign;
      });
    }
    rows.set(ordered);
    return rows;
  }

  /**
   * Collation rank of every row's text for a column (-1 for empty): collating 100,000 names takes a few
   * hundred ms, so ranks are computed once per column and later sorts compare integers. Segment ranks are
   * not cached (labels change with the model and the locale) but only collate the few distinct labels.
   */
  private rank(key: SortKey, segmentLabel: (id: string) => string): Int32Array {
    const cached = key === 'segment' ? undefined : this.ranks.get(key);
    if (cached) return cached;
    const keyOf = this.textKey(key, segmentLabel);
    const n = this.size;
    const texts = new Array<string>(n);
    const distinct = new Map<string, number>();
    for (let row = 0; row < n; row += 1) {
      const text = keyOf(row);
      texts[row] = text;
      if (text) distinct.set(text, 0);
    }
    const order = collationOrder([...distinct.keys()]);
    for (let i = 0; i < order.texts.length; i += 1) distinct.set(order.texts[i] as string, order.ranks[i] as number);
    const rank = new Int32Array(n);
    for (let row = 0; row < n; row += 1) {
      const text = texts[row] as string;
      rank[row] = text ? (distinct.get(text) as number) : -1;
    }
    if (key !== 'segment') this.ranks.set(key, rank);
    return rank;
  }

  private textKey(key: SortKey, segmentLabel: (id: string) => string): (row: number) => string {
    const s = this.snapshot;
    switch (key) {
      case 'name':
        return (row) => `${s.lastnames[row] ?? ''} ${s.firstnames[row] ?? ''}`.trim();
      case 'email':
        return (row) => s.emails[row] ?? '';
      case 'city':
        return (row) => s.cities[row] ?? '';
      case 'segment':
        return (row) => segmentLabel(this.segments[row] ?? '');
      default:
        return () => '';
    }
  }
}

/**
 * Sorts distinct texts with the locale collator (case- and accent-insensitive, numeric) and gives each a
 * rank; texts equal under the collator share one.
 */
export function collationOrder(texts: string[]): { texts: string[]; ranks: Int32Array } {
  const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
  const sorted = [...texts].sort(collator.compare);
  const ranks = new Int32Array(sorted.length);
  let r = 0;
  for (let i = 1; i < sorted.length; i += 1) {
    if (collator.compare(sorted[i - 1] as string, sorted[i] as string) !== 0) r += 1;
    ranks[i] = r;
  }
  return { texts: sorted, ranks };
}
