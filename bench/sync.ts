/**
 * Sync and write-back against the sandbox portal with HubSpot's limits on (110 requests / 10 s, search
 * 5 / s) and 100–300 ms simulated latency, through the product's client, limiter, store and sync.
 */
import { performance } from 'node:perf_hooks';
import { HubSpotClient } from '../connector/hubspot/client.js';
import type { ClientEvent } from '../connector/hubspot/client.js';
import { PortalLimiter } from '../connector/hubspot/limiter.js';
import { staticTokenProvider } from '../connector/hubspot/token.js';
import { startSandbox } from '../connector/sandbox/server.js';
import type { SandboxServer } from '../connector/sandbox/server.js';
import { openDatabase, redactUrl } from '../connector/db/database.js';
import { openStore } from '../connector/store.js';
import type { Store } from '../connector/store.js';
import { fullSync } from '../connector/sync.js';
import type { SyncProgress, SyncResult } from '../connector/sync.js';
import { BATCH_SIZE, SEGMENT_PROPERTY, writeBack } from '../connector/writeback.js';
import { fit } from '../src/fit.js';
import { paperTable } from '../src/synthetic.js';
import type { Assignment } from '../src/types.js';
import { count, int, ratio, row, secs, yesNo } from './util.js';
import type { BenchOptions, Row, Section } from './util.js';

const LIMITS = { perTenSeconds: 110, searchPerSecond: 5 } as const;
const LATENCY: [number, number] = [100, 300];
/** Keeps ~9 deals a contact (the sandbox's default 0.35 gives ~17): 100k contacts ~ 1M records. */
const ORDER_SCALE = 0.19;
const LIST_PAGE = 100;
const SEARCH_PAGE = 200;
const ASSOC_BATCH = 1000;
/** Standard requests a second the limit allows (HubSpot counts 110 in any rolling 10 s). */
const STANDARD_PER_SECOND = LIMITS.perTenSeconds / 10;

function clientFor(sandbox: SandboxServer, onEvent?: (e: ClientEvent) => void): HubSpotClient {
  return new HubSpotClient({
    baseUrl: sandbox.url,
    tokenProvider: staticTokenProvider(sandbox.token),
    limiter: new PortalLimiter({ perWindow: LIMITS.perTenSeconds, searchPerSecond: LIMITS.searchPerSecond }),
    ...(onEvent ? { onEvent } : {}),
  });
}

interface Check {
  lostContacts: number;
  lostDeals: number;
  extraContacts: number;
  extraDeals: number;
  duplicateWrites: number;
  associationMismatches: number;
}

/** Compares the store with the sandbox: every live record present once, nothing else, associations equal. */
async function verify(store: Store, sandbox: SandboxServer, result: SyncResult): Promise<Check> {
  const wantContacts = new Set(sandbox.data.listContacts().map((c) => String(c.id)));
  const wantDeals = new Set(sandbox.data.listDeals().map((d) => String(d.id)));
  const gotContacts = (await store.allContacts()).map((c) => c.id);
  const gotDeals = (await store.allDeals()).map((d) => d.id);
  const diff = (want: Set<string>, got: readonly string[]): { lost: number; extra: number } => {
    const seen = new Set(got);
    let lost = 0;
    for (const id of want) if (!seen.has(id)) lost++;
    let extra = 0;
    for (const id of seen) if (!want.has(id)) extra++;
    return { lost, extra: extra + (got.length - seen.size) };
  };
  const c = diff(wantContacts, gotContacts);
  const d = diff(wantDeals, gotDeals);
  const stored = await store.associations();
  let mismatches = 0;
  for (const contact of sandbox.data.listContacts()) {
    const want = sandbox.data.dealsOf(contact.id).filter((id) => sandbox.data.getDeal(id)?.archivedAt === null).map(String).sort();
    const got = [...(stored[String(contact.id)] ?? [])].sort();
    if (want.join(',') !== got.join(',')) mismatches++;
  }
  // The sync counts each record it writes; more writes than records means a record was written twice.
  const duplicateWrites = Math.max(0, result.contacts.upserted - wantContacts.size) + Math.max(0, result.deals.upserted - wantDeals.size);
  return { lostContacts: c.lost, lostDeals: d.lost, extraContacts: c.extra, extraDeals: d.extra, duplicateWrites, associationMismatches: mismatches };
}

/** Seconds the limits need at best for R records with A association requests, all channels busy. */
function ceilingSeconds(records: number, associationRequests: number, search: boolean): number {
  const perSecond = LIST_PAGE * STANDARD_PER_SECOND + (search ? SEARCH_PAGE * LIMITS.searchPerSecond : 0);
  return (records + LIST_PAGE * associationRequests) / perSecond;
}

