import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { kmeans, kmeansPlusPlus, meanColumnVariance } from '../../src/cluster/kmeans.js';
import { mlKmeansReference } from '../../src/cluster/mlkmeans.js';
import { nearestCentroid } from '../../src/cluster/nearest.js';
import { createRng, deriveSeed, normal } from '../../src/random.js';

/** Two squares of side 2: centres (1, 1) and (11, 11), every point at squared distance 2 from its centre. */
const TWO_BLOBS = [
  [0, 0], [0, 2], [2, 0], [2, 2],
  [10, 10], [10, 12], [12, 10], [12, 12],
];

/** The two blobs padded with zero columns to d columns (exercises the unrolled and the generic loops). */
function twoBlobs(d: number): Float64Array {
  return Float64Array.from(TWO_BLOBS.flatMap((p) => [...p, ...new Array<number>(d - 2).fill(0)]));
}

/** n rows around three centres, seeded. */
function threeBlobs(seed: number, n: number, d: number, spread: number): Float64Array {
  const rng = createRng(seed);
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) X[i * d + j] = normal(rng, (i % 3) * spread * ((j % 2) + 1), 1);
  return X;
}

function bytes(a: Float64Array | Int32Array): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength);
}

function centresSorted(c: Float64Array, k: number, d: number): number[][] {
  return Array.from({ length: k }, (_, i) => Array.from(c.subarray(i * d, i * d + d))).sort((p, q) => p[0]! - q[0]!);
}

