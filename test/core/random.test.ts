import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng, sampleIndices } from '../../src/random.js';

describe('sampleIndices', () => {
  test('draws m distinct indices of 0..n-1, the same ones for the same seed', () => {
    const a = sampleIndices(createRng(11), 1000, 100);
    assert.equal(a.length, 100);
    assert.equal(new Set(a).size, 100);
    for (const i of a) assert.ok(i < 1000);
    assert.deepEqual(sampleIndices(createRng(11), 1000, 100), a);
    assert.notDeepEqual(sampleIndices(createRng(12), 1000, 100), a);
  });

  test('a small sample (kept sparse) is the start of a larger one (a dense shuffle): one algorithm', () => {
    // Forward Fisher-Yates: the first m of a larger sample are the sample of m, draw for draw.
    for (const seed of [1, 2, 3]) {
      assert.deepEqual(sampleIndices(createRng(seed), 1000, 100), sampleIndices(createRng(seed), 1000, 900).slice(0, 100));
    }
  });

  test('m = n is a permutation and m = 0 is empty', () => {
    assert.deepEqual(Array.from(sampleIndices(createRng(3), 50, 50)).sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
    assert.equal(sampleIndices(createRng(3), 50, 0).length, 0);
  });

  test('every index is about equally likely to be drawn', () => {
    // 4,000 samples of 10 of 40: each index is drawn 1,000 times on average (binomial sd ~27).
    const hits = new Array<number>(40).fill(0);
    const rng = createRng(99);
    for (let t = 0; t < 4000; t++) for (const i of sampleIndices(rng, 40, 10)) hits[i]!++;
    for (const h of hits) assert.ok(h > 880 && h < 1120, `drawn ${h} times`);
  });

  test('rejects m outside 0..n and a bad n', () => {
    assert.throws(() => sampleIndices(createRng(1), 5, 6), /m must be an integer in 0\.\.5/);
    assert.throws(() => sampleIndices(createRng(1), 5, -1), RangeError);
    assert.throws(() => sampleIndices(createRng(1), -1, 0), /n must be/);
  });
});
