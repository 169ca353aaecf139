import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { K_SEARCH_SAMPLE, fit } from '../../src/fit.js';
import { STRATEGIES } from '../../src/strategy.js';
import { paperTable } from '../../src/synthetic.js';
import { NO_RECENT_ORDERS } from '../../src/types.js';
import type { Archetype, FeatureTable, FitOptions, FitResult, ProgressEvent } from '../../src/types.js';
import { tableWithEdgeRows } from '../fixtures/edge-rows.js';

const PAPER_SIZES: Record<Archetype, number> = { loyal: 54, profitable: 35, risky: 11 };

function truthCounts(truth: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const t of truth) counts[t] = (counts[t] ?? 0) + 1;
  return counts;
}

/** The acceptance check: loyal / profitable / risky with the paper's technologies, priorities and sizes. */
function assertPaperSegments(result: FitResult, truth: readonly string[], tolerance: number): void {
  const { model } = result;
  assert.equal(model.k, 3);
  assert.deepEqual(model.segments.map((s) => s.id), ['loyal', 'profitable', 'risky']);
  const counts = truthCounts(truth);
  for (const s of model.segments) {
    const a = s.archetype!;
    assert.equal(a, s.id);
    assert.equal(s.strategy.basis, a);
    assert.equal(s.strategy.priority, STRATEGIES[a].priority);
    assert.deepEqual(s.strategy.technologies, STRATEGIES[a].technologies);
    assert.ok(Math.abs(s.size - counts[a]!) <= tolerance, `${a}: ${s.size} customers, truth ${counts[a]}`);
  }
  // Every row is assigned to the archetype it was drawn from, up to the tolerance.
  let wrong = 0;
  result.assignments.forEach((x, i) => {
    if (x.segment !== truth[i]) wrong++;
  });
  assert.ok(wrong <= tolerance, `${wrong} rows in the wrong segment`);
}