describe('kmeans', () => {
  for (const d of [2, 3, 4, 5]) {
    test(`finds the two obvious blobs with d = ${d}: centres, sizes and inertia 8 x 2 = 16`, () => {
      const r = kmeans(twoBlobs(d), 8, d, { k: 2, seed: 1 });
      const pad = new Array<number>(d - 2).fill(0);
      assert.deepEqual(centresSorted(r.centroids, 2, d), [[1, 1, ...pad], [11, 11, ...pad]]);
      assert.deepEqual(Array.from(r.sizes), [4, 4]);
      assert.equal(r.inertia, 16);
      assert.equal(r.converged, true);
      assert.equal(r.restarts, 4);
      const first = r.labels[0];
      assert.deepEqual(Array.from(r.labels), [first, first, first, first, 1 - first!, 1 - first!, 1 - first!, 1 - first!]);
    });
  }

  test('clusters one-dimensional data', () => {
    const r = kmeans(Float64Array.of(0, 1, 2, 10, 11, 12), 6, 1, { k: 2, seed: 3 });
    assert.deepEqual(centresSorted(r.centroids, 2, 1), [[1], [11]]);
    assert.equal(r.inertia, 4);
  });

  test('starts from explicit centres, reports them and runs once', () => {
    const init = Float64Array.of(0, 0, 12, 12);
    const r = kmeans(twoBlobs(2), 8, 2, { k: 2, seed: 1, init });
    assert.deepEqual(Array.from(r.initialCentroids), [0, 0, 12, 12]);
    assert.deepEqual(Array.from(r.centroids), [1, 1, 11, 11]);
    assert.deepEqual(Array.from(r.labels), [0, 0, 0, 0, 1, 1, 1, 1]);
    assert.equal(r.restarts, 1);
    // Iteration 1 moves the centres, iteration 2 changes no label.
    assert.equal(r.iterations, 2);
  });

  test('re-seeds an empty cluster with the point farthest from its centre', () => {
    // Worked by hand: start [0, 1, 100]. Step 1: centre 100 is empty, 12 (farthest from 1) takes it,
    // giving [0, 6, 12]. Step 2: centre 6 is empty, 2 (distance 4 to centre 0, tied with 10 but first)
    // takes it, giving [0.5, 2, 11]. Step 3: nothing moves.
    const r = kmeans(Float64Array.of(0, 1, 2, 10, 11, 12), 6, 1, { k: 3, seed: 1, init: Float64Array.of(0, 1, 100) });
    assert.deepEqual(Array.from(r.centroids), [0.5, 2, 11]);
    assert.deepEqual(Array.from(r.sizes), [2, 1, 3]);
    assert.deepEqual(Array.from(r.labels), [0, 0, 1, 2, 2, 2]);
    assert.equal(r.inertia, 0.25 + 0.25 + 0 + 1 + 0 + 1);
    assert.equal(r.iterations, 3);
  });

  test('the same seed gives identical bytes', () => {
    const X = threeBlobs(11, 900, 4, 2);
    const a = kmeans(X, 900, 4, { k: 3, seed: 42 });
    const b = kmeans(X, 900, 4, { k: 3, seed: 42 });
    assert.ok(bytes(a.centroids).equals(bytes(b.centroids)));
    assert.ok(bytes(a.initialCentroids).equals(bytes(b.initialCentroids)));
    assert.ok(bytes(a.labels).equals(bytes(b.labels)));
    assert.equal(a.inertia, b.inertia);
  });

  test('different seeds start from different centres', () => {
    const X = threeBlobs(11, 900, 4, 2);
    const a = kmeans(X, 900, 4, { k: 3, seed: 1, restarts: 1 });
    const b = kmeans(X, 900, 4, { k: 3, seed: 2, restarts: 1 });
    assert.ok(!bytes(a.initialCentroids).equals(bytes(b.initialCentroids)));
  });

  test('keeps the restart with the lowest inertia, the earliest on ties', () => {
    const rng = createRng(5);
    const n = 400;
    const X = Float64Array.from({ length: n * 2 }, () => rng());
    const seed = 9;
    const single = Array.from({ length: 6 }, (_, r) => {
      const init = kmeansPlusPlus(X, n, 2, 6, createRng(deriveSeed(seed, r)));
      return { init, result: kmeans(X, n, 2, { k: 6, seed, init }) };
    });
    const inertias = single.map((s) => s.result.inertia);
    assert.ok(new Set(inertias).size > 1, 'the fixture should have several local minima');
    const best = inertias.indexOf(Math.min(...inertias));
    const r = kmeans(X, n, 2, { k: 6, seed, restarts: 6 });
    assert.equal(r.restarts, 6);
    assert.equal(r.inertia, inertias[best]);
    assert.deepEqual(r.initialCentroids, single[best]!.init);
    assert.deepEqual(r.labels, single[best]!.result.labels);
  });

  test('the relative tolerance is scale-free: X x 1000 gives the same labels and iteration count', () => {
    const X = threeBlobs(5, 600, 4, 1.5);
    const Y = X.map((v) => v * 1000);
    const a = kmeans(X, 600, 4, { k: 3, seed: 5, restarts: 1 });
    const b = kmeans(Y, 600, 4, { k: 3, seed: 5, restarts: 1 });
    assert.deepEqual(b.labels, a.labels);
    assert.equal(b.iterations, a.iterations);
    // The tolerance did stop this run early: run to a fixed point it takes longer.
    const strict = kmeans(X, 600, 4, { k: 3, seed: 5, restarts: 1, tolerance: 0 });
    assert.ok(strict.iterations > a.iterations, `${strict.iterations} > ${a.iterations}`);
  });

  test('labels and inertia agree with a fresh nearest-centre assignment', () => {
    const X = threeBlobs(3, 500, 3, 1);
    const r = kmeans(X, 500, 3, { k: 4, seed: 8 });
    const check = nearestCentroid(X, 500, 3, r.centroids, 4);
    assert.deepEqual(check.labels, r.labels);
    assert.ok(Math.abs(check.inertia - r.inertia) <= 1e-9 * r.inertia);
    assert.equal(r.sizes.reduce((s, v) => s + v, 0), 500);
  });

  test('reports every iteration with a non-increasing inertia', () => {
    const X = threeBlobs(4, 600, 2, 1);
    const seen: [number, number][] = [];
    const r = kmeans(X, 600, 2, { k: 3, seed: 2, restarts: 1, tolerance: 0, onIteration: (it, inertia) => seen.push([it, inertia]) });
    assert.deepEqual(seen.map(([it]) => it), Array.from({ length: r.iterations }, (_, i) => i + 1));
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]![1] <= seen[i - 1]![1] * (1 + 1e-12));
    assert.ok(Math.abs(seen.at(-1)![1] - r.inertia) <= 1e-9 * r.inertia);
  });

  test('stops at maxIterations and says it did not converge', () => {
    const X = threeBlobs(4, 600, 2, 1);
    const r = kmeans(X, 600, 2, { k: 5, seed: 2, restarts: 1, tolerance: 0, maxIterations: 1 });
    assert.equal(r.iterations, 1);
    assert.equal(r.converged, false);
  });

  test("Hamerly's bounds give byte for byte the results of plain Lloyd", () => {
    for (const d of [1, 2, 3, 4, 6]) {
      for (const k of [1, 2, 3, 5, 8]) {
        const X = threeBlobs(d * 10 + k, 300, d, 1);
        for (const tolerance of [0, 1e-4]) {
          const lloyd = kmeans(X, 300, d, { k, seed: k, tolerance, algorithm: 'lloyd' });
          const hamerly = kmeans(X, 300, d, { k, seed: k, tolerance, algorithm: 'hamerly' });
          const what = `d = ${d}, k = ${k}, tolerance ${tolerance}`;
          assert.ok(bytes(hamerly.centroids).equals(bytes(lloyd.centroids)), what);
          assert.ok(bytes(hamerly.labels).equals(bytes(lloyd.labels)), what);
          assert.equal(hamerly.inertia, lloyd.inertia, what);
          assert.equal(hamerly.iterations, lloyd.iterations, what);
        }
      }
    }
  });

  test('the fused k = 3, d = 4 kernel gives the bytes of the generic kernels', () => {
    // A zero fifth column adds exactly +0 to every squared distance and sum, so plain Lloyd at d = 5 (the
    // generic loop) must reproduce d = 4 (assignAndAccumulate3x4, in both modes) bit for bit. Scaled by
    // 1e160 the squared distances overflow to Infinity, which the branch-free select must rank as the
    // generic loop does.
    for (const [seed, scale] of [[1, 1], [2, 0.3], [3, 1e160]] as const) {
      const n = 400;
      const X = threeBlobs(seed, n, 4, 1).map((v) => v * scale);
      const X5 = new Float64Array(n * 5);
      for (let i = 0; i < n; i++) X5.set(X.subarray(4 * i, 4 * i + 4), 5 * i);
      const init = X.slice(0, 12);
      const init5 = new Float64Array(15);
      for (let c = 0; c < 3; c++) init5.set(init.subarray(4 * c, 4 * c + 4), 5 * c);
      for (const algorithm of ['lloyd', 'hamerly'] as const) {
        for (const maxIterations of [2, 300]) {
          const what = `seed ${seed}, scale ${scale}, ${algorithm}, maxIterations ${maxIterations}`;
          const a = kmeans(X, n, 4, { k: 3, seed, init, tolerance: 0, maxIterations, algorithm });
          const b = kmeans(X5, n, 5, { k: 3, seed, init: init5, tolerance: 0, maxIterations, algorithm: 'lloyd' });
          const firstFour = new Float64Array(12);
          for (let c = 0; c < 3; c++) firstFour.set(b.centroids.subarray(5 * c, 5 * c + 4), 4 * c);
          assert.ok(bytes(a.centroids).equals(bytes(firstFour)), what);
          assert.ok(bytes(a.labels).equals(bytes(b.labels)), what);
          assert.ok(bytes(a.sizes).equals(bytes(b.sizes)), what);
          assert.equal(a.inertia, b.inertia, what);
          assert.equal(a.iterations, b.iterations, what);
          assert.equal(a.converged, b.converged, what);
        }
      }
    }
  });

  test('Hamerly matches Lloyd when squared distances overflow to Infinity (generic k and d)', () => {
    // Every distance Infinity: plain Lloyd gives each row centre 0; the bounded kernels must do the same
    // (they once left rows at label -1 on the first pass).
    for (const [k, d] of [[4, 4], [3, 5], [2, 3]] as const) {
      const n = 300;
      const X = threeBlobs(7, n, d, 1).map((v) => v * 1e160);
      const init = X.slice(0, k * d);
      const a = kmeans(X, n, d, { k, seed: 1, init, tolerance: 0, algorithm: 'hamerly' });
      const b = kmeans(X, n, d, { k, seed: 1, init, tolerance: 0, algorithm: 'lloyd' });
      assert.ok(bytes(a.labels).equals(bytes(b.labels)), `k ${k}, d ${d}`);
      assert.ok(bytes(a.centroids).equals(bytes(b.centroids)), `k ${k}, d ${d}`);
      assert.deepEqual([...a.sizes], [...b.sizes], `k ${k}, d ${d}`);
      assert.equal(a.inertia, b.inertia, `k ${k}, d ${d}`);
    }
  });

  test('meanColumnVariance gives the bits of one strided pass per column, d = 4 included', () => {
    for (const d of [3, 4, 5]) {
      const n = 1001;
      const X = threeBlobs(d, n, d, 3);
      let total = 0;
      for (let j = 0; j < d; j++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += X[i * d + j]!;
        const mean = sum / n;
        let ss = 0;
        for (let i = 0; i < n; i++) {
          const t = X[i * d + j]! - mean;
          ss += t * t;
        }
        total += ss / n;
      }
      assert.equal(meanColumnVariance(X, n, d), total / d, `d = ${d}`);
    }
  });

  test('Hamerly matches Lloyd through empty-cluster re-seeding', () => {
    const X = Float64Array.of(0, 1, 2, 10, 11, 12);
    const init = Float64Array.of(0, 1, 100);
    const a = kmeans(X, 6, 1, { k: 3, seed: 1, init, algorithm: 'hamerly' });
    const b = kmeans(X, 6, 1, { k: 3, seed: 1, init, algorithm: 'lloyd' });
    assert.deepEqual(a, b);
  });

  test('rejects an unknown algorithm', () => {
    // @ts-expect-error: not a KMeansAlgorithm
    assert.throws(() => kmeans(twoBlobs(2), 8, 2, { k: 2, seed: 1, algorithm: 'elkan' }), /unknown k-means algorithm/);
  });

  test('an aborted signal cancels the run', () => {
    assert.throws(() => kmeans(twoBlobs(2), 8, 2, { k: 2, seed: 1, signal: { aborted: true } }), { name: 'AbortError' });
  });

  test('a signal aborted between iterations stops the run at the next check', () => {
    const signal = { aborted: false };
    const seen: number[] = [];
    const X = threeBlobs(4, 600, 2, 1);
    const run = (): unknown =>
      kmeans(X, 600, 2, {
        k: 5,
        seed: 2,
        tolerance: 0,
        signal,
        onIteration: (it) => {
          seen.push(it);
          if (it === 2) signal.aborted = true;
        },
      });
    assert.throws(run, { name: 'AbortError' });
    assert.deepEqual(seen, [1, 2]);
  });

  test('rejects NaN naming the row and column', () => {
    const X = twoBlobs(2);
    X[3 * 2 + 1] = NaN;
    assert.throws(() => kmeans(X, 8, 2, { k: 2, seed: 1 }), { name: 'RangeError', message: /row 3, column 1 is NaN/ });
  });

  test('rejects k greater than the number of distinct points', () => {
    const X = Float64Array.of(1, 1, 2, 2, 1, 1, 3, 3, 2, 2);
    assert.throws(() => kmeans(X, 5, 2, { k: 4, seed: 1 }), {
      name: 'RangeError',
      message: 'k = 4 exceeds the number of distinct rows (3); choose k <= 3',
    });
    assert.equal(kmeans(X, 5, 2, { k: 3, seed: 1 }).inertia, 0);
  });

  test('rejects k larger than n, k < 1 and bad options', () => {
    assert.throws(() => kmeans(twoBlobs(2), 8, 2, { k: 9, seed: 1 }), /exceeds the number of rows/);
    assert.throws(() => kmeans(twoBlobs(2), 8, 2, { k: 0, seed: 1 }), RangeError);
    assert.throws(() => kmeans(twoBlobs(2), 8, 2, { k: 2, seed: 1, restarts: 0 }), /restarts/);
    assert.throws(() => kmeans(twoBlobs(2), 8, 2, { k: 2, seed: 1, init: new Float64Array(3) }), /init/);
  });

  test('from the same start converges to the same centres and inertia as ml-kmeans', () => {
    const n = 3000;
    const d = 4;
    const k = 5;
    const X = threeBlobs(7, n, d, 1.2);
    const init = kmeansPlusPlus(X, n, d, k, createRng(3));
    // ml-kmeans' tolerance is absolute and its default 100 iterations: run both to a fixed point.
    const ours = kmeans(X, n, d, { k, seed: 1, init, tolerance: 0, maxIterations: 1000 });
    const ref = mlKmeansReference(X, n, d, k, { seed: 1, init, tolerance: 0, maxIterations: 1000 });
    assert.ok(ours.iterations > 2, 'the fixture should need several iterations');
    assert.equal(ours.iterations, ref.iterations);
    assert.ok(Math.abs(ours.inertia - ref.inertia) <= 1e-9 * ref.inertia);
    for (let p = 0; p < k * d; p++) {
      assert.ok(Math.abs(ours.centroids[p]! - ref.centroids[p]!) <= 1e-9 * Math.max(1, Math.abs(ref.centroids[p]!)));
    }
    assert.deepEqual(ours.labels, ref.labels);
  });
});

describe('kmeansPlusPlus', () => {
  test('picks k distinct rows of X, the same ones for the same seed', () => {
    const X = threeBlobs(2, 300, 3, 3);
    const a = kmeansPlusPlus(X, 300, 3, 3, createRng(17));
    const b = kmeansPlusPlus(X, 300, 3, 3, createRng(17));
    assert.ok(bytes(a).equals(bytes(b)));
    const rows = new Set<string>();
    for (let c = 0; c < 3; c++) {
      const centre = Array.from(a.subarray(c * 3, c * 3 + 3));
      let found = false;
      for (let i = 0; i < 300 && !found; i++) found = centre.every((v, j) => v === X[i * 3 + j]);
      assert.ok(found, `centre ${c} is a row of X`);
      rows.add(centre.join());
    }
    assert.equal(rows.size, 3);
  });

  test('spreads the starting centres over well separated blobs', () => {
    const X = twoBlobs(2);
    for (let seed = 0; seed < 20; seed++) {
      const C = kmeansPlusPlus(X, 8, 2, 2, createRng(seed));
      assert.notEqual(C[0]! < 5, C[2]! < 5, `seed ${seed}: one centre in each blob`);
    }
  });
});
