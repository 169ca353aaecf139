import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  ARCHETYPE_COLORS,
  archetypeScore,
  describeProfile,
  formatNumber,
  matchArchetypes,
  nameSegments,
  SEGMENT_PALETTE,
  whySentence,
} from '../../src/naming.js';
import type { NamingInput } from '../../src/naming.js';
import type { Model } from '../../src/types.js';

const FEATURES = ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'];
// Round means and standard deviations so the z-profiles are easy to check by hand.
const MEAN = [40, 150, 100, 3.5];
const SD = [20, 150, 100, 1];
const RISKY = [10, 67.66, 328.55, 1.55]; // z = (-1.5, -0.55, 2.29, -1.95)
const LOYAL = [66.96, 17.06, 23.19, 4.31]; // z = (1.35, -0.89, -0.77, 0.81)
const PROFITABLE = [29.2, 351.64, 40.26, 3.29]; // z = (-0.54, 1.34, -0.60, -0.21)
const PLAIN = [30, 20, 30, 3.5]; // z = (-0.5, -0.87, -0.7, 0)

function input(centres: number[][], sizes: number[], previous?: Model): NamingInput {
  return {
    features: FEATURES,
    centroids: Float64Array.from(centres.flat()),
    k: centres.length,
    sizes,
    mean: MEAN,
    sd: SD,
    ...(previous ? { previous } : {}),
  };
}

describe('archetypeScore', () => {
  test('averages the clamped signature terms, half weight for "middling"', () => {
    const profile = { purchase_frequency: 1, satisfaction: 0.5, distance_km: -2, avg_order_amount: 0 };
    assert.equal(archetypeScore(profile, 'loyal'), (1 + 0.5 + 1 + 0) / 4);
    // amount high 0, distance low 1, frequency middling 0.5 x (1 - 1) = 0, over weights 1 + 1 + 0.5
    assert.equal(archetypeScore(profile, 'profitable'), 1 / 2.5);
    assert.equal(archetypeScore(profile, 'risky'), (-1 - 0.5 - 1) / 3);
  });

  test('needs at least two of the signature features', () => {
    assert.equal(archetypeScore({ distance_km: 3 }, 'risky'), null);
    assert.equal(archetypeScore({ distance_km: 3, satisfaction: -3 }, 'risky'), 1);
  });
});

describe('matchArchetypes', () => {
  test('maximises the total score one to one, ignoring pairs below the threshold', () => {
    const scores = [
      [0.9, 0.8, null],
      [0.85, 0.2, 0.1],
      [0.1, 0.1, 0.2],
    ];
    // loyal->0 alone gives 0.9; profitable->0 + loyal->1 gives 1.65; risky 0.2 is below 0.3
    assert.deepEqual(matchArchetypes(scores, 0.3), ['profitable', 'loyal', null]);
  });

  test('only hands out the archetypes still available', () => {
    assert.deepEqual(matchArchetypes([[0.9, 0.8, 0.1]], 0.3, ['profitable', 'risky']), ['profitable']);
  });
});

describe('describe and why', () => {
  test('labels a segment by its two most distinguishing features', () => {
    assert.deepEqual(describeProfile(FEATURES, [1.2, -0.1, -0.8, 0.3]), { label: 'Frequent, near', slug: 'frequent_near' });
    assert.deepEqual(describeProfile(FEATURES, [0.1, -0.1, 0.2, 0.3]), { label: 'Average profile', slug: 'average' });
    assert.deepEqual(describeProfile(['tenure years'], [0.9]), { label: 'High tenure years', slug: 'high_tenure_years' });
  });

  test('says why in one sentence with numbers, most distinctive feature first', () => {
    const text = whySentence(['purchase_frequency', 'distance_km', 'satisfaction'], [62, 23.4, 4.31], [20, 100, 3], [2, -1, 1.5]);
    assert.equal(text, 'Orders 3.1x the average (62 orders); satisfaction 4.3/5; 23 km from the warehouse.');
  });

  test('formats numbers with precision that suits their size', () => {
    assert.deepEqual([351.64, 40.26, 4.31, 10, 2.5].map(formatNumber), ['352', '40.3', '4.31', '10', '2.5']);
  });
});

