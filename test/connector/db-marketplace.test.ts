import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubSpotClient } from '../../connector/hubspot/client.js';
import type { OAuthAppConfig } from '../../connector/oauth/config.js';
import { createMarketplace, type Marketplace } from '../../connector/oauth/marketplace.js';
import { applyMarketplaceMigrations } from '../../connector/oauth/migrations.js';
import { PglitePortalStore, SqlPortalStore } from '../../connector/oauth/pglite-store.js';
import type { PortalRecord } from '../../connector/oauth/portal-store.js';
import { startSandbox, type SandboxServer } from '../../connector/sandbox/server.js';
import { openStore } from '../../connector/store.js';
import { PgliteWebhookLedger, SqlWebhookLedger } from '../../connector/webhooks/ledger.js';
import { BACKENDS, type Opened } from './db-backends.js';

const portal = (id: string, over: Partial<PortalRecord> = {}): PortalRecord => ({
  id,
  status: 'connected',
  accessToken: `v1.access.${id}`,
  refreshToken: `v1.refresh.${id}`,
  expiresAt: 1_790_000_000_000,
  scopes: ['oauth', 'crm.objects.contacts.read'],
  installedAt: '2026-11-23T18:00:00.000Z',
  installedBy: '7',
  disconnectedReason: null,
  ...over,
});

