import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { columnMedians, median, prepare } from '../../src/prepare.js';
import { createRng } from '../../src/random.js';
import type { FeatureTable } from '../../src/types.js';

const COLUMNS = ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'];
const FEATURES = [...COLUMNS];

function table(rows: [string, ...number[]][], columns = COLUMNS): FeatureTable {
  return {
    ids: rows.map((r) => r[0]),
    columns: [...columns],
    values: Float64Array.from(rows.flatMap((r) => r.slice(1) as number[])),
  };
}

const mixed = table([
  ['a', 10, 100, 5, 4],
  ['b', 0, NaN, NaN, NaN],
  ['c', 20, NaN, 15, 2],
  ['d', 30, 300, NaN, 5],
  ['e', 40, 200, 25, NaN],
  ['f', NaN, NaN, NaN, NaN],
  ['g', 5, -1, 3, 3],
  ['h', 5, 10, 3, 6],
  ['i', 5, 10, Infinity, 3],
]);

describe('prepare', () => {
  test('puts customers with zero orders in the no-recent-orders group instead of clustering them', () => {
    const p = prepare(mixed, FEATURES);
    assert.deepEqual(Array.from(p.noRecentOrders), [1]);
    assert.ok(!Array.from(p.rows).includes(1));
  });

  test('imputes missing values with the median of the usable rows and flags those rows', () => {
    const p = prepare(mixed, FEATURES);
    // usable rows a, c, d, e; medians: frequency (10,20,30,40) -> 25, amount (100,300,200) -> 200,
    // distance (5,15,25) -> 15, satisfaction (4,2,5) -> 4
    assert.deepEqual(p.medians, { purchase_frequency: 25, avg_order_amount: 200, distance_km: 15, satisfaction: 4 });
    assert.equal(p.n, 4);
    assert.equal(p.d, 4);
    assert.deepEqual(Array.from(p.rows), [0, 2, 3, 4]);
    assert.deepEqual(Array.from(p.X), [10, 100, 5, 4, 20, 200, 15, 2, 30, 300, 15, 5, 40, 200, 25, 4]);
    assert.deepEqual(Array.from(p.imputed), [0, 1, 1, 1]);
  });

  test('rejects rows with every feature missing or an impossible value, naming the id and the field', () => {
    const p = prepare(mixed, FEATURES);
    assert.deepEqual(
      p.rejected.map((r) => [r.id, r.field]),
      [
        ['f', 'purchase_frequency,avg_order_amount,distance_km,satisfaction'],
        ['g', 'avg_order_amount'],
        ['h', 'satisfaction'],
        ['i', 'distance_km'],
      ],
    );
    assert.match(p.rejected[0]!.reason, /customer f: every selected feature is missing/);
    assert.equal(p.rejected[1]!.reason, 'customer g: avg_order_amount is -1, below 0');
    assert.equal(p.rejected[2]!.reason, 'customer h: satisfaction is 6, outside 1..5');
    assert.equal(p.rejected[3]!.reason, 'customer i: distance_km is Infinity');
  });

  test('uses the supplied imputation medians when assigning with a model', () => {
    const p = prepare(mixed, FEATURES, { imputation: { purchase_frequency: 1, avg_order_amount: 2, distance_km: 3, satisfaction: 3.5 } });
    assert.deepEqual(Array.from(p.X), [10, 100, 5, 4, 20, 2, 15, 2, 30, 300, 3, 5, 40, 200, 25, 3.5]);
    assert.deepEqual(p.medians, { purchase_frequency: 1, avg_order_amount: 2, distance_km: 3, satisfaction: 3.5 });
  });

  test('throws when a supplied imputation lacks a selected feature', () => {
    assert.throws(() => prepare(mixed, FEATURES, { imputation: { purchase_frequency: 1 } }), /No imputation median for feature "avg_order_amount"/);
  });

  test('sends zero-order rows to the no-recent-orders group even when frequency is not a clustering feature', () => {
    const p = prepare(mixed, ['distance_km', 'satisfaction']);
    assert.deepEqual(Array.from(p.noRecentOrders), [1]);
    // g is no longer rejected: its negative amount is not used; h and i still are.
    assert.deepEqual(p.rejected.map((r) => r.id), ['f', 'h', 'i']);
    assert.deepEqual(Array.from(p.rows), [0, 2, 3, 4, 6]);
  });

  test('clusters zeros as ordinary values when the table has no purchase_frequency column', () => {
    const u = table([['x', 0, 1], ['y', 4, 2]], ['distance_km', 'satisfaction']);
    const p = prepare(u, ['distance_km', 'satisfaction']);
    assert.equal(p.noRecentOrders.length, 0);
    assert.deepEqual(Array.from(p.X), [0, 1, 4, 2]);
  });

  test('throws on an unknown feature, listing the available columns', () => {
    assert.throws(() => prepare(mixed, ['purchase_frequency', 'nps_score']), {
      name: 'RangeError',
      message: 'Unknown feature "nps_score"; available columns: purchase_frequency, avg_order_amount, distance_km, satisfaction',
    });
  });

  test('throws when no feature is selected or one is selected twice', () => {
    assert.throws(() => prepare(mixed, []), /No features selected/);
    assert.throws(() => prepare(mixed, ['distance_km', 'distance_km']), /selected twice/);
  });

  test('throws when no row is usable, unless allowEmpty is set', () => {
    const t = table([['z', 0, 5, 5, 5], ['w', NaN, NaN, NaN, NaN]]);
    assert.throws(() => prepare(t, FEATURES), /No usable rows to cluster: 2 rows, 1 with no recent orders, 1 rejected/);
    const p = prepare(t, FEATURES, { allowEmpty: true, imputation: { purchase_frequency: 1, avg_order_amount: 1, distance_km: 1, satisfaction: 1 } });
    assert.equal(p.n, 0);
    assert.equal(p.X.length, 0);
  });

  test('throws on a table whose values do not match ids x columns', () => {
    const bad: FeatureTable = { ids: ['a', 'b'], columns: ['distance_km'], values: new Float64Array(3) };
    assert.throws(() => prepare(bad, ['distance_km']), /Malformed table: 2 ids x 1 columns needs 2 values, got 3/);
  });

  test('throws when a feature has no value in any usable row', () => {
    const t = table([['a', 1, NaN], ['b', 2, NaN]], ['purchase_frequency', 'distance_km']);
    assert.throws(() => prepare(t, ['purchase_frequency', 'distance_km']), /Feature "distance_km" has no value in any usable row/);
  });
});

