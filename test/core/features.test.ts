import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_FEATURE_CONFIG, addMonthsUtc, extractFeatures, haversineKm, parseCrmDate } from '../../src/features.js';
import { ALL_FEATURES } from '../../src/types.js';
import type { CrmInput, FeatureConfig, Geocoder } from '../../src/types.js';

const KYIV = { lat: 50.4501, lon: 30.5234 };

describe('haversineKm', () => {
  test('one degree of longitude on the equator is 2 pi R / 360', () => {
    assert.ok(Math.abs(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 1 }) - 111.19508) < 1e-4);
  });
  test('antipodes on the equator are pi R apart, and the distance is symmetric', () => {
    assert.ok(Math.abs(haversineKm({ lat: 0, lon: 0 }, { lat: 0, lon: 180 }) - Math.PI * 6371.0088) < 1e-6);
    const lviv = { lat: 49.8397, lon: 24.0297 };
    assert.equal(haversineKm(KYIV, lviv), haversineKm(lviv, KYIV));
    // Kyiv - Lviv by road is ~540 km; the great circle is ~468 km.
    assert.ok(Math.abs(haversineKm(KYIV, lviv) - 468) < 3);
  });
});

describe('parseCrmDate and addMonthsUtc', () => {
  test('reads ISO dates, zone-less date-times as UTC and epoch-millisecond strings', () => {
    assert.equal(parseCrmDate('2025-03-04'), Date.UTC(2025, 2, 4));
    assert.equal(parseCrmDate('2025-03-04T10:00:00.000Z'), Date.UTC(2025, 2, 4, 10));
    assert.equal(parseCrmDate('2025-03-04T10:00:00'), Date.UTC(2025, 2, 4, 10));
    assert.equal(parseCrmDate('1741082400000'), 1741082400000);
    for (const bad of ['', null, undefined, 'yesterday', '03/04/2025']) assert.ok(Number.isNaN(parseCrmDate(bad)), String(bad));
  });
  test('moves by calendar months and clamps the day to the shorter month', () => {
    assert.equal(addMonthsUtc(Date.UTC(2026, 0, 1), -12), Date.UTC(2025, 0, 1));
    assert.equal(addMonthsUtc(Date.UTC(2025, 2, 31), -1), Date.UTC(2025, 1, 28));
    assert.equal(addMonthsUtc(Date.UTC(2024, 2, 31), -1), Date.UTC(2024, 1, 29));
  });
});

