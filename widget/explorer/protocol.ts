/**
 * Messages between the explorer's fit controller and its Web Worker. Plain structured-clone data:
 * the table's numbers travel as transferable Float64Arrays, the model comes back as JSON-safe data.
 */
import type { Assignment, FitOptions, Model, PackedAssignments, ProgressEvent } from '../../src/types.js';
import type { HoldoutRequest, KSearchOutcome, KSearchRequest } from '../../src/fit.js';
import { joinStrings, lazySplit } from '../shared/joined.js';

/** Everything of FitOptions that can cross a thread boundary (no callbacks, no signal). */
export type WorkerFitOptions = Omit<FitOptions, 'onProgress' | 'signal' | 'packed'>;

export interface FitRequest {
  type: 'fit';
  /**
   * The table; its ids as ONE string joined with U+001F (`joinStrings`) when no id holds it (`idsJoined`, cloned
   * as one copy, where a million separate strings cost ~200 ms to clone), else as the array.
   */
  table: { ids?: string[]; idsJoined?: { text: string; count: number }; columns: string[]; values: Float64Array; nps?: Float64Array };
  options: WorkerFitOptions;
  /** false: the worker does all the work itself, starting no helper worker (default true; see fit-worker.ts). */
  helper?: boolean;
}

/** The request's form of the ids (page side). */
export function packIds(ids: readonly string[]): { ids: string[] } | { idsJoined: { text: string; count: number } } {
  const text = joinStrings(ids);
  return text === null ? { ids: [...ids] } : { idsJoined: { text, count: ids.length } };
}

/** The ids back from the request (worker side); joined ids are split only when one is read (`lazySplit`). */
export function unpackIds(table: FitRequest['table']): string[] {
  if (table.idsJoined) return lazySplit(table.idsJoined.text, table.idsJoined.count);
  return table.ids ?? [];
}

/**
 * Assignments come back as the core's `PackedAssignments` (fit with `packed: true`): a million Assignment
 * objects cost ~2 s to structured-clone, typed arrays cost nothing to transfer (BENCHMARKS.md).
 */
export type { PackedAssignments };

/**
 * Between a fit worker and the helper worker it starts for `k: 'auto'`: a ping the helper answers once it
 * runs; then the helper runs `searchK` on its share of the ks and sends the outcomes back (typed arrays
 * transferred), and later the holdout check's re-fit (`holdoutLabels`).
 */
export type SearchRequest = { type: 'search'; request: KSearchRequest } | { type: 'holdout'; request: HoldoutRequest } | { type: 'ping' };
export type SearchResponse =
  | { type: 'searched'; outcomes: KSearchOutcome[] }
  | { type: 'holdout-labels'; labels: Int32Array | null }
  | { type: 'search-error'; message: string }
  | { type: 'pong' };

/**
 * The ks split in two by expected cost (a k's search costs about k: k distances per row and iteration),
 * largest first to the less loaded side; the helper gets the first share.
 */
export function splitKs(ks: readonly number[]): [number[], number[]] {
  const sides: [number[], number[]] = [[], []];
  const load = [0, 0];
  for (const k of [...ks].sort((a, b) => b - a)) {
    const side = load[0]! <= load[1]! ? 0 : 1;
    sides[side].push(k);
    load[side]! += k;
  }
  return sides;
}

export type FitResponse =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; model: Model; packed: PackedAssignments }
  | { type: 'error'; name: string; message: string };

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
