/**
 * The Smart Segments HTTP server (Node `http`, no framework): the demo pages, the browser bundle and the
 * JSON API the widgets call. Every API error answers `{ "error": { "message", "code" } }`.
 *
 * State: the current snapshot (rebuilt from the store after each sync and write-back), the published model
 * and its assignments (kept in the store, so a restart serves them again), and the job queue.
 */
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { assign, parseModel } from '../../src/assign.js';
import { ALL_FEATURES, DEFAULT_FEATURES } from '../../src/types.js';
import type { Assignment, FeatureTable, Geocoder, Model, Segment, Snapshot, SnapshotDelta } from '../../src/types.js';
import type { AppConfig } from '../config.js';
import { featureConfigOf } from '../config.js';
import { createGeocoder } from '../geo.js';
import type { HubSpotClient } from '../hubspot/client.js';
import { buildSnapshot, snapshotDelta } from '../snapshot.js';
import type { Store } from '../store.js';
import { fullSync, incrementalSync } from '../sync.js';
import { CHECKPOINT_KEY, modelId, writeBack } from '../writeback.js';
import type { WriteBackContext, WriteBackReport } from '../writeback.js';
import { applyCrmChanges } from '../portals/resync.js';
import type { CrmChanges } from '../portals/resync.js';
import { HttpError, intParam, readJson, sendError, sendJson, sendNotModified } from './http.js';
import { JobQueue } from './jobs.js';
import type { JobProgress, JobView } from './jobs.js';
import { FRAME_ANCESTORS, packageRoot, safeJoin, serveFile } from './static.js';

const MODEL_KEY = 'published.model';
const ASSIGNMENTS_KEY = 'published.assignments';

/** One portal's data, model and jobs: what `startServer` serves, and one entry of the marketplace's registry. */
export interface PortalAppOptions {
  config: AppConfig;
  store: Store;
  client: HubSpotClient;
  portalId: string | number;
  /** True when the data comes from the embedded sandbox portal. */
  sandbox?: boolean;
  /** The HubSpot API base the client talks to (shown on /api/config). */
  hubspotBase?: string;
  /** A snapshot already built (the serve flow builds one after the start-up sync). */
  snapshot?: Snapshot;
  /** The offline geocoder (loading the gazetteer takes a moment: share one). Default createGeocoder(). */
  geocoder?: Geocoder;
  log?: (line: string) => void;
}

export interface ServerOptions extends PortalAppOptions {
  host?: string;
  /** Default config.port; 0 picks a free port. */
  port?: number;
  /** Package root holding widget/demo and dist/bundle (default: found from this file). */
  rootDir?: string;
  /**
   * Extra handlers mounted before the built-in routes (OAuth install, webhooks, ...): each resolves true
   * when it answered the request. Same shape as connector/oauth/http.ts `RouteHandler`.
   */
  handlers?: MountedHandler[];
}

export type MountedHandler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<boolean>;

