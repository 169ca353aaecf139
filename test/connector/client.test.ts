import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubSpotClient, assertOnlyMissingAssociations } from '../../connector/hubspot/client.js';
import { HubSpotError } from '../../connector/hubspot/errors.js';
import { PortalLimiter } from '../../connector/hubspot/limiter.js';
import { parseHubSpotTime, propertiesFor, toStoredRecord } from '../../connector/hubspot/mapping.js';
import type { Clock } from '../../connector/hubspot/limiter.js';
import { staticTokenProvider } from '../../connector/hubspot/token.js';
import type { TokenProvider } from '../../connector/hubspot/token.js';

interface Seen {
  method: string;
  url: string;
  auth: string | undefined;
  body: unknown;
}
interface Reply {
  status: number;
  body?: unknown;
  raw?: string;
  headers?: Record<string, string>;
}

/** A loopback server that answers from a script and records what it was sent. */
let server: Server;
let baseUrl = '';
let seen: Seen[] = [];
let script: Reply[] = [];
let fallback: Reply = { status: 200, body: { results: [] } };

before(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', auth: req.headers.authorization, body: data ? (JSON.parse(data) as unknown) : undefined });
      const reply = script.shift() ?? fallback;
      res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
      res.end(reply.raw ?? (reply.body === undefined ? '' : JSON.stringify(reply.body)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

beforeEach(() => {
  seen = [];
  script = [];
  fallback = { status: 200, body: { results: [] } };
});

/** Time passes only when the client sleeps, so retries cost no real time and can be measured. */
class SkipClock implements Clock {
  t = 1_000_000;
  slept: number[] = [];
  now(): number {
    return this.t;
  }
  sleep(ms: number): Promise<void> {
    this.slept.push(ms);
    this.t += Math.max(0, ms);
    return Promise.resolve();
  }
}

function makeClient(options: { tokenProvider?: TokenProvider; clock?: SkipClock } = {}): { client: HubSpotClient; clock: SkipClock } {
  const clock = options.clock ?? new SkipClock();
  const client = new HubSpotClient({
    baseUrl,
    tokenProvider: options.tokenProvider ?? staticTokenProvider('test-token'),
    limiter: new PortalLimiter({ clock, concurrency: 4 }),
    clock,
    random: () => 0.5,
    retry: { baseMs: 100, capMs: 1000 },
  });
  return { client, clock };
}

const rateLimited = (policyName: string, headers: Record<string, string> = {}): Reply => ({
  status: 429,
  headers,
  body: { status: 'error', message: 'You have reached your limit.', errorType: 'RATE_LIMIT', correlationId: 'c-1', policyName },
});

describe('HubSpotClient request shapes', () => {
  test('listPage sends GET /crm/v3/objects/{type} with limit, archived, properties and after, and a bearer token', async () => {
    script = [{ status: 200, body: { results: [{ id: '1', properties: { email: 'a@b.c' } }], paging: { next: { after: '2', link: 'x' } } } }];
    const { client } = makeClient();
    const page = await client.listPage('contacts', { after: '1', properties: ['email', 'city'] });
    assert.equal(seen.length, 1);
    const url = new URL(seen[0]?.url ?? '', baseUrl);
    assert.equal(seen[0]?.method, 'GET');
    assert.equal(url.pathname, '/crm/v3/objects/contacts');
    assert.equal(url.searchParams.get('limit'), '100');
    assert.equal(url.searchParams.get('archived'), 'false');
    assert.equal(url.searchParams.get('properties'), 'email,city');
    assert.equal(url.searchParams.get('after'), '1');
    assert.equal(seen[0]?.auth, 'Bearer test-token');
    assert.deepEqual(page.results.map((r) => r.id), ['1']);
    assert.equal(page.paging?.next?.after, '2');
  });

  test('batchRead posts inputs and properties, and refuses more than 100 ids without sending', async () => {
    script = [{ status: 200, body: { status: 'COMPLETE', results: [{ id: '7', properties: {} }] } }];
    const { client } = makeClient();
    const res = await client.batchRead('deals', ['7'], ['amount']);
    assert.equal(seen[0]?.url, '/crm/v3/objects/deals/batch/read');
    assert.deepEqual(seen[0]?.body, { properties: ['amount'], propertiesWithHistory: [], inputs: [{ id: '7' }] });
    assert.equal(res.results.length, 1);
    await assert.rejects(client.batchRead('deals', Array.from({ length: 101 }, (_, i) => String(i)), []), RangeError);
    assert.equal(seen.length, 1);
  });

  test('search posts the body as given and refuses a limit over 200', async () => {
    script = [{ status: 200, body: { total: 1, results: [{ id: '3', properties: {} }] } }];
    const { client } = makeClient();
    const body = {
      filterGroups: [{ filters: [{ propertyName: 'lastmodifieddate', operator: 'GTE' as const, value: '1000' }] }],
      sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' as const }],
      properties: ['email'],
      limit: 200,
    };
    const page = await client.search('contacts', body);
    assert.equal(seen[0]?.url, '/crm/v3/objects/contacts/search');
    assert.deepEqual(seen[0]?.body, body);
    assert.equal(page.total, 1);
    await assert.rejects(client.search('contacts', { limit: 201 }), RangeError);
    assert.equal(seen.length, 1);
  });

  test('associationsBatchRead follows per-source paging and lists every requested id', async () => {
    script = [
      {
        status: 200,
        body: {
          status: 'COMPLETE',
          results: [
            { from: { id: '1' }, to: [{ toObjectId: 10, associationTypes: [] }], paging: { next: { after: 'p2' } } },
            { from: { id: '2' }, to: [{ toObjectId: 20 }, { toObjectId: 21 }] },
          ],
        },
      },
      { status: 200, body: { status: 'COMPLETE', results: [{ from: { id: '1' }, to: [{ toObjectId: 11 }] }] } },
    ];
    const { client } = makeClient();
    const map = await client.associationsBatchRead('contacts', 'deals', ['1', '2', '3']);
    assert.equal(seen[0]?.url, '/crm/v4/associations/contacts/deals/batch/read');
    assert.deepEqual(seen[0]?.body, { inputs: [{ id: '1' }, { id: '2' }, { id: '3' }] });
    assert.deepEqual(seen[1]?.body, { inputs: [{ id: '1', after: 'p2' }] });
    assert.deepEqual(Object.fromEntries(map), { '1': ['10', '11'], '2': ['20', '21'], '3': [] });
    await assert.rejects(client.associationsBatchRead('contacts', 'deals', Array.from({ length: 1001 }, (_, i) => String(i))), RangeError);
    assert.equal(seen.length, 2);
  });

  test('property calls use the v3 properties paths; a missing property reads as null', async () => {
    script = [
      { status: 404, body: { status: 'error', message: 'Property smart_segment does not exist', category: 'OBJECT_NOT_FOUND' } },
      { status: 201, body: { name: 'smart_segments', label: 'Smart Segments', displayOrder: -1 } },
      { status: 201, body: { name: 'smart_segment', label: 'Segment', type: 'enumeration', fieldType: 'select', groupName: 'smart_segments', options: [] } },
      { status: 200, body: { name: 'smart_segment', label: 'Segment 2', type: 'enumeration', fieldType: 'select', groupName: 'smart_segments' } },
    ];
    const { client } = makeClient();
    assert.equal(await client.getProperty('contacts', 'smart_segment'), null);
    await client.createPropertyGroup('contacts', { name: 'smart_segments', label: 'Smart Segments' });
    await client.createProperty('contacts', {
      name: 'smart_segment', label: 'Segment', type: 'enumeration', fieldType: 'select', groupName: 'smart_segments',
      options: [{ label: 'Loyal', value: 'loyal', displayOrder: 0 }],
    });
    const updated = await client.updateProperty('contacts', 'smart_segment', { label: 'Segment 2' });
    assert.deepEqual(seen.map((s) => `${s.method} ${s.url}`), [
      'GET /crm/v3/properties/contacts/smart_segment',
      'POST /crm/v3/properties/contacts/groups',
      'POST /crm/v3/properties/contacts',
      'PATCH /crm/v3/properties/contacts/smart_segment',
    ]);
    assert.deepEqual(seen[3]?.body, { label: 'Segment 2' });
    assert.equal(updated.label, 'Segment 2');
    await assert.rejects(
      client.createProperty('contacts', { name: 'x', label: 'X', type: 'enumeration', fieldType: 'select', groupName: 'g' }),
      /needs options/,
    );
  });

  test('batchUpdate posts at most 100 distinct inputs', async () => {
    script = [{ status: 200, body: { status: 'COMPLETE', results: [] } }];
    const { client } = makeClient();
    await client.batchUpdate('contacts', [{ id: '1', properties: { smart_segment: 'loyal' } }]);
    assert.equal(seen[0]?.url, '/crm/v3/objects/contacts/batch/update');
    assert.deepEqual(seen[0]?.body, { inputs: [{ id: '1', properties: { smart_segment: 'loyal' } }] });
    const many = Array.from({ length: 101 }, (_, i) => ({ id: String(i), properties: {} }));
    await assert.rejects(client.batchUpdate('contacts', many), /at most 100/);
    await assert.rejects(client.batchUpdate('contacts', [{ id: '1', properties: {} }, { id: '1', properties: {} }]), /twice/);
    assert.equal(seen.length, 1);
  });

  test('tokenInfo reads the hub id of the current token', async () => {
    script = [{ status: 200, body: { token: 'test-token', hub_id: 4242, scopes: ['oauth'], token_type: 'access' } }];
    const { client } = makeClient();
    const info = await client.tokenInfo();
    assert.equal(seen[0]?.url, '/oauth/v1/access-tokens/test-token');
    assert.equal(info.hub_id, 4242);
  });
});

describe('HubSpotClient portal id', () => {
  test('comes from the account details, or from the token metadata where those are missing', async () => {
    script = [{ status: 200, body: { portalId: 777, accountType: 'STANDARD', timeZone: 'Europe/Kyiv' } }];
    const { client } = makeClient();
    assert.equal(await client.portalId(), '777');
    script = [
      { status: 404, body: { status: 'error', message: 'No route', category: 'OBJECT_NOT_FOUND' } },
      { status: 200, body: { token: 'test-token', hub_id: 4242 } },
    ];
    assert.equal(await client.portalId(), '4242');
    assert.deepEqual(seen.map((s) => s.url), ['/account-info/v3/details', '/account-info/v3/details', '/oauth/v1/access-tokens/test-token']);
  });
});

describe('HubSpotClient retries', () => {
  test('a ten-secondly 429 while our own window has room pauses the portal 250 ms, doubling while refused', async () => {
    const full = { 'X-HubSpot-RateLimit-Interval-Milliseconds': '10000', 'X-HubSpot-RateLimit-Max': '110', 'X-HubSpot-RateLimit-Remaining': '0' };
    script = [rateLimited('TEN_SECONDLY_ROLLING', full)];
    fallback = { status: 200, body: { results: [{ id: '1', properties: {} }] } };
    const { client, clock } = makeClient();
    let start = clock.now();
    const page = await client.listPage('contacts', { properties: [] });
    assert.equal(page.results.length, 1);
    assert.equal(seen.length, 2);
    assert.equal(clock.now() - start, 250);
    assert.equal(client.stats().throttled, 1);
    // Someone else keeps the portal's window full: the probes space out, up to the window's length.
    script = Array.from({ length: 8 }, () => rateLimited('TEN_SECONDLY_ROLLING', full));
    start = clock.now();
    await client.listPage('contacts', { properties: [] });
    assert.equal(clock.now() - start, 250 + 500 + 1000 + 2000 + 4000 + 8000 + 10_000 + 10_000);
  });

  test('a ten-secondly 429 when our own window is full waits only until our oldest request leaves it', async () => {
    const clock = new SkipClock();
    const client = new HubSpotClient({
      baseUrl,
      tokenProvider: staticTokenProvider('test-token'),
      limiter: new PortalLimiter({ clock, perWindow: 2, windowMs: 10_000, marginMs: 0 }),
      clock,
      random: () => 0.5,
    });
    const full = { 'X-HubSpot-RateLimit-Interval-Milliseconds': '10000', 'X-HubSpot-RateLimit-Max': '2', 'X-HubSpot-RateLimit-Remaining': '0' };
    script = [{ status: 200, body: { results: [] } }, rateLimited('TEN_SECONDLY_ROLLING', full)];
    fallback = { status: 200, body: { results: [] } };
    await client.listPage('contacts', { properties: [] });
    clock.t += 9600;
    const start = clock.now();
    await client.listPage('contacts', { properties: [] });
    assert.equal(seen.length, 3);
    // The first request leaves the window 400 ms later; a fixed second would idle the portal 600 ms more.
    assert.equal(clock.now() - start, 400);
  });

  test('Retry-After decides the wait when HubSpot sends it', async () => {
    script = [rateLimited('TEN_SECONDLY_ROLLING', { 'Retry-After': '3' })];
    const { client, clock } = makeClient();
    const start = clock.now();
    await client.listPage('contacts', { properties: [] });
    assert.equal(clock.now() - start, 3000);
  });

  test('a daily-limit 429 stops at once with a clear error', async () => {
    script = [rateLimited('DAILY')];
    const { client } = makeClient();
    await assert.rejects(client.listPage('contacts', { properties: [] }), (e: unknown) => e instanceof HubSpotError && e.code === 'DAILY_LIMIT' && /daily API limit/.test(e.message));
    assert.equal(seen.length, 1);
  });

  test('5xx answers and malformed JSON are retried with growing jittered backoff', async () => {
    script = [{ status: 502, raw: '<html>Bad gateway</html>' }, { status: 503, body: { message: 'down' } }, { status: 200, raw: '{"results":[{"id":' }];
    fallback = { status: 200, body: { results: [{ id: '9', properties: {} }] } };
    const { client, clock } = makeClient();
    const page = await client.listPage('deals', { properties: [] });
    assert.deepEqual(page.results.map((r) => r.id), ['9']);
    assert.equal(seen.length, 4);
    // random() = 0.5: half of min(cap, 100 * 2^(n-1)) -> 50, 100, 200.
    assert.deepEqual(clock.slept.filter((ms) => ms > 0), [50, 100, 200]);
    assert.equal(client.stats().retries, 3);
  });

  test('gives up after the attempt budget with the last problem in the message', async () => {
    fallback = { status: 500, body: { message: 'internal' } };
    const { client } = makeClient();
    await assert.rejects(client.listPage('deals', { properties: [] }), (e: unknown) => e instanceof HubSpotError && e.code === 'RETRIES_EXHAUSTED' && /failed 8 times.*HTTP 500/.test(e.message));
    assert.equal(seen.length, 8);
  });

  test('network errors are retried like 5xx', async () => {
    const clock = new SkipClock();
    const client = new HubSpotClient({
      baseUrl: 'http://127.0.0.1:1', // nothing listens on port 1
      tokenProvider: staticTokenProvider('t'),
      limiter: new PortalLimiter({ clock }),
      clock,
      random: () => 0,
      retry: { attempts: 3 },
    });
    await assert.rejects(client.listPage('contacts', { properties: [] }), (e: unknown) => e instanceof HubSpotError && e.code === 'RETRIES_EXHAUSTED');
    assert.equal(client.stats().requests, 3);
  });

  test('other 4xx fail at once with HubSpot category and message', async () => {
    script = [{ status: 400, body: { status: 'error', message: 'Property values were not valid', category: 'VALIDATION_ERROR', correlationId: 'abc' } }];
    const { client } = makeClient();
    await assert.rejects(client.batchUpdate('contacts', [{ id: '1', properties: { smart_segment: 'nope' } }]), (e: unknown) => {
      assert.ok(e instanceof HubSpotError);
      assert.equal(e.code, 'HTTP');
      assert.equal(e.status, 400);
      assert.equal(e.category, 'VALIDATION_ERROR');
      assert.match(e.message, /Property values were not valid/);
      return true;
    });
    assert.equal(seen.length, 1);
  });

  test('401 asks the token provider once, retries with the new token, and succeeds', async () => {
    script = [{ status: 401, body: { status: 'error', message: 'expired', category: 'EXPIRED_AUTHENTICATION' } }];
    let token = 'old';
    let refreshes = 0;
    const provider: TokenProvider = {
      getToken: () => Promise.resolve(token),
      onUnauthorized: () => {
        refreshes++;
        token = 'new';
        return Promise.resolve(true);
      },
    };
    const { client } = makeClient({ tokenProvider: provider });
    await client.listPage('contacts', { properties: [] });
    assert.deepEqual(seen.map((s) => s.auth), ['Bearer old', 'Bearer new']);
    assert.equal(refreshes, 1);
  });

  test('401 that persists fails with "token expired or revoked"', async () => {
    fallback = { status: 401, body: { status: 'error', message: 'Authentication credentials not found.', category: 'INVALID_AUTHENTICATION' } };
    const provider: TokenProvider = { getToken: () => Promise.resolve('bad'), onUnauthorized: () => Promise.resolve(true) };
    const { client } = makeClient({ tokenProvider: provider });
    await assert.rejects(client.listPage('contacts', { properties: [] }), (e: unknown) => e instanceof HubSpotError && e.code === 'UNAUTHORIZED' && /token expired or revoked/.test(e.message));
    assert.equal(seen.length, 2);
    seen = [];
    const { client: plain } = makeClient({ tokenProvider: staticTokenProvider('bad') });
    await assert.rejects(plain.listPage('contacts', { properties: [] }), /token expired or revoked/);
    assert.equal(seen.length, 1);
  });

  test('a secondly (search) 429 with room in our own search window waits 100 ms, doubling while refused', async () => {
    script = [rateLimited('SECONDLY')];
    fallback = { status: 200, body: { total: 0, results: [] } };
    const { client, clock } = makeClient();
    let start = clock.now();
    await client.search('deals', { limit: 10 });
    assert.equal(seen.length, 2);
    assert.equal(clock.now() - start, 100);
    seen = [];
    script = [rateLimited('SECONDLY'), rateLimited('SECONDLY'), rateLimited('SECONDLY')];
    start = clock.now();
    await client.search('deals', { limit: 10 });
    assert.equal(seen.length, 4);
    assert.equal(clock.now() - start, 100 + 200 + 400);
  });

  test('a refused request gives its place in our window back: the retry does not wait for the window', async () => {
    const clock = new SkipClock();
    const limiter = new PortalLimiter({ clock, perWindow: 2, windowMs: 10_000, marginMs: 0 });
    const client = new HubSpotClient({ baseUrl, tokenProvider: staticTokenProvider('test-token'), limiter, clock, random: () => 0.5 });
    // Someone else filled the portal's window (ours has room): a short pause, then the retry.
    script = [rateLimited('TEN_SECONDLY_ROLLING', { 'X-HubSpot-RateLimit-Interval-Milliseconds': '10000', 'X-HubSpot-RateLimit-Max': '2', 'X-HubSpot-RateLimit-Remaining': '0' })];
    fallback = { status: 200, body: { results: [] } };
    const start = clock.now();
    await client.listPage('contacts', { properties: [] });
    assert.equal(clock.now() - start, 250);
    assert.equal(seen.length, 2);
    assert.equal(limiter.stats().refunded, 1);
    // Two requests started, one was refused: one more fits the window of 2 at once (had the refused one
    // kept its place, this would wait until it left the window, 9 s later).
    await client.listPage('contacts', { properties: [] });
    assert.equal(clock.now() - start, 250);
    assert.equal(limiter.windowWaitMs('standard'), 10_000);
  });
});

describe('mapping HubSpot objects', () => {
  test('times may be ISO strings or epoch-millisecond strings', () => {
    assert.equal(parseHubSpotTime('2026-11-01T00:00:00.000Z'), Date.UTC(2026, 10, 1));
    assert.equal(parseHubSpotTime('1761955200000'), 1761955200000);
    assert.ok(Number.isNaN(parseHubSpotTime('')));
    assert.ok(Number.isNaN(parseHubSpotTime(null)));
  });

  test('a stored record keeps the properties verbatim and takes its time from the last-modified property', () => {
    const r = toStoredRecord('deals', { id: '5', properties: { amount: '1,234.50', hs_lastmodifieddate: '1761955200000' }, updatedAt: '2020-01-01T00:00:00Z' });
    assert.deepEqual(r, { id: '5', properties: { amount: '1,234.50', hs_lastmodifieddate: '1761955200000' }, updatedAt: '2025-11-01T00:00:00.000Z', archived: false });
  });

  test('contacts are read with the configured satisfaction and distance properties too', () => {
    const props = propertiesFor('contacts', { satisfactionProperty: 'csat', distanceProperty: 'km_to_store' });
    for (const p of ['email', 'city', 'country', 'hs_feedback_last_nps_rating', 'lastmodifieddate', 'smart_segment', 'csat', 'km_to_store']) assert.ok(props.includes(p), p);
    assert.deepEqual(propertiesFor('deals'), ['amount', 'dealstage', 'closedate', 'pipeline', 'dealname', 'hs_lastmodifieddate']);
  });
});

describe('association batch errors', () => {
  test('"no associations" and "object not found" entries read as no deals', () => {
    assert.doesNotThrow(() =>
      assertOnlyMissingAssociations(
        [
          { status: 'error', category: 'OBJECT_NOT_FOUND', subCategory: 'crm.associations.NO_ASSOCIATIONS_FOUND', message: 'none' },
          { status: 'error', category: 'OBJECT_NOT_FOUND', message: 'gone' },
        ],
        'contacts -> deals',
      ),
    );
  });

  test('any other error entry fails the read instead of dropping the deals', () => {
    assert.throws(
      () => assertOnlyMissingAssociations([{ status: 'error', category: 'INTERNAL_ERROR', message: 'try again' }], 'contacts -> deals'),
      /association read contacts -> deals failed: try again/,
    );
  });
});
