import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { adjustedRandIndex, hungarian, matchCentroids, matchLabels } from '../../src/cluster/agreement.js';
import { createRng } from '../../src/random.js';

const L = (...v: number[]): Int32Array => Int32Array.from(v);

describe('adjustedRandIndex', () => {
  test("returns scikit-learn's documented values", () => {
    assert.equal(adjustedRandIndex(L(0, 0, 1, 1), L(0, 0, 1, 1)), 1);
    assert.equal(adjustedRandIndex(L(0, 0, 1, 1), L(1, 1, 0, 0)), 1);
    assert.equal(adjustedRandIndex(L(0, 0, 1, 2), L(0, 0, 1, 1)), 0.5714285714285715);
    assert.equal(adjustedRandIndex(L(0, 0, 1, 1), L(0, 0, 1, 2)), 0.5714285714285715);
    assert.equal(adjustedRandIndex(L(0, 0, 0, 0), L(0, 1, 2, 3)), 0);
    assert.ok(Math.abs(adjustedRandIndex(L(0, 0, 1, 1), L(0, 1, 0, 1)) - -0.5) < 1e-15);
  });

  test('is 1 for the trivial partitions and for empty input', () => {
    assert.equal(adjustedRandIndex(L(3, 3, 3), L(7, 7, 7)), 1);
    assert.equal(adjustedRandIndex(L(0, 1, 2), L(2, 0, 1)), 1);
    assert.equal(adjustedRandIndex(L(), L()), 1);
  });

  test('matches the Hubert-Arabie formula by hand on a 6-row example', () => {
    // a = [0,0,0,1,1,1], b = [0,0,1,1,2,2]: contingency [[2,1,0],[0,1,2]].
    // index = C(2,2)+C(2,2) = 2; rows: 2 C(3,2) = 6; cols: 3 C(2,2) = 3; expected = 6*3/15 = 1.2;
    // max = (6+3)/2 = 4.5; ARI = (2 - 1.2) / (4.5 - 1.2) = 0.8 / 3.3.
    const ari = adjustedRandIndex(L(0, 0, 0, 1, 1, 1), L(0, 0, 1, 1, 2, 2));
    assert.ok(Math.abs(ari - 0.8 / 3.3) < 1e-15, `${ari}`);
  });

  test('rejects labelings of different lengths', () => {
    assert.throws(() => adjustedRandIndex(L(0, 1), L(0)), RangeError);
  });
});

describe('matchLabels', () => {
  test('finds the renaming of identical partitions', () => {
    const r = matchLabels(L(0, 0, 1, 1, 2, 2), L(2, 2, 0, 0, 1, 1), 3);
    assert.deepEqual(Array.from(r.mapping), [1, 2, 0]);
    assert.equal(r.agreement, 1);
  });

  test('maximises the rows that agree', () => {
    // Contingency (b -> a): b1 = {a0: 2}, b0 = {a0: 1, a1: 2}, b2 = {a2: 1}. Best: b0->a1, b1->a0, b2->a2 = 5/6.
    const r = matchLabels(L(0, 0, 0, 1, 1, 2), L(1, 1, 0, 0, 0, 2), 3);
    assert.deepEqual(Array.from(r.mapping), [1, 0, 2]);
    assert.equal(r.agreement, 5 / 6);
  });

  test('rejects labels outside 0..k-1', () => {
    assert.throws(() => matchLabels(L(0, 3), L(0, 1), 3), /first labeling has 3/);
    assert.throws(() => matchLabels(L(0, 1), L(0, -1), 3), /second labeling has -1/);
  });
});

describe('hungarian', () => {
  function permutations(k: number): number[][] {
    if (k === 0) return [[]];
    return permutations(k - 1).flatMap((p) => Array.from({ length: k }, (_, i) => [...p.slice(0, i), k - 1, ...p.slice(i)]));
  }

  test('finds the minimum total cost found by exhaustive search', () => {
    const rng = createRng(12);
    for (let trial = 0; trial < 20; trial++) {
      const k = 2 + (trial % 5);
      const cost = Float64Array.from({ length: k * k }, () => Math.floor(rng() * 20));
      const best = Math.min(...permutations(k).map((p) => p.reduce((s, col, row) => s + cost[row * k + col]!, 0)));
      const assignment = hungarian(cost, k, k);
      assert.deepEqual([...assignment].sort(), Array.from({ length: k }, (_, i) => i));
      assert.equal(assignment.reduce((s, col, row) => s + cost[row * k + col]!, 0), best);
    }
  });
});

describe('matchCentroids', () => {
  test('pairs centres minimising the total squared distance, not greedily', () => {
    // Greedy would give next 0 (1.1) to prev 1 (2): 0.81 + 9 = 9.81; optimal 1.21 + 1 = 2.21.
    assert.deepEqual(Array.from(matchCentroids(Float64Array.of(0, 2), Float64Array.of(1.1, 3), 2, 2, 1)), [0, 1]);
  });

  test('maps each new centre to the previous one it replaces', () => {
    const prev = Float64Array.of(0, 0, 10, 0, 0, 10);
    const next = Float64Array.of(0.5, 10, 9, 1, 0, -1);
    assert.deepEqual(Array.from(matchCentroids(prev, next, 3, 3, 2)), [2, 1, 0]);
  });

  test('leaves extra new centres unmatched (-1) and handles fewer new centres', () => {
    const prev = Float64Array.of(0, 0, 10, 10);
    assert.deepEqual(Array.from(matchCentroids(prev, Float64Array.of(10, 9, 5, 5, 0, 1), 2, 3, 2)), [1, -1, 0]);
    assert.deepEqual(Array.from(matchCentroids(Float64Array.of(0, 0, 10, 0, 0, 10), Float64Array.of(0, 9), 3, 1, 2)), [2]);
    assert.deepEqual(Array.from(matchCentroids(new Float64Array(0), Float64Array.of(1, 2), 0, 1, 2)), [-1]);
  });

  test('rejects centres of the wrong shape', () => {
    assert.throws(() => matchCentroids(Float64Array.of(0, 0, 1), Float64Array.of(0, 0), 2, 1, 2), RangeError);
  });
});
