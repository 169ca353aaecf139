/**
 * The bench's own Web Worker (served unbundled from dist/bench/browser/, relative imports only): times our
 * k-means on the bench data (built here, untimed, identical to Node's) and can hold a million contacts'
 * table and fitted model so the page can measure the worker's memory.
 */
import { kmeans } from '../../src/cluster/kmeans.js';
import { fit } from '../../src/fit.js';
import { BENCH_K, BENCH_SEED, benchMatrix } from '../data.js';

export interface WorkerTask {
  task: 'lloyd' | 'hold' | 'release';
  n: number;
  repeats?: number;
}

export interface LloydTiming {
  /** Median seconds of Lloyd from the shared start. */
  same: number;
  /** Median seconds of k-means++ plus Lloyd, one run. */
  one: number;
  inertia: number;
  iterations: number;
  runs: number;
}

const scope = self as unknown as {
  postMessage(message: unknown): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<WorkerTask>) => void): void;
};

let held: unknown[] = [];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function lloyd(n: number, repeats: number): LloydTiming {
  // Warm-up on a small table, so the timed runs measure compiled code.
  const w = benchMatrix(5000);
  for (let r = 0; r < 3; r++) {
    kmeans(w.Z, w.n, w.d, { k: BENCH_K, seed: 1, init: w.init });
    kmeans(w.Z, w.n, w.d, { k: BENCH_K, seed: 1, restarts: 1 });
  }
  const { Z, d, init } = benchMatrix(n);
  const same: number[] = [];
  const one: number[] = [];
  let inertia = NaN;
  let iterations = 0;
  for (let r = 0; r < repeats; r++) {
    let t = performance.now();
    const result = kmeans(Z, n, d, { k: BENCH_K, seed: BENCH_SEED, init });
    same.push((performance.now() - t) / 1000);
    inertia = result.inertia;
    iterations = result.iterations;
    t = performance.now();
    kmeans(Z, n, d, { k: BENCH_K, seed: BENCH_SEED, restarts: 1 });
    one.push((performance.now() - t) / 1000);
  }
  return { same: median(same), one: median(one), inertia, iterations, runs: repeats };
}

scope.addEventListener('message', (event) => {
  const { task, n } = event.data;
  try {
    if (task === 'lloyd') scope.postMessage({ ok: true, timing: lloyd(n, event.data.repeats ?? 3) });
    else if (task === 'hold') {
      // What the explorer's worker holds while it fits a portal: the table, its matrix and the fitted result.
      const m = benchMatrix(n);
      const result = fit(m.table, { k: BENCH_K, method: 'kmeans', seed: BENCH_SEED });
      held = [m, result];
      scope.postMessage({ ok: true, rows: m.n });
    } else {
      held = [];
      scope.postMessage({ ok: true, released: held.length === 0 });
    }
  } catch (e) {
    scope.postMessage({ ok: false, error: String((e as Error).stack ?? e) });
  }
});
