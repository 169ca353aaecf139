import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { HubSpotClient } from '../../connector/hubspot/client.js';
import { staticTokenProvider } from '../../connector/hubspot/token.js';
import type { Property } from '../../connector/hubspot/types.js';
import { startSandbox } from '../../connector/sandbox/server.js';
import { openStore } from '../../connector/store.js';
import type { SandboxServer } from '../../connector/sandbox/server.js';
import {
  MODEL_PROPERTY,
  SEGMENT_PROPERTY,
  STRATEGY_PROPERTY,
  WriteBackAborted,
  compareIds,
  mergeOptions,
  modelId,
  strategyText,
  writeBack,
} from '../../connector/writeback.js';
import type { StoredContact, WriteBackClient, WriteBackStore } from '../../connector/writeback.js';
import type { Assignment, Model, Segment } from '../../src/types.js';
import { run as runWriteback } from '../../connector/commands/writeback.js';
import { fit } from '../../src/fit.js';
import { paperTable } from '../../src/synthetic.js';

// ---- fixtures -----------------------------------------------------------------------------------------

function segment(id: 'loyal' | 'profitable' | 'risky', priority: 1 | 2 | 3, technologies: Segment['strategy']['technologies']): Segment {
  return {
    id,
    archetype: id,
    label: id[0]!.toUpperCase() + id.slice(1),
    why: '',
    color: '#000',
    size: 0,
    centroid: {},
    strategy: { basis: id, priority, technologies, summary: '' },
    kpis: { customers: 0, customerShare: 0, revenue: 0, revenueShare: 0, clv: 0, nps: null, npsResponses: 0 },
  };
}

const LOYAL = segment('loyal', 1, ['iot', 'big_data', 'automation_robotics', 'it_cloud']);
const PROFITABLE = segment('profitable', 2, ['iot', 'big_data', 'ai', 'ml_cognitive', 'ar_vr_digital_twin', 'it_cloud']);
const RISKY = segment('risky', 3, ['iot', 'big_data', 'it_cloud', 'blockchain']);

function model(createdAt: string, segments: Segment[]): Model {
  return {
    kind: 'smart-segments-model',
    version: 1,
    createdAt,
    method: 'kmeans',
    k: segments.length,
    seed: 1,
    features: ['purchase_frequency'],
    scaler: { kind: 'zscore', offset: [0], scale: [1] },
    imputation: {},
    centroids: segments.map((_, i) => [i]),
    segments,
    quality: { silhouette: 0, silhouetteSampleSize: 0, inertia: 0, iterations: 0 },
    data: { rows: 0, clustered: 0, imputed: 0, noRecentOrders: 0, rejected: [] },
  };
}

/** Round-robin segments, every 10th contact without recent orders. */
function assignAll(ids: string[], segments: Segment[]): Assignment[] {
  return ids.map((id, i) => ({
    id,
    segment: i % 10 === 9 ? 'no_recent_orders' : segments[i % segments.length]!.id,
    distance: 0,
    imputed: false,
  }));
}

/** The store's write-back surface, in memory (the PGlite store has the same methods). */
class MemoryStore implements WriteBackStore {
  contacts = new Map<string, StoredContact>();
  state = new Map<string, unknown>();
  upserts = 0;
  allContacts(): Promise<StoredContact[]> {
    return Promise.resolve([...this.contacts.values()].map((c) => structuredClone(c)));
  }
  mergeContactProperties(updates: readonly { id: string; properties: Record<string, string | null> }[]): Promise<void> {
    this.upserts += updates.length;
    for (const u of updates) {
      const c = this.contacts.get(u.id);
      if (c) this.contacts.set(u.id, { id: u.id, properties: { ...c.properties, ...u.properties } });
    }
    return Promise.resolve();
  }
  getState(key: string): Promise<unknown> {
    return Promise.resolve(this.state.has(key) ? structuredClone(this.state.get(key)) : null);
  }
  setState(key: string, value: unknown): Promise<void> {
    this.state.set(key, structuredClone(value));
    return Promise.resolve();
  }
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    const contacts = new Map(this.contacts);
    const state = new Map(this.state);
    try {
      return await fn();
    } catch (error) {
      this.contacts = contacts;
      this.state = state;
      throw error;
    }
  }
}

const CONTACTS = 250;
let sandbox: SandboxServer;
let client: HubSpotClient;
let ids: string[];

