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

export type FitResponse =
  | { type: 'progress'; event: ProgressEvent }
  | { type: 'done'; model: Model; assignments: Assignment[] }
  | { type: 'error'; name: string; message: string };
