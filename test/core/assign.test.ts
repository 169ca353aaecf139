import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assign, assignWithReport, ModelError, parseModel } from '../../src/assign.js';
import { fit } from '../../src/fit.js';
import { paperTable } from '../../src/synthetic.js';
import { NO_RECENT_ORDERS } from '../../src/types.js';
import type { FeatureTable, Model } from '../../src/types.js';

const { table: training } = paperTable({ n: 200, seed: 8 });
const fitted = fit(training, { k: 3, method: 'kmeans', seed: 8 });
const model = fitted.model;
const COLUMNS = ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'];

function newCustomers(rows: [string, ...number[]][]): FeatureTable {
  return { ids: rows.map((r) => r[0]), columns: [...COLUMNS], values: Float64Array.from(rows.flatMap((r) => r.slice(1) as number[])) };
}

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

describe('assign', () => {
  test("reproduces fit's segments and distances on the training customers", () => {
    assert.deepEqual(assign(model, training), fitted.assignments);
  });

  test('gives the same answer from a model that went through JSON', () => {
    assert.deepEqual(assign(parseModel(clone(model)), training), fitted.assignments);
  });

  test('assigns new customers to the nearest centre, with the same policy as fit', () => {
    const table = newCustomers([
      ['near-regular', 70, 15, 20, 4.5],
      ['big-spender', 30, 360, 35, 3.2],
      ['far-away', 9, 60, 340, 1.4],
      ['no-orders', 0, NaN, NaN, NaN],
      ['no-distance', 68, 16, NaN, 4.4],
      ['broken', 12, 30, 20, 9],
    ]);
    const report = assignWithReport(model, table);
    assert.deepEqual(
      report.assignments.map((a) => [a.id, a.segment, a.imputed]),
      [
        ['near-regular', 'loyal', false],
        ['big-spender', 'profitable', false],
        ['far-away', 'risky', false],
        ['no-orders', NO_RECENT_ORDERS, false],
        ['no-distance', 'loyal', true],
      ],
    );
    assert.ok(Number.isNaN(report.assignments[3]!.distance));
    assert.deepEqual(report.rejected, [{ id: 'broken', field: 'satisfaction', reason: 'customer broken: satisfaction is 9, outside 1..5' }]);
    assert.equal(report.noRecentOrders, 1);
    assert.equal(report.imputed, 1);
  });

  test('measures the distance in standard units from the stored scaler and centre', () => {
    const loyal = model.segments[0]!;
    const table = newCustomers([['at-centre', ...COLUMNS.map((f) => loyal.centroid[f]!)] as [string, ...number[]]]);
    const [a] = assign(model, table);
    assert.equal(a!.segment, 'loyal');
    assert.ok(a!.distance < 1e-9);
  });

  test('accepts a table where nobody has recent orders', () => {
    assert.deepEqual(assign(model, newCustomers([['x', 0, 1, 1, 1]])).map((a) => a.segment), [NO_RECENT_ORDERS]);
  });

  test("fails when the table lacks one of the model's features, listing the columns", () => {
    const table: FeatureTable = { ids: ['a'], columns: ['purchase_frequency', 'distance_km'], values: Float64Array.from([1, 2]) };
    assert.throws(() => assign(model, table), /Unknown feature "avg_order_amount"; available columns: purchase_frequency, distance_km/);
  });
});

describe('parseModel', () => {
  test('accepts a fitted model, as a value or as JSON text', () => {
    assert.deepEqual(parseModel(clone(model)), clone(model));
    assert.deepEqual(parseModel(JSON.stringify(model)), clone(model));
    const ward = fit(training, { k: 3, method: 'ward', seed: 8 }).model;
    assert.equal(parseModel(clone(ward)).method, 'ward');
  });

  function broken(change: (m: Model) => void): unknown {
    const m = clone(model);
    change(m);
    return m;
  }

  const cases: [string, unknown, string][] = [
    ['not an object', 42, 'model: expected an object, got 42'],
    ['invalid JSON text', '{"kind":', 'model: not valid JSON'],
    ['another kind of file', broken((m) => Object.assign(m, { kind: 'snapshot' })), 'model.kind: expected "smart-segments-model", got "snapshot"'],
    ['a newer version', broken((m) => Object.assign(m, { version: 2 })), 'model.version: unsupported model version 2; this build reads version 1'],
    ['an unknown method', broken((m) => Object.assign(m, { method: 'dbscan' })), 'model.method: expected one of kmeans, ward, got "dbscan"'],
    ['k that disagrees with the centres', broken((m) => (m.k = 4)), 'model.centroids: expected 4 entries, got 3'],
    ['a short scaler', broken((m) => m.scaler.offset.pop()), 'model.scaler.offset: expected 4 entries, got 3'],
    ['a zero scale', broken((m) => (m.scaler.scale[2] = 0)), 'model.scaler.scale[2]: expected a positive number, got 0'],
    ['a missing median', broken((m) => delete m.imputation.satisfaction), 'model.imputation.satisfaction: expected a finite number, got undefined'],
    ['a centre with null', broken((m) => ((m.centroids[1] as (number | null)[])[0] = null)), 'model.centroids[1][0]: expected a finite number, got null'],
    ['duplicate segment ids', broken((m) => (m.segments[1]!.id = 'loyal')), 'model.segments[1].id: duplicate segment id "loyal"'],
    ['the reserved id', broken((m) => (m.segments[0]!.id = NO_RECENT_ORDERS)), 'model.segments[0].id: "no_recent_orders" is reserved'],
    ['markup as a segment id', broken((m) => (m.segments[0]!.id = '<b>Loyal!</b>')), 'model.segments[0].id: "<b>Loyal!</b>" is not a segment id'],
    ['a colour that is not a hex colour', broken((m) => (m.segments[1]!.color = 'red;background:url(x)')), 'model.segments[1].color: expected a #rrggbb colour'],
    ['an unknown archetype', broken((m) => Object.assign(m.segments[2]!, { archetype: 'vip' })), 'model.segments[2].archetype: expected loyal, profitable, risky or null, got "vip"'],
    ['an unknown technology', broken((m) => (m.segments[0]!.strategy.technologies as string[]).push('quantum')), 'model.segments[0].strategy.technologies[4]: expected one of iot'],
    ['a silhouette out of range', broken((m) => (m.quality.silhouette = 2)), 'model.quality.silhouette: expected a number in -1..1, got 2'],
    ['no data summary', broken((m) => delete (m as Partial<Model>).data), 'model.data: expected an object, got undefined'],
  ];
  for (const [what, input, message] of cases) {
    test(`rejects ${what} with a ModelError naming the field`, () => {
      assert.throws(
        () => parseModel(input),
        (e: unknown) => {
          assert.ok(e instanceof ModelError);
          assert.equal(e.name, 'ModelError');
          assert.ok(e.message.startsWith(message), `${e.message} should start with ${message}`);
          assert.equal(e.path, message.slice(0, message.indexOf(':')));
          return true;
        },
      );
    });
  }

  test('rejects a segment list that disagrees with k', () => {
    const m = clone(model) as Model;
    m.segments.pop();
    assert.throws(() => parseModel(m), /model.segments: expected 3 entries, got 2/);
  });
});
