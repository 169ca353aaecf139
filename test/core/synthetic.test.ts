import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { PAPER_CLUSTERS, paperCsv, paperSizes, paperTable } from '../../src/synthetic.js';
import { ALL_FEATURES } from '../../src/types.js';

function columnMean(values: Float64Array, width: number, col: number, rows: number[]): number {
  let s = 0;
  for (const r of rows) s += values[r * width + col]!;
  return s / rows.length;
}

describe('paperSizes', () => {
  test('gives the paper sizes 54 / 35 / 11 for 100 customers', () => {
    assert.deepEqual(paperSizes(100), [54, 35, 11]);
  });
  test('sums to n when the shares do not divide evenly', () => {
    for (const n of [1, 2, 3, 7, 13, 999, 1001]) {
      assert.equal(paperSizes(n).reduce((a, b) => a + b, 0), n, `n = ${n}`);
    }
    // 0.54 * 7 = 3.78, 0.35 * 7 = 2.45, 0.11 * 7 = 0.77 -> floors 3, 2, 0, remainders go to .78 then .77
    assert.deepEqual(paperSizes(7), [4, 2, 1]);
  });
});

describe('paperTable', () => {
  test('is deterministic for a seed and differs across seeds', () => {
    const a = paperTable({ n: 50, seed: 7 });
    const b = paperTable({ n: 50, seed: 7 });
    const c = paperTable({ n: 50, seed: 8 });
    assert.deepEqual(Array.from(a.table.values), Array.from(b.table.values));
    assert.deepEqual(a.truth, b.truth);
    assert.notDeepEqual(Array.from(a.table.values), Array.from(c.table.values));
  });

  test('has ALL_FEATURES columns, unique ids and exactly proportional truth labels', () => {
    const { table, truth } = paperTable({ n: 100, seed: 1 });
    assert.deepEqual(table.columns, [...ALL_FEATURES]);
    assert.equal(table.values.length, 100 * ALL_FEATURES.length);
    assert.equal(new Set(table.ids).size, 100);
    assert.equal(table.ids[0], 'c001');
    assert.equal(truth.filter((t) => t === 'loyal').length, 54);
    assert.equal(truth.filter((t) => t === 'profitable').length, 35);
    assert.equal(truth.filter((t) => t === 'risky').length, 11);
  });

  test('respects the value domains (integer frequency >= 1, satisfaction 1..5 in tenths, distance >= 1)', () => {
    const { table } = paperTable({ n: 2000, seed: 3, noise: 0.5 });
    const w = table.columns.length;
    for (let r = 0; r < table.ids.length; r++) {
      const f = table.values[r * w]!;
      const d = table.values[r * w + 2]!;
      const s = table.values[r * w + 3]!;
      assert.ok(Number.isInteger(f) && f >= 1, `frequency ${f}`);
      assert.ok(d >= 1, `distance ${d}`);
      assert.ok(s >= 1 && s <= 5, `satisfaction ${s}`);
      assert.ok(Math.abs(s * 10 - Math.round(s * 10)) < 1e-9, `satisfaction ${s} has one decimal`);
      const nps = table.nps![r]!;
      assert.ok(Number.isInteger(nps) && nps >= 0 && nps <= 10);
    }
  });

  test('draws each cluster around its published centre (within 5% for 3000 rows)', () => {
    const { table, truth } = paperTable({ n: 3000, seed: 11 });
    const w = table.columns.length;
    for (const c of PAPER_CLUSTERS) {
      const rows = truth.flatMap((t, i) => (t === c.archetype ? [i] : []));
      const keys = ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'] as const;
      keys.forEach((key, col) => {
        const mean = columnMean(table.values, w, col, rows);
        assert.ok(Math.abs(mean - c[key]) / c[key] < 0.05, `${c.archetype} ${key}: ${mean} vs ${c[key]}`);
      });
    }
  });

  test('rejects a non-positive n', () => {
    assert.throws(() => paperTable({ n: 0, seed: 1 }), RangeError);
  });
});

describe('paperCsv', () => {
  test('writes a header, one line per customer and the same numbers as paperTable', () => {
    const csv = paperCsv(10, 5);
    const lines = csv.trimEnd().split('\n');
    assert.equal(lines[0], 'id,' + ALL_FEATURES.join(',') + ',nps');
    assert.equal(lines.length, 11);
    const { table } = paperTable({ n: 10, seed: 5 });
    const first = lines[1]!.split(',');
    assert.equal(first[0], table.ids[0]);
    assert.equal(Number(first[1]), table.values[0]);
    assert.equal(Number(first[4]), table.values[3]);
    assert.equal(csv, paperCsv(10, 5));
  });
});