export interface RunningServer {
  url: string;
  port: number;
  server: Server;
  jobs: JobQueue;
  /** The snapshot being served (after the latest rebuild). */
  snapshot(): Snapshot;
  /** Resolves when queued jobs are finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

/** One portal's state and JSON API, without an HTTP server of its own. */
export interface PortalApp {
  readonly portalId: string;
  readonly jobs: JobQueue;
  /** The snapshot being served (after the latest rebuild). */
  snapshot(): Snapshot;
  /** The published model, or null. */
  model(): Model | null;
  /** Answers one `/api/*` request (throws HttpError for the caller to send). */
  api(req: IncomingMessage, res: ServerResponse, method: string, path: string, params: URLSearchParams): Promise<void>;
  /** What /healthz reports for this portal. */
  health(): { portalId: string; contacts: number; model: string | null };
  /** Queues a sync (full, or incremental when there was one before), then snapshot, assignments and write-back. */
  sync(mode: 'full' | 'incremental'): JobView;
  /**
   * Queues CRM changes (webhooks): re-reads the changed records, rebuilds the snapshot, re-assigns the
   * affected contacts with the published model and writes back only those.
   */
  applyChanges(changes: CrmChanges): JobView;
  /** Queues the write-back a shutdown interrupted, if any. */
  resumeInterrupted(): Promise<void>;
  /** Resolves when queued jobs are finished. */
  idle(): Promise<void>;
  /** Stops write-backs between batches and waits (at most 10 s) for running jobs. */
  stop(): Promise<void>;
}

/** Compact on-disk form of the assignments: columnar, so 100k contacts stay a few MB. */
interface StoredAssignments {
  modelCreatedAt: string;
  ids: string[];
  segments: string[];
  distances: (number | null)[];
  imputed: boolean[];
}

/** A listen error with a message a person can act on (port busy, no permission). */
export class ListenError extends Error {
  constructor(
    message: string,
    readonly code: string | undefined,
  ) {
    super(message);
    this.name = 'ListenError';
  }
}

/** Stores a model as the published one with its assignments (the server serves them after a restart). */
export async function savePublished(
  store: Pick<Store, 'setState'>,
  model: Model,
  assignments: readonly Assignment[],
): Promise<void> {
  await store.setState(ASSIGNMENTS_KEY, encodeAssignments(model, assignments));
  await store.setState(MODEL_KEY, model);
}

/** A listen failure as a message a person can act on (port busy, no permission); others unchanged. */
export function listenError(error: NodeJS.ErrnoException, port: number): Error {
  if (error.code === 'EADDRINUSE') {
    return new ListenError(
      `Port ${port} is already in use (another Smart Segments or another program). ` +
        'Stop it, or start on another port: `npm start -- --port 3001` (or PORT=3001).',
      error.code,
    );
  }
  if (error.code === 'EACCES') {
    return new ListenError(`Not allowed to listen on port ${port}: use a port above 1023 (--port N).`, error.code);
  }
  return error;
}

/** Snapshot columns -> FeatureTable (null -> NaN) for the core's `assign`. */
export function snapshotTable(snapshot: Snapshot): FeatureTable {
  const values = new Float64Array(snapshot.values.length);
  for (let i = 0; i < values.length; i++) {
    const v = snapshot.values[i];
    values[i] = v === null || v === undefined ? NaN : v;
  }
  const nps = new Float64Array(snapshot.ids.length);
  for (let i = 0; i < nps.length; i++) {
    const v = snapshot.nps[i];
    nps[i] = v === null || v === undefined ? NaN : v;
  }
  return { ids: [...snapshot.ids], columns: [...snapshot.features], values, nps };
}

/** Builds one portal's state (snapshot, published model, assignments, jobs) and its JSON API. */
export async function createPortalApp(options: PortalAppOptions): Promise<PortalApp> {
  const log = options.log ?? (() => {});
  const { config, store, client } = options;
  const portalId = String(options.portalId);
  const featureConfig = featureConfigOf(config);
  const geocoder = options.geocoder ?? createGeocoder();
  const jobs = new JobQueue({ log });
  const abort = { aborted: false };

  // --- state ---------------------------------------------------------------------------------------------
  let snapshot: Snapshot;
  let snapshotBody = '';
  let snapshotGzip: Buffer | null = null;
  let rowOf = new Map<string, number>();
  let model: Model | null = null;
  let assignments = new Map<string, Assignment>();
  let dealIndex: Promise<DealIndex> | null = null;

  const rebuildSnapshot = async (): Promise<void> => {
    setSnapshot(
      await buildSnapshot(store, { portalId, featureConfig, geocoder, generatedAt: new Date().toISOString() }),
    );
  };
  const setSnapshot = (next: Snapshot): void => {
    snapshot = next;
    snapshotBody = JSON.stringify(next);
    snapshotGzip = null;
    rowOf = new Map(next.ids.map((id, i) => [id, i]));
    dealIndex = null;
  };

  if (options.snapshot) setSnapshot(options.snapshot);
  else await rebuildSnapshot();

  const storedModel = await store.getState(MODEL_KEY);
  if (storedModel !== null && storedModel !== undefined) {
    try {
      const parsed = parseModel(storedModel);
      model = parsed;
      assignments = decodeAssignments(await store.getState(ASSIGNMENTS_KEY), parsed);
    } catch (error) {
      log(`ignoring the stored published model: ${(error as Error).message}`);
      model = null;
    }
  }

  const writeBackContext: WriteBackContext = {
    client,
    store: store as unknown as WriteBackContext['store'],
    portalId,
  };


  const api = async (
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    path: string,
    params: URLSearchParams,
  ): Promise<void> => {
    const parts = path.split('/').slice(2).map((p) => {
      try {
        return decodeURIComponent(p);
      } catch {
        throw new HttpError(400, 'invalid_path', `"${p}" is not a valid path segment.`);
      }
    });
    const route = parts[0];
    const allow = (...methods: string[]): void => {
      if (!methods.includes(method)) {
        throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}; use ${methods.join(' or ')}.`);
      }
    };

    if (route === 'config' && parts.length === 1) {
      allow('GET');
      return sendJson(res, 200, {
        portalId,
        sandbox: options.sandbox ?? false,
        features: [...ALL_FEATURES],
        defaultFeatures: [...DEFAULT_FEATURES],
        warehouse: config.warehouse,
        asOf: config.asOf,
        hubspotBase: options.hubspotBase ?? config.baseUrl,
        windowMonths: config.windowMonths,
        contacts: snapshot.ids.length,
      });
    }

    if (route === 'snapshot' && parts.length === 1) {
      allow('GET');
      const etag = `"${snapshot.etag}"`;
      const since = params.get('since');
      if (since !== null && since !== '') {
        if (since.replace(/"/g, '') === snapshot.etag) {
          const empty: SnapshotDelta = emptyDelta(snapshot, since);
          return sendJson(res, 200, empty, { ETag: etag });
        }
        const delta = snapshotDelta(since, portalId);
        if (delta) return sendJson(res, 200, delta, { ETag: etag });
        // Unknown etag: the client refetches in full.
      } else if (ifNoneMatch(req, snapshot.etag)) {
        return sendNotModified(res, etag);
      }
      // A snapshot of 100k contacts is ~10 MB of JSON and ~2 MB gzipped: compress once per snapshot.
      const gzip = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const payload = gzip ? (snapshotGzip ??= gzipSync(snapshotBody, { level: 6 })) : Buffer.from(snapshotBody);
      res.writeHead(200, {
        'Content-Type': 'application/json; charset=utf-8',
        'Content-Length': String(payload.length),
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
        Vary: 'Accept-Encoding',
        ETag: etag,
        'Cache-Control': 'no-cache',
        'X-Content-Type-Options': 'nosniff',
      });
      res.end(method === 'HEAD' ? undefined : payload);
      return;
    }

    if (route === 'model' && parts.length === 1) {
      allow('GET', 'POST');
      if (method === 'GET') {
        if (!model) throw new HttpError(404, 'no_model', 'No model has been published yet: fit one in the explorer and publish it.');
        return sendJson(res, 200, model);
      }
      return publish(req, res);
    }

    if (route === 'jobs' && parts.length === 2) {
      allow('GET');
      const job = jobs.get(parts[1]!);
      if (!job) throw new HttpError(404, 'unknown_job', `There is no job "${parts[1]}".`);
      return sendJson(res, 200, job);
    }

    if (route === 'sync' && parts.length === 1) {
      allow('POST');
      const job = jobs.submit('sync', async (progress) => {
        const result = await incrementalSync(
          { client, store, portalId, config },
          { onProgress: (p: { done?: number; total?: number }) => progress({ done: p.done, total: p.total }) },
        );
        await rebuildSnapshot();
        // New and changed contacts get the published model's segments too.
        const writeback = model ? await assignAndWriteBack(model, progress) : null;
        return { sync: result, writeback };
      });
      return sendJson(res, 202, { jobId: job.id }, { Location: `/api/jobs/${job.id}` });
    }

    if (route === 'contacts' && parts.length === 1) {
      allow('GET');
      return sendJson(res, 200, listContacts(params));
    }

    if (route === 'contacts' && (parts.length === 2 || (parts.length === 3 && parts[2] === 'segment'))) {
      allow('GET');
      const id = parts[1]!;
      if (!/^[\w-]{1,64}$/.test(id)) throw new HttpError(400, 'invalid_id', `"${id}" is not a contact id.`);
      if (parts.length === 3) {
        if (!rowOf.has(id)) throw new HttpError(404, 'unknown_contact', `There is no contact with id "${id}".`);
        const a = assignments.get(id) ?? null;
        return sendJson(res, 200, {
          contactId: id,
          segment: a ? segmentOf(a.segment) : null,
          assignment: a ? assignmentJson(a) : null,
          model: model ? { createdAt: model.createdAt } : null,
        });
      }
      return sendJson(res, 200, await contactDetail(id));
    }

    throw new HttpError(404, 'not_found', `There is no API route ${method} ${path}.`);
  };

  const publish = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = await readJson(req);
    let next: Model;
    try {
      next = parseModel(body);
    } catch (error) {
      throw new HttpError(400, 'invalid_model', (error as Error).message);
    }
    const missing = next.features.filter((f) => !snapshot.features.includes(f));
    if (missing.length) {
      throw new HttpError(
        400,
        'unknown_feature',
        `The model uses feature${missing.length > 1 ? 's' : ''} ${missing.map((f) => `"${f}"`).join(', ')} ` +
          `that the data does not have (available: ${snapshot.features.join(', ')}).`,
      );
    }
    const assigned = await assignNow(next);
    model = next;
    assignments = new Map(assigned.map((a): [string, Assignment] => [a.id, a]));
    const published = next;
    const job = jobs.submit('writeback', (progress) => writeBackNow(published, assigned, progress));
    log(`model ${next.createdAt} published (k = ${next.k}); write-back job ${job.id}`);
    return sendJson(
      res,
      202,
      { jobId: job.id, model: { createdAt: next.createdAt, k: next.k } },
      { Location: `/api/jobs/${job.id}` },
    );
  };

  /** Assigns every contact of the current snapshot and saves the assignments. */
  const assignNow = async (published: Model): Promise<Assignment[]> => {
    const assigned = assign(published, snapshotTable(snapshot));
    await savePublished(store, published, assigned);
    if (model === published) assignments = new Map(assigned.map((a): [string, Assignment] => [a.id, a]));
    return assigned;
  };

  const writeBackNow = async (
    published: Model,
    assigned: Assignment[],
    progress: (p: JobProgress) => void,
  ): Promise<WriteBackReport> => {
    const report = await writeBack(writeBackContext, published, assigned, {
      onProgress: (p) => progress(p),
      signal: abort,
    });
    progress({ done: report.considered, total: report.considered, updated: report.updated, skipped: report.skipped });
    log(
      `write-back of model ${published.createdAt}: ${report.updated} contacts updated, ${report.skipped} already up to date` +
        `${report.failed ? `, ${report.failed} failed` : ''} (${report.requests} requests, ${report.seconds.toFixed(1)} s)`,
    );
    await rebuildSnapshot();
    return report;
  };

  const assignAndWriteBack = async (published: Model, progress: (p: JobProgress) => void): Promise<WriteBackReport> =>
    writeBackNow(published, await assignNow(published), progress);

  const segmentOf = (id: string): Segment | null => model?.segments.find((s) => s.id === id) ?? null;

  const featuresOf = (row: number): Record<string, number | null> => {
    const out: Record<string, number | null> = {};
    const width = snapshot.features.length;
    snapshot.features.forEach((f, j) => {
      const v = snapshot.values[row * width + j];
      out[f] = v === undefined || v === null || Number.isNaN(v) ? null : v;
    });
    return out;
  };

  /** The contact's segment: the published model's assignment, else what HubSpot holds. */
  const segmentIdOf = (id: string, row: number): string | null => {
    const a = assignments.get(id);
    if (a) return a.segment;
    const written = snapshot.segments[row];
    return written ? written : null;
  };

  const listContacts = (params: URLSearchParams): unknown => {
    const offset = intParam(params, 'offset', 0, 0, 10_000_000);
    const limit = intParam(params, 'limit', 50, 1, 1000);
    const segment = params.get('segment') ?? '';
    const q = (params.get('q') ?? '').trim().toLowerCase();
    if (q.length > 200) throw new HttpError(400, 'invalid_parameter', '"q" is longer than 200 characters.');
    const counts: Record<string, number> = {};
    const matched: number[] = [];
    for (let i = 0; i < snapshot.ids.length; i++) {
      const id = snapshot.ids[i]!;
      const seg = segmentIdOf(id, i) ?? '';
      if (q) {
        const hay = `${snapshot.firstnames[i] ?? ''} ${snapshot.lastnames[i] ?? ''} ${snapshot.emails[i] ?? ''} ${snapshot.cities[i] ?? ''}`;
        if (!hay.toLowerCase().includes(q)) continue;
      }
      counts[seg] = (counts[seg] ?? 0) + 1;
      if (segment && seg !== segment) continue;
      matched.push(i);
    }
    const contacts = matched.slice(offset, offset + limit).map((i) => {
      const id = snapshot.ids[i]!;
      return {
        id,
        firstname: snapshot.firstnames[i] ?? '',
        lastname: snapshot.lastnames[i] ?? '',
        email: snapshot.emails[i] ?? '',
        city: snapshot.cities[i] ?? '',
        country: snapshot.countries[i] ?? '',
        segment: segmentIdOf(id, i),
        features: featuresOf(i),
      };
    });
    return { total: matched.length, offset, limit, counts, contacts };
  };

  const contactDetail = async (id: string): Promise<unknown> => {
    const row = rowOf.get(id);
    const stored = await store.getContact(id);
    if (row === undefined && !stored) throw new HttpError(404, 'unknown_contact', `There is no contact with id "${id}".`);
    const props = (stored?.properties ?? {}) as Record<string, string | null | undefined>;
    const properties: Record<string, string | null> = {};
    for (const key of DISPLAY_PROPERTIES) properties[key] = props[key] ?? null;
    if (row !== undefined) {
      properties.firstname ??= snapshot.firstnames[row] || null;
      properties.lastname ??= snapshot.lastnames[row] || null;
      properties.email ??= snapshot.emails[row] || null;
      properties.city ??= snapshot.cities[row] || null;
      properties.country ??= snapshot.countries[row] || null;
    }
    const index = await (dealIndex ??= loadDealIndex(store));
    const deals = (index.byContact.get(id) ?? [])
      .map((dealId) => index.deals.get(dealId))
      .filter((d): d is DealRecord => d !== undefined)
      .map((d) => ({
        id: d.id,
        dealname: d.properties.dealname ?? null,
        amount: d.properties.amount ?? null,
        dealstage: d.properties.dealstage ?? null,
        closedate: d.properties.closedate ?? null,
      }))
      .sort((a, b) => String(b.closedate ?? '').localeCompare(String(a.closedate ?? '')));
    const a = assignments.get(id) ?? null;
    return {
      id,
      properties,
      features: row === undefined ? Object.fromEntries(snapshot.features.map((f) => [f, null])) : featuresOf(row),
      deals,
      segment: a ? segmentOf(a.segment) : null,
      assignment: a ? assignmentJson(a) : null,
    };
  };


  // --- jobs ----------------------------------------------------------------------------------------------
  const sync = (mode: 'full' | 'incremental'): JobView =>
    jobs.submit('sync', async (progress) => {
      const ctx = { client, store, portalId, config };
      const onProgress = (p: { done?: number; total?: number }): void => progress({ done: p.done, total: p.total });
      const result = mode === 'full' ? await fullSync(ctx, { onProgress, signal: abort }) : await incrementalSync(ctx, { onProgress, signal: abort });
      await rebuildSnapshot();
      const writeback = model ? await assignAndWriteBack(model, progress) : null;
      return { sync: result, writeback };
    });

  const applyChanges = (changes: CrmChanges): JobView =>
    jobs.submit('webhook', async (progress) => {
      const applied = await applyCrmChanges({ client, store, config }, changes);
      await rebuildSnapshot();
      const published = model;
      if (!published) return { ...applied, reassigned: 0, writeback: null };
      for (const id of applied.removedContacts) assignments.delete(id);
      // Assign over the whole table (the scaler and imputation see the same data as a full assign), keep the affected.
      const wanted = new Set(applied.affectedContacts);
      const changed = assign(published, snapshotTable(snapshot)).filter((a) => wanted.has(a.id));
      for (const id of wanted) if (!rowOf.has(id)) assignments.delete(id);
      for (const a of changed) assignments.set(a.id, a);
      await savePublished(store, published, [...assignments.values()]);
      if (changed.length === 0) return { ...applied, reassigned: 0, writeback: null };
      const report = await writeBack(writeBackContext, published, changed, { onProgress: (p) => progress(p), signal: abort });
      log(`portal ${portalId}: ${changed.length} changed contacts re-assigned, ${report.updated} written back`);
      await rebuildSnapshot();
      return { ...applied, reassigned: changed.length, writeback: report };
    });

  const resumeInterrupted = async (): Promise<void> => {
    // A write-back interrupted by a shutdown resumes from its checkpoint.
    if (!model) return;
    const checkpoint = (await store.getState(CHECKPOINT_KEY)) as { modelId?: string; complete?: boolean } | undefined;
    if (checkpoint && checkpoint.complete === false && checkpoint.modelId === modelId(model) && assignments.size > 0) {
      const resumed = model;
      const job = jobs.submit('writeback', (progress) => writeBackNow(resumed, [...assignments.values()], progress));
      log(`resuming the interrupted write-back of model ${resumed.createdAt} (job ${job.id})`);
    }
  };

  return {
    portalId,
    jobs,
    snapshot: () => snapshot,
    model: () => model,
    api,
    health: () => ({ portalId, contacts: snapshot.ids.length, model: model?.createdAt ?? null }),
    sync,
    applyChanges,
    resumeInterrupted,
    idle: () => jobs.idle(),
    stop: async () => {
      // Write-back stops between batches; its checkpoint lets the next start resume.
      abort.aborted = true;
      await Promise.race([jobs.idle(), delay(10_000)]);
    },
  };
}

/** The demo pages by path. */
const PAGES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/explorer': 'explorer.html',
  '/explorer.html': 'explorer.html',
  '/list': 'list.html',
  '/list.html': 'list.html',
};

export interface StaticRoots {
  demoDir: string;
  bundleDir: string;
}

export function staticRoots(rootDir?: string): StaticRoots {
  const root = rootDir ?? packageRoot();
  return { demoDir: join(root, 'widget', 'demo'), bundleDir: join(root, 'dist', 'bundle') };
}

/** `/bundle/*` and `/demo/*` (HTML there gets `htmlHeaders`); false when the path is neither. */
export async function serveAssets(
  req: IncomingMessage,
  res: ServerResponse,
  roots: StaticRoots,
  htmlHeaders: Record<string, string> | null,
): Promise<boolean> {
  // Raw paths (before URL normalisation) so "/bundle/../x" cannot be folded into something else.
  const raw = (req.url ?? '').split('?')[0] ?? '';
  if (raw.startsWith('/bundle/')) {
    await serveFile(req, res, safeJoin(roots.bundleDir, raw.slice('/bundle/'.length)), roots.bundleDir);
    return true;
  }
  if (raw.startsWith('/demo/')) {
    const file = safeJoin(roots.demoDir, raw.slice('/demo/'.length));
    if (file?.endsWith('.html')) {
      if (htmlHeaders === null) throw new HttpError(404, 'not_found', 'No such file.');
      await serveFile(req, res, file, roots.demoDir, htmlHeaders);
    } else await serveFile(req, res, file, roots.demoDir);
    return true;
  }
  return false;
}

/** A demo page's file name for a path (`/`, `/explorer`, `/list`), or undefined. */
export function pageFile(path: string): string | undefined {
  return PAGES[path];
}

/** Listens, answering errors from `handle` as JSON (500s logged by path only: query strings may hold tokens). */
export async function listenHttp(
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  options: { host: string; port: number; log: (line: string) => void },
): Promise<{ server: Server; url: string; port: number }> {
  const { log } = options;
  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (error instanceof HttpError) return sendError(res, error.status, error.code, error.message);
      const path = (req.url ?? '').split('?')[0];
      log(`${req.method} ${path}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      sendError(res, 500, 'internal_error', 'The server failed to answer; see its log.');
    });
  });
  server.requestTimeout = 60_000;
  server.headersTimeout = 20_000;
  const { host, port } = options;
  await new Promise<void>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(listenError(error, port));
    };
    const onListening = (): void => {
      server.off('error', onError);
      resolve();
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen(port, host);
  });
  const actualPort = (server.address() as AddressInfo).port;
  // An address, not "localhost": Node's fetch may resolve that to ::1 while we listen on 127.0.0.1.
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  return { server, url: `http://${shownHost}:${actualPort}`, port: actualPort };
}

/** Closes a listening server: idle connections at once, the rest after `drain` (running jobs) settles. */
export async function closeHttp(server: Server, drain: () => Promise<void>): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  await drain();
  server.closeAllConnections();
  await closed;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const log = options.log ?? (() => {});
  const app = await createPortalApp(options);
  const roots = staticRoots(options.rootDir);
  const htmlHeaders = { 'Content-Security-Policy': FRAME_ANCESTORS };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    const method = req.method ?? 'GET';

    for (const handler of options.handlers ?? []) if (await handler(req, res, url)) return;
    if (path.startsWith('/api/')) return app.api(req, res, method, path, url.searchParams);
    if (method !== 'GET' && method !== 'HEAD') {
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}.`);
    }
    if (path === '/healthz') {
      const h = app.health();
      return sendJson(res, 200, { ok: true, portalId: h.portalId, contacts: h.contacts, model: h.model });
    }
    if (path === '/favicon.ico') {
      res.writeHead(204, { 'Cache-Control': 'max-age=86400' });
      res.end();
      return;
    }
    const page = pageFile(path);
    if (page) return serveFile(req, res, join(roots.demoDir, page), roots.demoDir, htmlHeaders);
    if (await serveAssets(req, res, roots, htmlHeaders)) return;
    throw new HttpError(404, 'not_found', `Nothing at ${path}.`);
  };

  const listening = await listenHttp(handle, { host: options.host ?? '127.0.0.1', port: options.port ?? options.config.port, log });
  await app.resumeInterrupted();

  let closing: Promise<void> | null = null;
  return {
    url: listening.url,
    port: listening.port,
    server: listening.server,
    jobs: app.jobs,
    snapshot: () => app.snapshot(),
    idle: () => app.idle(),
    close: () => (closing ??= closeHttp(listening.server, () => app.stop())),
  };
}

const DISPLAY_PROPERTIES = [
  'firstname',
  'lastname',
  'email',
  'phone',
  'mobilephone',
  'company',
  'jobtitle',
  'city',
  'state',
  'zip',
  'country',
  'hs_feedback_last_nps_rating',
  'createdate',
  'lastmodifieddate',
  'smart_segment',
  'smart_segment_strategy',
  'smart_segment_model',
] as const;

interface DealRecord {
  id: string;
  properties: Record<string, string | null | undefined>;
}
interface DealIndex {
  deals: Map<string, DealRecord>;
  byContact: Map<string, string[]>;
}

async function loadDealIndex(store: Store): Promise<DealIndex> {
  const deals = new Map<string, DealRecord>();
  for (const d of (await store.allDeals()) as DealRecord[]) deals.set(d.id, d);
  const byContact = new Map<string, string[]>();
  const assoc = (await store.associations()) as unknown;
  const entries: Iterable<[string, string[]]> =
    assoc instanceof Map ? (assoc as Map<string, string[]>) : Object.entries(assoc as Record<string, string[]>);
  for (const [contactId, dealIds] of entries) byContact.set(contactId, [...dealIds]);
  return { deals, byContact };
}

function assignmentJson(a: Assignment): Record<string, unknown> {
  // NaN is not JSON: the distance of a no-recent-orders contact is null on the wire.
  return { ...a, distance: Number.isFinite(a.distance) ? a.distance : null };
}

function encodeAssignments(model: Model, list: readonly Assignment[]): StoredAssignments {
  return {
    modelCreatedAt: model.createdAt,
    ids: list.map((a) => a.id),
    segments: list.map((a) => a.segment),
    distances: list.map((a) => (Number.isFinite(a.distance) ? a.distance : null)),
    imputed: list.map((a) => a.imputed),
  };
}

function decodeAssignments(value: unknown, model: Model): Map<string, Assignment> {
  const out = new Map<string, Assignment>();
  const v = value as Partial<StoredAssignments> | null | undefined;
  if (!v || v.modelCreatedAt !== model.createdAt || !Array.isArray(v.ids)) return out;
  v.ids.forEach((id, i) => {
    out.set(id, {
      id,
      segment: v.segments?.[i] ?? '',
      distance: v.distances?.[i] ?? NaN,
      imputed: v.imputed?.[i] ?? false,
    });
  });
  return out;
}

function emptyDelta(snapshot: Snapshot, since: string): SnapshotDelta {
  return {
    kind: 'smart-segments-snapshot-delta',
    version: 1,
    since,
    etag: snapshot.etag,
    upserts: {
      features: [...snapshot.features],
      ids: [],
      firstnames: [],
      lastnames: [],
      emails: [],
      cities: [],
      countries: [],
      values: [],
      nps: [],
      segments: [],
    },
    deletes: [],
  };
}

function ifNoneMatch(req: IncomingMessage, etag: string): boolean {
  const header = req.headers['if-none-match'];
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '').replace(/"/g, '');
    return tag === etag || tag === '*';
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
