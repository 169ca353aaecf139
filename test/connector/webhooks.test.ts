import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { applyMarketplaceMigrations } from '../../connector/oauth/migrations.js';
import type { RouteHandler } from '../../connector/oauth/http.js';
import { createWebhookHandler, parseEvent, type WebhookSummary } from '../../connector/webhooks/handler.js';
import { MemoryWebhookLedger, PgliteWebhookLedger, type WebhookLedger } from '../../connector/webhooks/ledger.js';
import { decodeSignedUri, verifySignatureV3 } from '../../connector/webhooks/signature.js';
import { openStore, type Store } from '../../connector/store.js';

const SECRET = 'client-secret-for-tests';

/** The signature computed independently of the module: base64 HMAC-SHA256 of method + uri + body + timestamp. */
function sign(method: string, uri: string, body: string, timestamp: string, secret = SECRET): string {
  return createHmac('sha256', secret).update(method + uri + body + timestamp).digest('base64');
}

describe('verifySignatureV3', () => {
  const now = 1_790_000_000_000;
  const uri = 'https://app.example.com/webhooks';
  const body = '[{"eventId":1}]';
  const ts = String(now - 1000);

  test('accepts HubSpot\'s signature of method + uri + body + timestamp', () => {
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: ts, signature: sign('POST', uri, body, ts), clientSecret: SECRET, now }), { ok: true });
  });

  test('refuses a signature made with another secret, or over another body', () => {
    const other = sign('POST', uri, body, ts, 'other-secret');
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: ts, signature: other, clientSecret: SECRET, now }), { ok: false, reason: 'mismatch' });
    const good = sign('POST', uri, body, ts);
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body: `${body} `, timestamp: ts, signature: good, clientSecret: SECRET, now }), { ok: false, reason: 'mismatch' });
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: ts, signature: 'short', clientSecret: SECRET, now }), { ok: false, reason: 'mismatch' });
  });

  test('refuses timestamps more than 5 minutes away, and missing headers', () => {
    const old = String(now - 5 * 60_000 - 1);
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: old, signature: sign('POST', uri, body, old), clientSecret: SECRET, now }), { ok: false, reason: 'stale' });
    const edge = String(now - 5 * 60_000);
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: edge, signature: sign('POST', uri, body, edge), clientSecret: SECRET, now }), { ok: true });
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: undefined, signature: 'x', clientSecret: SECRET, now }), { ok: false, reason: 'missing-timestamp' });
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: ts, signature: undefined, clientSecret: SECRET, now }), { ok: false, reason: 'missing-signature' });
    assert.deepEqual(verifySignatureV3({ method: 'POST', uri, body, timestamp: 'yesterday', signature: 'x', clientSecret: SECRET, now }), { ok: false, reason: 'bad-timestamp' });
  });

  test('decodes the reserved characters HubSpot decodes before signing the URI', () => {
    assert.equal(decodeSignedUri('https://a.example/x%3Fy?email=a%40b.com&t=%3A%2F%21%24%27%28%29%2A%2C%3B&s=%20%25'),
      "https://a.example/x?y?email=a@b.com&t=:/!$'()*,;&s=%20%25");
    const encoded = 'https://app.example.com/api/iframe-token?email=a%40b.com';
    const signature = sign('GET', 'https://app.example.com/api/iframe-token?email=a@b.com', '', ts);
    assert.deepEqual(verifySignatureV3({ method: 'GET', uri: encoded, body: '', timestamp: ts, signature, clientSecret: SECRET, now }), { ok: true });
  });
});

describe('parseEvent', () => {
  test('maps contact and deal subscription types to resync or delete', () => {
    const base = { eventId: 1, portalId: 9, occurredAt: 100, objectId: 5 };
    assert.deepEqual(parseEvent({ ...base, subscriptionType: 'contact.propertyChange', propertyName: 'city' }, 0),
      { eventId: '1', portalId: '9', occurredAt: 100, kind: 'contact', objectId: '5', action: 'resync', touches: [] });
    assert.equal(parseEvent({ ...base, subscriptionType: 'contact.privacyDeletion' }, 0)!.action, 'delete');
    assert.equal(parseEvent({ ...base, subscriptionType: 'deal.deletion' }, 0)!.kind, 'deal');
    assert.equal(parseEvent({ ...base, subscriptionType: 'object.creation', objectTypeId: '0-3' }, 0)!.kind, 'deal');
    assert.equal(parseEvent({ ...base, subscriptionType: 'company.creation' }, 0), null);
    assert.deepEqual(parseEvent({ ...base, subscriptionType: 'contact.associationChange', associationType: 'CONTACT_TO_DEAL', fromObjectId: 5, toObjectId: 77 }, 0)!.touches,
      [{ kind: 'deal', id: '77', action: 'resync' }]);
    assert.throws(() => parseEvent({ subscriptionType: 'contact.creation', portalId: 9, occurredAt: 1, objectId: 5 }, 3), /event 3 has no numeric eventId/);
  });
});