describe('median', () => {
  test('is the middle value, or the mean of the two middle values, ignoring NaN', () => {
    assert.equal(median([3, 1, 2]), 2);
    assert.equal(median([4, 1, 3, 2]), 2.5);
    assert.equal(median([NaN, 7, NaN]), 7);
    assert.ok(Number.isNaN(median([])));
  });
});

describe('columnMedians', () => {
  // The reference: sort the column's values (NaN dropped) and read the middle.
  function sortedMedian(X: Float64Array, n: number, d: number, c: number): number {
    const v = Array.from({ length: n }, (_, i) => X[i * d + c]!).filter((x) => x === x).sort((a, b) => a - b);
    if (v.length === 0) return NaN;
    const h = v.length >> 1;
    return v.length % 2 === 1 ? v[h]! : (v[h - 1]! + v[h]!) / 2;
  }
  const rng = createRng(17);
  const n = 100_001; // above the bracketing threshold
  const columns: [string, (i: number, rows: number) => number][] = [
    ['continuous', () => rng() * 1000],
    ['a few integers (ties at the median)', () => 1 + Math.floor(rng() * 5)],
    ['one value', () => 4],
    ['a third missing', () => (rng() < 0.33 ? NaN : rng() * 10)],
    ['ascending', (i) => i],
    ['descending', (i) => n - i],
    ['two values only', (i) => (i % 2 === 0 ? 1 : 2)],
    // Every row the evenly spaced sample reads is huge: the bracket misses and the fallback answers.
    ['adversarial to the sample', (i, rows) => (Math.floor((Math.ceil((i * 4096) / rows) * rows) / 4096) === i ? 1e9 + i : rng())],
  ];
  for (const [name, value] of columns) {
    test(`is the exact median of a large column: ${name}`, () => {
      for (const rows of [n, n - 1]) {
        const d = 2;
        const X = new Float64Array(rows * d);
        for (let i = 0; i < rows; i++) {
          X[i * d] = rng();
          X[i * d + 1] = value(i, rows);
        }
        assert.deepEqual(columnMedians(X, rows, d), [sortedMedian(X, rows, d, 0), sortedMedian(X, rows, d, 1)], `${rows} rows`);
      }
    });
  }

  test('is the exact median of a small column and NaN of an empty one', () => {
    assert.deepEqual(columnMedians(Float64Array.of(5, 1, NaN, 3, 2, 8), 3, 2), [3.5, 3]);
    assert.deepEqual(columnMedians(Float64Array.of(NaN, 1), 1, 2), [NaN, 1]);
  });
});
