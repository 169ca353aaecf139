import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONTACT_PROPERTIES, DEAL_PROPERTIES } from '../../connector/hubspot/mapping.js';
import { REQUIRED_SCOPES } from '../../connector/oauth/config.js';
import { parseEvent } from '../../connector/webhooks/handler.js';
import { WRITEBACK_PROPERTIES } from '../../connector/writeback.js';

/** The repository root, from test/hubspot (tsx) or dist/test/hubspot (compiled). */
function root(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'hubspot', 'hsproject.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('hubspot/hsproject.json not found above the test');
    dir = up;
  }
  return dir;
}
const HUBSPOT = join(root(), 'hubspot');
const json = (path: string): Record<string, unknown> => JSON.parse(readFileSync(join(HUBSPOT, path), 'utf8')) as Record<string, unknown>;
const at = (o: unknown, ...keys: string[]): unknown => keys.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], o);

interface Subscription { subscriptionType: string; propertyName?: string; active: boolean }

describe('HubSpot developer project', () => {
  test('targets platform 2026.03 with sources under src', () => {
    assert.deepEqual(json('hsproject.json'), { name: 'smart-segments', srcDir: 'src', platformVersion: '2026.03' });
  });

  test('the app is a marketplace OAuth app asking for exactly the scopes the connector uses', () => {
    const app = json('src/app/app-hsmeta.json');
    assert.equal(app.type, 'app');
    assert.equal(at(app, 'config', 'distribution'), 'marketplace');
    assert.equal(at(app, 'config', 'auth', 'type'), 'oauth');
    assert.deepEqual(at(app, 'config', 'auth', 'requiredScopes'), [...REQUIRED_SCOPES]);
    assert.deepEqual(at(app, 'config', 'auth', 'optionalScopes'), []);
    assert.match(String(at(app, 'config', 'support', 'supportEmail')), /^[^@\s]+@[^@\s]+$/);
  });

  test('redirect, fetch, iframe and webhook URLs all point at the one HTTPS backend', () => {
    const app = json('src/app/app-hsmeta.json');
    const hooks = json('src/app/webhooks/webhooks-hsmeta.json');
    const redirects = at(app, 'config', 'auth', 'redirectUrls') as string[];
    assert.equal(redirects.length, 1);
    const origin = new URL(redirects[0]!).origin;
    assert.equal(new URL(redirects[0]!).pathname, '/oauth/callback');
    assert.ok(origin.startsWith('https://'));
    assert.deepEqual(at(app, 'config', 'permittedUrls', 'fetch'), [origin]);
    assert.deepEqual(at(app, 'config', 'permittedUrls', 'iframe'), [origin]);
    assert.equal(at(hooks, 'config', 'settings', 'targetUrl'), `${origin}/webhooks`);
  });

  test('the contact record card exists and points at its React entry point', () => {
    const card = json('src/app/cards/smart-segment-card-hsmeta.json');
    assert.equal(card.type, 'card');
    assert.equal(at(card, 'config', 'location'), 'crm.record.sidebar');
    assert.deepEqual(at(card, 'config', 'objectTypes'), ['contacts']);
    const entry = String(at(card, 'config', 'entrypoint'));
    assert.ok(existsSync(join(HUBSPOT, 'src', entry)), `${entry} exists under hubspot/src`);
  });

  test('webhooks cover every property the features read, and none we write back (no echo loop)', () => {
    const hooks = json('src/app/webhooks/webhooks-hsmeta.json');
    const subs = [...(at(hooks, 'config', 'subscriptions', 'legacyCrmObjects') as Subscription[]), ...(at(hooks, 'config', 'subscriptions', 'hubEvents') as Subscription[])];
    const watched = (prefix: string): string[] => subs.filter((s) => s.subscriptionType === `${prefix}.propertyChange`).map((s) => s.propertyName!).sort();
    const contactRead = CONTACT_PROPERTIES.filter((p) => p !== 'lastmodifieddate' && !WRITEBACK_PROPERTIES.includes(p));
    assert.deepEqual(watched('contact'), [...contactRead].sort());
    assert.deepEqual(watched('deal'), DEAL_PROPERTIES.filter((p) => p !== 'hs_lastmodifieddate').sort());
    for (const s of subs) assert.ok(!WRITEBACK_PROPERTIES.includes(s.propertyName ?? ''), `${s.propertyName} is written back, not watched`);
    for (const t of ['contact.creation', 'contact.deletion', 'contact.privacyDeletion', 'deal.creation', 'deal.deletion']) {
      assert.ok(subs.some((s) => s.subscriptionType === t && s.active), `${t} subscribed`);
    }
  });

  test('the webhook handler acts on every subscribed event type', () => {
    const hooks = json('src/app/webhooks/webhooks-hsmeta.json');
    const subs = [...(at(hooks, 'config', 'subscriptions', 'legacyCrmObjects') as Subscription[]), ...(at(hooks, 'config', 'subscriptions', 'hubEvents') as Subscription[])];
    for (const s of subs) {
      const event = { eventId: 1, portalId: 2, occurredAt: 3, objectId: 4, subscriptionType: s.subscriptionType, associationType: 'CONTACT_TO_DEAL', fromObjectId: 4, toObjectId: 5 };
      assert.notEqual(parseEvent(event, 0), null, s.subscriptionType);
    }
  });
});