export async function syncSection(options: BenchOptions): Promise<Section> {
  const started = performance.now();
  const contacts = options.syncContacts ?? (options.quick ? 1000 : 10_000);
  const rows: Row[] = [];
  const notes: string[] = [];
  options.log(`sync: generating a ${count(contacts)}-contact portal`);
  const sandbox = await startSandbox({ contacts, seed: 42, orderScale: ORDER_SCALE, rateLimit: { ...LIMITS }, latencyMs: LATENCY, fresh: true });
  // The store: PGlite in memory (the embedded default, in its own worker thread), or PostgreSQL (the
  // marketplace store, its own process) in schemas of its own, dropped afterwards.
  const url = options.syncDatabaseUrl;
  const schemaBase = `bench_sync_${process.pid}_${Date.now()}`;
  const schemas: string[] = [];
  // Each pass gets a store of its own, empty, so the second pass does not write among the first's 1.1M rows.
  const openPass = (): Promise<Store> => {
    const schema = `${schemaBase}_${schemas.length + 1}`;
    schemas.push(schema);
    return openStore(url === undefined ? { portalId: 'bench' } : { portalId: 'bench', databaseUrl: url, schema });
  };
  let database = await openPass();
  const storeName = url === undefined ? 'PGlite store (in memory, in its own worker thread, as the product runs it; a fresh one for each pass)' : `PostgreSQL store (${redactUrl(url)}, a schema of its own for each pass, dropped afterwards)`;
  try {
    const liveContacts = sandbox.data.listContacts().length;
    const liveDeals = sandbox.data.listDeals().length;
    const records = liveContacts + liveDeals;
    const assocRequests = Math.ceil(liveContacts / ASSOC_BATCH);
    const best = ceilingSeconds(records, assocRequests, true);
    const bestListOnly = ceilingSeconds(records, assocRequests, false);
    const ceilingRate = records / best;
    const listOnlyRate = records / bestListOnly;
    for (const faulty of [false, true]) {
      const label = faulty ? 'with 2.5% 429 + 2.5% 5xx injected' : 'clean';
      options.log(`sync: full sync of ${count(liveContacts)} contacts + ${int(liveDeals)} deals, ${label}`);
      if (faulty) {
        await database.close();
        database = await openPass();
        sandbox.inject({ rate429: 0.025, rate5xx: 0.025 });
      } else sandbox.clearFaults();
      sandbox.resetStats();
      let retries = 0;
      let pausedMs = 0;
      const client = clientFor(sandbox, (e) => {
        if (e.type === 'retry') retries++;
        if (e.type === 'throttled') pausedMs += e.waitMs;
      });
      const store = database.withPortal(faulty ? 'bench-faults' : 'bench-clean');
      const t = performance.now();
      const loopBefore = performance.eventLoopUtilization();
      // The last page's write, from the progress events: what comes after it is the sync's end (analyze, sweep, vacuum).
      let lastWrite = t;
      const onProgress = (p: SyncProgress): void => {
        if (p.stage !== 'finish') lastWrite = performance.now();
      };
      const result = await fullSync({ client, store, portalId: sandbox.portalId, config: { satisfactionProperty: undefined, distanceProperty: undefined } }, { onProgress });
      const seconds = (performance.now() - t) / 1000;
      const endSeconds = (performance.now() - lastWrite) / 1000;
      const loop = performance.eventLoopUtilization(loopBefore);
      const stats = sandbox.stats();
      const check = await verify(store, sandbox, result);
      const rate = records / seconds;
      const lost = check.lostContacts + check.lostDeals;
      const dup = check.extraContacts + check.extraDeals + check.duplicateWrites;
      rows.push(
        row(
          `Full sync ${label}: records/s (${int(records)} records, ${secs(seconds)}) vs the limits' ceiling`,
          int(rate),
          int(ceilingRate),
          `${((100 * rate) / ceilingRate).toFixed(1)}%`,
          '≥ 90% of the ceiling',
          yesNo(rate >= 0.9 * ceilingRate),
        ),
        row(`Full sync ${label}: vs the standard window alone (list cursors, no search)`, int(rate), int(listOnlyRate), `${((100 * rate) / listOnlyRate).toFixed(0)}%`),
        row(
          `Full sync ${label}: lost / duplicated records, association mismatches`,
          `${lost} / ${dup} / ${check.associationMismatches}`,
          '0 / 0 / 0',
          '',
          'zero lost or duplicated',
          yesNo(lost === 0 && dup === 0 && check.associationMismatches === 0),
        ),
        row(
          `Full sync ${label}: requests (server saw; throttled 429s; injected faults; client retries)`,
          `${int(stats.requests)}; ${stats.throttled}; ${stats.faults}; ${retries}`,
          `${int(Math.ceil(liveContacts / LIST_PAGE) + Math.ceil(liveDeals / LIST_PAGE) + assocRequests)} list-only minimum`,
        ),
      );
      const listed = stats.byRoute['GET /crm/v3/objects/{type}'] ?? 0;
      const searched = stats.byRoute['POST /crm/v3/objects/{type}/search'] ?? 0;
      const standard = stats.requests - searched;
      rows.push(
        row(
          `Full sync ${label}: request rates, standard (list + associations) / search, vs what the limits allow`,
          `${(standard / seconds).toFixed(1)} / ${(searched / seconds).toFixed(1)} per s`,
          `${STANDARD_PER_SECOND} / ${LIMITS.searchPerSecond} per s`,
          `${((100 * standard) / seconds / STANDARD_PER_SECOND).toFixed(0)}% / ${((100 * searched) / seconds / LIMITS.searchPerSecond).toFixed(0)}%`,
        ),
        row(`Full sync ${label}: after the last page's write (statistics, sweep of records not seen, vacuum, final commit)`, secs(endSeconds), secs(seconds), `${((100 * endSeconds) / seconds).toFixed(1)}% of the sync`),
        row(
          `Full sync ${label}: the main Node thread busy (event-loop utilisation; the client and the in-process sandbox share it, the store works in its own thread or process)`,
          `${(100 * loop.utilization).toFixed(0)}%`,
        ),
      );
      const throttles = stats.throttled + (faulty ? stats.faults : 0);
      notes.push(
        faulty
          ? `With faults: every injected 429 says the 10 s window is full (\`Remaining: 0\`), as HubSpot's would when another process of the app shares the portal; the client gives the refused request's place in its own window back (a refused request is not counted), holds that kind of request back (standard: 250 ms doubling per 429 of the same request, since its own window has room; search: 100 ms doubling) and retries; 5xx answers are retried by the request alone with jittered backoff while the other readers go on, and do use a place in the window (the server may have counted them). ${throttles} 429s and 5xx in this run; the client held requests back for ${secs(pausedMs / 1000)} in total (pauses of the two kinds overlap).`
          : `How the full sync reads: each type's id range is cut into lanes; 4 list readers (a lane starts at \`after = <id>\` once the first page showed that the list cursor is the next id; an opaque cursor keeps the list to the bottom lane) and 3 search readers (hs_object_id ≥ start, ascending, ${SEARCH_PAGE} a page) per type, and an idle reader splits the largest lane still being read. What stays between it and the ceiling: the limiter's safety margins (the standard window is kept 150 ms longer than 10 s and the search window 50 ms longer than 1 s, since the server counts a request when it arrives: at most 10.8 and 4.8 requests a second, 98% and 95% of the limits); ${listed} list pages and ${searched} searches in ${secs(seconds)} (${(listed / seconds).toFixed(1)} and ${(searched / seconds).toFixed(1)} a second); the part-pages where a lane ends; the end after the last page's write (${secs(endSeconds)}: fresh planner statistics, the sweep of records this sync did not see, and on PGlite, which never analyzes or vacuums by itself, a vacuum of the rewritten rows); ${stats.throttled} 429s, when the sandbox, which runs in the bench's own process, counted a request late (the client gives such a request's place back and retries after 100 ms); and the start, where the first list page comes back before lanes can be split.`,
      );
      options.log(`sync: ${label}: ${seconds.toFixed(1)} s, ${rate.toFixed(0)} records/s, lost ${lost}, dup ${dup}, ${JSON.stringify(stats.byRoute)}`);
    }
    sandbox.clearFaults();
    const fullContacts = 100_000;
    const fullRecords = Math.round((records / liveContacts) * fullContacts);
    if (liveContacts < fullContacts) {
      notes.push(
        `Not run at the goal's 100k contacts here: that portal holds ~${int(fullRecords)} records, ${secs(ceilingSeconds(fullRecords, fullContacts / ASSOC_BATCH, true))} at the ceiling per run (two runs), beyond the bench's few-minute budget (\`npm run bench -- --only sync --sync-contacts 100000\` runs it). The rate is a steady state (pages of fixed size through a fixed limit), so 100k contacts take about ${int(fullRecords)} / rate s: see the ratio.`,
      );
    }
    notes.push(
      `Portal: ${int(liveContacts)} contacts, ${int(liveDeals)} deals (sandbox seed 42, orderScale ${ORDER_SCALE}), limits ${LIMITS.perTenSeconds} / 10 s and search ${LIMITS.searchPerSecond} / s enforced by the sandbox, latency ${LATENCY[0]}–${LATENCY[1]} ms per request, the product's client (limiter, retries with its default backoff) and ${storeName}.`,
      `Ceiling: T = (R + ${LIST_PAGE}·A) / (${LIST_PAGE}·${STANDARD_PER_SECOND} + ${SEARCH_PAGE}·${LIMITS.searchPerSecond}) s for R records and A = ⌈contacts / ${ASSOC_BATCH}⌉ association requests: every standard request a list page of ${LIST_PAGE}, every search request a page of ${SEARCH_PAGE}, both limits saturated; the ceiling rate is R / T = ${int(ceilingRate)} records/s. With the standard window alone (no search) it is ${int(listOnlyRate)} records/s.`,
    );
  } finally {
    await database.close();
    await sandbox.close();
    if (url !== undefined) {
      const admin = await openDatabase({ url, maxConnections: 1 });
      try {
        for (const schema of schemas) await admin.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      } finally {
        await admin.close();
      }
    }
  }
  return { id: 'sync', title: 'Sync against the sandbox portal (HubSpot limits, 100–300 ms latency)', rows, notes, seconds: (performance.now() - started) / 1000 };
}

