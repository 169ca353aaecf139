/**
 * The clustering worker: runs the core's `fit` off the main thread so the explorer stays responsive.
 * Cancellation is `worker.terminate()` by the controller, so the worker needs no abort protocol (a
 * terminated worker's own helper worker ends with it).
 *
 * Two cores share the work: one helper worker (the same script, started from itself) takes about half of
 * the k search of `k: 'auto'` (k = 2..8, each with its restarts and silhouette: about 40% of a fit) and
 * then the holdout check's re-fit, which runs while this worker names, scores and explains the segments.
 * The core's `fitSteps` hands that work out and `searchK` / `holdoutLabels` compute it the same way on
 * either thread, so the model is byte-identical to `fit` on one thread. Without a second core, for a
 * small fixed-k table (a helper costs more to start than it saves), or when the helper cannot start or
 * fails, this worker does all of it itself.
 */
import { fitSteps, holdoutLabels, searchK } from '../../src/fit.js';
import type { FitStepAnswer, HoldoutRequest, KSearchOutcome, KSearchRequest } from '../../src/fit.js';
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
  else if (message?.type === 'holdout') answerHoldout(message.request);
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

/** As the helper: the holdout check's re-fit. */
function answerHoldout(request: HoldoutRequest): void {
  try {
    const labels = holdoutLabels(request);
    scope.postMessage({ type: 'holdout-labels', labels }, labels ? [labels.buffer] : []);
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

/** Rows from which a fixed-k fit starts a helper for its holdout re-fit (a 50,000-row re-fit takes ~0.1 s). */
const HELPER_MIN_ROWS = 50_000;

/** A helper, started at once so it loads while this worker prepares the data. */
function startHelper(options: FitRequest['options'], rows: number): Helper | null {
  if (options.k !== 'auto' && rows < HELPER_MIN_ROWS) return null;
  if (typeof Worker !== 'function' || (scope.navigator.hardwareConcurrency ?? 1) < 2) return null;
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

/** Sends one request to the helper and resolves with its answer (the helper handles one at a time). */
function ask<T>(helper: Worker, message: SearchRequest, transfer: Transferable[], take: (response: SearchResponse) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    helper.onmessage = (e: MessageEvent<SearchResponse>) => {
      if (e.data.type === 'search-error') return reject(new Error(e.data.message));
      const value = take(e.data);
      if (value !== undefined) resolve(value);
    };
    helper.onerror = (e) => {
      e.preventDefault();
      reject(new Error(e.message || 'the helper worker failed'));
    };
    helper.postMessage(message, transfer);
  });
}

function remoteSearch(helper: Worker, request: KSearchRequest): Promise<KSearchOutcome[]> {
  const Z = request.Z.slice();
  return ask(helper, { type: 'search', request: { ...request, Z } }, [Z.buffer], (r) => (r.type === 'searched' ? r.outcomes : undefined));
}

/** The re-fit in the helper; copies of the rows go, so this worker can still run it if the helper fails. */
function remoteHoldout(helper: Worker, request: HoldoutRequest): Promise<{ labels: Int32Array | null }> {
  const train = request.train.slice();
  const held = request.held.slice();
  return ask(helper, { type: 'holdout', request: { ...request, train, held } }, [train.buffer, held.buffer], (r) =>
    r.type === 'holdout-labels' ? { labels: r.labels } : undefined,
  );
}

/** How long a step waits for a helper that has not started yet before doing the work itself. */
const HELPER_START_MS = 3000;

/**
 * Whether the helper runs, waiting for it if need be: a nested worker's script is fetched through this
 * thread's event loop, so a helper started before the synchronous prepare and scale steps may be ready
 * only once this thread waits (it answers within ~50 ms then).
 */
function whenReady(helper: Helper): Promise<boolean> {
  return Promise.race([helper.ready, new Promise<boolean>((resolve) => setTimeout(() => resolve(false), HELPER_START_MS))]);
}

async function search(request: KSearchRequest, helper: Helper | null, onProgress: (event: ProgressEvent) => void): Promise<KSearchOutcome[]> {
  const last = request.ks[request.ks.length - 1]!;
  const onK = (k: number): void => onProgress({ stage: 'cluster', fraction: 0.1 + (0.45 * (k - 2)) / Math.max(1, last - 1), message: `trying k = ${k}` });
  if (!helper || request.ks.length < 2) return searchK(request, onK);
  if (!(await whenReady(helper))) return searchK(request, onK);
  const [theirs, mine] = splitKs(request.ks).map((side) => side.sort((a, b) => a - b)) as [number[], number[]];
  const remote = remoteSearch(helper.worker, { ...request, ks: theirs }).catch(() => null);
  const local = searchK({ ...request, ks: mine }, onK);
  // If the helper failed, its share is searched here: the outcomes are the same either way.
  const fromHelper = (await remote) ?? searchK({ ...request, ks: theirs }, onK);
  return [...local, ...fromHelper];
}

async function runFit(request: FitRequest): Promise<void> {
  const helper = request.helper === false ? null : startHelper(request.options, request.table.values.length / Math.max(1, request.table.columns.length));
  // One turn of the event loop lets the helper's script fetch start before the synchronous steps.
  if (helper) await new Promise((resolve) => setTimeout(resolve, 0));
  try {
    const { idsJoined: _joined, ...rest } = request.table;
    const table = { ...rest, ids: unpackIds(request.table) };
    const onProgress = (progress: ProgressEvent): void => scope.postMessage({ type: 'progress', event: progress });
    const options: FitOptions = { ...request.options, packed: true, onProgress };
    const steps = fitSteps(table, options);
    let step = steps.next();
    let holdout: { request: HoldoutRequest; remote: Promise<{ labels: Int32Array | null } | null> | null } | null = null;
    while (!step.done) {
      const next = step.value;
      let answer: FitStepAnswer;
      if (next.kind === 'search') answer = await search(next.request, helper, onProgress);
      else if (next.kind === 'holdout') {
        // The helper re-fits while this worker names, scores and explains the segments.
        const ready = helper ? await whenReady(helper) : false;
        holdout = { request: next.request, remote: helper && ready ? remoteHoldout(helper.worker, next.request).catch(() => null) : null };
      } else {
        const remote = holdout!.remote ? await holdout!.remote : null;
        answer = remote ? remote.labels : holdoutLabels(holdout!.request);
        holdout = null;
      }
      step = steps.next(answer);
    }
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
