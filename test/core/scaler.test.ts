import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyScaler, fitScaler, unscaleRow } from '../../src/scaler.js';

// Column 0 is the textbook sample 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population sd 2. Column 1 is constant.
const COL0 = [2, 4, 4, 4, 5, 5, 7, 9];
const X = Float64Array.from(COL0.flatMap((v) => [v, 7]));
const n = 8;
const d = 2;

describe('fitScaler', () => {
  test('z-score uses the mean and the population standard deviation', () => {
    const s = fitScaler(X, n, d, 'zscore');
    assert.deepEqual(s, { kind: 'zscore', offset: [5, 7], scale: [2, 1] });
  });

  test('min-max uses the minimum and the range', () => {
    const s = fitScaler(X, n, d, 'minmax');
    assert.deepEqual(s, { kind: 'minmax', offset: [2, 7], scale: [7, 1] });
  });

  test('a constant column gets scale 1 and maps to 0 instead of dividing by zero', () => {
    const z = applyScaler(fitScaler(X, n, d, 'zscore'), X, n, d);
    for (let i = 0; i < n; i++) assert.equal(z[i * d + 1], 0);
  });

  test('rejects a NaN naming its row and column', () => {
    const bad = Float64Array.from(X);
    bad[2 * d + 1] = NaN;
    assert.throws(() => fitScaler(bad, n, d, 'zscore'), { name: 'RangeError', message: /row 2, column 1 is NaN/ });
  });

  test('rejects a matrix whose length does not match n x d', () => {
    assert.throws(() => fitScaler(X, n, 3, 'zscore'), RangeError);
  });

  test('rejects an empty table', () => {
    assert.throws(() => fitScaler(new Float64Array(0), 0, 2, 'zscore'), /at least one row/);
  });
});

describe('applyScaler', () => {
  test('standardises each value and returns a new array', () => {
    const copy = Float64Array.from(X);
    const z = applyScaler(fitScaler(X, n, d, 'zscore'), X, n, d);
    assert.notEqual(z, X);
    assert.deepEqual(X, copy);
    assert.deepEqual(
      Array.from({ length: n }, (_, i) => z[i * d]),
      [-1.5, -0.5, -0.5, -0.5, 0, 0, 1, 2],
    );
  });

  test('min-max maps the column onto 0..1', () => {
    const z = applyScaler(fitScaler(X, n, d, 'minmax'), X, n, d);
    assert.equal(z[0], 0);
    assert.equal(z[7 * d], 1);
    assert.equal(z[4 * d], 3 / 7);
  });

  test('rejects a scaler fitted on a different number of columns', () => {
    const s = fitScaler(X, n, d, 'zscore');
    assert.throws(() => applyScaler(s, new Float64Array(3), 1, 3), /2 offsets/);
  });
});

describe('unscaleRow', () => {
  test('maps a standardised row back to original units', () => {
    const s = fitScaler(X, n, d, 'zscore');
    assert.deepEqual(unscaleRow(s, [-1.5, 0]), [2, 7]);
    assert.deepEqual(unscaleRow(s, Float64Array.of(2, 3)), [9, 10]);
  });

  test('inverts applyScaler for min-max', () => {
    const s = fitScaler(X, n, d, 'minmax');
    const z = applyScaler(s, X, n, d);
    for (let i = 0; i < n; i++) {
      const back = unscaleRow(s, z.subarray(i * d, i * d + d));
      assert.ok(Math.abs(back[0]! - COL0[i]!) < 1e-12);
      assert.equal(back[1], 7);
    }
  });
});
