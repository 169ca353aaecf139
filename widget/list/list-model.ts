/**
 * The list's data logic, DOM-free: per-row segment ids, search text, segment counts, filtering and sorting
 * over row indices (Int32Array), so 100,000 contacts filter and sort without creating per-row objects.
 */
import type { Snapshot } from '../../src/types.js';

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
    return this.snapshot.values[row * this.width + j] ?? null;
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
      const keyOf = this.textKey(sort.key, segmentLabel);
      const keys = new Array<string>(n);
      for (const row of ordered) keys[row] = keyOf(row);
      const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });
      ordered.sort((a, b) => {
        const ka = keys[a] as string;
        const kb = keys[b] as string;
        if (!ka || !kb) return !ka && !kb ? a - b : !ka ? 1 : -1;
        return collator.compare(ka, kb) * sign || a - b;
      });
    }
    rows.set(ordered);
    return rows;
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
