/**
 * Messages between the explorer's fit controller and its Web Worker. Plain structured-clone data:
 * the table's numbers travel as transferable Float64Arrays, the model comes back as JSON-safe data.
 */
import type { Assignment, FitOptions, Model, ProgressEvent } from '../../src/types.js';

/** Everything of FitOptions that can cross a thread boundary (no callbacks, no signal). */
export type WorkerFitOptions = Omit<FitOptions, 'onProgress' | 'signal'>;

export interface FitRequest {
  type: 'fit';
  table: { ids: string[]; columns: string[]; values: Float64Array; nps?: Float64Array };
  options: WorkerFitOptions;
}

/**
 * Assignments packed into transferable typed arrays: a million Assignment objects cost ~2 s to
 * structured-clone, these cost nothing to transfer (BENCHMARKS.md). One entry per assigned table row.
 */
export interface PackedAssignments {
  /** Table row of each assignment. */
  rows: Int32Array;
  /** Index into model.segments; -1 = NO_RECENT_ORDERS. */
  segments: Int16Array;
  distances: Float64Array;
  imputed: Uint8Array;
}

export type FitResponse =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; model: Model; packed: PackedAssignments }
  | { type: 'error'; name: string; message: string };

/** Packs the core's assignments (worker side). */
export function packAssignments(model: Model, ids: readonly string[], assignments: readonly Assignment[]): PackedAssignments {
  // `fit` lists assignments in row order (skipping unusable rows), so a cursor over the ids finds each
  // row without a million-entry map; a map is built only if the order ever turns out different.
  let rowOf: Map<string, number> | undefined;
  let cursor = 0;
  const findRow = (id: string): number => {
    if (!rowOf) {
      while (cursor < ids.length && ids[cursor] !== id) cursor++;
      if (cursor < ids.length) return cursor++;
      rowOf = new Map<string, number>();
      ids.forEach((x, row) => rowOf!.set(x, row));
    }
    return rowOf.get(id) ?? -1;
  };
  const segmentOf = new Map<string, number>(model.segments.map((s, i) => [s.id, i]));
  const n = assignments.length;
  const packed: PackedAssignments = {
    rows: new Int32Array(n),
    segments: new Int16Array(n),
    distances: new Float64Array(n),
    imputed: new Uint8Array(n),
  };
  assignments.forEach((a, i) => {
    packed.rows[i] = findRow(a.id);
    packed.segments[i] = segmentOf.get(a.segment) ?? -1;
    packed.distances[i] = a.distance;
    packed.imputed[i] = a.imputed ? 1 : 0;
  });
  return packed;
}

/** Unpacks them into the core's Assignment objects (main-thread side), identical to what `fit` returned. */
export function unpackAssignments(model: Model, ids: readonly string[], packed: PackedAssignments, noRecentOrders: string): Assignment[] {
  const out: Assignment[] = new Array<Assignment>(packed.rows.length);
  for (let i = 0; i < packed.rows.length; i++) {
    const s = packed.segments[i]!;
    out[i] = {
      id: ids[packed.rows[i]!]!,
      segment: s < 0 ? noRecentOrders : model.segments[s]!.id,
      distance: packed.distances[i]!,
      imputed: packed.imputed[i] === 1,
    };
  }
  return out;
}