describe('extractFeatures', () => {
  const config: FeatureConfig = { ...DEFAULT_FEATURE_CONFIG, asOf: '2026-01-01', satisfactionProperty: 'csat', distanceProperty: 'dist_km' };
  const geocode: Geocoder = (place) => (place.city === 'Kyiv' ? KYIV : place.city === 'Lviv' ? { lat: 49.8397, lon: 24.0297 } : null);
  const input: CrmInput = {
    contacts: [
      { id: 'c1', properties: { city: 'Kyiv', country: 'Ukraine', hs_feedback_last_nps_rating: '9' } },
      { id: 'c2', properties: { city: 'Atlantis', hs_feedback_last_nps_rating: '14' } },
      { id: 'c3', properties: { city: 'Lviv', csat: '2', hs_feedback_last_nps_rating: '0', dist_km: '123.5' } },
      { id: 'c4', properties: { city: 'Lviv', csat: '7', hs_feedback_last_nps_rating: '7', dist_km: 'far' } },
    ],
    deals: [
      { id: 'd1', properties: { dealstage: 'closedwon', closedate: '2025-06-01T00:00:00.000Z', amount: '100' } },
      { id: 'd2', properties: { dealstage: 'closedwon', closedate: '2025-12-22T08:00:00.000Z', amount: '300' } },
      { id: 'd3', properties: { dealstage: 'appointmentscheduled', closedate: '2025-07-01', amount: '1000' } },
      { id: 'd4', properties: { dealstage: 'closedwon', closedate: '2024-12-31T23:59:59.999Z', amount: '50' } },
      { id: 'd5', properties: { dealstage: 'closedwon', closedate: String(Date.UTC(2025, 2, 1)), amount: '' } },
      { id: 'd6', properties: { dealstage: 'closedwon', closedate: '2026-01-01T00:00:00.000Z', amount: '70' } },
      { id: 'd7', properties: { dealstage: 'closedwon', closedate: '2025-05-05', amount: 'abc' } },
      { id: 'd8', properties: { dealstage: 'closedwon', closedate: 'soon', amount: '5' } },
    ],
    associations: { c1: ['d1', 'd2', 'd3', 'd4', 'd5', 'd6', 'd1', 'missing'], c3: ['d7', 'd8'] },
  };
  const { table, rejected } = extractFeatures(input, config, geocode);
  const row = (r: number): Record<string, number> =>
    Object.fromEntries(table.columns.map((c, j) => [c, table.values[r * table.columns.length + j]!]));

  test('produces one row per contact with the ALL_FEATURES columns', () => {
    assert.deepEqual(table.ids, ['c1', 'c2', 'c3', 'c4']);
    assert.deepEqual(table.columns, [...ALL_FEATURES]);
  });

  test('counts won deals closed in [asOf - 12 months, asOf) once each, and averages the known amounts', () => {
    // d1, d2, d5 count; d3 is not won; d4 is before the window; d6 is on asOf (excluded); d1 is listed twice.
    assert.deepEqual(row(0), {
      purchase_frequency: 3,
      avg_order_amount: 200, // (100 + 300) / 2, d5 has no amount
      distance_km: 0, // geocoded to the warehouse city
      satisfaction: 4.6, // 1 + 9 x 0.4
      recency_days: 9, // 2025-12-22 08:00 -> 2026-01-01 00:00 is 9.67 days
      monetary_total: 400,
    });
  });

  test('gives a contact without orders frequency 0, total 0 and missing average and recency', () => {
    const r = row(1);
    assert.equal(r['purchase_frequency'], 0);
    assert.equal(r['monetary_total'], 0);
    assert.ok(Number.isNaN(r['avg_order_amount']!));
    assert.ok(Number.isNaN(r['recency_days']!));
    assert.ok(Number.isNaN(r['distance_km']!), 'Atlantis cannot be geocoded');
    assert.ok(Number.isNaN(r['satisfaction']!), 'NPS 14 is invalid, so no satisfaction');
    assert.ok(Number.isNaN(table.nps![1]!));
  });

  test('prefers the configured satisfaction and distance properties, falling back when they are invalid', () => {
    const r3 = row(2);
    assert.equal(r3['satisfaction'], 2);
    assert.equal(r3['distance_km'], 123.5);
    assert.equal(r3['purchase_frequency'], 1); // d7 counts as an order; d8 has no readable date
    assert.ok(Number.isNaN(r3['avg_order_amount']!));
    assert.ok(Number.isNaN(r3['monetary_total']!));
    const r4 = row(3);
    assert.equal(r4['satisfaction'], 3.8, 'csat 7 is outside 1..5, so NPS 7 maps to 3.8');
    assert.ok(Math.abs(r4['distance_km']! - haversineKm({ lat: 49.8397, lon: 24.0297 }, KYIV)) < 1e-9);
  });

  test('fills table.nps with the raw ratings', () => {
    assert.deepEqual(Array.from(table.nps!), [9, NaN, 0, 7]);
  });

  test('notes every bad value with the contact id and the field, without dropping the contact', () => {
    const notes = rejected.map((r) => `${r.id}/${r.field}`).sort();
    assert.deepEqual(notes, ['c2/city', 'c2/hs_feedback_last_nps_rating', 'c3/amount', 'c3/closedate', 'c4/csat', 'c4/dist_km']);
    const amount = rejected.find((r) => r.field === 'amount')!;
    assert.match(amount.reason, /deal d7: amount "abc"/);
  });

  test('does not geocode without a geocoder and leaves distance missing', () => {
    const { table: t, rejected: notes } = extractFeatures({ contacts: [{ id: 'x', properties: { city: 'Kyiv' } }], deals: [], associations: {} }, config);
    assert.ok(Number.isNaN(t.values[2]!));
    assert.equal(notes.length, 0);
  });

  test('honours other won stages and window lengths', () => {
    const crm: CrmInput = {
      contacts: [{ id: 'x', properties: {} }],
      deals: [
        { id: 'a', properties: { dealstage: 'Paid', closedate: '2025-11-15', amount: '10' } },
        { id: 'b', properties: { dealstage: 'closedwon', closedate: '2025-12-15', amount: '20' } },
        { id: 'c', properties: { dealstage: 'paid', closedate: '2025-09-15', amount: '40' } },
      ],
      associations: { x: ['a', 'b', 'c'] },
    };
    const { table: t } = extractFeatures(crm, { ...DEFAULT_FEATURE_CONFIG, asOf: '2026-01-01', wonStages: ['paid'], windowMonths: 3 });
    assert.equal(t.values[0], 1, 'only a: b is not a won stage here, c is before 2025-10-01');
    assert.equal(t.values[1], 10);
  });

  test('rejects a missing asOf', () => {
    assert.throws(() => extractFeatures({ contacts: [], deals: [], associations: {} }, DEFAULT_FEATURE_CONFIG), /asOf/);
  });
});
