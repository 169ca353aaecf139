import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startApp } from '../../connector/server/app.js';
import type { App } from '../../connector/server/app.js';
import { ListenError, snapshotTable, startServer } from '../../connector/server/server.js';
import { CHECKPOINT_KEY, modelId } from '../../connector/writeback.js';
import { fit } from '../../src/fit.js';
import type { Model, Snapshot, SnapshotDelta } from '../../src/types.js';

const CONTACTS = 300;
let app: App;
let base: string;
let dir: string;
let root: string;
const printed: string[] = [];

/** Raw GET over loopback (fetch would normalise "/bundle/../x" before sending it). */
function rawGet(path: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path, method: 'GET', headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function json<T = unknown>(path: string, init?: RequestInit): Promise<{ status: number; body: T; headers: Headers }> {
  const res = await fetch(`${base}${path}`, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : null) as T, headers: res.headers };
}

function postJson(path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  return json(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

async function waitForJob(id: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const { body } = await json<Record<string, unknown>>(`/api/jobs/${id}`);
    if (body.state === 'done' || body.state === 'failed') return body;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`job ${id} did not finish`);
}

async function currentSnapshot(): Promise<Snapshot> {
  return (await json<Snapshot>('/api/snapshot')).body;
}

function fitModel(snapshot: Snapshot): Model {
  return fit(snapshotTable(snapshot), { k: 3, method: 'kmeans', seed: 11, createdAt: '2026-11-22T09:00:00.000Z' }).model;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'smart-segments-server-'));
  // A package root of our own: the demo pages and bundle are other helpers' build outputs.
  root = join(dir, 'root');
  await mkdir(join(root, 'widget', 'demo'), { recursive: true });
  await mkdir(join(root, 'dist', 'bundle'), { recursive: true });
  await writeFile(join(root, 'widget', 'demo', 'index.html'), '<!doctype html><title>Contact</title>');
  await writeFile(join(root, 'widget', 'demo', 'list.html'), '<!doctype html><title>List</title>');
  await writeFile(join(root, 'widget', 'demo', 'explorer.html'), '<!doctype html><title>Explorer</title>');
  await writeFile(join(root, 'dist', 'bundle', 'badge.js'), 'export const badge = 1;\n');
  await writeFile(join(root, 'secret.txt'), 'do not serve');

  app = await startApp({
    env: { SMART_SEGMENTS_DATA_DIR: join(dir, 'data') },
    sandbox: { contacts: CONTACTS, rateLimit: false, seed: 5 },
    port: 0,
    rootDir: root,
    out: { stdout: (s) => printed.push(s), stderr: () => {} },
    progressStream: { write: () => true } as unknown as NodeJS.WritableStream,
  });
  base = app.url;
});

