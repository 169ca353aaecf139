import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as syncCommand } from '../../connector/commands/sync.js';
import { HubSpotClient } from '../../connector/hubspot/client.js';
import type { RetryOptions } from '../../connector/hubspot/client.js';
import { HubSpotError } from '../../connector/hubspot/errors.js';
import { PortalLimiter } from '../../connector/hubspot/limiter.js';
import { staticTokenProvider } from '../../connector/hubspot/token.js';
import { startSandbox } from '../../connector/sandbox/server.js';
import type { SandboxServer } from '../../connector/sandbox/server.js';
import { openStore } from '../../connector/store.js';
import type { Store } from '../../connector/store.js';
import { SyncAborted, fullSync, incrementalSync, lastSync } from '../../connector/sync.js';
import { BACKENDS, type Opened } from './db-backends.js';
import type { SyncClient, SyncContext, SyncOptions } from '../../connector/sync.js';

const config = { satisfactionProperty: undefined, distanceProperty: undefined };

// One embedded database for the file (PGlite takes seconds to start); every test gets its own portal in it.
let database: Store | undefined;
let portals = 0;
async function freshStore(): Promise<Store> {
  database ??= await openStore({ portalId: 'unused' });
  return database.withPortal(`portal-${++portals}`);
}
after(() => database?.close());

function clientFor(sandbox: SandboxServer, options: { token?: string; retry?: RetryOptions } = {}): HubSpotClient {
  return new HubSpotClient({
    baseUrl: sandbox.url,
    tokenProvider: staticTokenProvider(options.token ?? sandbox.token),
    limiter: new PortalLimiter({ perWindow: 1000, searchPerSecond: 50, concurrency: 6 }),
    retry: { baseMs: 5, capMs: 50, ...options.retry },
  });
}

/**
 * Incremental windows end just before "now" (LT): a change made in the same millisecond as the sync's
 * start belongs to the next sync. Tests that expect a change picked up let the clock move first.
 */
function clockMoves(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 5));
}

function ctxFor(sandbox: SandboxServer, store: Store, client = clientFor(sandbox)): SyncContext {
  return { client, store, portalId: sandbox.portalId, config };
}

/** What the sandbox holds, in the shape the store keeps (live records, associations between live records). */
function expected(sandbox: SandboxServer): { contacts: Map<string, string | null>; deals: Map<string, string | null>; associations: Record<string, string[]> } {
  const contacts = new Map<string, string | null>();
  for (const c of sandbox.data.listContacts()) contacts.set(String(c.id), c.properties.email ?? null);
  const deals = new Map<string, string | null>();
  for (const d of sandbox.data.listDeals()) deals.set(String(d.id), d.properties.amount ?? null);
  const associations: Record<string, string[]> = {};
  for (const c of sandbox.data.listContacts()) {
    const live = sandbox.data.dealsOf(c.id).filter((d) => sandbox.data.getDeal(d)?.archivedAt === null);
    if (live.length > 0) associations[String(c.id)] = live.map(String).sort();
  }
  return { contacts, deals, associations };
}

async function assertMirrors(store: Store, sandbox: SandboxServer): Promise<void> {
  const want = expected(sandbox);
  const contacts = await store.allContacts();
  const deals = await store.allDeals();
  assert.equal(contacts.length, want.contacts.size, 'contact count');
  assert.equal(deals.length, want.deals.size, 'deal count');
  for (const c of contacts) assert.equal(c.properties.email ?? null, want.contacts.get(c.id), `contact ${c.id}`);
  for (const d of deals) assert.equal(d.properties.amount ?? null, want.deals.get(d.id), `deal ${d.id}`);
  const got = await store.associations();
  for (const k of Object.keys(got)) got[k]?.sort();
  assert.deepEqual(got, want.associations);
}

