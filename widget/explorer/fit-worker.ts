/**
 * The clustering worker: runs the core's `fit` off the main thread so the explorer stays responsive.
 * Cancellation is `worker.terminate()` by the controller, so the worker needs no abort protocol (a
 * terminated worker's own helper worker ends with it).
 *
 * For `k: 'auto'` the k search (k = 2..8, each with its restarts and silhouette: about 40% of a fit) is
 * split between this worker and one helper worker, the same script started from itself, so two cores
 * share it. The core's `fitSteps` hands the search out and `searchK` computes each k the same way in
 * either thread, so the model is byte-identical to `fit` on one thread. Without a second core, or when
 * the helper cannot start or fails, this worker searches every k itself.
 */
import { fitSteps, searchK } from '../../src/fit.js';
import type { KSearchOutcome, KSearchRequest } from '../../src/fit.js';
import type { FitOptions, ProgressEvent } from '../../src/types.js';
import { splitKs, unpackIds } from './protocol.js';
import type { FitRequest, FitResponse, SearchRequest, SearchResponse } from './protocol.js';

// The DOM lib types `self` as Window; inside a module worker it is the worker's global scope.
const scope = self as unknown as {
  postMessage(message: FitResponse | SearchResponse, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<FitRequest | SearchRequest>) => void): void;
  location: { href: string };
  navigator: { hardwareConcurrency?: number };
};

scope.addEventListener('message', (event) => {
  const message = event.data;
  if (message?.type === 'search') answerSearch(message.request);
  else if (message?.type === 'ping') scope.postMessage({ type: 'pong' });
  else if (message?.type === 'fit') void runFit(message);
});

/** As the helper: search the ks asked for and send the outcomes back. */
function answerSearch(request: KSearchRequest): void {
  try {
    const outcomes = searchK(request);
    scope.postMessage({ type: 'searched', outcomes }, transferables(outcomes));
  } catch (error) {
    scope.postMessage({ type: 'search-error', message: error instanceof Error ? error.message : String(error) });
  }
}

function transferables(outcomes: readonly KSearchOutcome[]): Transferable[] {
  const buffers = new Set<ArrayBufferLike>();
  for (const { clustering: c } of outcomes) {
    buffers.add(c.labels.buffer);
    buffers.add(c.centroids.buffer);
    if (c.initialCentroids) buffers.add(c.initialCentroids.buffer);
  }
  return [...buffers] as Transferable[];
}

interface Helper {
  worker: Worker;
  /** Settles true once the helper answers a ping (its script loaded and running), false if it failed. */
  ready: Promise<boolean>;
}

/** A helper for the k search, started at once so it loads while this worker prepares the data. */
function startHelper(options: FitRequest['options']): Helper | null {
  if (options.k !== 'auto' || typeof Worker !== 'function' || (scope.navigator.hardwareConcurrency ?? 1) < 2) return null;
  let worker: Worker;
  try {
    worker = new Worker(scope.location.href, { type: 'module' });
  } catch {
    return null;
  }
  const ready = new Promise<boolean>((resolve) => {
    worker.onmessage = (e: MessageEvent<SearchResponse>) => resolve(e.data.type === 'pong');
    worker.onerror = (e) => {
      e.preventDefault();
      resolve(false);
    };
  });
  worker.postMessage({ type: 'ping' } satisfies SearchRequest);
  return { worker, ready };
}

function remoteSearch(helper: Worker, request: KSearchRequest): Promise<KSearchOutcome[]> {
  return new Promise((resolve, reject) => {
    helper.onmessage = (e: MessageEvent<SearchResponse>) => {
      if (e.data.type === 'searched') resolve(e.data.outcomes);
      else if (e.data.type === 'search-error') reject(new Error(e.data.message));
    };
    helper.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message || 'the k-search helper worker failed'));
    };
    const Z = request.Z.slice();
    helper.postMessage({ type: 'search', request: { ...request, Z } } satisfies SearchRequest, [Z.buffer]);
  });
}

/** How long the search waits for a helper that has not started yet before searching every k itself. */
const HELPER_START_MS = 3000;

async function search(request: KSearchRequest, helper: Helper | null, onProgress: (event: ProgressEvent) => void): Promise<KSearchOutcome[]> {
  const last = request.ks[request.ks.length - 1]!;
  const onK = (k: number): void => onProgress({ stage: 'cluster', fraction: 0.1 + (0.45 * (k - 2)) / Math.max(1, last - 1), message: `trying k = ${k}` });
  if (!helper || request.ks.length < 2) return searchK(request, onK);
  // A nested worker's script is fetched through this thread's event loop, so a helper started during the
  // synchronous prepare and scale steps may be ready only now (it answers within ~50 ms once this waits).
  const ready = await Promise.race([helper.ready, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), HELPER_START_MS))]);
  if (!ready) return searchK(request, onK);
  const [theirs, mine] = splitKs(request.ks).map((side) => side.sort((a, b) => a - b)) as [number[], number[]];
  const remote = remoteSearch(helper.worker, { ...request, ks: theirs }).catch(() => null);
  const local = searchK({ ...request, ks: mine }, onK);
  // If the helper failed, its share is searched here: the outcomes are the same either way.
  const fromHelper = (await remote) ?? searchK({ ...request, ks: theirs }, onK);
  return [...local, ...fromHelper];
}

async function runFit(request: FitRequest): Promise<void> {
  const helper = startHelper(request.options);
  // One turn of the event loop lets the helper's script fetch start before the synchronous steps.
  if (helper) await new Promise((resolve) => setTimeout(resolve, 0));
  try {
    const { idsJoined: _joined, ...rest } = request.table;
    const table = { ...rest, ids: unpackIds(request.table) };
    const onProgress = (progress: ProgressEvent): void => scope.postMessage({ type: 'progress', event: progress });
    const options: FitOptions = { ...request.options, packed: true, onProgress };
    const steps = fitSteps(table, options);
    let step = steps.next();
    while (!step.done) step = steps.next(await search(step.value, helper, onProgress));
    const { model, packed } = step.value;
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
  } finally {
    helper?.worker.terminate();
  }
}
