import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decrypt } from '../../connector/crypto.js';
import { HubSpotClient } from '../../connector/hubspot/client.js';
import { REQUIRED_SCOPES, type OAuthAppConfig } from '../../connector/oauth/config.js';
import { createInstallHandler, InstallStates } from '../../connector/oauth/install.js';
import { applyMarketplaceMigrations } from '../../connector/oauth/migrations.js';
import { PglitePortalStore } from '../../connector/oauth/pglite-store.js';
import { MemoryPortalStore, type PortalRecord } from '../../connector/oauth/portal-store.js';
import { PortalDisconnectedError, PortalTokens, UNINSTALLED_MESSAGE, UNREADABLE_MESSAGE } from '../../connector/oauth/provider.js';
import { exchangeCode, OAuthError } from '../../connector/oauth/tokens.js';
import { startSandbox, type SandboxServer } from '../../connector/sandbox/server.js';
import { openStore } from '../../connector/store.js';

const key = Buffer.alloc(32, 3);
let sandbox: SandboxServer;
let app: Server;
let appUrl = '';
let store: MemoryPortalStore;
let clock = 0;
const now = (): number => clock;
let logs: string[] = [];
let config: OAuthAppConfig;
let states: InstallStates;

before(async () => {
  sandbox = await startSandbox({ contacts: 30, seed: 5, rateLimit: false });
  app = createServer((req, res) => {
    const url = new URL(req.url ?? '/', appUrl);
    handler(req, res, url).then((handled) => {
      if (!handled) res.writeHead(404).end();
    }, (e: unknown) => res.writeHead(500).end(String(e)));
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  appUrl = `http://127.0.0.1:${(app.address() as AddressInfo).port}`;
  config = {
    clientId: sandbox.oauth.clientId,
    clientSecret: sandbox.oauth.clientSecret,
    redirectUri: `${appUrl}/oauth/callback`,
    authorizeBase: sandbox.url,
    apiBase: sandbox.url,
  };
});

after(async () => {
  await new Promise<void>((resolve) => app.close(() => resolve()));
  await sandbox.close();
});

let handler: ReturnType<typeof createInstallHandler>;
beforeEach(() => {
  clock = Date.now();
  logs = [];
  store = new MemoryPortalStore();
  states = new InstallStates(now);
  handler = createInstallHandler({ config, store, key, states, now, log: (l) => logs.push(l) });
});

async function get(url: string): Promise<Response> {
  return fetch(url, { redirect: 'manual' });
}

/** Follows install -> sandbox authorize -> the callback URL (not fetched). */
async function authorize(): Promise<URL> {
  const install = await get(`${appUrl}/oauth/install`);
  assert.equal(install.status, 302);
  const authorizeRes = await get(install.headers.get('location')!);
  assert.equal(authorizeRes.status, 302);
  return new URL(authorizeRes.headers.get('location')!);
}

async function install(): Promise<PortalRecord> {
  const callback = await authorize();
  const res = await get(callback.toString());
  assert.equal(res.status, 200, await res.clone().text());
  const p = await store.get(String(sandbox.portalId));
  assert.ok(p);
  return p;
}

describe('OAuth install flow', () => {
  test('the install link sends the admin to authorize with our client id, scopes, state and a PKCE S256 challenge', async () => {
    const res = await get(`${appUrl}/oauth/install`);
    assert.equal(res.status, 302);
    const loc = new URL(res.headers.get('location')!);
    assert.equal(`${loc.origin}${loc.pathname}`, `${sandbox.url}/oauth/authorize`);
    assert.equal(loc.searchParams.get('client_id'), config.clientId);
    assert.equal(loc.searchParams.get('redirect_uri'), `${appUrl}/oauth/callback`);
    assert.equal(loc.searchParams.get('scope'), REQUIRED_SCOPES.join(' '));
    assert.equal(loc.searchParams.get('code_challenge_method'), 'S256');
    assert.match(loc.searchParams.get('state')!, /^[A-Za-z0-9_-]{32}$/);
    assert.match(loc.searchParams.get('code_challenge')!, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(states.size, 1);
  });

  test('a completed install stores the portal connected, with both tokens encrypted at rest', async () => {
    const p = await install();
    assert.equal(p.id, String(sandbox.portalId));
    assert.equal(p.status, 'connected');
    assert.equal(p.disconnectedReason, null);
    assert.deepEqual(p.scopes, [...REQUIRED_SCOPES]);
    assert.equal(p.installedBy, '1');
    assert.equal(p.installedAt, new Date(clock).toISOString());
    assert.equal(p.expiresAt, clock + 1800 * 1000);
    assert.match(p.accessToken, /^v1\./);
    assert.match(p.refreshToken, /^v1\./);
    const access = decrypt(key, p.accessToken, `portal:${p.id}:access`);
    assert.match(access, /^sbx-at-/);
    assert.ok(sandbox.oauth.accepts(access));
    assert.ok(!logs.join('\n').includes(access), 'the access token is never logged');
    assert.ok(logs.includes(`oauth: installed in portal ${p.id}`));
  });

  test('a callback whose state was never issued is refused with a 400 page that says so', async () => {
    const callback = await authorize();
    callback.searchParams.set('state', 'forged-state');
    const res = await get(callback.toString());
    assert.equal(res.status, 400);
    assert.match(await res.text(), /does not match an install started here/);
    assert.equal((await store.list()).length, 0);
  });

  test('a callback without state is refused', async () => {
    const callback = await authorize();
    callback.searchParams.delete('state');
    const res = await get(callback.toString());
    assert.equal(res.status, 400);
    assert.match(await res.text(), /has no state parameter/);
  });

  test('a state older than 10 minutes is refused as expired', async () => {
    const callback = await authorize();
    clock += 10 * 60_000 + 1;
    const res = await get(callback.toString());
    assert.equal(res.status, 400);
    assert.match(await res.text(), /longer than 10 minutes/);
  });

  test('a callback link used twice installs once: the state is single-use', async () => {
    const callback = await authorize();
    assert.equal((await get(callback.toString())).status, 200);
    const again = await get(callback.toString());
    assert.equal(again.status, 400);
    assert.match(await again.text(), /already used/);
  });

  test('HubSpot reporting an error (user cancelled) shows it on a 400 page', async () => {
    const { state } = states.create();
    const res = await get(`${appUrl}/oauth/callback?state=${state}&error=access_denied&error_description=${encodeURIComponent('user cancelled')}`);
    assert.equal(res.status, 400);
    assert.match(await res.text(), /did not authorize the app \(access_denied: user cancelled\)/);
  });
});

describe('sandbox token endpoint', () => {
  test('a replayed authorization code is refused with invalid_grant / BAD_AUTH_CODE', async () => {
    const { verifier, challenge } = new InstallStates().create();
    const res = await get(`${sandbox.url}/oauth/authorize?client_id=${config.clientId}&redirect_uri=${encodeURIComponent(config.redirectUri)}&scope=oauth&state=s&code_challenge=${challenge}&code_challenge_method=S256`);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    const first = await exchangeCode(config, code, verifier);
    assert.match(first.accessToken, /^sbx-at-/);
    await assert.rejects(exchangeCode(config, code, verifier), (e: unknown) =>
      e instanceof OAuthError && e.code === 'invalid_grant' && e.status === 400 && /auth code already used/.test(e.message));
    const raw = await fetch(`${sandbox.url}/oauth/v3/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: config.clientId, client_secret: config.clientSecret, redirect_uri: config.redirectUri, code, code_verifier: verifier }).toString(),
    });
    const body = (await raw.json()) as Record<string, unknown>;
    assert.equal(raw.status, 400);
    assert.equal(body.status, 'BAD_AUTH_CODE');
    assert.equal(body.error, 'invalid_grant');
  });

  test('a code exchanged with the wrong PKCE verifier is refused', async () => {
    const verifier = 'a'.repeat(64);
    const challenge = createHash('sha256').update(verifier).digest('base64url');
    const res = await get(`${sandbox.url}/oauth/authorize?client_id=${config.clientId}&redirect_uri=${encodeURIComponent(config.redirectUri)}&scope=oauth&state=s&code_challenge=${challenge}&code_challenge_method=S256`);
    const code = new URL(res.headers.get('location')!).searchParams.get('code')!;
    await assert.rejects(exchangeCode(config, code, 'b'.repeat(64)), /code_verifier does not match/);
  });

  test('authorize refuses an unknown client id or an unregistered redirect URL', async () => {
    const bad = await get(`${sandbox.url}/oauth/authorize?client_id=nope&redirect_uri=${encodeURIComponent(config.redirectUri)}&scope=oauth`);
    assert.equal(bad.status, 400);
    assert.equal(((await bad.json()) as { status: string }).status, 'BAD_CLIENT_ID');
    const far = await get(`${sandbox.url}/oauth/authorize?client_id=${config.clientId}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}&scope=oauth`);
    assert.equal(far.status, 400);
    assert.equal(((await far.json()) as { status: string }).status, 'BAD_REDIRECT_URI');
  });
});

describe('refreshing token provider', () => {
  let tokens: PortalTokens;
  let portalId: string;
  beforeEach(async () => {
    portalId = (await install()).id;
    tokens = new PortalTokens({ config, store, key, now, log: (l) => logs.push(l) });
  });

  const client = (): HubSpotClient => new HubSpotClient({ baseUrl: sandbox.url, tokenProvider: tokens.provider(portalId), retry: { attempts: 1 } });

  test('CRM calls use the stored token without refreshing while it is fresh', async () => {
    const before = sandbox.oauth.stats().refreshToken;
    const page = await client().listPage('contacts', { limit: 5, properties: ['email'] });
    assert.equal(page.results.length, 5);
    assert.equal(sandbox.oauth.stats().refreshToken, before);
  });

  test('a token HubSpot has expired is refreshed after the 401 and the request succeeds', async () => {
    sandbox.oauth.expireAccessTokens();
    const before = sandbox.oauth.stats().refreshToken;
    const oldSealed = (await store.get(portalId))!.accessToken;
    const page = await client().listPage('contacts', { limit: 3, properties: ['email'] });
    assert.equal(page.results.length, 3);
    assert.equal(sandbox.oauth.stats().refreshToken, before + 1);
    const p = (await store.get(portalId))!;
    assert.notEqual(p.accessToken, oldSealed);
    assert.equal(p.status, 'connected');
  });

  test('a token about to expire is refreshed before use, once for many concurrent callers', async () => {
    clock += 1800 * 1000 - 60_000; // one minute left, inside the 5-minute margin
    const before = sandbox.oauth.stats().refreshToken;
    const got = await Promise.all(Array.from({ length: 6 }, () => tokens.getToken(portalId)));
    assert.equal(new Set(got).size, 1);
    assert.equal(sandbox.oauth.stats().refreshToken, before + 1);
    assert.ok(sandbox.oauth.accepts(got[0]!));
    assert.equal((await store.get(portalId))!.expiresAt, clock + 1800 * 1000);
  });

  test('a revoked refresh token marks the portal disconnected with a message, and nothing crashes', async () => {
    sandbox.oauth.revokeRefreshTokens();
    clock += 1800 * 1000;
    await assert.rejects(tokens.getToken(portalId), (e: unknown) => e instanceof PortalDisconnectedError && e.reason === UNINSTALLED_MESSAGE);
    const p = (await store.get(portalId))!;
    assert.equal(p.status, 'disconnected');
    assert.equal(p.disconnectedReason, UNINSTALLED_MESSAGE);
    assert.equal(await tokens.provider(portalId).onUnauthorized!(), false);
    await assert.rejects(tokens.getToken(portalId), /is disconnected: HubSpot refused the refresh token/);
    assert.ok(logs.some((l) => l.startsWith(`oauth: portal ${portalId} disconnected:`)));
  });

  test('a 401 whose refresh is refused ends as an UNAUTHORIZED client error, not a crash', async () => {
    sandbox.oauth.revokeRefreshTokens();
    await assert.rejects(client().listPage('contacts', { limit: 1, properties: [] }), (e: unknown) => e instanceof Error && e.name === 'HubSpotError');
    assert.equal((await store.get(portalId))!.status, 'disconnected');
  });

  test('a transient refresh failure keeps the current token while it still works, then reports the error', async () => {
    const offline = new PortalTokens({ config, store, key, now, fetch: () => Promise.reject(new Error('ECONNRESET')) });
    const current = decrypt(key, (await store.get(portalId))!.accessToken, `portal:${portalId}:access`);
    clock += 1800 * 1000 - 60_000;
    assert.equal(await offline.getToken(portalId), current);
    clock += 60_000;
    await assert.rejects(offline.getToken(portalId), (e: unknown) => e instanceof OAuthError && e.code === 'network' && /ECONNRESET/.test(e.message));
    assert.equal((await store.get(portalId))!.status, 'connected');
  });

  test('tokens sealed under another key disconnect the portal with a message naming TOKEN_ENCRYPTION_KEY', async () => {
    const rotated = new PortalTokens({ config, store, key: Buffer.alloc(32, 4), now });
    await assert.rejects(rotated.getToken(portalId), (e: unknown) => e instanceof PortalDisconnectedError && e.reason === UNREADABLE_MESSAGE);
    const p = (await store.get(portalId))!;
    assert.equal(p.status, 'disconnected');
    assert.match(p.disconnectedReason!, /TOKEN_ENCRYPTION_KEY changed/);
  });

  test('the client\'s token-info call reports the installed portal; an expired token is no longer known', async () => {
    const info = await client().tokenInfo();
    assert.equal(info.hub_id, sandbox.portalId);
    assert.deepEqual(info.scopes, [...REQUIRED_SCOPES]);
    const token = await tokens.getToken(portalId);
    sandbox.oauth.expireAccessTokens();
    assert.equal((await fetch(`${sandbox.url}/oauth/v1/access-tokens/${token}`)).status, 404);
  });

  test('an unknown portal is reported as not installed', async () => {
    await assert.rejects(tokens.getToken('999'), /portal 999 is disconnected: Smart Segments is not installed/);
  });
});

describe('PGlite portal store', () => {
  test('migrations apply once and the store round-trips a portal through refresh and disconnect', async () => {
    const db = await openStore({ portalId: 'any' });
    try {
      await applyMarketplaceMigrations(db.db);
      await applyMarketplaceMigrations(db.db);
      const s = new PglitePortalStore(db.db);
      const record: PortalRecord = {
        id: '42', status: 'connected', accessToken: 'v1.a.b.c', refreshToken: 'v1.d.e.f', expiresAt: 1_790_000_000_000,
        scopes: ['oauth', 'crm.objects.contacts.read'], installedAt: '2026-11-23T18:00:00.000Z', installedBy: '7', disconnectedReason: null,
      };
      await s.put(record);
      assert.deepEqual(await s.get('42'), record);
      await s.updateTokens('42', { accessToken: 'v1.g.h.i', refreshToken: 'v1.d.e.f', expiresAt: 1_790_000_100_000 });
      assert.equal((await s.get('42'))!.accessToken, 'v1.g.h.i');
      await s.markDisconnected('42', 'revoked');
      assert.deepEqual(await s.list(), [{ ...record, accessToken: 'v1.g.h.i', expiresAt: 1_790_000_100_000, status: 'disconnected', disconnectedReason: 'revoked' }]);
      await s.delete('42');
      assert.equal(await s.get('42'), null);
    } finally {
      await db.close();
    }
  });
});