describe('fit on the paper data', () => {
  for (const seed of [1, 2, 3]) {
    test(`recovers loyal, profitable and risky with k = 3 on 100 customers (seed ${seed})`, () => {
      const { table, truth } = paperTable({ n: 100, seed });
      assert.deepEqual(truthCounts(truth), PAPER_SIZES);
      assertPaperSegments(fit(table, { k: 3, method: 'kmeans', seed }), truth, 3);
    });

    test(`chooses k = 3 by silhouette and recovers the three archetypes (seed ${seed})`, () => {
      const { table, truth } = paperTable({ n: 100, seed });
      const result = fit(table, { k: 'auto', method: 'kmeans', seed });
      assert.deepEqual(result.model.quality.kSearch!.map((s) => s.k), [2, 3, 4, 5, 6, 7, 8]);
      const best = result.model.quality.kSearch!.reduce((a, b) => (b.silhouette > a.silhouette ? b : a));
      assert.equal(best.k, 3);
      assertPaperSegments(result, truth, 3);
    });
  }

  test('recovers the archetypes on 10,000 customers, with k = 3 and k = auto', () => {
    const { table, truth } = paperTable({ n: 10000, seed: 11 });
    assertPaperSegments(fit(table, { k: 3, method: 'kmeans', seed: 11 }), truth, 30);
    const auto = fit(table, { k: 'auto', method: 'kmeans', seed: 11 });
    assertPaperSegments(auto, truth, 30);
    assert.equal(auto.model.quality.silhouetteSampleSize, 3000);
  });

  test('searches k on a seeded sample of a large table, then fits the chosen k on every row', () => {
    const { table, truth } = paperTable({ n: 60000, seed: 12 });
    const result = fit(table, { k: 'auto', method: 'kmeans', seed: 12, holdout: 0 });
    assert.equal(result.model.quality.kSearchSampleSize, K_SEARCH_SAMPLE);
    assert.equal(result.model.data.clustered, 60000);
    assert.equal(result.model.quality.stability, undefined);
    assertPaperSegments(result, truth, 100);
  });

  test('recovers the archetypes with Ward linkage and reports the dendrogram', () => {
    const { table, truth } = paperTable({ n: 100, seed: 5 });
    const result = fit(table, { k: 3, method: 'ward', seed: 5 });
    assertPaperSegments(result, truth, 3);
    assert.equal(result.model.dendrogram!.leaves, 100);
    assert.equal(result.model.dendrogram!.merges.length, 99);
    assert.equal(result.model.segments[0]!.initialCentroid, undefined);
  });

  test('chooses k = 3 by silhouette with Ward linkage too', () => {
    const { table, truth } = paperTable({ n: 100, seed: 2 });
    assertPaperSegments(fit(table, { k: 'auto', method: 'ward', seed: 2 }), truth, 3);
  });

  test('imputes missing cells with medians, flags those customers and stores the medians in the model', () => {
    const { table, truth } = paperTable({ n: 100, seed: 4 });
    const width = table.columns.length;
    const distance = table.columns.indexOf('distance_km');
    const values = Float64Array.from(table.values);
    for (const r of [3, 30, 60]) values[r * width + distance] = NaN;
    const { model, assignments } = fit({ ...table, values }, { k: 3, method: 'kmeans', seed: 4 });
    assert.equal(model.data.imputed, 3);
    assert.deepEqual(assignments.flatMap((a, i) => (a.imputed ? [i] : [])), [3, 30, 60]);
    assert.deepEqual(Object.keys(model.imputation), ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction']);
    assertPaperSegments({ model, assignments }, truth, 3);
  });

  test('scales CLV with the relationship length option', () => {
    const { table } = paperTable({ n: 100, seed: 1 });
    const three = fit(table, { k: 3, method: 'kmeans', seed: 1 }).model.segments;
    const six = fit(table, { k: 3, method: 'kmeans', seed: 1, relationshipYears: 6 }).model.segments;
    three.forEach((s, i) => assert.ok(Math.abs(six[i]!.kpis.clv - 2 * s.kpis.clv) < 1e-6 * s.kpis.clv));
    assert.ok(three[1]!.kpis.clv > three[0]!.kpis.clv, 'profitable customers are worth more than loyal ones');
    assert.equal(three.reduce((a, s) => a + s.kpis.customerShare, 0), 1);
  });

  test('recovers the archetypes with min-max scaling, storing that scaler', () => {
    const { table, truth } = paperTable({ n: 100, seed: 6 });
    const result = fit(table, { k: 3, method: 'kmeans', seed: 6, scaler: 'minmax' });
    assert.equal(result.model.scaler.kind, 'minmax');
    assertPaperSegments(result, truth, 3);
  });

  test('reports centres, initial centres, quality, stability and rules', () => {
    const { table } = paperTable({ n: 100, seed: 1 });
    const { model } = fit(table, { k: 3, method: 'kmeans', seed: 1 });
    const loyal = model.segments[0]!;
    assert.deepEqual(Object.keys(loyal.centroid), ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction']);
    assert.ok(Math.abs(loyal.centroid.purchase_frequency! - 66.96) < 5);
    assert.ok(Math.abs(loyal.centroid.satisfaction! - 4.31) < 0.3);
    assert.ok(loyal.initialCentroid);
    assert.ok(model.quality.silhouette > 0.6);
    assert.equal(model.quality.silhouetteSampleSize, 100);
    assert.deepEqual(model.quality.stability && [model.quality.stability.trainingSize, model.quality.stability.holdoutSize], [70, 30]);
    assert.ok(model.quality.stability!.ari > 0.9);
    assert.ok(model.quality.stability!.agreement > 0.95);
    assert.deepEqual(model.quality.explanation!.labels, ['loyal', 'profitable', 'risky']);
    for (const s of model.segments) assert.ok(s.rule && s.rule.f1 > 0.9, `${s.id}: ${s.rule?.text}`);
    assert.equal(model.segments.reduce((a, s) => a + s.size, 0), 100);
    assert.equal(model.data.clustered, 100);
    assert.equal(model.createdAt, '1970-01-01T00:00:00.000Z');
  });

  test('gives identical JSON for the same table and options', () => {
    const { table } = paperTable({ n: 300, seed: 9 });
    const options: FitOptions = { k: 'auto', method: 'kmeans', seed: 4, createdAt: '2026-01-02T03:04:05.000Z' };
    const a = JSON.stringify(fit(table, options));
    const b = JSON.stringify(fit(paperTable({ n: 300, seed: 9 }).table, options));
    assert.equal(a, b);
    assert.match(a, /"createdAt":"2026-01-02T03:04:05.000Z"/);
  });

  test('packed assignments hold exactly the assignment objects, rejected and no-recent-order rows included', () => {
    const table = tableWithEdgeRows();
    for (const options of [{ k: 3, method: 'kmeans', seed: 2 }, { k: 'auto', method: 'ward', seed: 3 }] satisfies FitOptions[]) {
      const plain = fit(table, options);
      const { model, assignments, packed } = fit(table, { ...options, packed: true });
      assert.equal(JSON.stringify(model), JSON.stringify(plain.model));
      assert.deepEqual(assignments, []);
      assert.ok(packed);
      const unpacked = Array.from(packed.rows, (row, i) => ({
        id: table.ids[row]!,
        segment: packed.segments[i]! < 0 ? NO_RECENT_ORDERS : model.segments[packed.segments[i]!]!.id,
        distance: packed.distances[i]!,
        imputed: packed.imputed[i] === 1,
      }));
      assert.equal(unpacked.length, 299);
      assert.deepEqual(unpacked, plain.assignments);
      assert.ok(plain.assignments.some((a) => a.segment === NO_RECENT_ORDERS) && plain.assignments.some((a) => a.imputed));
    }
  });

  test('keeps names and colours when re-fitted with the previous model', () => {
    const first = fit(paperTable({ n: 200, seed: 1 }).table, { k: 3, method: 'kmeans', seed: 1 }).model;
    const renamed = { ...first, segments: first.segments.map((s) => ({ ...s, label: `My ${s.id}`, color: '#000000' })) };
    const second = fit(paperTable({ n: 200, seed: 2 }).table, { k: 3, method: 'kmeans', seed: 2, previous: renamed }).model;
    assert.deepEqual(second.segments.map((s) => [s.id, s.label, s.color]), [
      ['loyal', 'My loyal', '#000000'],
      ['profitable', 'My profitable', '#000000'],
      ['risky', 'My risky', '#000000'],
    ]);
  });
});

describe('fit on hand-made data', () => {
  // Distances 1, 2, 3 and 101, 102, 103 km; mean 52, population sd sqrt(15004 / 6).
  const near: FeatureTable = {
    ids: ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'],
    columns: ['purchase_frequency', 'distance_km'],
    values: Float64Array.from([5, 1, 5, 2, 5, 3, 5, 101, 5, 102, 5, 103, 0, 50, 5, -4]),
  };

  test('finds the two groups with centres in original units and inertia in standard units', () => {
    const { model, assignments } = fit(near, { k: 2, method: 'kmeans', seed: 1, features: ['distance_km'] });
    const byId = Object.fromEntries(model.segments.map((s) => [s.id, s]));
    assert.deepEqual(Object.keys(byId).sort(), ['far', 'near']);
    assert.ok(Math.abs(byId.near!.centroid.distance_km! - 2) < 1e-12);
    assert.ok(Math.abs(byId.far!.centroid.distance_km! - 102) < 1e-12);
    assert.deepEqual([byId.near!.size, byId.far!.size], [3, 3]);
    // within-segment sum of squares 4 km^2, over the variance 15004 / 6
    assert.ok(Math.abs(model.quality.inertia - 4 / (15004 / 6)) < 1e-12);
    assert.equal(byId.near!.why, '2 km from the warehouse.');
    assert.equal(byId.near!.rule!.text, 'distance_km <= 50');
    assert.deepEqual(
      assignments.map((a) => [a.id, a.segment]),
      [['a', 'near'], ['b', 'near'], ['c', 'near'], ['d', 'far'], ['e', 'far'], ['f', 'far'], ['g', NO_RECENT_ORDERS]],
    );
    assert.ok(Number.isNaN(assignments[6]!.distance));
    assert.deepEqual(model.data, {
      rows: 8,
      clustered: 6,
      imputed: 0,
      noRecentOrders: 1,
      rejected: [{ id: 'h', field: 'distance_km', reason: 'customer h: distance_km is -4, below 0' }],
    });
  });

  test('fits a single segment when k = 1', () => {
    const { model } = fit(near, { k: 1, method: 'kmeans', seed: 1, features: ['distance_km'] });
    assert.equal(model.segments.length, 1);
    assert.equal(model.quality.silhouette, 0);
    assert.equal(model.segments[0]!.rule!.text, 'all customers');
  });

  test('reports progress by stage and stops when cancelled', () => {
    const events: ProgressEvent[] = [];
    fit(near, { k: 2, method: 'kmeans', seed: 1, features: ['distance_km'], onProgress: (e) => events.push(e) });
    assert.deepEqual(events.map((e) => e.stage), ['prepare', 'scale', 'cluster', 'name', 'quality', 'kpis', 'explain', 'stability', 'model', 'done']);
    assert.ok(events.every((e, i) => i === 0 || e.fraction >= events[i - 1]!.fraction));

    const signal = { aborted: false };
    assert.throws(
      () => fit(near, { k: 2, method: 'kmeans', seed: 1, features: ['distance_km'], signal, onProgress: (e) => { if (e.stage === 'scale') signal.aborted = true; } }),
      { name: 'AbortError' },
    );
  });
});

describe('fit rejects bad input', () => {
  const { table } = paperTable({ n: 20, seed: 1 });
  const dup: FeatureTable = { ids: ['a', 'b', 'c'], columns: ['distance_km'], values: Float64Array.from([5, 5, 7]) };

  test('k larger than the distinct usable rows, naming both numbers', () => {
    assert.throws(() => fit(dup, { k: 3, method: 'kmeans', seed: 1, features: ['distance_km'] }), {
      name: 'RangeError',
      message: 'k = 3 is larger than the number of distinct usable rows (2); choose k <= 2',
    });
  });

  test('k = auto with a single distinct row', () => {
    const same: FeatureTable = { ids: ['a', 'b'], columns: ['distance_km'], values: Float64Array.from([5, 5]) };
    assert.throws(() => fit(same, { k: 'auto', method: 'kmeans', seed: 1, features: ['distance_km'] }), /needs at least 2 distinct usable rows, found 1/);
  });

  test('k below 1 or not an integer', () => {
    assert.throws(() => fit(table, { k: 0, method: 'kmeans', seed: 1 }), /k must be a positive integer or 'auto', got 0/);
    assert.throws(() => fit(table, { k: 2.5, method: 'kmeans', seed: 1 }), /got 2.5/);
  });

  test('unknown features, listing the available columns', () => {
    assert.throws(() => fit(table, { k: 2, method: 'kmeans', seed: 1, features: ['distance_km', 'age'] }), /Unknown feature "age"; available columns: purchase_frequency, avg_order_amount/);
  });

  test('unknown method, scaler or holdout fraction', () => {
    assert.throws(() => fit(table, { k: 2, method: 'dbscan' as 'kmeans', seed: 1 }), /method must be 'kmeans' or 'ward'/);
    assert.throws(() => fit(table, { k: 2, method: 'kmeans', seed: 1, scaler: 'robust' as 'zscore' }), /scaler must be/);
    assert.throws(() => fit(table, { k: 2, method: 'kmeans', seed: 1, holdout: 1 }), /holdout must be in \[0, 1\)/);
  });

  test('a table with no usable rows', () => {
    const none: FeatureTable = { ids: ['a'], columns: ['purchase_frequency'], values: Float64Array.from([0]) };
    assert.throws(() => fit(none, { k: 1, method: 'kmeans', seed: 1, features: ['purchase_frequency'] }), /No usable rows/);
  });
});
