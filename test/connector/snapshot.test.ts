import { beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDelta, buildSnapshot, forgetSnapshots, snapshotDelta } from '../../connector/snapshot.js';
import type { SnapshotSource } from '../../connector/snapshot.js';
import { DEFAULT_FEATURE_CONFIG } from '../../src/features.js';
import { ALL_FEATURES } from '../../src/types.js';
import type { CrmInput, CrmRecord, Geocoder, Snapshot } from '../../src/types.js';

const featureConfig = { ...DEFAULT_FEATURE_CONFIG, asOf: '2026-11-01' };
// Everyone in "Kyiv" is at the warehouse (0 km); other places cannot be geocoded.
const geocoder: Geocoder = (place) => (place.city === 'Kyiv' ? { ...DEFAULT_FEATURE_CONFIG.warehouse } : null);

function source(input: CrmInput): SnapshotSource {
  return {
    allContacts: () => Promise.resolve(input.contacts.map((c) => ({ ...c, properties: { ...c.properties } }))),
    allDeals: () => Promise.resolve(input.deals),
    associations: () => Promise.resolve(input.associations),
  };
}

const contact = (id: string, p: Record<string, string | null>): CrmRecord => ({ id, properties: p });
const won = (id: string, amount: string, closedate: string): CrmRecord => ({ id, properties: { amount, dealstage: 'closedwon', closedate } });

function portal(): CrmInput {
  return {
    contacts: [
      contact('1', { firstname: 'Olena', lastname: 'Koval', email: 'olena@example.ua', city: 'Kyiv', country: 'Ukraine', hs_feedback_last_nps_rating: '9', smart_segment: 'loyal' }),
      contact('2', { firstname: 'Petro', lastname: 'Shevchenko', email: 'petro@example.ua', city: 'Nowhere', country: 'Ukraine', hs_feedback_last_nps_rating: null }),
      contact('3', { firstname: null, lastname: null, email: 'x@example.ua', city: null, country: null }),
    ],
    deals: [won('10', '10', '2026-10-01T00:00:00Z'), won('11', '30', '2026-09-01T00:00:00Z'), won('12', '100', '2026-08-01T00:00:00Z')],
    associations: { '1': ['10', '11'], '2': ['12'] },
  };
}

const col = (s: Snapshot, feature: string): (number | null)[] => {
  const j = s.features.indexOf(feature);
  return s.ids.map((_, i) => s.values[i * s.features.length + j] ?? null);
};

describe('snapshot', () => {
  beforeEach(() => forgetSnapshots());

  test('holds one column per field and one row per contact, null where missing', async () => {
    const s = await buildSnapshot(source(portal()), { portalId: 42, featureConfig, geocoder, generatedAt: '2026-11-23T00:00:00.000Z' });
    assert.equal(s.kind, 'smart-segments-snapshot');
    assert.equal(s.portalId, '42');
    assert.equal(s.asOf, '2026-11-01');
    assert.deepEqual(s.features, [...ALL_FEATURES]);
    assert.deepEqual(s.ids, ['1', '2', '3']);
    assert.equal(s.values.length, 3 * ALL_FEATURES.length);
    assert.deepEqual(col(s, 'purchase_frequency'), [2, 1, 0]);
    assert.deepEqual(col(s, 'avg_order_amount'), [20, 100, null]);
    assert.deepEqual(col(s, 'monetary_total').slice(0, 2), [40, 100]);
    assert.deepEqual(col(s, 'distance_km'), [0, null, null]);
    // NPS 9 maps to 1 + 9 * 0.4 = 4.6.
    assert.deepEqual(col(s, 'satisfaction'), [4.6, null, null]);
    assert.deepEqual(s.nps, [9, null, null]);
    assert.deepEqual(s.firstnames, ['Olena', 'Petro', '']);
    assert.deepEqual(s.cities, ['Kyiv', 'Nowhere', '']);
    assert.deepEqual(s.segments, ['loyal', '', '']);
    assert.doesNotThrow(() => JSON.parse(JSON.stringify(s)));
  });

  test('the etag depends on the contents only', async () => {
    const a = await buildSnapshot(source(portal()), { portalId: 1, featureConfig, geocoder, generatedAt: '2026-11-23T00:00:00.000Z' });
    const b = await buildSnapshot(source(portal()), { portalId: 1, featureConfig, geocoder, generatedAt: '2026-11-24T00:00:00.000Z' });
    assert.equal(a.etag, b.etag);
    const changed = portal();
    changed.contacts[0]!.properties.email = 'new@example.ua';
    const c = await buildSnapshot(source(changed), { portalId: 1, featureConfig, geocoder, generatedAt: '2026-11-24T00:00:00.000Z' });
    assert.notEqual(c.etag, a.etag);
  });

  test('a delta from an earlier etag carries exactly the changed, added and deleted rows', async () => {
    const before = await buildSnapshot(source(portal()), { portalId: 1, featureConfig, geocoder, generatedAt: '2026-11-23T00:00:00.000Z' });
    const next = portal();
    next.contacts[1]!.properties.email = 'petro@new.ua';
    next.contacts.splice(2, 1); // contact 3 deleted
    next.contacts.push(contact('4', { firstname: 'Ivan', email: 'ivan@example.ua', city: 'Kyiv', country: 'Ukraine' }));
    next.associations['4'] = ['10'];
    const after = await buildSnapshot(source(next), { portalId: 1, featureConfig, geocoder, generatedAt: '2026-11-24T00:00:00.000Z' });

    const delta = snapshotDelta(`"${before.etag}"`);
    assert.ok(delta);
    assert.equal(delta.kind, 'smart-segments-snapshot-delta');
    assert.equal(delta.since, before.etag);
    assert.equal(delta.etag, after.etag);
    assert.deepEqual(delta.upserts.ids, ['2', '4']);
    assert.deepEqual(delta.upserts.emails, ['petro@new.ua', 'ivan@example.ua']);
    assert.equal(delta.upserts.values.length, 2 * ALL_FEATURES.length);
    assert.deepEqual(delta.deletes, ['3']);

    const patched = applyDelta(before, delta);
    for (const key of ['ids', 'firstnames', 'lastnames', 'emails', 'cities', 'countries', 'values', 'nps', 'segments'] as const) {
      assert.deepEqual(patched[key], after[key], key);
    }

    const none = snapshotDelta(after.etag);
    assert.deepEqual(none?.upserts.ids, []);
    assert.deepEqual(none?.deletes, []);
  });

  test('an unknown or forgotten etag gives null (the client refetches in full)', async () => {
    const s = await buildSnapshot(source(portal()), { portalId: 1, featureConfig, geocoder, generatedAt: '2026-11-23T00:00:00.000Z' });
    assert.equal(snapshotDelta('no-such-etag'), null);
    for (let i = 0; i < 5; i++) {
      const p = portal();
      p.contacts[0]!.properties.email = `v${i}@example.ua`;
      await buildSnapshot(source(p), { portalId: 1, featureConfig, geocoder, generatedAt: '2026-11-23T00:00:00.000Z' });
    }
    assert.equal(snapshotDelta(s.etag), null, 'only the last few snapshots are kept');
  });
});