async function freshStore(): Promise<MemoryStore> {
  const store = new MemoryStore();
  for (const id of ids) store.contacts.set(id, { id, properties: { firstname: 'x' } });
  return store;
}

function writes(): number {
  const byRoute = sandbox.stats().byRoute;
  let n = 0;
  for (const [route, count] of Object.entries(byRoute) as [string, number][]) if (/^(POST|PATCH|PUT|DELETE)/.test(route) && !/search|batch\/read/.test(route)) n += count;
  return n;
}

function batchUpdates(): number {
  let n = 0;
  for (const [route, count] of Object.entries(sandbox.stats().byRoute) as [string, number][]) if (route.includes('batch/update')) n += count;
  return n;
}

async function sandboxProperty(name: string): Promise<Property | null> {
  return client.getProperty('contacts', name);
}

before(async () => {
  sandbox = await startSandbox({ contacts: CONTACTS, rateLimit: false, seed: 7 });
  client = new HubSpotClient({
    baseUrl: sandbox.url,
    tokenProvider: staticTokenProvider(sandbox.token),
    retry: { baseMs: 2, capMs: 20 },
  });
  ids = [];
  let after: string | undefined;
  do {
    const page = await client.listPage('contacts', { properties: [], ...(after ? { after } : {}) });
    for (const c of page.results) ids.push(c.id);
    after = page.paging?.next?.after;
  } while (after);
  ids.sort(compareIds);
});

after(async () => {
  await sandbox.close();
});

beforeEach(async () => {
  sandbox.clearFaults();
  await sandbox.reset({ contacts: CONTACTS, seed: 7 });
  sandbox.resetStats();
});

// ---- pure helpers -------------------------------------------------------------------------------------

describe('write-back helpers', () => {
  test('the strategy text lists priority then technologies', () => {
    assert.equal(strategyText(LOYAL), 'P1: iot, big_data, automation_robotics, it_cloud');
    assert.equal(strategyText(undefined), '');
  });

  test('merging options adds new values and never removes existing ones', () => {
    const existing = [
      { label: 'Loyal', value: 'loyal', displayOrder: 0, hidden: false },
      { label: 'Old', value: 'old_segment', displayOrder: 1, hidden: false },
    ];
    const { options, changed } = mergeOptions(existing, [
      { label: 'Loyal', value: 'loyal', hidden: false },
      { label: 'Risky', value: 'risky', hidden: false },
    ]);
    assert.equal(changed, true);
    assert.deepEqual(options.map((o) => o.value), ['loyal', 'old_segment', 'risky']);
    assert.equal(options[2]!.displayOrder, 2);
    assert.equal(mergeOptions(options, [{ label: 'Risky', value: 'risky', hidden: false }]).changed, false);
  });

  test('contact ids order numerically', () => {
    assert.deepEqual(['10', '9', '101', '2'].sort(compareIds), ['2', '9', '10', '101']);
  });
});

// ---- against the sandbox portal -----------------------------------------------------------------------