type Call = [string, string, string[]];

function harness(ledger: WebhookLedger) {
  let server: Server;
  let url = '';
  let clock = 1_790_000_000_000;
  const calls: Call[] = [];
  const logs: string[] = [];
  let fail = false;
  const record = (name: string) => (portalId: string, ids: string[]): Promise<void> => {
    if (fail) return Promise.reject(new Error('store is down'));
    calls.push([name, portalId, ids]);
    return Promise.resolve();
  };
  let handler: RouteHandler;
  return {
    calls,
    logs,
    setFail(v: boolean) { fail = v; },
    advance(ms: number) { clock += ms; },
    get now() { return clock; },
    async start(): Promise<void> {
      handler = createWebhookHandler({
        clientSecret: SECRET,
        ledger,
        callbacks: { resyncContacts: record('resyncContacts'), resyncDeals: record('resyncDeals'), deleteContacts: record('deleteContacts') },
        now: () => clock,
        log: (l) => logs.push(l),
      });
      server = createServer((req, res) => {
        void handler(req, res, new URL(req.url ?? '/', url)).then((h) => { if (!h) res.writeHead(404).end(); });
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
    async deliver(events: unknown[], options: { secret?: string; ageMs?: number } = {}): Promise<{ status: number; body: WebhookSummary & { error?: { message: string } } }> {
      const body = JSON.stringify(events);
      const ts = String(clock - (options.ageMs ?? 0));
      const uri = `${url}/webhooks`;
      const res = await fetch(uri, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'X-HubSpot-Signature-v3': sign('POST', uri, body, ts, options.secret ?? SECRET), 'X-HubSpot-Request-Timestamp': ts },
        body,
      });
      return { status: res.status, body: (await res.json()) as WebhookSummary & { error?: { message: string } } };
    },
  };
}

const ev = (eventId: number, subscriptionType: string, objectId: number, occurredAt: number, portalId = 9): Record<string, unknown> =>
  ({ eventId, subscriptionId: 1, portalId, appId: 2, occurredAt, subscriptionType, attemptNumber: 0, objectId, changeSource: 'CRM' });

function behaviours(name: string, makeLedger: () => Promise<{ ledger: WebhookLedger; close: () => Promise<void> }>): void {
  describe(`POST /webhooks (${name} ledger)`, () => {
    let h: ReturnType<typeof harness>;
    let close: () => Promise<void>;
    beforeEach(async () => {
      const made = await makeLedger();
      close = made.close;
      h = harness(made.ledger);
      await h.start();
    });
    const done = async (): Promise<void> => {
      await h.stop();
      await close();
    };

    test('a signed batch calls the callbacks grouped per portal and kind', async () => {
      try {
        const r = await h.deliver([
          ev(1, 'contact.creation', 11, 100), ev(2, 'contact.propertyChange', 12, 101), ev(3, 'deal.propertyChange', 50, 102),
          ev(4, 'contact.deletion', 13, 103), ev(5, 'contact.creation', 30, 104, 10),
        ]);
        assert.equal(r.status, 200);
        assert.deepEqual(h.calls, [
          ['deleteContacts', '9', ['13']], ['resyncContacts', '9', ['11', '12']], ['resyncDeals', '9', ['50']], ['resyncContacts', '10', ['30']],
        ]);
        assert.deepEqual(r.body.applied, { resyncContacts: 3, resyncDeals: 1, deleteContacts: 1, deleteDeals: 0 });
      } finally {
        await done();
      }
    });

    test('a wrong signature is refused with 401, logged, and changes nothing', async () => {
      try {
        const r = await h.deliver([ev(1, 'contact.creation', 11, 100)], { secret: 'attacker' });
        assert.equal(r.status, 401);
        assert.deepEqual(h.calls, []);
        assert.ok(h.logs.includes('webhooks: refused a delivery: signature mismatch'));
      } finally {
        await done();
      }
    });

    test('a delivery signed more than 5 minutes ago is refused as stale', async () => {
      try {
        const r = await h.deliver([ev(1, 'contact.creation', 11, 100)], { ageMs: 5 * 60_000 + 1 });
        assert.equal(r.status, 401);
        assert.match(r.body.error!.message, /stale/);
        assert.deepEqual(h.calls, []);
      } finally {
        await done();
      }
    });

    test('a replayed delivery (same event ids) changes nothing', async () => {
      try {
        const batch = [ev(1, 'contact.creation', 11, 100), ev(2, 'deal.creation', 50, 100)];
        await h.deliver(batch);
        const before = h.calls.length;
        const again = await h.deliver(batch);
        assert.equal(again.status, 200);
        assert.equal(again.body.duplicates, 2);
        assert.equal(h.calls.length, before);
      } finally {
        await done();
      }
    });

    test('an older event arriving after a newer one changes nothing (no resurrection after deletion)', async () => {
      try {
        await h.deliver([ev(10, 'contact.deletion', 11, 200)]);
        const late = await h.deliver([ev(9, 'contact.creation', 11, 150), ev(8, 'contact.propertyChange', 11, 199)]);
        assert.equal(late.status, 200);
        assert.equal(late.body.stale, 1);
        assert.deepEqual(h.calls, [['deleteContacts', '9', ['11']]]);
        const restored = await h.deliver([ev(11, 'contact.restore', 11, 300)]);
        assert.equal(restored.body.stale, 0);
        assert.deepEqual(h.calls.at(-1), ['resyncContacts', '9', ['11']]);
      } finally {
        await done();
      }
    });

    test('within one batch only the newest event per object counts, whatever the order sent', async () => {
      try {
        await h.deliver([ev(3, 'contact.deletion', 11, 30), ev(1, 'contact.creation', 11, 10), ev(2, 'contact.propertyChange', 11, 20), ev(4, 'contact.propertyChange', 12, 5), ev(5, 'contact.propertyChange', 12, 6)]);
        assert.deepEqual(h.calls, [['deleteContacts', '9', ['11']], ['resyncContacts', '9', ['12']]]);
      } finally {
        await done();
      }
    });

    test('a failing callback answers 500 and the retried delivery is applied', async () => {
      try {
        h.setFail(true);
        const r = await h.deliver([ev(1, 'contact.creation', 11, 100)]);
        assert.equal(r.status, 500);
        h.setFail(false);
        const retry = await h.deliver([{ ...ev(1, 'contact.creation', 11, 100), attemptNumber: 1 }]);
        assert.equal(retry.status, 200);
        assert.equal(retry.body.duplicates, 0);
        assert.deepEqual(h.calls, [['resyncContacts', '9', ['11']]]);
      } finally {
        await done();
      }
    });

    test('a malformed body is refused with 400 and a message naming the event', async () => {
      try {
        const r = await h.deliver([ev(1, 'contact.creation', 11, 100), { subscriptionType: 'contact.creation' }]);
        assert.equal(r.status, 400);
        assert.match(r.body.error!.message, /event 1 has no numeric eventId/);
        assert.deepEqual(h.calls, []);
      } finally {
        await done();
      }
    });
  });
}

behaviours('memory', () => Promise.resolve({ ledger: new MemoryWebhookLedger(), close: () => Promise.resolve() }));

let pg: Store;
before(async () => {
  pg = await openStore({ portalId: 'webhooks' });
  await applyMarketplaceMigrations(pg.db);
});
after(() => pg.close());
behaviours('PGlite', async () => {
  // Each test starts from an empty ledger.
  await pg.db.exec('DELETE FROM webhook_events; DELETE FROM webhook_watermarks;');
  return { ledger: new PgliteWebhookLedger(pg.db), close: () => Promise.resolve() };
});

describe('PGlite webhook ledger', () => {
  test('remembers processed events across handler instances (a restart)', async () => {
    await pg.db.exec('DELETE FROM webhook_events; DELETE FROM webhook_watermarks;');
    const first = harness(new PgliteWebhookLedger(pg.db));
    await first.start();
    await first.deliver([ev(1, 'contact.creation', 11, 100)]);
    await first.stop();
    const second = harness(new PgliteWebhookLedger(pg.db));
    await second.start();
    const r = await second.deliver([ev(1, 'contact.creation', 11, 100)]);
    await second.stop();
    assert.equal(r.body.duplicates, 1);
    assert.deepEqual(second.calls, []);
  });

  test('prune forgets old event ids but keeps watermarks', async () => {
    await pg.db.exec('DELETE FROM webhook_events; DELETE FROM webhook_watermarks;');
    const ledger = new PgliteWebhookLedger(pg.db);
    await ledger.commit('9', [{ eventId: '1', occurredAt: 100 }, { eventId: '2', occurredAt: 300 }], new Map([['contact:1', { occurredAt: 300, deleted: false }]]));
    assert.equal(await ledger.prune(200), 1);
    assert.deepEqual([...(await ledger.seen('9', ['1', '2']))], ['2']);
    assert.deepEqual(await ledger.watermarks('9', ['contact:1']), new Map([['contact:1', { occurredAt: 300, deleted: false }]]));
  });
});