describe('sync against the sandbox portal', () => {
  let sandbox: SandboxServer;
  before(async () => {
    sandbox = await startSandbox({ contacts: 150, seed: 7, rateLimit: false });
  });
  after(() => sandbox.close());

  test('a full sync stores exactly the portal\'s contacts, deals and associations', async () => {
    const store = await freshStore();
    const events: number[] = [];
    sandbox.resetStats();
    // Small lanes, so list and search readers split the id ranges between them.
    const result = await fullSync(ctxFor(sandbox, store), { minSplit: 20, onProgress: (p) => events.push(p.done) });
    await assertMirrors(store, sandbox);
    const counts = sandbox.data.counts();
    // Where a lane ends inside a page, the records past it are left to the next lane: each is written once.
    assert.equal(result.contacts.upserted, counts.contacts);
    assert.equal(result.deals.upserted, counts.deals);
    assert.equal(result.associationsRead, counts.contacts);
    const routes = sandbox.stats().byRoute;
    assert.ok((routes['POST /crm/v3/objects/{type}/search'] ?? 0) > 2, 'search readers took lanes');
    assert.equal(result.resumed, false);
    assert.ok(events.length > 3 && events.at(-1) === result.contacts.upserted + result.deals.upserted);
    assert.equal((await lastSync(store))?.mode, 'full');
  });

  test('an incremental sync picks up exactly the edits, creations and archivals since the last sync', async () => {
    const store = await freshStore();
    const ctx = ctxFor(sandbox, store);
    await fullSync(ctx);
    const [c1, c2, c3, c4] = sandbox.data.listContacts();
    const [d1, d2] = sandbox.data.listDeals();
    assert.ok(c1 && c2 && c3 && c4 && d1 && d2);
    sandbox.data.updateContact(c1.id, { email: 'changed-1@example.ua' });
    sandbox.data.updateContact(c2.id, { city: 'Brovary' });
    const created = sandbox.data.createContact({ email: 'new@example.ua', firstname: 'Nova', city: 'Kyiv', country: 'Ukraine' });
    const deal = sandbox.data.createDeal({ amount: '123.45', dealstage: 'closedwon', closedate: '2026-10-01T00:00:00.000Z', pipeline: 'default' });
    sandbox.data.associate(created.id, deal.id);
    sandbox.data.updateDeal(d1.id, { amount: '999' });
    sandbox.data.archiveContact(c3.id);
    sandbox.data.archiveDeal(d2.id);

    await clockMoves();
    const result = await incrementalSync(ctx, { overlapMs: 0 });
    assert.equal(result.mode, 'incremental');
    assert.equal(result.contacts.upserted, 3); // two edited, one created
    assert.equal(result.deals.upserted, 2); // one created, one edited
    assert.equal(result.contacts.deleted, 1);
    assert.equal(result.deals.deleted, 1);
    await assertMirrors(store, sandbox);
    assert.deepEqual((await store.associations())[String(created.id)], [String(deal.id)]);
    assert.equal((await store.getContact(String(c1.id)))?.properties.email, 'changed-1@example.ua');

    const again = await incrementalSync(ctx, { overlapMs: 0 });
    assert.equal(again.contacts.upserted + again.deals.upserted + again.contacts.deleted + again.deals.deleted, 0);
  });

  test('an incremental window over the search cap is split in halves and still reads every change', async () => {
    const store = await freshStore();
    const ctx = ctxFor(sandbox, store);
    await fullSync(ctx);
    const contacts = sandbox.data.listContacts().slice(0, 40);
    // Spread the edits over time so halving the window can separate them.
    let at = Date.now() + 1;
    for (const c of contacts) sandbox.data.updateContact(c.id, { state: 'Kyivska' }, (at += 3));
    sandbox.resetStats();
    const result = await incrementalSync({ ...ctx, now: () => at + 1 }, { overlapMs: 0, searchCap: 8, searchPageSize: 5 });
    assert.equal(result.contacts.upserted >= 40, true);
    for (const c of contacts) assert.equal((await store.getContact(String(c.id)))?.properties.state, 'Kyivska');
    await assertMirrors(store, sandbox);
    const searches = sandbox.stats().byRoute['POST /crm/v3/objects/{type}/search'] ?? 0;
    assert.ok(searches > 8, `expected window splitting and keyset pages, saw ${searches} searches`);
  });

  test('a full sync aborted after a few pages resumes and ends identical to a clean one', async () => {
    // List cursors only, so every page is read exactly once across the two runs.
    const store = await freshStore();
    const abort = new AbortController();
    const options: SyncOptions = {
      readers: { search: 0 },
      minSplit: 20,
      signal: abort.signal,
      onProgress: (p) => {
        if (p.pages >= 5) abort.abort();
      },
    };
    await assert.rejects(fullSync(ctxFor(sandbox, store), options), SyncAborted);
    const partial = { contacts: await store.count('contacts'), deals: await store.count('deals') };
    assert.ok(partial.deals > 0 && partial.deals < sandbox.data.counts().deals, `partial ${partial.deals}`);
    const resumed = await fullSync(ctxFor(sandbox, store), { readers: { search: 0 }, minSplit: 20 });
    assert.equal(resumed.resumed, true);
    assert.equal(resumed.deals.upserted, sandbox.data.counts().deals - partial.deals);
    assert.equal(resumed.contacts.upserted, sandbox.data.counts().contacts - partial.contacts);
    await assertMirrors(store, sandbox);
  });

  test('a full sync reading in lanes resumes after an abort at any page', async () => {
    for (const stopAt of [1, 3, 8, 15]) {
      const store = await freshStore();
      const abort = new AbortController();
      await assert.rejects(
        fullSync(ctxFor(sandbox, store), { minSplit: 10, signal: abort.signal, onProgress: (p) => void (p.pages >= stopAt && abort.abort()) }),
        SyncAborted,
      );
      const resumed = await fullSync(ctxFor(sandbox, store), { minSplit: 10 });
      assert.equal(resumed.resumed, true);
      await assertMirrors(store, sandbox);
    }
  });

  test('a lane requests its next page while the previous one is being written, and stores each page once', async () => {
    const store = await freshStore();
    // One list reader and slow writes: the next request must not wait for the write before it.
    const events: string[] = [];
    const upsertDeals = store.upsertDeals.bind(store);
    store.upsertDeals = async (records, options) => {
      events.push('write');
      await new Promise((resolve) => setTimeout(resolve, 40));
      const n = await upsertDeals(records, options);
      events.push('written');
      return n;
    };
    const real = clientFor(sandbox);
    const client: SyncClient = {
      listPage: (type, options) => {
        if (type === 'deals') events.push('request');
        return real.listPage(type, options);
      },
      search: (type, body) => real.search(type, body),
      associationsBatchRead: (from, to, ids) => real.associationsBatchRead(from, to, ids),
      stats: () => real.stats(),
    };
    const result = await fullSync({ ...ctxFor(sandbox, store), client }, { readers: { list: 1, search: 0 } });
    await assertMirrors(store, sandbox);
    assert.equal(result.deals.upserted, sandbox.data.counts().deals, 'every deal written exactly once');
    // At each request: how many earlier pages are not yet written. Without the pipeline always 0.
    const behind: number[] = [];
    let requested = 0;
    let written = 0;
    for (const e of events) {
      if (e === 'request') behind.push(requested++ - written);
      else if (e === 'written') written++;
    }
    const writes = events.filter((e) => e === 'write').length;
    assert.ok(writes > 3, `expected several deal pages, saw ${writes}`);
    // From the third request on, each goes out while the page before it is written (the first page's
    // write decides what list cursors are, so the reader waits for that one); never more than one.
    assert.deepEqual(behind, [0, 0, ...Array.from({ length: writes - 2 }, () => 1)], events.join(' '));
  });

  test('a portal whose list cursor is not an id is listed in the bottom lane only and searched above it', async () => {
    const store = await freshStore();
    const real = clientFor(sandbox);
    // The same portal, but its list cursors are opaque (base64, as HubSpot's documentation shows them).
    const given = new Set<string>();
    const sent: string[] = [];
    const opaque: SyncClient = {
      listPage: async (type, options) => {
        let inner = options;
        if (options.after !== undefined) {
          sent.push(options.after);
          inner = { ...options, after: Buffer.from(options.after, 'base64').toString().replace(/^cursor:/, '') };
        }
        const page = await real.listPage(type, inner);
        const next = page.paging?.next;
        if (!next) return page;
        const after = Buffer.from(`cursor:${next.after}`).toString('base64');
        given.add(after);
        return { ...page, paging: { next: { ...next, after } } };
      },
      search: (type, body) => real.search(type, body),
      associationsBatchRead: (from, to, ids) => real.associationsBatchRead(from, to, ids),
      stats: () => real.stats(),
    };
    sandbox.resetStats();
    const result = await fullSync({ ...ctxFor(sandbox, store), client: opaque }, { minSplit: 10 });
    await assertMirrors(store, sandbox);
    assert.equal(result.deals.upserted, sandbox.data.counts().deals);
    assert.equal(result.contacts.upserted, sandbox.data.counts().contacts);
    // Every list request continued a cursor the portal gave; none started a lane at an id of its own.
    assert.ok(sent.length > 0);
    for (const a of sent) assert.ok(given.has(a), `list request with a cursor the portal never gave: ${a}`);
    assert.ok((sandbox.stats().byRoute['POST /crm/v3/objects/{type}/search'] ?? 0) > 2, 'search readers took the lanes above');
  });

  test('a sync that fails on a server fault resumes from its checkpoints', async () => {
    const store = await freshStore();
    try {
      // Let a few pages through, then fail every attempt of the requests in flight.
      sandbox.inject({ nextStatuses: [200, 200, 200, 200, 200, 200, ...Array.from({ length: 40 }, () => 503)] });
      const fragile = clientFor(sandbox, { retry: { attempts: 3 } });
      await assert.rejects(fullSync(ctxFor(sandbox, store, fragile)), (e: unknown) => e instanceof HubSpotError && e.code === 'RETRIES_EXHAUSTED');
      sandbox.clearFaults();
      const resumed = await fullSync(ctxFor(sandbox, store));
      assert.equal(resumed.resumed, true);
      await assertMirrors(store, sandbox);
      // Interrupt an incremental run too.
      sandbox.data.updateContact(sandbox.data.listContacts()[5]!.id, { email: 'x@y.ua' });
      const abort = new AbortController();
      abort.abort();
      await clockMoves();
      await assert.rejects(incrementalSync(ctxFor(sandbox, store), { signal: abort.signal, overlapMs: 0 }), SyncAborted);
      const inc = await incrementalSync(ctxFor(sandbox, store), { overlapMs: 0 });
      assert.equal(inc.resumed, true);
      await assertMirrors(store, sandbox);
    } finally {
      sandbox.clearFaults();
    }
  });

  test('a full sync picks up records deleted since the last one (mark and sweep)', async () => {
    const store = await freshStore();
    await fullSync(ctxFor(sandbox, store));
    const victim = sandbox.data.listContacts()[10]!;
    sandbox.data.archiveContact(victim.id);
    const result = await fullSync(ctxFor(sandbox, store));
    assert.equal(result.contacts.deleted, 1);
    assert.equal(await store.getContact(String(victim.id)), null);
    await assertMirrors(store, sandbox);
    // The sweep was planned on fresh statistics, and the rewritten rows' old versions were vacuumed
    // (PGlite runs neither by itself).
    const { rows } = await store.db.query<{ relname: string }>(
      "SELECT relname FROM pg_stat_user_tables WHERE relname IN ('contacts', 'deals') AND last_analyze IS NOT NULL AND last_vacuum IS NOT NULL ORDER BY relname",
    );
    assert.deepEqual(rows.map((r) => r.relname), ['contacts', 'deals']);
  });

  test('a revoked token stops the sync with a clear message', async () => {
    const store = await freshStore();
    await assert.rejects(fullSync(ctxFor(sandbox, store, clientFor(sandbox, { token: 'revoked' }))), /token expired or revoked/);
  });
});

