/**
 * End to end: the real server (embedded sandbox portal, temporary data dir) and the built bundle in
 * Chromium. A contact's badge says "Not segmented yet"; the explorer (in the contact record's modal) fits
 * and publishes a model; the segment is written back to the sandbox portal; the badge shows it; the list
 * filters by it.
 *
 * Needs `npm run build` first (dist/bundle). Run: `node --test dist/test/e2e/demo.e2e.js`.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { startApp } from '../../connector/server/app.js';
import type { App } from '../../connector/server/app.js';
import { packageRoot } from '../../connector/server/static.js';

const CONTACTS = 300;
const STEP_TIMEOUT = 60_000;

let dir = '';
let app: App;
let browser: Browser;
let page: Page;
let base = '';

async function json<T>(path: string): Promise<T> {
  const response = await fetch(`${base}${path}`);
  assert.ok(response.ok, `${path} answered ${response.status}`);
  return (await response.json()) as T;
}

before(async () => {
  const root = packageRoot();
  assert.ok(existsSync(join(root, 'dist', 'bundle', 'demo.js')), 'run `npm run build` first: dist/bundle/demo.js is missing');
  dir = await mkdtemp(join(tmpdir(), 'smart-segments-e2e-'));
  app = await startApp({
    env: { SMART_SEGMENTS_DATA_DIR: join(dir, 'data') },
    sandbox: { contacts: CONTACTS, rateLimit: false, seed: 11 },
    host: '127.0.0.1',
    port: 0,
    rootDir: root,
    out: { stdout: () => {}, stderr: () => {} },
    progressStream: { write: () => true } as unknown as NodeJS.WritableStream,
  });
  base = app.url.replace('localhost', '127.0.0.1');
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.setDefaultTimeout(STEP_TIMEOUT);
  page.on('pageerror', (error) => console.error('page error:', error.message));
});

after(async () => {
  await browser?.close();
  await app?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the demo, end to end', () => {
  let contactId = '';
  let segmentId = '';
  let segmentLabel = '';

  test('a contact record shows the badge before any model is published', async () => {
    // A contact with orders, so it lands in a real segment once a model is published.
    const snapshot = app.server.snapshot();
    const frequency = snapshot.features.indexOf('purchase_frequency');
    const row = snapshot.ids.findIndex((_, i) => (snapshot.values[i * snapshot.features.length + frequency] ?? 0) > 0);
    assert.ok(row >= 0, 'the sandbox has a contact with orders');
    contactId = snapshot.ids[row] as string;
    await page.goto(`${base}/?contact=${contactId}`);
    await page.locator('.identity h1').waitFor();
    const name = `${snapshot.firstnames[row]} ${snapshot.lastnames[row]}`.trim();
    assert.equal((await page.locator('.identity h1').textContent())?.trim(), name);
    await page.locator('smart-segment-badge button.badge', { hasText: 'Not segmented yet' }).waitFor();
  });

  test('the contact picker and Previous / Next move between contacts', async () => {
    const snapshot = app.server.snapshot();
    const row = snapshot.ids.indexOf(contactId);
    // Next contact, then back with Previous
    await page.getByRole('button', { name: /Next contact/ }).click();
    await page.waitForURL(`**/?contact=${snapshot.ids[row + 1]}`);
    await page.getByRole('button', { name: /Previous contact/ }).click();
    await page.waitForURL(`**/?contact=${contactId}`);
    // Search by email with the keyboard
    const target = snapshot.ids.length - 1;
    await page.getByRole('combobox', { name: 'Find a contact' }).fill(snapshot.emails[target] as string);
    await page.locator('#picker-list [role="option"]').first().waitFor();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/?contact=${snapshot.ids[target]}`);
    await page.locator('.identity h1', { hasText: snapshot.lastnames[target] as string }).waitFor();
    await page.goto(`${base}/?contact=${contactId}`);
    await page.locator('smart-segment-badge button.badge', { hasText: 'Not segmented yet' }).waitFor();
  });

  test('the explorer opens in a modal, fits and publishes; the segment is written back to the portal', async () => {
    // A rep hovers the badge on the way to the button: the preview card must not swallow the click.
    await page.locator('smart-segment-badge button.badge').hover();
    await page.waitForTimeout(300);
    await page.click('#open-explorer');
    const dialog = page.getByRole('dialog', { name: 'Segment explorer' });
    await dialog.waitFor();
    // Focus starts on the close button and stays inside the modal (the page behind is inert).
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('aria-label')), 'Close');
    await page.keyboard.press('Shift+Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'modal-frame');
    assert.equal(await page.evaluate(() => (document.getElementById('main') as HTMLElement).inert), true);
    const frame = page.frameLocator('#modal-frame');
    await frame.getByRole('button', { name: 'Fit segments' }).click();
    await frame.getByRole('button', { name: 'Publish to HubSpot' }).click();
    await frame.getByText(/Published\./).waitFor();
    await app.server.idle();

    const segment = await json<{ segment: { id: string; label: string } | null }>(`/api/contacts/${contactId}/segment`);
    assert.ok(segment.segment, 'the contact has a segment after publishing');
    segmentId = segment.segment.id;
    segmentLabel = segment.segment.label;
    const written = app.sandbox?.data.getContact(contactId)?.properties.smart_segment;
    assert.equal(written, segmentId, 'the sandbox portal holds the written-back segment');
  });

  test('closing the modal with Escape refreshes the badge with the new segment', async () => {
    await page.keyboard.press('Escape');
    await page.getByRole('dialog', { name: 'Segment explorer' }).waitFor({ state: 'detached' });
    const badge = page.locator('smart-segment-badge button.badge', { hasText: segmentLabel });
    await badge.waitFor();
    await badge.focus();
    const card = page.locator('smart-segment-badge [role="dialog"]');
    await card.waitFor();
    assert.match((await card.textContent()) ?? '', /Priority [123]/);
  });

  test('the list filters by the segment from the URL and by chip', async () => {
    const page1 = await json<{ total: number }>(`/api/contacts?segment=${encodeURIComponent(segmentId)}&limit=1`);
    await page.goto(`${base}/list?segment=${encodeURIComponent(segmentId)}`);
    const summary = page.locator('smart-segment-list .summary');
    await summary.filter({ hasText: `Showing ${page1.total.toLocaleString('en-US')} of ${CONTACTS}` }).waitFor();
    const rows = page.locator('smart-segment-list .body [role="row"]');
    assert.ok((await rows.count()) > 0);
    assert.equal(await page.locator('smart-segment-list .body .seg', { hasNotText: segmentLabel }).count(), 0);

    await page.locator('smart-segment-list .chip', { hasText: 'All segments' }).click();
    await summary.filter({ hasText: `Showing ${CONTACTS} of ${CONTACTS}` }).waitFor();
    assert.equal(new URL(page.url()).searchParams.get('segment'), null);
  });

  test('the contact record (badge card open), list and explorer pages have no axe violations', async () => {
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    const violations = async (): Promise<string[]> => {
      await page.addScriptTag({ content: axe });
      return page.evaluate(async () => {
        const runner = (window as unknown as { axe: { run(node: Node): Promise<{ violations: { id: string; nodes: unknown[] }[] }> } }).axe;
        const result = await runner.run(document);
        return result.violations.map((v) => `${v.id} (${v.nodes.length})`);
      });
    };
    await page.goto(`${base}/?contact=${contactId}`);
    await page.locator('smart-segment-badge button.badge', { hasText: segmentLabel }).click();
    await page.locator('smart-segment-badge [role="dialog"]').waitFor();
    assert.deepEqual(await violations(), [], 'contact record');
    await page.goto(`${base}/list?segment=${encodeURIComponent(segmentId)}`);
    await page.locator('smart-segment-list .body [role="row"]').first().waitFor();
    assert.deepEqual(await violations(), [], 'list');
    await page.goto(`${base}/explorer?lang=uk`);
    await page.locator('smart-segment-explorer').waitFor();
    await page.waitForLoadState('networkidle');
    assert.deepEqual(await violations(), [], 'explorer');
  });
});
