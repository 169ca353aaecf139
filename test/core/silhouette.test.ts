import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { silhouette } from '../../src/cluster/silhouette.js';
import { createRng } from '../../src/random.js';

function close(actual: number, expected: number): void {
  assert.ok(Math.abs(actual - expected) <= 1e-12, `${actual} vs ${expected}`);
}

describe('silhouette', () => {
  test('matches the hand computation on four points', () => {
    // Clusters {0, 1} and {4, 6} on a line. s = (b - a) / max(a, b):
    // 0: a = 1, b = (4 + 6) / 2 = 5   -> 4/5
    // 1: a = 1, b = (3 + 5) / 2 = 4   -> 3/4
    // 4: a = 2, b = (4 + 3) / 2 = 3.5 -> 3/7
    // 6: a = 2, b = (6 + 5) / 2 = 5.5 -> 7/11
    const r = silhouette(Float64Array.of(0, 1, 4, 6), 4, 1, Int32Array.of(0, 0, 1, 1), 2, { seed: 1 });
    close(r.score, (4 / 5 + 3 / 4 + 3 / 7 + 7 / 11) / 4);
    close(r.perCluster[0]!, (4 / 5 + 3 / 4) / 2);
    close(r.perCluster[1]!, (3 / 7 + 7 / 11) / 2);
    assert.equal(r.sampleSize, 4);
  });

  test('uses Euclidean distance across columns', () => {
    // The same four points rotated into 2-D by a 3-4-5 triangle give the same silhouette.
    const X = Float64Array.of(0, 0, 0.6, 0.8, 2.4, 3.2, 3.6, 4.8);
    const r = silhouette(X, 4, 2, Int32Array.of(0, 0, 1, 1), 2, { seed: 1 });
    close(r.score, (4 / 5 + 3 / 4 + 3 / 7 + 7 / 11) / 4);
  });

  test('members of a singleton cluster score 0, as scikit-learn', () => {
    // 0: a = 1, b = 10 -> 0.9; 1: a = 1, b = 9 -> 8/9; 10 alone -> 0.
    const r = silhouette(Float64Array.of(0, 1, 10), 3, 1, Int32Array.of(0, 0, 1), 2, { seed: 1 });
    close(r.score, (0.9 + 8 / 9 + 0) / 3);
    assert.deepEqual(r.perCluster.map((v) => Math.round(v * 1e12) / 1e12), [Math.round(((0.9 + 8 / 9) / 2) * 1e12) / 1e12, 0]);
  });

  test('is 0 when fewer than two clusters are present', () => {
    const r = silhouette(Float64Array.of(0, 1, 2), 3, 1, Int32Array.of(1, 1, 1), 3, { seed: 1 });
    assert.equal(r.score, 0);
    assert.deepEqual(r.perCluster, [0, 0, 0]);
  });

  test('samples maxSample rows with the seed and is exact when n <= maxSample', () => {
    const rng = createRng(3);
    const n = 200;
    const X = Float64Array.from({ length: n * 2 }, (_, p) => (Math.floor(p / 2) % 2) * 5 + rng());
    const labels = Int32Array.from({ length: n }, (_, i) => i % 2);
    const a = silhouette(X, n, 2, labels, 2, { seed: 7, maxSample: 50 });
    const b = silhouette(X, n, 2, labels, 2, { seed: 7, maxSample: 50 });
    assert.equal(a.sampleSize, 50);
    assert.equal(a.score, b.score);
    const exact = silhouette(X, n, 2, labels, 2, { seed: 7 });
    assert.equal(exact.sampleSize, n);
    assert.equal(silhouette(X, n, 2, labels, 2, { seed: 8 }).score, exact.score);
    assert.ok(Math.abs(a.score - exact.score) < 0.05, `${a.score} near ${exact.score}`);
  });

  test('equals the textbook all-pairs computation for 2 to 8 clusters, 4 columns and others', () => {
    // Reference: every pair of rows in row order, as Rousseeuw defines it (singletons score 0).
    function reference(X: Float64Array, n: number, d: number, labels: Int32Array, k: number): number {
      let total = 0;
      for (let i = 0; i < n; i++) {
        const sums = new Array<number>(k).fill(0);
        const counts = new Array<number>(k).fill(0);
        for (let j = 0; j < n; j++) {
          counts[labels[j]!]!++;
          if (j === i) continue;
          let q = 0;
          for (let c = 0; c < d; c++) q += (X[i * d + c]! - X[j * d + c]!) ** 2;
          sums[labels[j]!]! += Math.sqrt(q);
        }
        const own = labels[i]!;
        if (counts[own]! <= 1) continue;
        const a = sums[own]! / (counts[own]! - 1);
        let b = Infinity;
        for (let c = 0; c < k; c++) if (c !== own && counts[c]! > 0) b = Math.min(b, sums[c]! / counts[c]!);
        total += (b - a) / Math.max(a, b);
      }
      return total / n;
    }
    const rng = createRng(5);
    for (const [d, k] of [[4, 2], [4, 3], [4, 8], [1, 3], [3, 5], [6, 4]] as const) {
      const n = 257;
      const X = Float64Array.from({ length: n * d }, () => rng() * 4);
      // Clusters of unequal sizes in shuffled order, one of them possibly a singleton or empty.
      const labels = Int32Array.from({ length: n }, () => Math.min(k - 1, Math.floor(rng() ** 2 * k)));
      const r = silhouette(X, n, d, labels, k, { seed: 1 });
      assert.ok(Math.abs(r.score - reference(X, n, d, labels, k)) <= 1e-12, `d = ${d}, k = ${k}: ${r.score}`);
    }
  });

  test('rejects labels outside 0..k-1, a label count mismatch and NaN', () => {
    const X = Float64Array.of(0, 1, 2);
    assert.throws(() => silhouette(X, 3, 1, Int32Array.of(0, 1, 2), 2, { seed: 1 }), /row 2 has label 2/);
    assert.throws(() => silhouette(X, 3, 1, Int32Array.of(0, 1), 2, { seed: 1 }), /expected 3 labels/);
    assert.throws(() => silhouette(Float64Array.of(0, NaN, 2), 3, 1, Int32Array.of(0, 1, 1), 2, { seed: 1 }), RangeError);
  });
});