export async function writebackSection(options: BenchOptions): Promise<Section> {
  const started = performance.now();
  const n = options.quick ? 5000 : 100_000;
  const rows: Row[] = [];
  const notes: string[] = [];
  options.log(`write-back: generating a ${count(n)}-contact portal`);
  // Deals do not matter to write-back: a tiny order scale keeps generation quick.
  const sandbox = await startSandbox({ contacts: n, seed: 43, orderScale: 0.01, rateLimit: { ...LIMITS }, latencyMs: LATENCY, fresh: true });
  const store = await openStore({ portalId: sandbox.portalId });
  try {
    const live = sandbox.data.listContacts();
    for (let i = 0; i < live.length; i += 5000) {
      await store.upsertContacts(live.slice(i, i + 5000).map((c) => ({ id: String(c.id), properties: { ...c.properties } })));
    }
    const { model } = fit(paperTable({ n: 300, seed: 7 }).table, { k: 3, method: 'kmeans', seed: 7, createdAt: '2026-11-01T00:00:00.000Z' });
    const assignments: Assignment[] = live.map((c, i) => ({ id: String(c.id), segment: model.segments[i % model.segments.length]!.id, distance: 0, imputed: false }));
    const minimum = Math.ceil(assignments.length / BATCH_SIZE);
    const ceiling = minimum / STANDARD_PER_SECOND;
    for (const pass of ['first', 'second'] as const) {
      options.log(`write-back: ${pass} run, ${count(assignments.length)} assignments`);
      sandbox.resetStats();
      const client = clientFor(sandbox);
      const t = performance.now();
      const report = await writeBack({ client, store, portalId: sandbox.portalId }, model, assignments);
      const seconds = (performance.now() - t) / 1000;
      const stats = sandbox.stats();
      const batchRequests = stats.byRoute['POST /crm/v3/objects/contacts/batch/update'] ?? report.batches;
      if (pass === 'first') {
        let wrong = 0;
        assignments.forEach((a) => {
          if (sandbox.data.getContact(a.id)?.properties[SEGMENT_PROPERTY] !== a.segment) wrong++;
        });
        rows.push(
          row(`Write-back of ${count(n)} segment values: batch requests vs the minimum ⌈n/100⌉`, int(batchRequests), int(minimum), ratio(minimum / Math.max(1, batchRequests)), '= minimum', yesNo(batchRequests <= minimum)),
          row('Write-back: all requests the server saw (schema checks and creation included; throttled)', `${int(stats.requests)} (${stats.throttled} throttled)`, int(minimum)),
          row(`Write-back: time vs the ceiling (${int(minimum)} requests at ${STANDARD_PER_SECOND}/s)`, secs(seconds), secs(ceiling), ratio(ceiling / seconds), '≥ 0.9× (near the ceiling)', yesNo(ceiling / seconds >= 0.9)),
          row('Write-back: contacts whose HubSpot value is wrong afterwards', int(wrong), '0', '', '0', yesNo(wrong === 0)),
        );
        options.log(`write-back: ${seconds.toFixed(1)} s, ${report.requests} requests, ${JSON.stringify(stats.byRoute)}`);
      } else {
        rows.push(row('Write-back run again with the same model: batch requests (nothing changed)', int(stats.byRoute['POST /crm/v3/objects/contacts/batch/update'] ?? 0), '0', '', '~0', yesNo((stats.byRoute['POST /crm/v3/objects/contacts/batch/update'] ?? 0) === 0)), row('Write-back second run: all requests, time', `${int(stats.requests)}, ${secs(seconds)}`));
      }
    }
    notes.push(
      `Sandbox of ${int(n)} contacts, limits ${LIMITS.perTenSeconds} / 10 s, latency ${LATENCY[0]}–${LATENCY[1]} ms; the store holds the same contacts (as after a sync). Segments are assigned round-robin from a model fitted on the paper's 300 customers, so every contact needs a write.`,
    );
  } finally {
    await store.close();
    await sandbox.close();
  }
  return { id: 'writeback', title: 'Write-back of segment values', rows, notes, seconds: (performance.now() - started) / 1000 };
}