// The lanes commit from several readers at once: on PostgreSQL those are truly concurrent transactions.
for (const backend of BACKENDS) {
  describe(`full sync in lanes on ${backend.name}`, { skip: backend.skip }, () => {
    let sandbox: SandboxServer;
    let opened: Opened;
    before(async () => {
      sandbox = await startSandbox({ contacts: 120, seed: 9, rateLimit: false });
      opened = await backend.open();
    });
    after(async () => {
      await sandbox.close();
      await opened.cleanup();
    });

    test('small lanes, aborted mid-way and resumed, store exactly the portal', async () => {
      const store = await openStore({ database: opened.db, portalId: `lanes-${backend.name}` });
      const abort = new AbortController();
      await assert.rejects(
        fullSync(ctxFor(sandbox, store), { minSplit: 10, signal: abort.signal, onProgress: (p) => void (p.pages >= 10 && abort.abort()) }),
        SyncAborted,
      );
      const resumed = await fullSync(ctxFor(sandbox, store), { minSplit: 10 });
      assert.equal(resumed.resumed, true);
      await assertMirrors(store, sandbox);
      await store.close();
    });
  });
}

describe('sync under faults', () => {
  let sandbox: SandboxServer;
  before(async () => {
    sandbox = await startSandbox({ contacts: 60, seed: 11, rateLimit: false });
  });
  after(() => sandbox.close());

  test('429 storms, 5xx and truncated bodies lose and duplicate nothing', async () => {
    const store = await freshStore();
    try {
      const client = clientFor(sandbox, { retry: { attempts: 10, rateLimitAttempts: 50 } });
      // A few certain faults first, then random ones.
      sandbox.inject({ nextStatuses: [502, 429, 503], rate429: 0.2, rate5xx: 0.1, malformedRate: 0.05 });
      await fullSync(ctxFor(sandbox, store, client), { minSplit: 20 });
      sandbox.data.updateContact(sandbox.data.listContacts()[0]!.id, { email: 'storm@example.ua' });
      await clockMoves();
      await incrementalSync(ctxFor(sandbox, store, client), { overlapMs: 0 });
      sandbox.clearFaults();
      await assertMirrors(store, sandbox);
      const stats = client.stats();
      assert.ok(stats.throttled > 0, 'saw 429s');
      assert.ok(stats.retries > 0, 'retried 5xx / malformed');
      assert.ok(sandbox.stats().faults > 0);
    } finally {
      sandbox.clearFaults();
    }
  });
});

