import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, describeConfig, featureConfigOf, loadConfig, redact } from '../../connector/config.js';

const today = (): Date => new Date('2026-11-23T18:00:00Z');

describe('loadConfig', () => {
  test('defaults: HubSpot API, .data, port 3000, Kyiv warehouse, closedwon, 12 months, today, 110 / 10 s and 5 / s', () => {
    const c = loadConfig({}, {}, today);
    assert.equal(c.baseUrl, 'https://api.hubapi.com');
    assert.equal(c.token, undefined);
    assert.equal(c.dataDir, '.data');
    assert.equal(c.port, 3000);
    assert.deepEqual(c.warehouse, { lat: 50.4501, lon: 30.5234 });
    assert.deepEqual(c.wonStages, ['closedwon']);
    assert.equal(c.windowMonths, 12);
    assert.equal(c.asOf, '2026-11-23');
    assert.deepEqual(c.rateLimit, { perTenSeconds: 110, searchPerSecond: 5 });
    assert.equal(c.satisfactionProperty, undefined);
  });

  test('reads every variable', () => {
    const c = loadConfig(
      {
        HUBSPOT_API_BASE: 'http://127.0.0.1:4010/',
        HUBSPOT_ACCESS_TOKEN: 'pat-na1-secret',
        SMART_SEGMENTS_DATA_DIR: '/tmp/ss',
        PORT: '8080',
        SMART_SEGMENTS_WAREHOUSE: '49.8397, 24.0297',
        SMART_SEGMENTS_SATISFACTION_PROPERTY: 'csat_score',
        SMART_SEGMENTS_DISTANCE_PROPERTY: 'distance_km',
        SMART_SEGMENTS_WON_STAGES: 'closedwon, contractsigned',
        SMART_SEGMENTS_WINDOW_MONTHS: '6',
        SMART_SEGMENTS_AS_OF: '2026-11-01',
        HUBSPOT_RATE_LIMIT: '190',
        HUBSPOT_SEARCH_RATE: '4',
      },
      {},
      today,
    );
    assert.equal(c.baseUrl, 'http://127.0.0.1:4010');
    assert.equal(c.token, 'pat-na1-secret');
    assert.equal(c.dataDir, '/tmp/ss');
    assert.equal(c.port, 8080);
    assert.deepEqual(c.warehouse, { lat: 49.8397, lon: 24.0297 });
    assert.equal(c.satisfactionProperty, 'csat_score');
    assert.equal(c.distanceProperty, 'distance_km');
    assert.deepEqual(c.wonStages, ['closedwon', 'contractsigned']);
    assert.equal(c.windowMonths, 6);
    assert.equal(c.asOf, '2026-11-01');
    assert.deepEqual(c.rateLimit, { perTenSeconds: 190, searchPerSecond: 4 });
    const fc = featureConfigOf(c);
    assert.equal(fc.asOf, '2026-11-01');
    assert.equal(fc.npsProperty, 'hs_feedback_last_nps_rating');
    assert.equal(fc.satisfactionProperty, 'csat_score');
  });

  test('flags override the environment', () => {
    const c = loadConfig({ HUBSPOT_API_BASE: 'http://a.example', SMART_SEGMENTS_DATA_DIR: 'x', PORT: '1' }, { 'base-url': 'http://b.example', 'data-dir': 'y', port: '2' }, today);
    assert.equal(c.baseUrl, 'http://b.example');
    assert.equal(c.dataDir, 'y');
    assert.equal(c.port, 2);
  });

  test('malformed values throw a ConfigError naming the variable', () => {
    const cases: [Record<string, string>, string][] = [
      [{ PORT: 'eighty' }, 'PORT'],
      [{ PORT: '70000' }, 'PORT'],
      [{ HUBSPOT_API_BASE: 'not a url' }, 'HUBSPOT_API_BASE'],
      [{ HUBSPOT_API_BASE: 'ftp://x' }, 'HUBSPOT_API_BASE'],
      [{ SMART_SEGMENTS_WAREHOUSE: '50.4' }, 'SMART_SEGMENTS_WAREHOUSE'],
      [{ SMART_SEGMENTS_WAREHOUSE: '95,30' }, 'SMART_SEGMENTS_WAREHOUSE'],
      [{ SMART_SEGMENTS_AS_OF: '2026-02-30' }, 'SMART_SEGMENTS_AS_OF'],
      [{ SMART_SEGMENTS_WINDOW_MONTHS: '0' }, 'SMART_SEGMENTS_WINDOW_MONTHS'],
      [{ HUBSPOT_RATE_LIMIT: '1.5' }, 'HUBSPOT_RATE_LIMIT'],
      [{ HUBSPOT_SEARCH_RATE: '-1' }, 'HUBSPOT_SEARCH_RATE'],
      [{ SMART_SEGMENTS_WON_STAGES: ' , ' }, 'SMART_SEGMENTS_WON_STAGES'],
      [{ SMART_SEGMENTS_SATISFACTION_PROPERTY: 'bad name' }, 'SMART_SEGMENTS_SATISFACTION_PROPERTY'],
    ];
    for (const [env, variable] of cases) {
      assert.throws(
        () => loadConfig(env, {}, today),
        (e: unknown) => e instanceof ConfigError && e.variable === variable && e.message.startsWith(`${variable}:`),
        variable,
      );
    }
  });

  test('the token never appears in printable output', () => {
    const c = loadConfig({ HUBSPOT_ACCESS_TOKEN: 'pat-na1-0123456789abcdef' }, {}, today);
    const printed = JSON.stringify(describeConfig(c));
    assert.ok(!printed.includes('0123456789abcdef'));
    assert.equal(redact(undefined), '(none)');
    assert.equal(redact('short'), '***');
    assert.equal(redact('pat-na1-0123456789abcdef'), 'pat-…(24 chars)');
  });
});
