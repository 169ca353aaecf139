import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../connector/store.js';
import type { Store } from '../../connector/store.js';

describe('Store', () => {
  let store: Store;
  before(async () => {
    store = await openStore({ portalId: 'p1' });
  });
  after(() => store.close());

  test('upserts a page in one go, last write wins, and reads records back', async () => {
    await store.upsertContacts([
      { id: '2', properties: { email: 'b@x.ua', city: 'Kyiv' }, updatedAt: '2026-01-02T00:00:00.000Z' },
      { id: '10', properties: { email: 'j@x.ua' }, updatedAt: '2026-01-03T00:00:00.000Z' },
      { id: '2', properties: { email: 'b2@x.ua', city: 'Irpin' }, updatedAt: '2026-01-04T00:00:00.000Z' },
    ]);
    const all = await store.allContacts();
    assert.deepEqual(all, [
      { id: '2', properties: { email: 'b2@x.ua', city: 'Irpin' } },
      { id: '10', properties: { email: 'j@x.ua' } },
    ]);
    const rows = await store.records('contacts');
    assert.equal(rows[0]?.updatedAt, '2026-01-04T00:00:00.000Z');
    assert.deepEqual(await store.getContact('10'), { id: '10', properties: { email: 'j@x.ua' } });
    assert.equal(await store.getContact('nope'), null);
  });

  test('a patching upsert without updatedAt keeps the stored timestamp', async () => {
    await store.upsertContacts([{ id: '10', properties: { email: 'j@x.ua', smart_segment: 'loyal' } }]);
    const row = (await store.records('contacts')).find((r) => r.id === '10');
    assert.equal(row?.updatedAt, '2026-01-03T00:00:00.000Z');
    assert.equal(row?.properties.smart_segment, 'loyal');
    await store.mergeContactProperties([{ id: '10', properties: { smart_segment: 'risky' } }]);
    assert.deepEqual((await store.getContact('10'))?.properties, { email: 'j@x.ua', smart_segment: 'risky' });
  });

  test('replaces a contact\'s associations and lists them per contact', async () => {
    await store.replaceAssociations(new Map([['2', ['100', '101', '101']], ['10', ['102']]]));
    await store.replaceAssociations({ '2': ['103'] });
    assert.deepEqual(await store.associations(), { '10': ['102'], '2': ['103'] });
    await store.replaceAssociations({ '10': [] });
    assert.deepEqual(await store.associations(), { '2': ['103'] });
  });

  test('deleting contacts and deals removes their associations', async () => {
    await store.upsertDeals([{ id: '103', properties: { amount: '5' } }, { id: '104', properties: {} }]);
    await store.replaceAssociations({ '2': ['103', '104'] });
    assert.equal(await store.deleteDeals(['104']), 1);
    assert.deepEqual(await store.associations(), { '2': ['103'] });
    await store.upsertContacts([{ id: '3', properties: {} }]);
    await store.replaceAssociations({ '3': ['103'] });
    assert.equal(await store.deleteContacts(['3']), 1);
    assert.deepEqual(await store.associations(), { '2': ['103'] });
  });

  test('sweep deletes records a generation did not see', async () => {
    const s = store.withPortal('sweep');
    await s.upsertContacts([{ id: 'a', properties: {} }, { id: 'b', properties: {} }], { generation: 1 });
    await s.replaceAssociations({ a: ['d1'], b: ['d2'] });
    await s.upsertContacts([{ id: 'a', properties: { x: '1' } }], { generation: 2 });
    // A patching write (no generation) must not make a record survive or die by itself.
    await s.upsertContacts([{ id: 'a', properties: { x: '2' } }]);
    assert.equal(await s.sweep('contacts', 2), 1);
    assert.deepEqual((await s.allContacts()).map((c) => c.id), ['a']);
    assert.deepEqual(await s.associations(), { a: ['d1'] });
  });

  test('portals do not see each other\'s data', async () => {
    const other = store.withPortal('p2');
    assert.deepEqual(await other.allContacts(), []);
    await other.setState('cursor', { after: '5' });
    assert.equal(await store.getState('cursor'), undefined);
    assert.deepEqual(await other.getState('cursor'), { after: '5' });
  });

  test('a transaction commits records and checkpoint together, or neither', async () => {
    const s = store.withPortal('tx');
    await s.transaction(async () => {
      await s.upsertDeals([{ id: '1', properties: {} }]);
      await s.setState('deals.after', '1');
    });
    await assert.rejects(
      s.transaction(async (tx) => {
        await tx.upsertDeals([{ id: '2', properties: {} }]);
        await s.setState('deals.after', '2');
        throw new Error('killed');
      }),
      /killed/,
    );
    assert.deepEqual((await s.allDeals()).map((d) => d.id), ['1']);
    assert.equal(await s.getState('deals.after'), '1');
  });

  test('state round-trips JSON values and can be deleted', async () => {
    await store.setState('x', { a: [1, 2], b: null });
    assert.deepEqual(await store.getState('x'), { a: [1, 2], b: null });
    await store.setState('x', undefined);
    assert.equal(await store.getState('x'), undefined);
    await store.setKv('k', 3);
    assert.equal(await store.getKv('k'), 3);
  });
});

describe('Store on disk', () => {
  test('keeps data and applied migrations across reopen', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'store-'));
    try {
      const a = await openStore({ dataDir: join(dir, 'store'), portalId: 7 });
      await a.upsertContacts([{ id: '1', properties: { email: 'a@b.c' } }]);
      await a.setState('full', { done: true });
      await a.close();
      const b = await openStore({ dataDir: join(dir, 'store'), portalId: 7 });
      assert.deepEqual(await b.allContacts(), [{ id: '1', properties: { email: 'a@b.c' } }]);
      assert.deepEqual(await b.getState('full'), { done: true });
      const migrations = await b.db.query<{ id: number }>('SELECT id FROM migrations ORDER BY id');
      assert.deepEqual(migrations.rows.map((r) => r.id), [1]);
      await b.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