describe('write-back to the sandbox portal', () => {
  const m1 = model('2026-11-20T10:00:00.000Z', [LOYAL, PROFITABLE, RISKY]);

  test('creates the group and the enumeration property, and the values reach the contacts', async () => {
    const store = await freshStore();
    const assignments = assignAll(ids, m1.segments);
    const progress: number[] = [];
    const report = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments, {
      onProgress: (p) => progress.push(p.done),
    });

    assert.equal(report.considered, CONTACTS);
    assert.equal(report.updated, CONTACTS);
    assert.equal(report.skipped, 0);
    assert.equal(report.batches, Math.ceil(CONTACTS / 100));
    assert.equal(progress.at(-1), CONTACTS);
    assert.equal(batchUpdates(), 3);

    const prop = await sandboxProperty(SEGMENT_PROPERTY);
    assert.ok(prop);
    assert.equal(prop.type, 'enumeration');
    assert.equal(prop.fieldType, 'select');
    assert.equal(prop.groupName, 'smart_segments');
    assert.deepEqual(prop.options?.map((o) => o.value), ['loyal', 'profitable', 'risky', 'no_recent_orders']);
    assert.equal((await sandboxProperty(STRATEGY_PROPERTY))?.type, 'string');
    assert.equal((await sandboxProperty(MODEL_PROPERTY))?.type, 'string');

    for (const a of [assignments[0]!, assignments[1]!, assignments[9]!, assignments.at(-1)!]) {
      const props = sandbox.data.getContact(a.id)?.properties ?? {};
      assert.equal(props[SEGMENT_PROPERTY], a.segment, `contact ${a.id}`);
      assert.equal(props[MODEL_PROPERTY], modelId(m1));
    }
    assert.equal(sandbox.data.getContact(assignments[0]!.id)?.properties[STRATEGY_PROPERTY], 'P1: iot, big_data, automation_robotics, it_cloud');
    // The local copy now holds what was written.
    assert.equal(store.contacts.get(assignments[1]!.id)?.properties[SEGMENT_PROPERTY], 'profitable');
    assert.equal(store.contacts.get(assignments[1]!.id)?.properties.firstname, 'x');
  });

  test('a second run with the same model updates nothing and sends no request', async () => {
    const store = await freshStore();
    const assignments = assignAll(ids, m1.segments);
    await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
    sandbox.resetStats();

    const again = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
    assert.equal(again.updated, 0);
    assert.equal(again.skipped, CONTACTS);
    assert.equal(again.requests, 0);
    assert.equal(sandbox.stats().requests, 0);
  });

  test('only contacts whose segment changed are sent again', async () => {
    const store = await freshStore();
    const assignments = assignAll(ids, m1.segments);
    await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
    sandbox.resetStats();

    const moved = assignments.map((a, i) => (i < 5 ? { ...a, segment: 'risky' } : a));
    const changed = assignments.slice(0, 5).filter((a) => a.segment !== 'risky').length;
    const report = await writeBack({ client, store, portalId: sandbox.portalId }, m1, moved);
    assert.equal(report.updated, changed);
    assert.equal(batchUpdates(), 1);
    // Three property reads, no schema writes: the options already cover the model.
    assert.equal(writes(), 1);
    assert.equal(sandbox.data.getContact(ids[0]!)?.properties[SEGMENT_PROPERTY], 'risky');
  });

  test('a model with a new segment adds the option and keeps the old ones', async () => {
    const store = await freshStore();
    await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignAll(ids, m1.segments));
    const value: Segment = { ...segment('risky', 3, ['iot']), id: 'far_low_satisfaction', archetype: null, label: 'Far, low satisfaction' };
    const m2 = model('2026-11-21T10:00:00.000Z', [LOYAL, value]);
    const report = await writeBack({ client, store, portalId: sandbox.portalId }, m2, assignAll(ids, m2.segments));
    assert.ok(report.schema.some((s) => s.includes('far_low_satisfaction')), report.schema.join('; '));
    const prop = await sandboxProperty(SEGMENT_PROPERTY);
    assert.deepEqual(prop?.options?.map((o) => o.value), ['loyal', 'profitable', 'risky', 'no_recent_orders', 'far_low_satisfaction']);
    assert.equal(sandbox.data.getContact(ids[1]!)?.properties[SEGMENT_PROPERTY], 'far_low_satisfaction');
  });

  test('a property someone else created (409 on create) is read and reconciled', async () => {
    await client.createPropertyGroup('contacts', { name: 'smart_segments', label: 'Smart Segments' });
    await client.createProperty('contacts', {
      name: SEGMENT_PROPERTY,
      label: 'Smart segment',
      type: 'enumeration',
      fieldType: 'select',
      groupName: 'smart_segments',
      options: [{ label: 'Legacy', value: 'legacy', hidden: false, displayOrder: 0 }],
    });
    // The first read says "missing" (a race with another instance): the create then answers 409.
    let reads = 0;
    const racing: WriteBackClient = {
      getProperty: (type, name) => (name === SEGMENT_PROPERTY && reads++ === 0 ? Promise.resolve(null) : client.getProperty(type, name)),
      createPropertyGroup: (t, g) => client.createPropertyGroup(t, g),
      createProperty: (t, p) => client.createProperty(t, p),
      updateProperty: (t, n, u) => client.updateProperty(t, n, u),
      batchUpdate: (t, i) => client.batchUpdate(t, i),
    };
    const store = await freshStore();
    const report = await writeBack({ client: racing, store, portalId: sandbox.portalId }, m1, assignAll(ids, m1.segments));
    assert.equal(report.updated, CONTACTS);
    const prop = await sandboxProperty(SEGMENT_PROPERTY);
    assert.deepEqual(prop?.options?.map((o) => o.value), ['legacy', 'loyal', 'profitable', 'risky', 'no_recent_orders']);
  });

  test('a run killed mid-way resumes where it stopped, without writing any contact twice', async () => {
    const store = await freshStore();
    const assignments = assignAll(ids, m1.segments);
    const sent: string[] = [];
    let calls = 0;
    const recording = (crashAt: number): WriteBackClient => ({
      getProperty: (t, n) => client.getProperty(t, n),
      createPropertyGroup: (t, g) => client.createPropertyGroup(t, g),
      createProperty: (t, p) => client.createProperty(t, p),
      updateProperty: (t, n, u) => client.updateProperty(t, n, u),
      batchUpdate: async (t, inputs) => {
        if (++calls === crashAt) throw new Error('process killed');
        const result = await client.batchUpdate(t, inputs);
        for (const input of inputs) sent.push(input.id);
        return result;
      },
    });
    await assert.rejects(
      writeBack({ client: recording(2), store, portalId: sandbox.portalId }, m1, assignments, { concurrency: 1 }),
      /process killed/,
    );
    assert.equal(sent.length, 100);
    const checkpoint = (await store.getState('writeback.checkpoint')) as { lastId: string; complete: boolean };
    assert.equal(checkpoint.lastId, ids[99]);
    assert.equal(checkpoint.complete, false);

    const resumed = await writeBack({ client: recording(0), store, portalId: sandbox.portalId }, m1, assignments);
    assert.equal(resumed.resumedAfter, ids[99]);
    assert.equal(resumed.skipped, 100);
    assert.equal(resumed.updated, CONTACTS - 100);
    // Every contact was sent exactly once over both runs.
    assert.equal(sent.length, CONTACTS);
    assert.equal(new Set(sent).size, CONTACTS);
    for (const a of assignments) assert.equal(sandbox.data.getContact(a.id)?.properties[SEGMENT_PROPERTY], a.segment);
  });

  test('a crash with several batches in flight loses nothing and resends nothing that was confirmed', async () => {
    const store = await freshStore();
    const assignments = assignAll(ids, m1.segments);
    const confirmed: string[] = [];
    let calls = 0;
    const flaky: WriteBackClient = {
      getProperty: (t, n) => client.getProperty(t, n),
      createPropertyGroup: (t, g) => client.createPropertyGroup(t, g),
      createProperty: (t, p) => client.createProperty(t, p),
      updateProperty: (t, n, u) => client.updateProperty(t, n, u),
      batchUpdate: async (t, inputs) => {
        // The second batch dies while the first and third are in flight.
        if (++calls === 2) throw new Error('connection reset');
        const result = await client.batchUpdate(t, inputs);
        for (const input of inputs) confirmed.push(input.id);
        return result;
      },
    };
    await assert.rejects(writeBack({ client: flaky, store, portalId: sandbox.portalId }, m1, assignments, { concurrency: 3 }), /connection reset/);
    const checkpoint = (await store.getState('writeback.checkpoint')) as { lastId: string };
    assert.equal(checkpoint.lastId, ids[99], 'the checkpoint stops before the failed batch');

    const resumed = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
    assert.equal(resumed.updated, CONTACTS - confirmed.length);
    assert.equal(resumed.skipped, confirmed.length);
    for (const a of assignments) assert.equal(sandbox.data.getContact(a.id)?.properties[SEGMENT_PROPERTY], a.segment);
  });

  test('cancellation between batches stops cleanly and the next run finishes the rest', async () => {
    const store = await freshStore();
    const assignments = assignAll(ids, m1.segments);
    const signal = { aborted: false };
    await assert.rejects(
      writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments, {
        concurrency: 1,
        signal,
        onProgress: (p) => {
          if (p.updated >= 100) signal.aborted = true;
        },
      }),
      (error: unknown) => error instanceof WriteBackAborted && error.report.updated === 100,
    );
    const rest = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
    assert.equal(rest.updated, CONTACTS - 100);
    assert.equal(batchUpdates(), 3);
  });

  test('429 and 5xx answers during write-back are retried and nothing is lost', async () => {
    const store = await freshStore();
    const assignments = assignAll(ids, m1.segments);
    sandbox.inject({ nextStatuses: [502, 429, 503, 500], paths: /batch\/update|properties/ });
    const report = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
    assert.equal(report.updated, CONTACTS);
    assert.ok(sandbox.stats().faults >= 4, `faults injected: ${sandbox.stats().faults}`);
    for (const a of assignments) assert.equal(sandbox.data.getContact(a.id)?.properties[SEGMENT_PROPERTY], a.segment);
  });

  test('the PGlite store keeps what was written, so the next run skips it', async () => {
    const store = await openStore({ portalId: sandbox.portalId });
    try {
      await store.upsertContacts(ids.map((id) => ({ id, properties: { firstname: 'x' } })));
      const assignments = assignAll(ids, m1.segments);
      const first = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
      assert.equal(first.updated, CONTACTS);
      const stored = await store.getContact(ids[2]!);
      assert.equal(stored?.properties[SEGMENT_PROPERTY], assignments[2]!.segment);
      assert.equal(stored?.properties.firstname, 'x');
      assert.deepEqual(await store.getState('writeback.checkpoint'), { modelId: modelId(m1), lastId: ids.at(-1), complete: true });
      const second = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignments);
      assert.equal(second.updated, 0);
      assert.equal(second.requests, 0);
    } finally {
      await store.close();
    }
  });

  test('contacts deleted in HubSpot since the last sync are reported, the rest are written', async () => {
    const store = await freshStore();
    const gone = ids[42]!;
    sandbox.data.archiveContact(gone);
    const report = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignAll(ids, m1.segments));
    assert.equal(report.failed, 1);
    assert.deepEqual(report.failedIds, [gone]);
    assert.equal(report.updated, CONTACTS - 1);
    assert.equal(store.contacts.get(gone)?.properties[SEGMENT_PROPERTY], undefined);
  });

  test('a dry run reports the plan and sends nothing', async () => {
    const store = await freshStore();
    const report = await writeBack({ client, store, portalId: sandbox.portalId }, m1, assignAll(ids, m1.segments), { dryRun: true });
    assert.equal(report.dryRun, true);
    assert.equal(report.updated, CONTACTS);
    assert.equal(report.batches, 3);
    assert.equal(report.requests, 0);
    assert.equal(sandbox.stats().requests, 0);
    assert.equal(await sandboxProperty(SEGMENT_PROPERTY), null);
    assert.equal(store.upserts, 0);
  });

  test('the writeback command syncs an empty store, writes back, and a second run changes nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'smart-segments-writeback-'));
    try {
      const fitted = fit(paperTable({ n: 100, seed: 3 }).table, { k: 3, method: 'kmeans', seed: 1, createdAt: '2026-11-22T08:00:00.000Z' }).model;
      await writeFile(join(dir, 'model.json'), JSON.stringify(fitted));
      const env = {
        HUBSPOT_ACCESS_TOKEN: sandbox.token,
        HUBSPOT_API_BASE: sandbox.url,
        SMART_SEGMENTS_DATA_DIR: join(dir, 'data'),
        SMART_SEGMENTS_AS_OF: '2026-11-01',
      };
      const out: string[] = [];
      const io = { stdout: (t: string) => void out.push(t), stderr: () => {}, env, cwd: dir };

      const dry = await runWriteback({ flags: { model: 'model.json', 'dry-run': true, json: true }, positionals: [] }, io);
      assert.equal(dry, 0);
      const plan = JSON.parse(out.pop()!) as { dryRun: boolean; updated: number };
      assert.equal(plan.dryRun, true);
      assert.equal(plan.updated, CONTACTS);
      assert.equal(writes(), 0);

      assert.equal(await runWriteback({ flags: { model: 'model.json', json: true }, positionals: [] }, io), 0);
      const first = JSON.parse(out.pop()!) as { updated: number };
      assert.equal(first.updated, CONTACTS);
      const segments = new Set(fitted.segments.map((x) => x.id).concat('no_recent_orders'));
      for (const id of ids) assert.ok(segments.has(String(sandbox.data.getContact(id)?.properties[SEGMENT_PROPERTY])), id);

      sandbox.resetStats();
      assert.equal(await runWriteback({ flags: { model: 'model.json' }, positionals: [] }, io), 0);
      assert.match(out.pop()!, /already up to date\s+250\n\s+updated\s+0\n/);
      assert.equal(writes(), 0);

      assert.equal(await runWriteback({ flags: { model: 'missing.json' }, positionals: [] }, io), 1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
