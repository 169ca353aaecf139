/**
 * The explorer page as HubSpot's iframe opens it from a marketplace install: in Chromium, under the page's
 * strict Content-Security-Policy, with nothing but the `?token=` in its URL. The widget's API calls carry
 * that token, the clustering worker and Lit's styles run without a CSP violation, and publishing writes the
 * segments back to that portal. Skipped where Debian's Chromium is not installed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { issueIframeToken } from '../../connector/oauth/iframe-token.js';
import { iframeTokenKey } from '../../connector/oauth/marketplace.js';
import { startMarketplaceApp, type MarketplaceApp } from '../../connector/portals/marketplace-server.js';
import { startSandbox, type SandboxServer } from '../../connector/sandbox/server.js';
import { packageRoot } from '../../connector/server/static.js';
import { freePort } from './portals-hub.js';

const CHROMIUM = '/usr/bin/chromium';
const root = packageRoot();
const missing = !existsSync(CHROMIUM)
  ? `${CHROMIUM} is not installed`
  : !existsSync(`${root}/dist/bundle/demo.js`)
    ? 'the browser bundle is not built (npx rollup -c)'
    : false;
const KEY_HEX = '3c'.repeat(32);
const PORTAL = 71_001;

describe('the explorer iframe page of a marketplace install, in Chromium', { skip: missing }, () => {
  let sandbox: SandboxServer;
  let app: MarketplaceApp;
  let browser: Browser;
  let base = '';

  before(async () => {
    sandbox = await startSandbox({ contacts: 60, seed: 21, portalId: PORTAL, rateLimit: false, fresh: true });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    app = await startMarketplaceApp({
      env: {
        HUBSPOT_CLIENT_ID: sandbox.oauth.clientId,
        HUBSPOT_CLIENT_SECRET: sandbox.oauth.clientSecret,
        APP_BASE_URL: base,
        TOKEN_ENCRYPTION_KEY: KEY_HEX,
        HUBSPOT_API_BASE: sandbox.url,
        HUBSPOT_AUTHORIZE_BASE: sandbox.url,
        SMART_SEGMENTS_AS_OF: '2026-11-01',
      },
      port,
      rootDir: root,
      memoryStore: true,
    });
    const start = await fetch(`${base}/oauth/install`, { redirect: 'manual' });
    const authorize = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    assert.equal((await fetch(authorize.headers.get('location')!)).status, 200);
    await app.idle();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  });

  after(async () => {
    await browser?.close();
    await app?.close();
    await sandbox?.close();
  });

  test('fits and publishes under the strict CSP with only the token from its URL', async () => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.setDefaultTimeout(60_000);
    await page.addInitScript(() => {
      const w = window as unknown as { cspViolations: string[] };
      w.cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => w.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
    });
    const refused: string[] = [];
    page.on('response', (r) => {
      const path = new URL(r.url()).pathname;
      // 404 on /api/model is the "nothing published yet" answer, not a refusal.
      if (path.startsWith('/api/') && r.status() >= 400 && !(r.status() === 404 && path === '/api/model')) refused.push(`${r.status()} ${path}`);
    });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const token = issueIframeToken(iframeTokenKey(Buffer.from(KEY_HEX, 'hex')), { portalId: PORTAL, userId: 5 }).token;
    const id = sandbox.data.listContacts()[0]!.id;
    await page.goto(`${base}/explorer?portalId=${PORTAL}&contactId=${id}&token=${encodeURIComponent(token)}`);
    await page.getByRole('button', { name: 'Fit segments' }).click();
    await page.getByRole('button', { name: 'Publish to HubSpot' }).click();
    await page.getByText(/Published\./).waitFor();
    await app.idle();
    const violations = await page.evaluate(() => (window as unknown as { cspViolations: string[] }).cspViolations);
    assert.deepEqual(violations, [], 'no CSP violation');
    assert.deepEqual(refused, [], 'no API call refused');
    assert.deepEqual(errors, [], 'no page error');
    const written = sandbox.data.listContacts().filter((c) => c.properties.smart_segment);
    assert.ok(written.length > 0, 'segments were written back to the portal');
    await page.close();
  });
});
