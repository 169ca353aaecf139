/**
 * The marketplace server end to end over loopback: two sandbox portals behind one "HubSpot" URL, installs
 * through the server (state mismatch, replayed code), token refresh during a sync, a revoked token, two
 * portals with no data crossing, webhooks that re-sync, re-assign and write back only what changed, and the
 * token-gated iframe pages. On the embedded database, and on PostgreSQL when TEST_DATABASE_URL is set.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { fit } from '../../src/fit.js';
import type { Snapshot } from '../../src/types.js';
import { main } from '../../connector/cli.js';
import { issueIframeToken, verifyIframeToken } from '../../connector/oauth/iframe-token.js';
import { iframeTokenKey } from '../../connector/oauth/marketplace.js';
import { marketplaceEnv, startMarketplaceApp, type MarketplaceApp } from '../../connector/portals/marketplace-server.js';
import { startSandbox, type SandboxServer } from '../../connector/sandbox/server.js';
import { snapshotTable } from '../../connector/server/server.js';
import { BACKENDS, dropSchema, freshSchema, TEST_DATABASE_URL } from './db-backends.js';
import { freePort, startHub, type Hub } from './portals-hub.js';

const KEY_HEX = '5a'.repeat(32);
const key = Buffer.from(KEY_HEX, 'hex');
const SECRET = 'sandbox-client-secret';

const baseEnv = (appBase: string, hub: string): Record<string, string> => ({
  HUBSPOT_CLIENT_ID: 'sandbox-client-id',
  HUBSPOT_CLIENT_SECRET: SECRET,
  APP_BASE_URL: appBase,
  TOKEN_ENCRYPTION_KEY: KEY_HEX,
  HUBSPOT_API_BASE: hub,
  HUBSPOT_AUTHORIZE_BASE: hub,
  SMART_SEGMENTS_AS_OF: '2026-11-01',
});

describe('marketplace start-up configuration', () => {
  const good = baseEnv('https://segments.example.com', 'https://api.hubapi.com');

  test('accepts a complete configuration and derives the redirect URL from APP_BASE_URL', () => {
    const s = marketplaceEnv({ ...good, APP_BASE_URL: 'https://segments.example.com/' });
    assert.equal(s.oauth.redirectUri, 'https://segments.example.com/oauth/callback');
    assert.equal(s.key.length, 32);
  });

  for (const [name, value, pattern] of [
    ['HUBSPOT_CLIENT_SECRET', undefined, /HUBSPOT_CLIENT_SECRET: is not set/],
    ['HUBSPOT_CLIENT_ID', 'has spaces', /HUBSPOT_CLIENT_ID: is malformed/],
    ['APP_BASE_URL', 'segments.example.com', /APP_BASE_URL: .*not an absolute URL/],
    ['APP_BASE_URL', 'http://segments.example.com', /APP_BASE_URL: .*must use https/],
    ['TOKEN_ENCRYPTION_KEY', 'short', /TOKEN_ENCRYPTION_KEY: must be 32 bytes/],
    ['TOKEN_ENCRYPTION_KEY', undefined, /TOKEN_ENCRYPTION_KEY: /],
  ] as const) {
    test(`refuses ${name}=${value ?? '(unset)'} with a message naming the variable`, () => {
      const env: Record<string, string | undefined> = { ...good, [name]: value };
      assert.throws(() => marketplaceEnv(env), pattern);
    });
  }

  test('serve stops with exit code 2 and names the variable when a marketplace secret is missing', async () => {
    const err: string[] = [];
    const code = await main(['serve', '--port', '0'], {
      stdout: () => {},
      stderr: (t) => err.push(t),
      env: { ...good, TOKEN_ENCRYPTION_KEY: undefined },
    });
    assert.equal(code, 2);
    assert.match(err.join(''), /TOKEN_ENCRYPTION_KEY/);
  });
});

for (const backend of BACKENDS) {
  describe(`the marketplace server with two portals installed (${backend.name})`, { skip: backend.skip }, () => {
    let a: SandboxServer;
    let b: SandboxServer;
    let hub: Hub;
    let app: MarketplaceApp;
    let base = '';
    let schema: string | undefined;
    const logs: string[] = [];
    const issued: string[] = [];
    const A = 70_001;
    const B = 70_002;

    const token = (portalId: number, userId = 9, now = Date.now()): string => {
      const t = issueIframeToken(iframeTokenKey(key), { portalId, userId }, { now }).token;
      issued.push(t);
      return t;
    };
    const api = async <T = unknown>(portalId: number, path: string, init: RequestInit = {}): Promise<{ status: number; body: T }> => {
      const res = await fetch(`${base}${path}`, { ...init, headers: { authorization: `Bearer ${token(portalId)}`, ...(init.headers as Record<string, string> | undefined) } });
      return { status: res.status, body: (await res.json()) as T };
    };
    const install = async (sandbox: SandboxServer): Promise<{ callback: string; status: number; text: string }> => {
      hub.login(sandbox);
      const start = await fetch(`${base}/oauth/install`, { redirect: 'manual' });
      assert.equal(start.status, 302);
      const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
      const callback = authorize.headers.get('location')!;
      const done = await fetch(callback, { redirect: 'manual' });
      return { callback, status: done.status, text: await done.text() };
    };
    const deliver = async (events: unknown[]): Promise<Response> => {
      const body = JSON.stringify(events);
      const ts = String(Date.now());
      const sig = createHmac('sha256', SECRET).update(`POST${base}/webhooks${body}${ts}`).digest('base64');
      return fetch(`${base}/webhooks`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-hubspot-signature-v3': sig, 'x-hubspot-request-timestamp': ts }, body });
    };
    const emails = (s: Snapshot): Set<string> => new Set(s.emails);
    const sandboxEmails = (s: SandboxServer): Set<string> => new Set(s.data.listContacts().map((c) => String(c.properties.email)));
    let eventId = 1;
    const event = (portalId: number, subscriptionType: string, objectId: number, extra: Record<string, unknown> = {}): Record<string, unknown> =>
      ({ eventId: eventId++, portalId, occurredAt: Date.now(), subscriptionType, objectId, attemptNumber: 0, ...extra });

    before(async () => {
      a = await startSandbox({ contacts: 40, seed: 11, portalId: A, rateLimit: false, fresh: true });
      b = await startSandbox({ contacts: 30, seed: 12, portalId: B, rateLimit: false, fresh: true });
      hub = await startHub([a, b]);
      const port = await freePort();
      base = `http://127.0.0.1:${port}`;
      if (backend.name === 'postgres' && TEST_DATABASE_URL) schema = freshSchema();
      app = await startMarketplaceApp({
        env: baseEnv(base, hub.url),
        port,
        memoryStore: true,
        ...(schema && TEST_DATABASE_URL ? { database: { databaseUrl: TEST_DATABASE_URL, schema } } : {}),
        out: { stdout: (t) => logs.push(t), stderr: (t) => logs.push(t) },
      });
    });

    after(async () => {
      await app?.close();
      await hub?.close();
      await a?.close();
      await b?.close();
      if (schema && TEST_DATABASE_URL) await dropSchema(TEST_DATABASE_URL, schema);
    });

    test('a callback whose state this server never issued is refused and stores nothing', async () => {
      const res = await fetch(`${base}/oauth/callback?code=abc&state=forged`);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /does not match an install started here/);
      assert.deepEqual(await app.marketplace.portals.list(), []);
    });

    let firstCallback = '';
    test('installing stores the portal with encrypted tokens and runs its full sync as a job', async () => {
      const done = await install(a);
      firstCallback = done.callback;
      assert.equal(done.status, 200, done.text);
      const record = await app.marketplace.portals.get(String(A));
      assert.equal(record?.status, 'connected');
      assert.match(record!.accessToken, /^v1\./);
      await app.idle();
      const { status, body } = await api<{ portalId: string; contacts: number }>(A, '/api/config');
      assert.equal(status, 200);
      assert.equal(body.portalId, String(A));
      assert.equal(body.contacts, 40);
    });

    test('a replayed callback, or an old code with a fresh state, installs nothing', async () => {
      const replay = await fetch(firstCallback);
      assert.equal(replay.status, 400);
      // A fresh state (a new install started) with the code that was already exchanged.
      const start = await fetch(`${base}/oauth/install`, { redirect: 'manual' });
      const state = new URL(start.headers.get('location')!).searchParams.get('state')!;
      const code = new URL(firstCallback).searchParams.get('code')!;
      const res = await fetch(`${base}/oauth/callback?code=${encodeURIComponent(code)}&state=${encodeURIComponent(state)}`);
      assert.equal(res.status, 400);
      assert.match(await res.text(), /already used/);
      assert.equal((await app.marketplace.portals.list()).length, 1);
    });

    test('a second portal installs alongside, and neither snapshot holds the other portal\'s contacts', async () => {
      assert.equal((await install(b)).status, 200);
      await app.idle();
      const snapA = await api<Snapshot>(A, '/api/snapshot');
      const snapB = await api<Snapshot>(B, '/api/snapshot');
      assert.equal(snapA.body.portalId, String(A));
      assert.equal(snapB.body.portalId, String(B));
      assert.deepEqual(emails(snapA.body), sandboxEmails(a));
      assert.deepEqual(emails(snapB.body), sandboxEmails(b));
      for (const e of emails(snapB.body)) assert.ok(!emails(snapA.body).has(e), `${e} of portal B is in A's snapshot`);
      // Both sandboxes number contacts from 1001: the same id answers each portal's own contact.
      const id = snapA.body.ids[0]!;
      const inA = await api<{ properties: { email: string } }>(A, `/api/contacts/${id}`);
      const inB = await api<{ properties: { email: string } }>(B, `/api/contacts/${id}`);
      assert.equal(inA.body.properties.email, a.data.getContact(id)?.properties.email);
      assert.equal(inB.body.properties.email, b.data.getContact(id)?.properties.email);
    });

    test('a webhook for portal A re-syncs, re-assigns and writes back only the changed contacts, and touches nothing of B', async () => {
      // Publish a model in A (the explorer's call), and let its write-back finish.
      const snap = (await api<Snapshot>(A, '/api/snapshot')).body;
      const { model } = fit(snapshotTable(snap), { k: 3, method: 'kmeans', seed: 7, createdAt: '2026-11-02T00:00:00.000Z' });
      const published = await api<{ jobId: string }>(A, '/api/model', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(model) });
      assert.equal(published.status, 202);
      await app.idle();
      assert.equal(hub.written(A).length > 0, true);
      const writtenBefore = hub.written(A).length;
      const bRequests = hub.requests(B);
      const bEtag = (await api<Snapshot>(B, '/api/snapshot')).body.etag;

      // A new customer with three won orders, and a renamed existing one (no feature changes: nothing to write).
      const created = a.data.createContact({ firstname: 'Olena', lastname: 'Webhook', email: 'olena.webhook@example.com', city: 'Lviv', country: 'Ukraine', hs_feedback_last_nps_rating: '9' });
      for (const [i, amount] of ['120.00', '95.50', '210.00'].entries()) {
        const deal = a.data.createDeal({ dealname: `Order W${i}`, amount, dealstage: 'closedwon', closedate: `2026-0${7 + i}-15T10:00:00.000Z`, pipeline: 'default' });
        a.data.associate(created.id, deal.id);
      }
      const existing = snap.ids[3]!;
      a.data.updateContact(existing, { firstname: 'Renamed' });
      // Someone overwrote our property on another contact in HubSpot: the published model's segment goes back.
      const edited = snap.ids[5]!;
      const right = a.data.getContact(edited)?.properties.smart_segment;
      assert.ok(right);
      const wrong = model.segments.map((s) => s.id).find((id) => id !== right)!;
      a.data.updateContact(edited, { smart_segment: wrong });
      const res = await deliver([
        event(A, 'contact.creation', created.id),
        event(A, 'contact.propertyChange', Number(existing), { propertyName: 'firstname', propertyValue: 'Renamed' }),
        event(A, 'contact.propertyChange', Number(edited), { propertyName: 'smart_segment', propertyValue: wrong }),
      ]);
      assert.equal(res.status, 200);
      await app.idle();

      const newWrites = hub.written(A).slice(writtenBefore);
      assert.deepEqual(newWrites, [edited, String(created.id)], 'only the new and the overwritten contact needed writing');
      assert.equal(a.data.getContact(edited)?.properties.smart_segment, right);
      const segment = a.data.getContact(created.id)?.properties.smart_segment;
      assert.ok(segment && model.segments.some((s) => s.id === segment), `written segment ${String(segment)}`);
      const seg = await api<{ segment: { id: string } | null }>(A, `/api/contacts/${created.id}/segment`);
      assert.equal(seg.body.segment?.id, segment);
      const changed = await api<{ properties: { firstname: string } }>(A, `/api/contacts/${existing}`);
      assert.equal(changed.body.properties.firstname, 'Renamed');
      assert.equal((await api<Snapshot>(A, '/api/snapshot')).body.ids.length, 41);
      // Portal B: no request, same snapshot.
      assert.equal(hub.requests(B) - bRequests, 0);
      assert.equal((await api<Snapshot>(B, '/api/snapshot')).body.etag, bEtag);
      assert.deepEqual(hub.written(B), []);

      // The deletion removes the contact's data.
      assert.equal((await deliver([event(A, 'contact.deletion', created.id)])).status, 200);
      await app.idle();
      assert.equal((await api(A, `/api/contacts/${created.id}`)).status, 404);
      assert.ok(!(await api<Snapshot>(A, '/api/snapshot')).body.ids.includes(String(created.id)));
    });

    test('an access token that expired is refreshed during a sync', async () => {
      const refreshes = a.oauth.stats().refreshToken;
      a.oauth.expireAccessTokens();
      const started = await api<{ jobId: string }>(A, '/api/sync', { method: 'POST' });
      assert.equal(started.status, 202);
      await app.idle();
      const job = await api<{ state: string; error?: string }>(A, `/api/jobs/${started.body.jobId}`);
      assert.equal(job.body.state, 'done', job.body.error);
      assert.equal(a.oauth.stats().refreshToken, refreshes + 1);
    });

    test('a revoked grant disconnects that portal with a message; the API answers 410 and the other portal is unaffected', async () => {
      b.oauth.revokeRefreshTokens();
      const started = await api<{ jobId: string }>(B, '/api/sync', { method: 'POST' });
      assert.equal(started.status, 202);
      await app.idle();
      const record = await app.marketplace.portals.get(String(B));
      assert.equal(record?.status, 'disconnected');
      const refused = await api<{ error: { code: string; message: string } }>(B, '/api/config');
      assert.equal(refused.status, 410);
      assert.equal(refused.body.error.code, 'portal_disconnected');
      assert.match(refused.body.error.message, /uninstalled or its access revoked/);
      // Webhooks for the disconnected portal are acknowledged, not acted on.
      assert.equal((await deliver([event(B, 'contact.propertyChange', 1001)])).status, 200);
      await app.idle();
      assert.equal((await api(A, '/api/config')).status, 200);
      // A portal that never installed: 409.
      const never = await api<{ error: { code: string } }>(70_009, '/api/config');
      assert.equal(never.status, 409);
      assert.equal(never.body.error.code, 'portal_not_installed');
    });

    test('the explorer page needs a valid token for its portal and is served framed by HubSpot only', async () => {
      const missing = await fetch(`${base}/explorer`);
      assert.equal(missing.status, 401);
      assert.match(missing.headers.get('content-security-policy') ?? '', /frame-ancestors https:\/\/app\.hubspot\.com/);
      const expired = await fetch(`${base}/explorer?token=${token(A, 9, Date.now() - 10 * 60_000)}`);
      assert.equal(expired.status, 401);
      assert.match(await expired.text(), /expired/);
      const wrong = await fetch(`${base}/explorer?portalId=${A}&token=${token(B)}`);
      assert.equal(wrong.status, 401);
      const forged = await fetch(`${base}/explorer?token=${issueIframeToken(Buffer.alloc(32, 1), { portalId: A, userId: 9 }).token}`);
      assert.equal(forged.status, 401);
      const ok = await fetch(`${base}/explorer?portalId=${A}&token=${token(A)}`);
      assert.equal(ok.status, 200);
      const csp = ok.headers.get('content-security-policy') ?? '';
      assert.match(csp, /frame-ancestors https:\/\/app\.hubspot\.com https:\/\/app-eu1\.hubspot\.com https:\/\/\*\.hubspot\.com(;|$)/);
      assert.match(csp, /script-src 'self'(;|$)/);
      assert.match(csp, /default-src 'self'/);
      assert.equal(ok.headers.get('cache-control'), 'no-store');
      assert.equal(ok.headers.get('referrer-policy'), 'no-referrer');
      assert.match(await ok.text(), /<script type="module" src="\/bundle\/demo\.js">/);
      // A disconnected portal's page says so.
      assert.equal((await fetch(`${base}/explorer?token=${token(B)}`)).status, 410);
    });

    test('API calls without a token, or with a token from elsewhere, are refused with 401', async () => {
      const none = await fetch(`${base}/api/config`);
      assert.equal(none.status, 401);
      assert.equal(none.headers.get('www-authenticate'), 'Bearer');
      assert.equal(((await none.json()) as { error: { code: string } }).error.code, 'missing_token');
      const viaQuery = await fetch(`${base}/api/config?token=${token(A)}`);
      assert.equal(viaQuery.status, 200);
      const forged = await fetch(`${base}/api/config`, { headers: { authorization: `Bearer ${issueIframeToken(key, { portalId: A, userId: 1 }).token}` } });
      assert.equal(forged.status, 401);
      assert.equal(forged.headers.get('x-smart-segments-token'), null);
    });

    test('an API answer renews the token for the same portal and user, so a page in use outlives the first token', async () => {
      const old = issueIframeToken(iframeTokenKey(key), { portalId: A, userId: 12 }, { now: Date.now() - 4 * 60_000 });
      const res = await fetch(`${base}/api/config`, { headers: { authorization: `Bearer ${old.token}` } });
      assert.equal(res.status, 200);
      const renewed = res.headers.get('x-smart-segments-token');
      assert.ok(renewed);
      issued.push(old.token, renewed);
      const claims = verifyIframeToken(iframeTokenKey(key), renewed, { portalId: A });
      assert.equal(claims.userId, '12');
      assert.ok(claims.expiresAt > old.expiresAt + 3 * 60_000);
    });

    test('no token ever reaches the log', () => {
      const text = logs.join('');
      assert.ok(text.length > 0);
      for (const t of issued) assert.ok(!text.includes(t), 'an iframe token was logged');
      assert.ok(!/sbx-(at|rt)-/.test(text), 'an OAuth token was logged');
    });
  });
}