describe('smart-segments sync', () => {
  let sandbox: SandboxServer;
  let dir: string;
  before(async () => {
    sandbox = await startSandbox({ contacts: 40, seed: 3, rateLimit: false });
    dir = await mkdtemp(join(tmpdir(), 'sync-cmd-'));
  });
  after(async () => {
    await sandbox.close();
    await rm(dir, { recursive: true, force: true });
  });

  function io(env: Record<string, string>): { out: string[]; err: string[]; io: Parameters<typeof syncCommand>[1] } {
    const out: string[] = [];
    const err: string[] = [];
    return { out, err, io: { stdout: (t) => void out.push(t), stderr: (t) => void err.push(t), env, cwd: dir } };
  }

  test('refuses to run without a token, with a clear message', async () => {
    const c = io({});
    assert.equal(await syncCommand({ flags: { 'base-url': sandbox.url }, positionals: [] }, c.io), 1);
    assert.match(c.err.join(''), /HUBSPOT_ACCESS_TOKEN is not set/);
  });

  test('syncs in full, then incrementally, prints a summary and writes the snapshot atomically', async () => {
    const env = { HUBSPOT_ACCESS_TOKEN: sandbox.token, SMART_SEGMENTS_AS_OF: '2026-11-01' };
    const first = io(env);
    const code = await syncCommand({ flags: { 'base-url': sandbox.url, 'data-dir': 'data', out: 'snapshot.json' }, positionals: [] }, first.io);
    const stderr = first.err.join('');
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Full sync: 40 contacts, \d+ deals read, 0 deleted; store holds 40 contacts, \d+ deals; \d+ requests in [\d.]+ s \(\d+ records\/s\)/);
    assert.ok(!stderr.includes(sandbox.token.slice(5)), 'the token is not printed');
    const snapshot = JSON.parse(await readFile(join(dir, 'snapshot.json'), 'utf8')) as { kind: string; ids: string[]; etag: string };
    assert.equal(snapshot.kind, 'smart-segments-snapshot');
    assert.equal(snapshot.ids.length, 40);

    sandbox.data.updateContact(sandbox.data.listContacts()[0]!.id, { city: 'Bucha' });
    const second = io(env);
    assert.equal(await syncCommand({ flags: { 'base-url': sandbox.url, 'data-dir': 'data' }, positionals: [] }, second.io), 0);
    assert.match(second.err.join(''), /Incremental sync: [1-9]\d* contacts/);
  });
});
