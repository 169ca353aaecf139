import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { argsort, explainSegments, roundThreshold, ruleText } from '../../src/explain.js';
import { createRng } from '../../src/random.js';

// Two segments in the corner x > 5, y > 5 and everywhere else.
const CORNER = [
  [1, 1, 0],
  [1, 9, 0],
  [9, 1, 0],
  [9, 9, 1],
  [8, 8, 1],
  [2, 8, 0],
  [8, 2, 0],
];
const X = Float64Array.from(CORNER.flatMap((r) => [r[0]!, r[1]!]));
const labels = Int32Array.from(CORNER.map((r) => r[2]!));

describe('explainSegments', () => {
  test('finds a one-split rule on the feature that separates a segment, in original units', () => {
    const data = [
      [1.0, 300, 0],
      [2.0, 200, 0],
      [4.0, 20, 1],
      [4.5, 10, 1],
      [4.2, 250, 1],
      [3.0, 40, 1],
    ];
    const e = explainSegments(
      Float64Array.from(data.flatMap((r) => [r[0]!, r[1]!])),
      6,
      2,
      ['satisfaction', 'distance_km'],
      Int32Array.from(data.map((r) => r[2]!)),
      2,
    );
    // satisfaction sorted 1, 2 | 3, 4, 4.2, 4.5 separates the segments perfectly; the roundest cut in [2, 3) is 2.5
    assert.deepEqual(
      e.rules.map((r) => [r.text, r.accuracy, r.precision, r.recall, r.f1]),
      [
        ['satisfaction <= 2.5', 1, 1, 1, 1],
        ['satisfaction > 2.5', 1, 1, 1, 1],
      ],
    );
    assert.deepEqual(e.confusion, [
      [2, 0],
      [0, 4],
    ]);
    assert.equal(e.accuracy, 1);
  });

  test('uses a second level to carve out a corner, and joins alternatives with "or"', () => {
    const e = explainSegments(X, 7, 2, ['x', 'y'], labels, 2);
    // Root: x <= 5 and y <= 5 tie at weighted Gini 4/7 x 0.5 = 0.2857; x comes first.
    assert.equal(e.rules[1]!.text, 'x > 5 and y > 5');
    assert.equal(e.rules[0]!.text, 'x <= 5 or (x > 5 and y <= 5)');
    assert.deepEqual(e.rules[0]!.paths, [
      [{ feature: 'x', op: '<=', threshold: 5 }],
      [
        { feature: 'x', op: '>', threshold: 5 },
        { feature: 'y', op: '<=', threshold: 5 },
      ],
    ]);
    for (const r of e.rules) assert.deepEqual([r.accuracy, r.precision, r.recall, r.f1], [1, 1, 1, 1]);
    assert.deepEqual(e.confusion, [
      [5, 0],
      [0, 2],
    ]);
  });

  test('scores an imperfect depth-1 rule with hand-computed precision, recall and F1', () => {
    const e = explainSegments(X, 7, 2, ['x', 'y'], labels, 2, { maxDepth: 1 });
    // Segment 1: x > 5 holds 2 of its 2 rows and 2 others: precision 0.5, recall 1, F1 2/3, accuracy 5/7.
    // It is never the majority in a leaf, so its purest leaf (x > 5, 2 of 4) stands for it.
    const r1 = e.rules[1]!;
    assert.equal(r1.text, 'x > 5');
    assert.deepEqual([r1.accuracy, r1.precision, r1.recall], [5 / 7, 0.5, 1]);
    assert.ok(Math.abs(r1.f1 - 2 / 3) < 1e-15);
    // Segment 0: x <= 5 holds 3 of its 5 rows and nothing else: precision 1, recall 0.6, F1 0.75.
    const r0 = e.rules[0]!;
    assert.equal(r0.text, 'x <= 5');
    assert.deepEqual([r0.accuracy, r0.precision, r0.recall], [5 / 7, 1, 0.6]);
    assert.ok(Math.abs(r0.f1 - 0.75) < 1e-15);
    // As a classifier: x <= 5 -> segment 0 (3 rows, right); x > 5 -> segment 1 (2 right, 2 wrong).
    assert.deepEqual(e.confusion, [
      [3, 2],
      [0, 2],
    ]);
    assert.equal(e.accuracy, 5 / 7);
  });

  test('reads "all customers" when there is one segment', () => {
    const e = explainSegments(X, 7, 2, ['x', 'y'], new Int32Array(7), 1);
    assert.equal(e.rules[0]!.text, 'all customers');
    assert.deepEqual(e.confusion, [[7]]);
  });

  test('learns from a seeded sample above maxSample but scores every row', () => {
    const a = explainSegments(X, 7, 2, ['x', 'y'], labels, 2, { maxSample: 4, seed: 3 });
    const b = explainSegments(X, 7, 2, ['x', 'y'], labels, 2, { maxSample: 4, seed: 3 });
    assert.equal(a.sampleSize, 4);
    assert.equal(a.confusion.flat().reduce((s, v) => s + v, 0), 7);
    assert.deepEqual(a.rules.map((r) => r.text), b.rules.map((r) => r.text));
  });

  test('rejects mismatched feature names or labels', () => {
    assert.throws(() => explainSegments(X, 7, 2, ['x'], labels, 2), /1 feature names for 2 columns/);
    assert.throws(() => explainSegments(X, 7, 2, ['x', 'y'], new Int32Array(3), 2), /3 labels for 7 rows/);
  });
});

describe('roundThreshold', () => {
  test('picks the roundest number in the middle half of the gap between lo and hi', () => {
    assert.equal(roundThreshold(120, 180), 150);
    assert.equal(roundThreshold(3, 101), 50);
    assert.equal(roundThreshold(2, 3), 2.5);
    assert.equal(roundThreshold(2, 2.2), 2.1);
    assert.equal(roundThreshold(0.12, 0.13), 0.125);
    assert.equal(roundThreshold(1999, 2001), 2000);
    assert.equal(roundThreshold(-3, -1), -2);
  });
});

describe('ruleText', () => {
  test('renders no paths and an empty path distinctly', () => {
    assert.equal(ruleText([]), 'no rule');
    assert.equal(ruleText([[]]), 'all customers');
  });
});

describe('argsort', () => {
  test('orders indexes by value, equal values by index, as a comparator sort does', () => {
    const rng = createRng(23);
    const values = Float64Array.from({ length: 5000 }, (_, i) =>
      i % 7 === 0 ? Math.floor(rng() * 5) : i % 11 === 0 ? -rng() * 1e6 : i % 13 === 0 ? rng() * 1e-9 : (rng() - 0.5) * 300,
    );
    values[1] = Infinity;
    values[2] = -Infinity;
    values[3] = Number.MAX_VALUE;
    values[4] = -Number.MIN_VALUE;
    const expected = Array.from({ length: values.length }, (_, i) => i).sort((a, b) => values[a]! - values[b]! || a - b);
    assert.deepEqual(Array.from(argsort(values)), expected);
    assert.deepEqual(Array.from(argsort(new Float64Array(0))), []);
  });
});