for (const backend of BACKENDS) {
  describe(`marketplace storage on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: Opened;
    before(async () => {
      opened = await backend.open();
      await applyMarketplaceMigrations(opened.db);
    });
    after(() => opened.cleanup());

    test('marketplace migrations apply once, next to the store\'s own ledger', async () => {
      await applyMarketplaceMigrations(opened.db);
      const store = await openStore({ database: opened.db, portalId: 'x' });
      await applyMarketplaceMigrations(store.db);
      const market = await opened.db.query<{ id: number }>('SELECT id FROM marketplace_migrations ORDER BY id');
      const own = await opened.db.query<{ id: number }>('SELECT id FROM migrations ORDER BY id');
      assert.deepEqual(market.rows.map((r) => r.id), [1]);
      assert.deepEqual(own.rows.map((r) => r.id), [1]);
      await store.close();
    });

    test('the portal store round-trips a portal through refresh, disconnect and delete', async () => {
      const s = new SqlPortalStore(opened.db);
      const record = portal('42');
      await s.put(record);
      assert.deepEqual(await s.get('42'), record);
      await s.updateTokens('42', { accessToken: 'v1.g', refreshToken: 'v1.h', expiresAt: 1_790_000_100_000 });
      await s.markDisconnected('42', 'the refresh token was revoked');
      assert.deepEqual(await s.get('42'), {
        ...record, accessToken: 'v1.g', refreshToken: 'v1.h', expiresAt: 1_790_000_100_000, status: 'disconnected', disconnectedReason: 'the refresh token was revoked',
      });
      // A refresh reconnects it.
      await s.updateTokens('42', { accessToken: 'v1.i', refreshToken: 'v1.h', expiresAt: 1_790_000_200_000 });
      assert.equal((await s.get('42'))?.status, 'connected');
      await s.delete('42');
      assert.equal(await s.get('42'), null);
      await s.updateTokens('42', { accessToken: 'a', refreshToken: 'b', expiresAt: 1 });
      assert.equal(await s.get('42'), null, 'updating an unknown portal creates nothing');
    });

    test('two portals\' install records never cross', async () => {
      const s = new PglitePortalStore(opened.db); // the old name still works
      await s.put(portal('100'));
      await s.put(portal('2', { installedBy: null, scopes: [] }));
      await s.updateTokens('100', { accessToken: 'v1.new', refreshToken: 'v1.new-r', expiresAt: 5 });
      await s.markDisconnected('100', 'uninstalled');
      assert.deepEqual(await s.get('2'), portal('2', { installedBy: null, scopes: [] }));
      assert.deepEqual((await s.list()).map((p) => [p.id, p.status]), [['100', 'disconnected'], ['2', 'connected']]);
      await s.delete('100');
      assert.deepEqual((await s.list()).map((p) => p.id), ['2']);
      // A re-install replaces the record.
      await s.put(portal('2', { accessToken: 'v1.reinstalled', installedAt: '2026-11-24T00:00:00.000Z' }));
      assert.equal((await s.get('2'))?.accessToken, 'v1.reinstalled');
      assert.equal((await s.get('2'))?.installedAt, '2026-11-24T00:00:00.000Z');
      await s.delete('2');
    });

    test('the webhook ledger keeps event ids and watermarks per portal', async () => {
      const ledger = new SqlWebhookLedger(opened.db);
      await ledger.commit('9', [{ eventId: '1', occurredAt: 100 }], new Map([['contact:5', { occurredAt: 100, deleted: false }]]));
      await ledger.commit('10', [{ eventId: '2', occurredAt: 100 }], new Map([['contact:5', { occurredAt: 300, deleted: true }]]));
      assert.deepEqual([...(await ledger.seen('9', ['1', '2', '3']))], ['1']);
      assert.deepEqual([...(await ledger.seen('10', ['1', '2']))], ['2']);
      assert.deepEqual(await ledger.watermarks('9', ['contact:5', 'contact:6']), new Map([['contact:5', { occurredAt: 100, deleted: false }]]));
      assert.deepEqual(await ledger.watermarks('10', ['contact:5']), new Map([['contact:5', { occurredAt: 300, deleted: true }]]));
      assert.deepEqual(await ledger.seen('9', []), new Set());
      assert.deepEqual(await ledger.watermarks('9', []), new Map());
    });

    test('a watermark only moves forward, and replayed event ids are recorded once', async () => {
      const ledger = new PgliteWebhookLedger(opened.db); // the old name still works
      await ledger.commit('20', [{ eventId: '1', occurredAt: 500 }], new Map([['deal:1', { occurredAt: 500, deleted: true }]]));
      await ledger.commit('20', [{ eventId: '1', occurredAt: 500 }, { eventId: '0', occurredAt: 400 }], new Map([['deal:1', { occurredAt: 400, deleted: false }]]));
      assert.deepEqual(await ledger.watermarks('20', ['deal:1']), new Map([['deal:1', { occurredAt: 500, deleted: true }]]));
      const count = await opened.db.query<{ n: number }>("SELECT count(*)::int AS n FROM webhook_events WHERE portal_id = '20'");
      assert.equal(count.rows[0]?.n, 2);
    });

    test('prune forgets old event ids of every portal but keeps watermarks', async () => {
      const ledger = new SqlWebhookLedger(opened.db);
      await ledger.commit('30', [{ eventId: 'a', occurredAt: 1_000 }, { eventId: 'b', occurredAt: 3_000 }], new Map([['contact:1', { occurredAt: 3_000, deleted: false }]]));
      await ledger.commit('31', [{ eventId: 'a', occurredAt: 1_500 }], new Map());
      await opened.db.query('DELETE FROM webhook_events WHERE portal_id NOT IN ($1, $2)', ['30', '31']);
      assert.equal(await ledger.prune(2_000), 2);
      assert.deepEqual([...(await ledger.seen('30', ['a', 'b']))], ['b']);
      assert.deepEqual([...(await ledger.seen('31', ['a']))], []);
      assert.deepEqual(await ledger.watermarks('30', ['contact:1']), new Map([['contact:1', { occurredAt: 3_000, deleted: false }]]));
    });

    test('a ledger commit inside a failed transaction is rolled back with it', async () => {
      const ledger = new SqlWebhookLedger(opened.db);
      await assert.rejects(
        opened.db.transaction(async () => {
          await ledger.commit('40', [{ eventId: 'x', occurredAt: 1 }], new Map([['contact:1', { occurredAt: 1, deleted: false }]]));
          throw new Error('the callback failed');
        }),
        /the callback failed/,
      );
      assert.deepEqual(await ledger.seen('40', ['x']), new Set());
      assert.deepEqual(await ledger.watermarks('40', ['contact:1']), new Map());
    });
  });

  describe(`two portals installed through the marketplace routes on ${backend.name}`, { skip: backend.skip }, () => {
    const key = Buffer.alloc(32, 9);
    let opened: Opened;
    const sandboxes: SandboxServer[] = [];
    const apps: { server: Server; url: string; market: Marketplace; config: OAuthAppConfig; calls: string[] }[] = [];

    before(async () => {
      opened = await backend.open();
      for (const portalId of [61_000_001, 61_000_002]) {
        const sandbox = await startSandbox({ contacts: 8, seed: portalId % 100, portalId, rateLimit: false });
        sandboxes.push(sandbox);
        const calls: string[] = [];
        const entry = { server: null as unknown as Server, url: '', market: null as unknown as Marketplace, config: null as unknown as OAuthAppConfig, calls };
        entry.server = createServer((req, res) => {
          void entry.market.handle(req, res, new URL(req.url ?? '/', entry.url)).then((h) => { if (!h) res.writeHead(404).end(); });
        });
        await new Promise<void>((r) => entry.server.listen(0, '127.0.0.1', r));
        entry.url = `http://127.0.0.1:${(entry.server.address() as AddressInfo).port}`;
        entry.config = { clientId: sandbox.oauth.clientId, clientSecret: sandbox.oauth.clientSecret, redirectUri: `${entry.url}/oauth/callback`, authorizeBase: sandbox.url, apiBase: sandbox.url };
        const record = (name: string) => (p: string, ids: string[]): Promise<void> => {
          calls.push(`${name} ${p} ${ids.join(',')}`);
          return Promise.resolve();
        };
        // Both app servers share one database, as the server replicas of one deployment do.
        entry.market = await createMarketplace({
          config: entry.config, key, db: opened.db, publicBaseUrl: entry.url,
          callbacks: { resyncContacts: record('resyncContacts'), resyncDeals: record('resyncDeals'), deleteContacts: record('deleteContacts') },
        });
        apps.push(entry);
      }
    });

    after(async () => {
      for (const a of apps) await new Promise<void>((r) => a.server.close(() => r()));
      for (const s of sandboxes) await s.close();
      await opened.cleanup();
    });

    const install = async (appUrl: string): Promise<number> => {
      const start = await fetch(`${appUrl}/oauth/install`, { redirect: 'manual' });
      const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const done = await fetch(authorize.headers.get('location')!, { redirect: 'manual' });
      await done.arrayBuffer();
      return done.status;
    };

    const deliver = async (app: (typeof apps)[number], events: unknown[]): Promise<number> => {
      const body = JSON.stringify(events);
      const ts = String(Date.now());
      const sig = createHmac('sha256', app.config.clientSecret).update(`POST${app.url}/webhooks${body}${ts}`).digest('base64');
      const res = await fetch(`${app.url}/webhooks`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-HubSpot-Signature-v3': sig, 'X-HubSpot-Request-Timestamp': ts } });
      await res.arrayBuffer();
      return res.status;
    };

    test('both installs store their own encrypted tokens, and each token works only on its portal', async () => {
      assert.deepEqual(await Promise.all(apps.map((a) => install(a.url))), [200, 200]);
      const rows = await opened.db.query<{ portal_id: string; status: string; access_token: string }>('SELECT portal_id, status, access_token FROM oauth_portals ORDER BY portal_id');
      assert.deepEqual(rows.rows.map((r) => [r.portal_id, r.status]), [['61000001', 'connected'], ['61000002', 'connected']]);
      for (const [i, app] of apps.entries()) {
        const portalId = String(sandboxes[i]!.portalId);
        const token = await app.market.tokens.getToken(portalId);
        assert.ok(rows.rows.every((r) => !r.access_token.includes(token)), 'tokens are stored encrypted');
        const client = new HubSpotClient({ baseUrl: sandboxes[i]!.url, tokenProvider: app.market.tokens.provider(portalId) });
        assert.equal((await client.listPage('contacts', { limit: 3, properties: ['email'] })).results.length, 3);
        // The other portal's sandbox does not accept this portal's token.
        const other = sandboxes[1 - i]!;
        const res = await fetch(`${other.url}/crm/v3/objects/contacts?limit=1`, { headers: { Authorization: `Bearer ${token}` } });
        await res.arrayBuffer();
        assert.equal(res.status, 401);
      }
    });

    test('disconnecting one portal leaves the other connected', async () => {
      const [a, b] = apps;
      await a!.market.portals.markDisconnected(String(sandboxes[0]!.portalId), 'uninstalled');
      await assert.rejects(a!.market.tokens.getToken(String(sandboxes[0]!.portalId)), /disconnected/);
      const bToken = await b!.market.tokens.getToken(String(sandboxes[1]!.portalId));
      assert.ok(bToken.length > 0);
      assert.deepEqual((await b!.market.portals.list()).map((p) => [p.id, p.status]), [['61000001', 'disconnected'], ['61000002', 'connected']]);
    });

    test('webhook events of one portal are deduplicated in the shared database without touching the other', async () => {
      const [a, b] = apps;
      const event = (portalId: number) => ({ eventId: 500, portalId, occurredAt: Date.now(), subscriptionType: 'contact.propertyChange', objectId: 5, propertyName: 'city' });
      assert.equal(await deliver(a!, [event(61_000_001)]), 200);
      assert.equal(await deliver(a!, [event(61_000_001)]), 200); // replay
      // The same event id in the other portal is a different event.
      assert.equal(await deliver(b!, [event(61_000_002)]), 200);
      // A restarted server (a new marketplace over the same database) still knows A's event.
      const restarted = await createMarketplace({
        config: a!.config, key, db: opened.db, publicBaseUrl: a!.url,
        callbacks: { resyncContacts: () => Promise.reject(new Error('must not run')), resyncDeals: () => Promise.resolve(), deleteContacts: () => Promise.resolve() },
      });
      const oldMarket = a!.market;
      a!.market = restarted;
      try {
        assert.equal(await deliver(a!, [event(61_000_001)]), 200);
      } finally {
        a!.market = oldMarket;
      }
      assert.deepEqual(a!.calls, ['resyncContacts 61000001 5']);
      assert.deepEqual(b!.calls, ['resyncContacts 61000002 5']);
    });
  });
}