after(async () => {
  await app?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('the serve flow', () => {
  test('starts the sandbox portal, syncs it and prints the one line to open', () => {
    assert.ok(app.sandbox, 'the sandbox runs when no token is set');
    assert.equal(app.sync.mode, 'full');
    const last = printed.at(-1) ?? '';
    assert.match(last, /^Smart Segments is running: open http:\/\/localhost:\d+\/ {2}\(contact record demo\), \/list \(marketer\), \/explorer \(admin\)\n$/);
  });

  test('a busy port is reported clearly', async () => {
    const port = new URL(base).port;
    await assert.rejects(
      startServer({
        config: app.connection.config,
        store: app.connection.store,
        client: app.connection.client,
        portalId: app.connection.portalId,
        port: Number(port),
        snapshot: app.server.snapshot(),
      }),
      (error: unknown) => error instanceof ListenError && error.message.includes(`Port ${port} is already in use`) && error.message.includes('--port'),
    );
    // The serve flow says so before starting a sandbox or syncing anything.
    await assert.rejects(
      startApp({ env: { SMART_SEGMENTS_DATA_DIR: join(dir, 'other') }, port: Number(port) }),
      (error: unknown) => error instanceof ListenError,
    );
    assert.equal(existsSync(join(dir, 'other')), false);
  });
});

describe('pages and static files', () => {
  test('the demo pages are served and may be framed by HubSpot', async () => {
    for (const [path, title] of [['/', 'Contact'], ['/list', 'List'], ['/explorer', 'Explorer']] as const) {
      const res = await rawGet(path);
      assert.equal(res.status, 200, path);
      assert.match(String(res.headers['content-type']), /^text\/html/);
      assert.match(res.body, new RegExp(`<title>${title}</title>`));
      assert.match(String(res.headers['content-security-policy']), /frame-ancestors 'self' https:\/\/app\.hubspot\.com/);
    }
  });

  test('bundle files have a JavaScript content type and an ETag that answers 304', async () => {
    const res = await rawGet('/bundle/badge.js');
    assert.equal(res.status, 200);
    assert.match(String(res.headers['content-type']), /^text\/javascript/);
    const etag = String(res.headers.etag);
    assert.ok(etag.length > 4);
    const again = await rawGet('/bundle/badge.js', { 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body, '');
  });

  test('paths that leave the bundle directory answer 404', async () => {
    for (const path of [
      '/bundle/../secret.txt',
      '/bundle/../../secret.txt',
      '/bundle/%2e%2e/%2e%2e/secret.txt',
      '/bundle/..%2f..%2fsecret.txt',
      '/bundle/..%5c..%5csecret.txt',
      '/bundle/%00badge.js',
      '/bundle/',
      '/bundle/missing.js',
    ]) {
      const res = await rawGet(path);
      assert.equal(res.status, 404, path);
      assert.doesNotMatch(res.body, /do not serve/, path);
    }
  });

  test('mounted handlers answer before the built-in routes', async () => {
    const second = await startServer({
      config: app.connection.config,
      store: app.connection.store,
      client: app.connection.client,
      portalId: app.connection.portalId,
      port: 0,
      rootDir: root,
      snapshot: app.server.snapshot(),
      handlers: [
        async (_req, res, url) => {
          if (url.pathname !== '/oauth/callback') return false;
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.end('installed');
          return true;
        },
      ],
    });
    try {
      assert.equal(await (await fetch(`${second.url}/oauth/callback`)).text(), 'installed');
      assert.equal((await fetch(`${second.url}/healthz`)).status, 200);
    } finally {
      await second.close();
    }
  });

  test('health check answers', async () => {
    const { status, body } = await json<{ ok: boolean; contacts: number }>('/healthz');
    assert.equal(status, 200);
    assert.equal(body.ok, true);
    assert.equal(body.contacts, CONTACTS);
  });
});

describe('JSON API', () => {
  test('config names the portal, the sandbox and the features', async () => {
    const { status, body } = await json<Record<string, unknown>>('/api/config');
    assert.equal(status, 200);
    assert.equal(body.portalId, app.connection.portalId);
    assert.equal(body.sandbox, true);
    assert.deepEqual(body.defaultFeatures, ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction']);
    assert.equal((body.features as string[]).length, 6);
    assert.equal(body.asOf, '2026-11-01');
    assert.equal(body.hubspotBase, app.sandbox?.url);
  });

  test('the snapshot has an ETag, answers 304 to it, and an empty delta since itself', async () => {
    const res = await fetch(`${base}/api/snapshot`);
    assert.equal(res.status, 200);
    const etag = res.headers.get('etag');
    const snapshot = (await res.json()) as Snapshot;
    assert.equal(snapshot.kind, 'smart-segments-snapshot');
    assert.equal(snapshot.ids.length, CONTACTS);
    assert.equal(etag, `"${snapshot.etag}"`);

    const cached = await fetch(`${base}/api/snapshot`, { headers: { 'if-none-match': etag! } });
    assert.equal(cached.status, 304);

    const { body: delta } = await json<SnapshotDelta>(`/api/snapshot?since=${encodeURIComponent(snapshot.etag)}`);
    assert.equal(delta.kind, 'smart-segments-snapshot-delta');
    assert.equal(delta.upserts.ids.length, 0);
    assert.deepEqual(delta.deletes, []);

    const zipped = await rawGet('/api/snapshot', { 'accept-encoding': 'gzip' });
    assert.equal(zipped.headers['content-encoding'], 'gzip');
    const plain = await rawGet('/api/snapshot');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal((JSON.parse(plain.body) as Snapshot).etag, snapshot.etag);

    const { body: full } = await json<Snapshot>('/api/snapshot?since=no-such-etag');
    assert.equal(full.kind, 'smart-segments-snapshot');
    assert.equal(full.ids.length, CONTACTS);
  });

  test('no model is published yet: GET /api/model answers 404 JSON', async () => {
    const { status, body } = await json<{ error: { code: string; message: string } }>('/api/model');
    assert.equal(status, 404);
    assert.equal(body.error.code, 'no_model');
  });

  test('invalid models are refused with 400 and the reason', async () => {
    const bad = await postJson('/api/model', '{"kind": ');
    assert.equal(bad.status, 400);
    assert.equal((bad.body.error as { code: string }).code, 'invalid_json');

    const wrongKind = await postJson('/api/model', { kind: 'something-else' });
    assert.equal(wrongKind.status, 400);
    assert.equal((wrongKind.body.error as { code: string }).code, 'invalid_model');
    assert.match((wrongKind.body.error as { message: string }).message, /model\.kind/);

    const model = fitModel(await currentSnapshot());
    const unknown = await postJson('/api/model', { ...model, features: ['purchase_frequency', 'shoe_size', 'distance_km', 'satisfaction'] });
    assert.equal(unknown.status, 400);
    assert.match((unknown.body.error as { message: string }).message, /shoe_size/);

    const text = await json<{ error: { code: string } }>('/api/model', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' });
    assert.equal(text.status, 415);

    const huge = await postJson('/api/model', { pad: 'x'.repeat(3 * 1024 * 1024) });
    assert.equal(huge.status, 413);
  });

  test('a published model is assigned, written back by a job, and served per contact', async () => {
    const snapshot = await currentSnapshot();
    const model = fitModel(snapshot);
    const posted = await postJson('/api/model', model);
    assert.equal(posted.status, 202);
    assert.deepEqual(posted.body.model, { createdAt: model.createdAt, k: 3 });
    const job = await waitForJob(String(posted.body.jobId));
    assert.equal(job.state, 'done', String(job.error));
    assert.equal(job.total, CONTACTS);
    assert.equal(job.updated, CONTACTS);

    const published = await json<Model>('/api/model');
    assert.equal(published.body.createdAt, model.createdAt);

    const id = snapshot.ids[0]!;
    const { status, body } = await json<{ contactId: string; segment: { id: string } | null; assignment: { segment: string } }>(`/api/contacts/${id}/segment`);
    assert.equal(status, 200);
    assert.equal(body.contactId, id);
    const held = app.sandbox!.data.getContact(id)?.properties.smart_segment;
    assert.equal(body.assignment.segment, held);
    if (held !== 'no_recent_orders') assert.equal(body.segment?.id, held);

    // The served snapshot now carries the written-back segments.
    const after = await currentSnapshot();
    assert.notEqual(after.etag, snapshot.etag);
    assert.equal(after.segments[0], held);

    // Publishing the same model again writes nothing.
    const again = await postJson('/api/model', model);
    const second = await waitForJob(String(again.body.jobId));
    assert.equal(second.state, 'done');
    assert.equal(second.updated, 0);
    assert.equal(second.skipped, CONTACTS);
  });

  test('the contact list filters by segment and searches text', async () => {
    const all = await json<{ total: number; counts: Record<string, number>; contacts: { id: string; segment: string | null; email: string }[] }>('/api/contacts?limit=1000');
    assert.equal(all.status, 200);
    assert.equal(all.body.total, CONTACTS);
    const [segment, count] = Object.entries(all.body.counts).sort((a, b) => b[1] - a[1])[0]!;
    const page = await json<{ total: number; offset: number; limit: number; contacts: { segment: string }[] }>(`/api/contacts?segment=${segment}&offset=1&limit=5`);
    assert.equal(page.body.total, count);
    assert.equal(page.body.offset, 1);
    assert.equal(page.body.contacts.length, Math.min(5, count - 1));
    assert.ok(page.body.contacts.every((c) => c.segment === segment));

    const someone = all.body.contacts[7]!;
    const found = await json<{ contacts: { id: string }[] }>(`/api/contacts?q=${encodeURIComponent(someone.email.toUpperCase())}`);
    assert.ok(found.body.contacts.some((c) => c.id === someone.id));

    const bad = await json<{ error: { code: string } }>('/api/contacts?limit=-4');
    assert.equal(bad.status, 400);
  });

  test('a contact comes with its properties, features, deals and segment', async () => {
    const snapshot = await currentSnapshot();
    // The contact with the most orders has deals to show.
    const freq = snapshot.features.indexOf('purchase_frequency');
    let best = 0;
    for (let i = 1; i < snapshot.ids.length; i++) {
      if ((snapshot.values[i * snapshot.features.length + freq] ?? 0) > (snapshot.values[best * snapshot.features.length + freq] ?? 0)) best = i;
    }
    const id = snapshot.ids[best]!;
    const { status, body } = await json<{
      id: string;
      properties: Record<string, string | null>;
      features: Record<string, number | null>;
      deals: { id: string; dealstage: string }[];
      segment: { id: string } | null;
      assignment: { segment: string } | null;
    }>(`/api/contacts/${id}`);
    assert.equal(status, 200);
    assert.equal(body.id, id);
    assert.equal(body.properties.email, snapshot.emails[best]);
    assert.equal(body.features.purchase_frequency, snapshot.values[best * snapshot.features.length + freq]);
    assert.ok(body.deals.length >= (body.features.purchase_frequency ?? 0));
    assert.ok(body.deals.some((d) => d.dealstage === 'closedwon'));
    assert.ok(body.assignment);
  });

  test('an unknown contact answers 404 naming the id', async () => {
    for (const path of ['/api/contacts/999999999', '/api/contacts/999999999/segment']) {
      const { status, body } = await json<{ error: { message: string; code: string } }>(path);
      assert.equal(status, 404, path);
      assert.equal(body.error.code, 'unknown_contact');
      assert.match(body.error.message, /999999999/);
    }
  });

  test('unknown routes, jobs and methods answer JSON errors', async () => {
    assert.equal((await json('/api/nothing')).status, 404);
    assert.equal((await json('/api/jobs/nope')).status, 404);
    const wrong = await json<{ error: { code: string } }>('/api/snapshot', { method: 'DELETE' });
    assert.equal(wrong.status, 405);
    assert.equal(wrong.body.error.code, 'method_not_allowed');
  });

  test('a write-back interrupted by a shutdown resumes when the server starts again', async () => {
    const store = app.connection.store;
    const { body: model } = await json<Model>('/api/model');
    const snapshot = await currentSnapshot();
    const id = snapshot.ids[5]!;
    const held = app.sandbox!.data.getContact(id)?.properties.smart_segment;
    assert.ok(held);
    // As if the process died after the first batch: the checkpoint is open and a later contact is stale.
    await store.setState(CHECKPOINT_KEY, { modelId: modelId(model), lastId: snapshot.ids[0], complete: false });
    await store.mergeContactProperties([{ id, properties: { smart_segment: null } }]);

    const lines: string[] = [];
    const second = await startServer({
      config: app.connection.config,
      store,
      client: app.connection.client,
      portalId: app.connection.portalId,
      port: 0,
      rootDir: root,
      snapshot: app.server.snapshot(),
      log: (line) => lines.push(line),
    });
    try {
      await second.idle();
      assert.ok(lines.some((l) => l.startsWith('resuming the interrupted write-back')), lines.join('\n'));
      assert.equal(((await store.getState(CHECKPOINT_KEY)) as { complete: boolean }).complete, true);
      assert.equal((await store.getContact(id))?.properties.smart_segment, held);
    } finally {
      await second.close();
    }
  });

  test('a sync picks up a change in HubSpot and the snapshot delta carries it', async () => {
    const before = await currentSnapshot();
    const id = before.ids[3]!;
    app.sandbox!.data.updateContact(id, { firstname: 'Oksana-Changed' });
    const res = await postJson('/api/sync', {});
    assert.equal(res.status, 202);
    const job = await waitForJob(String(res.body.jobId));
    assert.equal(job.state, 'done', String(job.error));

    const { body: delta } = await json<SnapshotDelta>(`/api/snapshot?since=${encodeURIComponent(before.etag)}`);
    assert.equal(delta.kind, 'smart-segments-snapshot-delta');
    const row = delta.upserts.ids.indexOf(id);
    assert.ok(row >= 0, 'the changed contact is in the delta');
    assert.equal(delta.upserts.firstnames[row], 'Oksana-Changed');
  });
});
