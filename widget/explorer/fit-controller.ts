/**
 * Owns the clustering worker's lifecycle (Material-Web style: a plain class with injected callbacks, so
 * the element only wires state and rendering). One fit at a time; cancel terminates the worker and the
 * next fit starts a fresh one, because a worker busy in a synchronous loop cannot be interrupted otherwise.
 */
import { NO_RECENT_ORDERS } from '../../src/types.js';
import type { FeatureTable, FitResult, ProgressEvent } from '../../src/types.js';
import { packIds, unpackAssignments } from './protocol.js';
import type { FitRequest, FitResponse, WorkerFitOptions } from './protocol.js';

export interface FitControllerCallbacks {
  /** Called for each progress event the core reports. */
  onProgress?: (event: ProgressEvent) => void;
}

/** Creates the worker; injected so tests (and hosts with a CSP) can supply their own. */
export type WorkerFactory = () => Worker;

export const createFitWorker: WorkerFactory = () =>
  new Worker(new URL('./fit-worker.js', import.meta.url), { type: 'module' });

/** The error a cancelled fit rejects with. */
export class FitCancelledError extends Error {
  override name = 'AbortError';
  constructor() {
    super('The fit was cancelled.');
  }
}

interface Pending {
  resolve: (result: FitResult) => void;
  reject: (error: Error) => void;
}

export class FitController {
  private _worker: Worker | null = null;
  private _pending: Pending | null = null;
  /** Ids of the table being fitted: the worker answers with row indexes into it. */
  private _ids: readonly string[] = [];

  constructor(
    private readonly _callbacks: FitControllerCallbacks = {},
    private readonly _createWorker: WorkerFactory = createFitWorker,
  ) {}

  /** True while a fit is in flight. */
  get running(): boolean {
    return this._pending !== null;
  }

  /**
   * Fits `table` in the worker. The table's arrays are copied before transfer, so the caller keeps its
   * table intact. A fit already running is cancelled first.
   */
  fit(table: FeatureTable, options: WorkerFitOptions): Promise<FitResult> {
    this.cancel();
    const worker = (this._worker ??= this._spawn());
    return new Promise<FitResult>((resolve, reject) => {
      this._pending = { resolve, reject };
      this._ids = table.ids;
      const values = table.values.slice();
      const nps = table.nps?.slice();
      const request: FitRequest = {
        type: 'fit',
        table: { ...packIds(table.ids), columns: table.columns, values, ...(nps ? { nps } : {}) },
        options,
      };
      worker.postMessage(request, nps ? [values.buffer, nps.buffer] : [values.buffer]);
    });
  }

  /** Stops a running fit (its promise rejects with FitCancelledError). Returns whether one was running. */
  cancel(): boolean {
    const pending = this._pending;
    if (!pending) return false;
    this._pending = null;
    this._worker?.terminate();
    this._worker = null;
    pending.reject(new FitCancelledError());
    return true;
  }

  /** Releases the worker (call from disconnectedCallback). */
  dispose(): void {
    this.cancel();
    this._worker?.terminate();
    this._worker = null;
  }

  private _spawn(): Worker {
    const worker = this._createWorker();
    worker.addEventListener('message', (event: MessageEvent<FitResponse>) => this._onMessage(worker, event.data));
    worker.addEventListener('error', (event: ErrorEvent) => {
      if (worker !== this._worker) return;
      event.preventDefault();
      this._settle(worker, (p) => p.reject(new Error(event.message || 'The clustering worker failed to start.')));
      worker.terminate();
      this._worker = null;
    });
    return worker;
  }

  private _onMessage(worker: Worker, message: FitResponse): void {
    if (worker !== this._worker || !this._pending) return;
    switch (message.type) {
      case 'progress':
        this._callbacks.onProgress?.(message.event);
        break;
      case 'done': {
        const assignments = unpackAssignments(message.model, this._ids, message.packed, NO_RECENT_ORDERS);
        this._settle(worker, (p) => p.resolve({ model: message.model, assignments }));
        break;
      }
      case 'error': {
        const error = new Error(message.message);
        error.name = message.name;
        this._settle(worker, (p) => p.reject(error));
        break;
      }
    }
  }

  private _settle(worker: Worker, action: (pending: Pending) => void): void {
    if (worker !== this._worker || !this._pending) return;
    const pending = this._pending;
    this._pending = null;
    action(pending);
  }
}
