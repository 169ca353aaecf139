import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HubSpotClient } from '../../connector/hubspot/client.js';
import type { OAuthAppConfig } from '../../connector/oauth/config.js';
import { verifyIframeToken } from '../../connector/oauth/iframe-token.js';
import { createMarketplace, iframeTokenKey, type Marketplace } from '../../connector/oauth/marketplace.js';
import { introspect, type FetchLike } from '../../connector/oauth/tokens.js';
import { startSandbox, type SandboxServer } from '../../connector/sandbox/server.js';
import { openStore, type Store } from '../../connector/store.js';

const key = Buffer.alloc(32, 5);

describe('the marketplace routes mounted together over PGlite', () => {
  let sandbox: SandboxServer;
  let db: Store;
  let app: Server;
  let appUrl = '';
  let market: Marketplace;
  let config: OAuthAppConfig;
  const calls: string[] = [];
  const installed: string[] = [];
  const callbacks = {
    resyncContacts: (p: string, ids: string[]) => { calls.push(`resyncContacts ${p} ${ids.join(',')}`); return Promise.resolve(); },
    resyncDeals: (p: string, ids: string[]) => { calls.push(`resyncDeals ${p} ${ids.join(',')}`); return Promise.resolve(); },
    deleteContacts: (p: string, ids: string[]) => { calls.push(`deleteContacts ${p} ${ids.join(',')}`); return Promise.resolve(); },
  };

  before(async () => {
    sandbox = await startSandbox({ contacts: 20, seed: 8, rateLimit: false });
    db = await openStore({ portalId: sandbox.portalId });
    app = createServer((req, res) => {
      void market.handle(req, res, new URL(req.url ?? '/', appUrl)).then((h) => { if (!h) res.writeHead(404).end(); });
    });
    await new Promise<void>((r) => app.listen(0, '127.0.0.1', r));
    appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
    config = { clientId: sandbox.oauth.clientId, clientSecret: sandbox.oauth.clientSecret, redirectUri: `${appUrl}/oauth/callback`, authorizeBase: sandbox.url, apiBase: sandbox.url };
    market = await createMarketplace({ config, key, db: db.db, callbacks, publicBaseUrl: appUrl, onInstalled: (p) => { installed.push(p); } });
  });

  after(async () => {
    await new Promise<void>((r) => app.close(() => r()));
    await db.close();
    await sandbox.close();
  });

  test('an install stores encrypted tokens in the database and gives the client a working token provider', async () => {
    const install = await fetch(`${appUrl}/oauth/install`, { redirect: 'manual' });
    const authorize = await fetch(install.headers.get('location')!, { redirect: 'manual' });
    const done = await fetch(authorize.headers.get('location')!, { redirect: 'manual' });
    assert.equal(done.status, 200);
    const portalId = String(sandbox.portalId);
    assert.deepEqual(installed, [portalId]);
    const rows = await db.db.query<{ status: string; access_token: string }>('SELECT status, access_token FROM oauth_portals');
    assert.equal(rows.rows.length, 1);
    assert.equal(rows.rows[0]!.status, 'connected');
    assert.match(rows.rows[0]!.access_token, /^v1\./);
    const token = await market.tokens.getToken(portalId);
    assert.ok(!rows.rows[0]!.access_token.includes(token));
    const client = new HubSpotClient({ baseUrl: sandbox.url, tokenProvider: market.tokens.provider(portalId) });
    assert.equal((await client.listPage('contacts', { limit: 4, properties: ['email'] })).results.length, 4);
  });

  test('the card\'s signed token request gets an explorer token signed with the derived key', async () => {
    const uri = `${appUrl}/api/iframe-token?userId=3&portalId=${sandbox.portalId}`;
    const ts = String(Date.now());
    const sig = createHmac('sha256', config.clientSecret).update(`GET${uri}${ts}`).digest('base64');
    const res = await fetch(uri, { headers: { 'X-HubSpot-Signature-v3': sig, 'X-HubSpot-Request-Timestamp': ts } });
    assert.equal(res.status, 200);
    const { token } = (await res.json()) as { token: string };
    assert.equal(verifyIframeToken(iframeTokenKey(key), token, { portalId: sandbox.portalId }).userId, '3');
    assert.throws(() => verifyIframeToken(key, token), /not issued by this server/);
  });

  test('webhook events reach the callbacks once, even across a restart over the same database', async () => {
    const body = JSON.stringify([{ eventId: 77, portalId: sandbox.portalId, occurredAt: Date.now(), subscriptionType: 'contact.propertyChange', objectId: 5, propertyName: 'city' }]);
    const deliver = async (): Promise<number> => {
      const ts = String(Date.now());
      const sig = createHmac('sha256', config.clientSecret).update(`POST${appUrl}/webhooks${body}${ts}`).digest('base64');
      const res = await fetch(`${appUrl}/webhooks`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', 'X-HubSpot-Signature-v3': sig, 'X-HubSpot-Request-Timestamp': ts } });
      await res.arrayBuffer();
      return res.status;
    };
    assert.equal(await deliver(), 200);
    market = await createMarketplace({ config, key, db: db.db, callbacks, publicBaseUrl: appUrl });
    assert.equal(await deliver(), 200);
    assert.deepEqual(calls, [`resyncContacts ${sandbox.portalId} 5`]);
  });
});

describe('token introspection', () => {
  const config: OAuthAppConfig = { clientId: 'c', clientSecret: 's', redirectUri: 'https://x/cb', apiBase: 'https://api.example' };

  test('reads hub_id from the v3 introspection answer', async () => {
    const seen: string[] = [];
    const fake: FetchLike = (url, init) => {
      seen.push(`${init.method} ${url} ${init.body ?? ''}`);
      return Promise.resolve(new Response(JSON.stringify({ active: true, hub_id: 123, user_id: 9, scope: 'oauth crm.objects.contacts.read' }), { status: 200 }));
    };
    assert.deepEqual(await introspect(config, 'tok', { fetch: fake }), { portalId: '123', userId: '9', scopes: ['oauth', 'crm.objects.contacts.read'] });
    assert.deepEqual(seen, ['POST https://api.example/oauth/v3/token/introspect client_id=c&client_secret=s&token=tok&token_type_hint=access_token']);
  });

  test('falls back to the legacy access-token metadata when introspection has no hub id', async () => {
    const fake: FetchLike = (url) => Promise.resolve(url.endsWith('/introspect')
      ? new Response('{"message":"not found"}', { status: 404 })
      : new Response(JSON.stringify({ hub_id: 456, user_id: 2, scopes: ['oauth'] }), { status: 200 }));
    assert.deepEqual(await introspect(config, 'a/b', { fetch: fake }), { portalId: '456', userId: '2', scopes: ['oauth'] });
  });

  test('an inactive new token is reported as an invalid grant', async () => {
    const fake: FetchLike = () => Promise.resolve(new Response('{"active":false}', { status: 200 }));
    await assert.rejects(introspect(config, 't', { fetch: fake }), (e: unknown) => e instanceof Error && 'code' in e && e.code === 'invalid_grant');
  });
});
