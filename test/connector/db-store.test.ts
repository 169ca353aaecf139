import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, type Store } from '../../connector/store.js';
import { BACKENDS, TEST_DATABASE_URL, dropSchema, freshSchema, type Opened } from './db-backends.js';

for (const backend of BACKENDS) {
  describe(`Store on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: Opened;
    let store: Store;
    before(async () => {
      opened = await backend.open();
      store = await openStore({ database: opened.db, portalId: 'p1' });
    });
    after(async () => {
      await store.close();
      await opened.cleanup();
    });

    test('upserts a page in one go, last write wins, and reads records back in id order', async () => {
      await store.upsertContacts([
        { id: '2', properties: { email: 'b@x.ua', city: 'Kyiv' }, updatedAt: '2026-01-02T00:00:00.000Z' },
        { id: '10', properties: { email: 'j@x.ua' }, updatedAt: '2026-01-03T00:00:00.000Z' },
        { id: '2', properties: { email: 'b2@x.ua', city: 'Irpin' }, updatedAt: '2026-01-04T00:00:00.000Z' },
      ]);
      assert.deepEqual(await store.allContacts(), [
        { id: '2', properties: { email: 'b2@x.ua', city: 'Irpin' } },
        { id: '10', properties: { email: 'j@x.ua' } },
      ]);
      const rows = await store.records('contacts');
      assert.deepEqual(rows.map((r) => [r.id, r.updatedAt, r.archived]), [
        ['2', '2026-01-04T00:00:00.000Z', false],
        ['10', '2026-01-03T00:00:00.000Z', false],
      ]);
      assert.deepEqual(await store.getContact('10'), { id: '10', properties: { email: 'j@x.ua' } });
      assert.equal(await store.getContact('nope'), null);
      assert.equal(await store.count('contacts'), 2);
    });

    test('a patching upsert keeps the stored timestamp, and merged properties overlay the stored ones', async () => {
      await store.upsertContacts([{ id: '10', properties: { email: 'j@x.ua', smart_segment: 'loyal' } }]);
      const row = (await store.records('contacts')).find((r) => r.id === '10');
      assert.equal(row?.updatedAt, '2026-01-03T00:00:00.000Z');
      await store.mergeContactProperties([{ id: '10', properties: { smart_segment: 'risky' } }, { id: 'unknown', properties: { a: '1' } }]);
      assert.deepEqual((await store.getContact('10'))?.properties, { email: 'j@x.ua', smart_segment: 'risky' });
      assert.equal(await store.getContact('unknown'), null);
    });

    test('archived records are kept but not listed', async () => {
      const s = store.withPortal('archive');
      await s.upsertDeals([{ id: '1', properties: {} }, { id: '2', properties: {}, archived: true }]);
      assert.deepEqual((await s.allDeals()).map((d) => d.id), ['1']);
      assert.deepEqual((await s.records('deals')).map((d) => [d.id, d.archived]), [['1', false], ['2', true]]);
    });

    test('replaces associations from either side and lists them per contact', async () => {
      const s = store.withPortal('assoc');
      await s.replaceAssociations(new Map([['2', ['100', '101', '101']], ['10', ['102']]]));
      await s.replaceAssociations({ '2': ['103', '20'] });
      assert.deepEqual(await s.associations(), { '10': ['102'], '2': ['20', '103'] });
      await s.replaceDealAssociations({ '102': ['2', '3'] });
      assert.deepEqual(await s.associations(), { '2': ['20', '102', '103'], '3': ['102'] });
      await s.replaceAssociations({ '2': [] });
      assert.deepEqual(await s.associations(), { '3': ['102'] });
      assert.equal(await s.count('associations'), 1);
    });

    test('deleting contacts and deals removes their associations and reports how many went', async () => {
      const s = store.withPortal('delete');
      await s.upsertContacts([{ id: '2', properties: {} }, { id: '3', properties: {} }]);
      await s.upsertDeals([{ id: '103', properties: { amount: '5' } }, { id: '104', properties: {} }]);
      await s.replaceAssociations({ '2': ['103', '104'], '3': ['103'] });
      assert.equal(await s.deleteDeals(['104', 'missing']), 1);
      assert.deepEqual(await s.associations(), { '2': ['103'], '3': ['103'] });
      assert.equal(await s.deleteContacts(['3']), 1);
      assert.deepEqual(await s.associations(), { '2': ['103'] });
      assert.equal(await s.deleteContacts([]), 0);
    });

    test('sweep deletes records a generation did not see', async () => {
      const s = store.withPortal('sweep');
      await s.upsertContacts([{ id: 'a', properties: {} }, { id: 'b', properties: {} }], { generation: 1 });
      await s.replaceAssociations({ a: ['d1'], b: ['d2'] });
      await s.upsertContacts([{ id: 'a', properties: { x: '1' } }], { generation: 2 });
      await s.upsertContacts([{ id: 'a', properties: { x: '2' } }]);
      assert.equal(await s.sweep('contacts', 2), 1);
      assert.deepEqual((await s.allContacts()).map((c) => c.id), ['a']);
      assert.deepEqual(await s.associations(), { a: ['d1'] });
    });

    test('analyze gathers the record tables\' statistics; vacuum runs on PGlite and leaves PostgreSQL to its autovacuum', async () => {
      const s = store.withPortal('maintenance');
      const deals = Array.from({ length: 50 }, (_, i) => ({ id: String(i), properties: { amount: String(i) } }));
      await s.upsertDeals(deals, { generation: 1 });
      await s.upsertDeals(deals, { generation: 2 });
      const tables = async (column: 'last_analyze' | 'last_vacuum'): Promise<string[]> =>
        (
          await store.db.query<{ relname: string }>(
            `SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema() AND ${column} IS NOT NULL
               AND relname IN ('contacts', 'deals', 'associations', 'sync_state') ORDER BY relname`,
          )
        ).rows.map((r) => r.relname);
      await s.analyze();
      assert.deepEqual(await tables('last_analyze'), ['associations', 'contacts', 'deals', 'sync_state']);
      await s.vacuum();
      assert.deepEqual(await tables('last_vacuum'), store.db.kind === 'pglite' ? ['associations', 'contacts', 'deals', 'sync_state'] : []);
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
          // Another portal's view joins the same transaction and is rolled back with it.
          await s.withPortal('tx-other').setState('touched', true);
          throw new Error('killed');
        }),
        /killed/,
      );
      assert.deepEqual((await s.allDeals()).map((d) => d.id), ['1']);
      assert.equal(await s.getState('deals.after'), '1');
      assert.equal(await s.withPortal('tx-other').getState('touched'), undefined);
    });

    test('state and key/value round-trip JSON values and can be deleted', async () => {
      await store.setState('x', { a: [1, 2], b: null, s: 'ü' });
      assert.deepEqual(await store.getState('x'), { a: [1, 2], b: null, s: 'ü' });
      await store.setState('x', undefined);
      assert.equal(await store.getState('x'), undefined);
      await store.setKv('k', 3);
      await store.setKv('k', [4]);
      assert.deepEqual(await store.getKv('k'), [4]);
      assert.equal(await store.withPortal('elsewhere').getKv('k') !== undefined, true, 'kv is process-wide, not per portal');
    });

    test('two portals in one database never see or change each other\'s data', async () => {
      const a = store.withPortal('portal-a');
      const b = store.withPortal('portal-b');
      // The same ids in both portals.
      await a.upsertContacts([{ id: '1', properties: { email: 'a1@a.ua' } }, { id: '2', properties: { email: 'a2@a.ua' } }], { generation: 1 });
      await b.upsertContacts([{ id: '1', properties: { email: 'b1@b.ua' } }], { generation: 7 });
      await a.upsertDeals([{ id: '9', properties: { amount: '100' } }]);
      await b.upsertDeals([{ id: '9', properties: { amount: '999' } }]);
      await a.replaceAssociations({ '1': ['9'] });
      await b.replaceAssociations({ '1': ['9'] });
      await a.setState('contacts.cursor', 'a');
      await b.setState('contacts.cursor', 'b');

      // Writes in A: merge, delete, sweep, association replacement.
      await a.mergeContactProperties([{ id: '1', properties: { smart_segment: 'loyal' } }]);
      assert.equal(await a.deleteContacts(['2']), 1);
      assert.equal(await a.sweep('contacts', 1), 0);
      await a.replaceDealAssociations({ '9': [] });
      await a.deleteState('contacts.cursor');

      assert.deepEqual(await b.allContacts(), [{ id: '1', properties: { email: 'b1@b.ua' } }]);
      assert.deepEqual(await b.allDeals(), [{ id: '9', properties: { amount: '999' } }]);
      assert.deepEqual(await b.associations(), { '1': ['9'] });
      assert.equal(await b.getState('contacts.cursor'), 'b');
      assert.equal(await b.count('contacts'), 1);

      // And B's writes leave A alone.
      assert.equal(await b.sweep('contacts', 8), 1);
      assert.deepEqual(await a.allContacts(), [{ id: '1', properties: { email: 'a1@a.ua', smart_segment: 'loyal' } }]);
      assert.deepEqual(await a.allDeals(), [{ id: '9', properties: { amount: '100' } }]);
      assert.deepEqual(await a.associations(), {});
      assert.equal(await a.getState('contacts.cursor'), undefined);
    });

    test('concurrent pages of different portals land in their own portal', async () => {
      const portals = ['c1', 'c2', 'c3'].map((p) => store.withPortal(p));
      await Promise.all(
        portals.map((s, i) =>
          s.transaction(async () => {
            await s.upsertContacts(Array.from({ length: 50 }, (_, k) => ({ id: String(k), properties: { owner: s.portalId } })), { generation: i });
            await s.setState('page', i);
          }),
        ),
      );
      for (const [i, s] of portals.entries()) {
        const contacts = await s.allContacts();
        assert.equal(contacts.length, 50);
        assert.ok(contacts.every((c) => c.properties.owner === s.portalId));
        assert.equal(await s.getState('page'), i);
      }
    });

    test('opening a second store on the same database applies no migration again', async () => {
      const again = await openStore({ database: opened.db, portalId: 'p1' });
      const ids = await again.db.query<{ id: number }>('SELECT id FROM migrations ORDER BY id');
      assert.deepEqual(ids.rows.map((r) => r.id), [1]);
      assert.equal(await again.count('contacts'), 2);
      // The database was lent to it: closing this store leaves the database open for the others.
      await again.close();
      assert.equal(await store.count('contacts'), 2);
    });
  });
}

describe('openStore with a databaseUrl', { skip: TEST_DATABASE_URL === undefined ? 'TEST_DATABASE_URL is not set' : false }, () => {
  const url = TEST_DATABASE_URL ?? '';

  test('keeps data across reopen on the PostgreSQL server and owns its connection pool', async () => {
    const schema = freshSchema();
    try {
      const first = await openStore({ databaseUrl: url, schema, portalId: 7, dataDir: '/nonexistent/ignored' });
      assert.equal(first.db.kind, 'postgres');
      await first.upsertContacts([{ id: '1', properties: { email: 'a@b.c' } }]);
      await first.setState('full', { done: true });
      await first.close();
      await first.close(); // twice is harmless
      const second = await openStore({ databaseUrl: url, schema, portalId: 7 });
      assert.deepEqual(await second.allContacts(), [{ id: '1', properties: { email: 'a@b.c' } }]);
      assert.deepEqual(await second.getState('full'), { done: true });
      const migrations = await second.db.query<{ id: number }>('SELECT id FROM migrations ORDER BY id');
      assert.deepEqual(migrations.rows.map((r) => r.id), [1]);
      await second.close();
    } finally {
      await dropSchema(url, schema);
    }
  });

  test('stores opened at once on an empty schema migrate it exactly once', async () => {
    const schema = freshSchema();
    try {
      const stores = await Promise.all([1, 2, 3].map((p) => openStore({ databaseUrl: url, schema, portalId: p })));
      const ledger = await stores[0]!.db.query<{ id: number }>('SELECT id FROM migrations');
      assert.deepEqual(ledger.rows.map((r) => r.id), [1]);
      await Promise.all(stores.map((s) => s.close()));
    } finally {
      await dropSchema(url, schema);
    }
  });

  test('an unreachable server fails openStore with the URL and no password', async () => {
    const dead = new URL(url);
    dead.port = '1';
    await assert.rejects(openStore({ databaseUrl: dead.toString(), portalId: 1 }), (error: Error) => {
      assert.match(error.message, /cannot use the PostgreSQL database at postgres:\/\/smart_segments:\*\*\*@127\.0\.0\.1:1\//);
      assert.ok(!error.message.includes(new URL(url).password));
      return true;
    });
  });
});
