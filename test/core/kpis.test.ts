import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { computeKpis, customerLifetimeValue, KPI_OTHER_GROUP, KPI_UNASSIGNED, netPromoterScore } from '../../src/kpis.js';
import { NO_RECENT_ORDERS } from '../../src/types.js';
import type { FeatureTable } from '../../src/types.js';

const table: FeatureTable = {
  ids: ['r0', 'r1', 'r2', 'r3', 'r4', 'r5'],
  columns: ['purchase_frequency', 'avg_order_amount', 'monetary_total'],
  values: Float64Array.from([
    10, 20, NaN, // revenue 200, CLV 20 x 10 x 3 = 600
    4, 50, NaN, // revenue 200, CLV 50 x 4 x 3 = 600
    2, NaN, 90, // revenue from monetary_total 90, no CLV (no amount)
    0, NaN, NaN, // no recent orders: revenue 0
    5, 100, NaN, // revenue 500, CLV 1500
    100, 100, NaN, // rejected: not counted anywhere
  ]),
  nps: Float64Array.from([10, 6, 8, 9, NaN, 10]),
};
const segmentOfRow = ['a', 'a', 'a', NO_RECENT_ORDERS, 'b', null];

describe('computeKpis', () => {
  test('computes customers, shares, revenue, CLV and NPS per segment by hand-checked formulas', () => {
    const k = computeKpis(table, segmentOfRow, ['a', 'b']);
    assert.deepEqual(k.a, {
      customers: 3,
      customerShare: 3 / 5,
      revenue: 490,
      revenueShare: 490 / 990,
      clv: 600,
      nps: 0, // one promoter (10), one passive (8), one detractor (6)
      npsResponses: 3,
    });
    assert.deepEqual(k.b, { customers: 1, customerShare: 1 / 5, revenue: 500, revenueShare: 500 / 990, clv: 1500, nps: null, npsResponses: 0 });
  });

  test('scales frequency to a year and multiplies by the relationship length', () => {
    const k = computeKpis(table, segmentOfRow, ['b'], { relationshipYears: 2, windowMonths: 6 });
    assert.equal(k.b!.clv, 100 * 5 * (12 / 6) * 2);
  });

  test('reports the no-recent-orders group when asked, with zero revenue and CLV', () => {
    const k = computeKpis(table, segmentOfRow, [NO_RECENT_ORDERS]);
    assert.deepEqual(k[NO_RECENT_ORDERS], { customers: 1, customerShare: 0.2, revenue: 0, revenueShare: 0, clv: 0, nps: 100, npsResponses: 1 });
  });

  test('segments coded as indexes (what fit passes) give the same KPIs as segment ids', () => {
    const coded = Int16Array.of(0, 0, 0, KPI_OTHER_GROUP, 1, KPI_UNASSIGNED);
    assert.deepEqual(computeKpis(table, coded, ['a', 'b']), computeKpis(table, segmentOfRow, ['a', 'b']));
    // Dropping the no-recent-orders row from "assigned" changes every share: the code is read, not ignored.
    const unassigned = Int16Array.of(0, 0, 0, KPI_UNASSIGNED, 1, KPI_UNASSIGNED);
    assert.equal(computeKpis(table, unassigned, ['a', 'b']).a!.customerShare, 3 / 4);
  });

  test('rejects coded segments of the wrong length or with an unknown code', () => {
    assert.throws(() => computeKpis(table, Int16Array.of(0, 0, 0), ['a', 'b']), /3 codes for 6 rows/);
    assert.throws(() => computeKpis(table, Int16Array.of(0, 0, 0, 2, 1, KPI_UNASSIGNED), ['a', 'b']), /code 2/);
  });

  test('rejects a negative relationship length or a non-positive window', () => {
    assert.throws(() => computeKpis(table, segmentOfRow, ['a'], { relationshipYears: -1 }), /relationshipYears/);
    assert.throws(() => computeKpis(table, segmentOfRow, ['a'], { windowMonths: 0 }), /windowMonths/);
  });
});

describe('netPromoterScore', () => {
  test('is % promoters (9-10) minus % detractors (0-6), ignoring invalid ratings', () => {
    assert.deepEqual(netPromoterScore([9, 9, 9, 3]), { nps: 50, responses: 4 });
    assert.deepEqual(netPromoterScore([10, 9, 8, 7, 6, 0, NaN, 11, -1]), { nps: 0, responses: 6 });
    assert.deepEqual(netPromoterScore([0, 1]), { nps: -100, responses: 2 });
  });

  test('is null without ratings', () => {
    assert.deepEqual(netPromoterScore([]), { nps: null, responses: 0 });
  });
});

describe('customerLifetimeValue', () => {
  test('is average order x orders per year x years', () => {
    assert.equal(customerLifetimeValue(20, 12), 20 * 12 * 3);
    assert.equal(customerLifetimeValue(20, 6, 5, 6), 20 * 12 * 5);
  });
});
