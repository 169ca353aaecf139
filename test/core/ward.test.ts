import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cutTree, ward, wardLinkage } from '../../src/cluster/ward.js';
import { createRng } from '../../src/random.js';

const FIVE = Float64Array.of(0, 1, 5, 6, 20);

/** scipy's Ward height for merging clusters A and B: sqrt(2|A||B| / (|A| + |B|)) * ||cA - cB||. */
function wardHeight(sizeA: number, centreA: number[], sizeB: number, centreB: number[]): number {
  const dist = Math.sqrt(centreA.reduce((s, v, j) => s + (v - centreB[j]!) ** 2, 0));
  return Math.sqrt((2 * sizeA * sizeB) / (sizeA + sizeB)) * dist;
}

function close(actual: number, expected: number, rel = 1e-12): void {
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${actual} vs ${expected}`);
}

describe('wardLinkage', () => {
  test('builds the hand-computed tree of 0, 1, 5, 6, 20 in scipy linkage form', () => {
    // {0,1} and {5,6} merge at their distance 1 (ids 5 and 6); then {0,1} (centre 0.5) with {5,6}
    // (centre 5.5): sqrt(2*2*2/4) * 5 = 5 sqrt 2; then {0,1,5,6} (centre 3) with {20}: sqrt(2*4*1/5) * 17.
    const merges = wardLinkage(FIVE, 5, 1);
    assert.deepEqual(
      merges.map(({ a, b, size }) => [a, b, size]),
      [[0, 1, 2], [2, 3, 2], [5, 6, 4], [4, 7, 5]],
    );
    const expected = [1, 1, 5 * Math.SQRT2, 17 * Math.sqrt(1.6)];
    merges.forEach((m, i) => close(m.height, expected[i]!));
    close(expected[2]!, wardHeight(2, [0.5], 2, [5.5]));
    close(expected[3]!, wardHeight(4, [3], 1, [20]));
  });

  test('every height equals the Ward distance between the merged clusters, in non-decreasing order', () => {
    const rng = createRng(21);
    const m = 60;
    const d = 3;
    const Y = Float64Array.from({ length: m * d }, () => rng() * 10);
    const merges = wardLinkage(Y, m, d);
    assert.equal(merges.length, m - 1);
    const members: number[][] = Array.from({ length: m }, (_, i) => [i]);
    const centre = (rows: number[]): number[] =>
      Array.from({ length: d }, (_, j) => rows.reduce((s, r) => s + Y[r * d + j]!, 0) / rows.length);
    merges.forEach((mg, i) => {
      const A = members[mg.a]!;
      const B = members[mg.b]!;
      assert.ok(mg.a < mg.b);
      close(mg.height, wardHeight(A.length, centre(A), B.length, centre(B)), 1e-9);
      if (i > 0) assert.ok(mg.height >= merges[i - 1]!.height);
      members.push([...A, ...B]);
      assert.equal(mg.size, A.length + B.length);
    });
  });

  test('each step merges the pair with the smallest Ward distance (greedy reference)', () => {
    const rng = createRng(4);
    const m = 25;
    const Y = Float64Array.from({ length: m * 2 }, () => rng());
    const clusters: number[][] = Array.from({ length: m }, (_, i) => [i]);
    const centre = (rows: number[]): number[] =>
      [0, 1].map((j) => rows.reduce((s, r) => s + Y[r * 2 + j]!, 0) / rows.length);
    const greedy: number[] = [];
    while (clusters.length > 1) {
      let best = Infinity;
      let bi = 0;
      let bj = 1;
      for (let i = 0; i < clusters.length; i++) {
        for (let j = i + 1; j < clusters.length; j++) {
          const h = wardHeight(clusters[i]!.length, centre(clusters[i]!), clusters[j]!.length, centre(clusters[j]!));
          if (h < best) [best, bi, bj] = [h, i, j];
        }
      }
      greedy.push(best);
      const merged = [...clusters[bi]!, ...clusters[bj]!];
      clusters.splice(bj, 1);
      clusters.splice(bi, 1, merged);
    }
    wardLinkage(Y, m, 2).forEach((mg, i) => close(mg.height, greedy[i]!, 1e-9));
  });
});

describe('cutTree', () => {
  const merges = wardLinkage(FIVE, 5, 1);

  test('cuts into k clusters numbered by their first leaf', () => {
    assert.deepEqual(Array.from(cutTree(merges, 5, 1)), [0, 0, 0, 0, 0]);
    assert.deepEqual(Array.from(cutTree(merges, 5, 2)), [0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(cutTree(merges, 5, 3)), [0, 0, 1, 1, 2]);
    assert.deepEqual(Array.from(cutTree(merges, 5, 5)), [0, 1, 2, 3, 4]);
  });

  test('rejects a k outside 1..leaves and a malformed tree', () => {
    assert.throws(() => cutTree(merges, 5, 6), RangeError);
    assert.throws(() => cutTree(merges, 5, 0), RangeError);
    assert.throws(() => cutTree(merges.slice(1), 5, 2), /4 merges/);
    assert.throws(() => cutTree([{ a: 0, b: 9, height: 1, size: 2 }], 2, 1), /not a valid linkage step/);
  });
});

describe('ward', () => {
  test('clusters the five points: centroids are the means per label', () => {
    const r = ward(FIVE, 5, 1, { k: 2, seed: 1 });
    assert.deepEqual(Array.from(r.labels), [0, 0, 0, 0, 1]);
    assert.deepEqual(Array.from(r.centroids), [3, 20]);
    assert.deepEqual(Array.from(r.sizes), [4, 1]);
    assert.deepEqual(Array.from(r.sampleIndices), [0, 1, 2, 3, 4]);
    assert.equal(r.merges.length, 4);
  });

  test('above maxPoints clusters a seeded sample and assigns the rest to the nearest centre', () => {
    const rng = createRng(8);
    const n = 300;
    const X = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) {
      X[2 * i] = (i % 3) * 10 + rng();
      X[2 * i + 1] = rng();
    }
    const r = ward(X, n, 2, { k: 3, seed: 5, maxPoints: 40 });
    assert.equal(r.sampleIndices.length, 40);
    assert.equal(r.merges.length, 39);
    for (let s = 1; s < 40; s++) assert.ok(r.sampleIndices[s]! > r.sampleIndices[s - 1]!);
    // Three well separated groups: every row lands with its group.
    for (let i = 0; i < n; i++) assert.equal(r.labels[i], r.labels[i % 3]);
    assert.deepEqual(Array.from(r.sizes), [100, 100, 100]);
    for (let c = 0; c < 3; c++) {
      let sum = 0;
      for (let i = 0; i < n; i++) if (r.labels[i] === c) sum += X[2 * i]!;
      close(r.centroids[2 * c]!, sum / r.sizes[c]!, 1e-12);
    }
    const again = ward(X, n, 2, { k: 3, seed: 5, maxPoints: 40 });
    assert.deepEqual(again.sampleIndices, r.sampleIndices);
    assert.deepEqual(again.labels, r.labels);
    const other = ward(X, n, 2, { k: 3, seed: 6, maxPoints: 40 });
    assert.notDeepEqual(other.sampleIndices, r.sampleIndices);
  });

  test('rejects NaN, k > n and maxPoints < k', () => {
    assert.throws(() => ward(Float64Array.of(0, NaN, 2), 3, 1, { k: 2, seed: 1 }), /row 1, column 0 is NaN/);
    assert.throws(() => ward(FIVE, 5, 1, { k: 6, seed: 1 }), RangeError);
    assert.throws(() => ward(FIVE, 5, 1, { k: 3, seed: 1, maxPoints: 2 }), /maxPoints/);
  });
});
