/**
 * The clustering worker: runs the core's `fit` off the main thread so the explorer stays responsive.
 * Cancellation is `worker.terminate()` by the controller, so the worker needs no abort protocol.
 */
import { fit } from '../../src/fit.js';
import { unpackIds } from './protocol.js';
import type { FitRequest, FitResponse } from './protocol.js';

// The DOM lib types `self` as Window; inside a module worker it is the worker's global scope.
const scope = self as unknown as {
  postMessage(message: FitResponse, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<FitRequest>) => void): void;
};

scope.addEventListener('message', (event) => {
  const request = event.data;
  if (request?.type !== 'fit') return;
  try {
    const { idsJoined: _joined, ...rest } = request.table;
    const table = { ...rest, ids: unpackIds(request.table) };
    const { model, packed } = fit(table, {
      ...request.options,
      packed: true,
      onProgress: (progress) => scope.postMessage({ type: 'progress', event: progress }),
    });
    if (!packed) throw new Error('fit returned no packed assignments');
    scope.postMessage({ type: 'done', model, packed }, [
      packed.rows.buffer,
      packed.segments.buffer,
      packed.distances.buffer,
      packed.imputed.buffer,
    ]);
  } catch (error) {
    const e = error instanceof Error ? error : new Error(String(error));
    scope.postMessage({ type: 'error', name: e.name, message: e.message });
  }
});