describe('nameSegments', () => {
  test("names the paper's three centres loyal, profitable and risky whatever their cluster index", () => {
    const names = nameSegments(input([RISKY, LOYAL, PROFITABLE], [11, 54, 35]));
    assert.deepEqual(
      names.map((s) => [s.cluster, s.id, s.archetype, s.basis, s.color]),
      [
        [1, 'loyal', 'loyal', 'loyal', ARCHETYPE_COLORS.loyal],
        [2, 'profitable', 'profitable', 'profitable', ARCHETYPE_COLORS.profitable],
        [0, 'risky', 'risky', 'risky', ARCHETYPE_COLORS.risky],
      ],
    );
    assert.equal(names[0]!.why, 'Orders 1.7x the average (67 orders); average order 17.1 (0.1x the average); satisfaction 4.3/5; 23 km from the warehouse.');
    assert.match(names[2]!.why, /^329 km from the warehouse; satisfaction 1\.6\/5; /);
  });

  test('gives a segment matching no archetype a descriptive label, the nearest strategy and the next palette colour', () => {
    const names = nameSegments(input([PLAIN, RISKY, LOYAL, PROFITABLE], [20, 11, 54, 35]));
    const plain = names.find((s) => s.cluster === 0)!;
    assert.equal(plain.archetype, null);
    assert.equal(plain.id, 'small_orders_near');
    assert.equal(plain.label, 'Small orders, near');
    assert.equal(plain.color, SEGMENT_PALETTE[0]);
    // loyal: (-0.5 + 0 + 0.7 + 0.87) / 4 = 0.27 is its best score, below the threshold
    assert.equal(plain.basis, 'loyal');
    assert.deepEqual(names.map((s) => s.id), ['loyal', 'profitable', 'risky', 'small_orders_near']);
  });

  test('keeps ids unique when two segments get the same description, the larger keeping the plain slug', () => {
    const names = nameSegments(input([PLAIN, [31, 20, 30, 3.5]], [5, 9]));
    assert.deepEqual(names.map((s) => [s.cluster, s.id, s.color]), [
      [1, 'small_orders_near', SEGMENT_PALETTE[0]],
      [0, 'small_orders_near_2', SEGMENT_PALETTE[1]],
    ]);
  });

  test('keeps the id, label and colour of a previous segment whose centre barely moved', () => {
    const standardise = (c: number[]): number[] => c.map((v, j) => (v - MEAN[j]!) / SD[j]!);
    const previous = {
      features: FEATURES,
      scaler: { kind: 'zscore', offset: MEAN, scale: SD },
      centroids: [standardise([31, 21, 31, 3.4]), standardise([65, 18, 25, 4.2])],
      segments: [
        { id: 'vip', archetype: null, label: 'VIPs', color: '#123456' },
        { id: 'loyal', archetype: 'loyal', label: 'Our regulars', color: '#009E73' },
      ],
    } as unknown as Model;
    const names = nameSegments(input([PLAIN, RISKY, LOYAL, PROFITABLE], [20, 11, 54, 35], previous));
    const byCluster = new Map(names.map((s) => [s.cluster, s]));
    assert.deepEqual(
      [0, 2].map((c) => {
        const s = byCluster.get(c)!;
        return [s.id, s.label, s.color, s.kept];
      }),
      [
        ['vip', 'VIPs', '#123456', true],
        ['loyal', 'Our regulars', '#009E73', true],
      ],
    );
    assert.equal(byCluster.get(1)!.id, 'risky');
    assert.equal(byCluster.get(1)!.kept, false);
  });

  test('uses recency and total spend when those are the clustered features', () => {
    const names = nameSegments({
      features: ['recency_days', 'monetary_total'],
      centroids: Float64Array.from([60, 400, 25, 2000]), // z = (3, -1.2) and (-0.5, 2)
      k: 2,
      sizes: [10, 20],
      mean: [30, 1000],
      sd: [10, 500],
    });
    // risky: (0.5 x 1 + 0.5 x 1) / 1 = 1 for the first; the second matches no archetype on two features,
    // and on the features it has, profitable (spend high: 1) beats loyal (recent: 0.5) and risky (-0.75).
    assert.deepEqual(names.map((s) => [s.cluster, s.id, s.label, s.basis]), [
      [0, 'risky', 'Risky, low prospect', 'risky'],
      [1, 'high_spend_recent', 'High spend, recent', 'profitable'],
    ]);
    assert.equal(names[1]!.why, 'Total spend 2000 (2.0x the average); last order 25 days ago.');
  });

  test('ignores a previous model clustered on other features', () => {
    const previous = { features: ['distance_km'], scaler: { kind: 'zscore', offset: [0], scale: [1] }, centroids: [[0]], segments: [{ id: 'x' }] } as unknown as Model;
    const names = nameSegments(input([RISKY, LOYAL, PROFITABLE], [11, 54, 35], previous));
    assert.deepEqual(names.map((s) => s.id), ['loyal', 'profitable', 'risky']);
  });
});

describe('descriptive names that would read alike', () => {
  test('two segments built from the same two features are told apart by a third', () => {
    const names = nameSegments({
      features: ['x', 'y', 'w'],
      centroids: Float64Array.from([1.5, -1.0, 0.6, 1.0, -1.5, -0.6]),
      k: 2,
      sizes: [10, 8],
      mean: [0, 0, 0],
      sd: [1, 1, 1],
    });
    assert.deepEqual(
      names.map((s) => [s.id, s.label]),
      [
        ['high_x_low_y_high_w', 'High x, low y, high w'],
        ['low_y_high_x_low_w', 'Low y, high x, low w'],
      ],
    );
  });

  test('colours beyond the palette are still #rrggbb', async () => {
    const { hslHex } = await import('../../src/naming.js');
    assert.equal(hslHex(0, 1, 0.5), '#ff0000');
    assert.equal(hslHex(120, 1, 0.25), '#008000');
    const k = SEGMENT_PALETTE.length + 3;
    const names = nameSegments({
      features: ['x'],
      centroids: Float64Array.from(Array.from({ length: k }, (_, i) => i * 3 - k)),
      k,
      sizes: Array.from({ length: k }, () => 1),
      mean: [0],
      sd: [1],
    });
    for (const n of names) assert.match(n.color, /^#[0-9a-fA-F]{6}$/);
  });
});
