import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  createIframeTokenHandler, IframeTokenError, iframePageHeaders, issueIframeToken, verifyIframeToken,
} from '../../connector/oauth/iframe-token.js';

const secret = Buffer.alloc(32, 9);
const T0 = 1_790_000_000_000;

describe('iframe tokens', () => {
  test('a token verifies for its portal and user until 5 minutes after issue', () => {
    const { token, expiresAt } = issueIframeToken(secret, { portalId: 48000042, userId: 7 }, { now: T0 });
    assert.equal(expiresAt, T0 + 300_000);
    assert.deepEqual(verifyIframeToken(secret, token, { now: T0 + 299_999, portalId: '48000042' }),
      { portalId: '48000042', userId: '7', issuedAt: T0, expiresAt: T0 + 300_000 });
    assert.throws(() => verifyIframeToken(secret, token, { now: T0 + 300_000 }), (e: unknown) => e instanceof IframeTokenError && e.reason === 'expired');
  });

  test('a token for one portal is refused for another', () => {
    const { token } = issueIframeToken(secret, { portalId: 1, userId: 7 }, { now: T0 });
    assert.throws(() => verifyIframeToken(secret, token, { now: T0, portalId: 2 }), (e: unknown) => e instanceof IframeTokenError && e.reason === 'wrong-portal');
  });

  test('a token with an altered payload, a foreign key or a wrong shape is refused', () => {
    const { token } = issueIframeToken(secret, { portalId: 1, userId: 7 }, { now: T0 });
    const [prefix, , sig] = token.split('.');
    const forged = Buffer.from(JSON.stringify({ p: '2', u: '7', iat: T0, exp: T0 + 300_000 })).toString('base64url');
    assert.throws(() => verifyIframeToken(secret, `${prefix}.${forged}.${sig}`, { now: T0 }), (e: unknown) => e instanceof IframeTokenError && e.reason === 'bad-signature');
    assert.throws(() => verifyIframeToken(Buffer.alloc(32, 1), token, { now: T0 }), (e: unknown) => e instanceof IframeTokenError && e.reason === 'bad-signature');
    assert.throws(() => verifyIframeToken(secret, 'it1.only-two', { now: T0 }), (e: unknown) => e instanceof IframeTokenError && e.reason === 'malformed');
  });

  test('the iframe page may be framed only by HubSpot and loads only from our origin', () => {
    const csp = iframePageHeaders()['Content-Security-Policy']!;
    assert.match(csp, /(^|; )default-src 'self'(;|$)/);
    assert.match(csp, /frame-ancestors https:\/\/app\.hubspot\.com https:\/\/app-eu1\.hubspot\.com https:\/\/\*\.hubspot\.com(;|$)/);
    assert.match(csp, /object-src 'none'/);
  });
});

describe('GET /api/iframe-token', () => {
  const clientSecret = 'app-client-secret';
  const sign = (method: string, uri: string, body: string, ts: string): string =>
    createHmac('sha256', clientSecret).update(method + uri + body + ts).digest('base64');

  async function withServer(fn: (base: string, logs: string[]) => Promise<void>): Promise<void> {
    const logs: string[] = [];
    const handler = createIframeTokenHandler({ clientSecret, tokenSecret: secret, now: () => T0, log: (l) => logs.push(l) });
    const server = createServer((req, res) => {
      void handler(req, res, new URL(req.url ?? '/', 'http://x')).then((h) => { if (!h) res.writeHead(404).end(); });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      await fn(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, logs);
    } finally {
      await new Promise<void>((r) => server.close(() => r()));
    }
  }

  test('a request HubSpot signed gets a token bound to its portal and user', async () => {
    await withServer(async (base, logs) => {
      const uri = `${base}/api/iframe-token?userId=7&userEmail=rep%40example.com&appId=3&portalId=48000042`;
      const ts = String(T0 - 2000);
      const res = await fetch(uri, { headers: { 'X-HubSpot-Signature-v3': sign('GET', uri.replace('%40', '@'), '', ts), 'X-HubSpot-Request-Timestamp': ts } });
      assert.equal(res.status, 200);
      const body = (await res.json()) as { token: string; expiresAt: string };
      assert.equal(body.expiresAt, new Date(T0 + 300_000).toISOString());
      assert.equal(verifyIframeToken(secret, body.token, { now: T0, portalId: 48000042 }).userId, '7');
      assert.ok(!logs.join('\n').includes(body.token), 'the token is never logged');
    });
  });

  test('an unsigned or stale request is refused with 401', async () => {
    await withServer(async (base) => {
      const uri = `${base}/api/iframe-token?userId=7&portalId=1`;
      assert.equal((await fetch(uri)).status, 401);
      const ts = String(T0 - 6 * 60_000);
      const stale = await fetch(uri, { headers: { 'X-HubSpot-Signature-v3': sign('GET', uri, '', ts), 'X-HubSpot-Request-Timestamp': ts } });
      assert.equal(stale.status, 401);
    });
  });

  test('a signed request without portal or user is a 400', async () => {
    await withServer(async (base) => {
      const uri = `${base}/api/iframe-token?userId=7`;
      const ts = String(T0);
      const res = await fetch(uri, { headers: { 'X-HubSpot-Signature-v3': sign('GET', uri, '', ts), 'X-HubSpot-Request-Timestamp': ts } });
      assert.equal(res.status, 400);
    });
  });
});
