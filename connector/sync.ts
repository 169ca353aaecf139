/**
 * Sync: copies a portal's contacts, deals and contact->deal associations into the local store.
 *
 * Full sync: contacts and deals are read at once, each type's id range in lanes (see `LaneState`) by list
 * readers (standard requests) and search readers (the search limit) together, so both of HubSpot's budgets
 * stay full; an idle reader splits the largest lane still being read. Association batches (1,000 contacts)
 * pipeline behind the contact pages, everything through the portal's limiter. Each page is committed in
 * one transaction with its lane's checkpoint, so a sync killed at any point resumes from the
 * checkpoints; records are upserts, so re-reading a page duplicates nothing. Every record carries the
 * run's generation; at the end, records this run did not see are swept (deletions in HubSpot).
 *
 * Incremental sync: search on the last-modified property from the last sync's start (minus an overlap)
 * to now, ascending, 200 a page. Pages advance by the last record's timestamp (keyset), not by offset, so
 * a record modified while we page cannot shift another out of view; windows whose `total` exceeds the
 * search cap (10,000) are halved recursively. Associations of changed contacts (and of changed deals) are
 * re-read; archived records (`?archived=true`) are removed. Checkpointed per page as well.
 */
import type { AppConfig } from './config.js';
import type { HubSpotClient } from './hubspot/client.js';
import { HubSpotError } from './hubspot/errors.js';
import { LAST_MODIFIED, lastModifiedMs, propertiesFor, toStoredRecord } from './hubspot/mapping.js';
import type { Filter, HubSpotObject, ObjectType, SearchPage } from './hubspot/types.js';
import type { Store, StoredRecord } from './store.js';

/** What sync needs from the HubSpot client. */
export type SyncClient = Pick<HubSpotClient, 'listPage' | 'search' | 'associationsBatchRead' | 'stats'>;

export interface SyncContext {
  client: SyncClient;
  store: Store;
  portalId: string | number;
  config: Pick<AppConfig, 'satisfactionProperty' | 'distanceProperty'>;
  /** Wall clock in ms (incremental windows end at "now"). Default Date.now. */
  now?: () => number;
}

export type SyncStage = 'contacts' | 'deals' | 'associations' | 'deletions' | 'finish';

export interface SyncProgress {
  mode: 'full' | 'incremental';
  stage: SyncStage;
  /** Records stored so far in this run (contacts + deals). */
  done: number;
  /** Expected records, when known. */
  total?: number;
  contacts: number;
  deals: number;
  /** Contacts whose associations were read. */
  associations: number;
  deleted: number;
  /** Pages committed so far in this run (all streams). */
  pages: number;
  requests: number;
  /** Records per second so far. */
  rate: number;
  etaSeconds?: number;
  message: string;
}

export interface SyncOptions {
  onProgress?: (progress: SyncProgress) => void;
  /** Cooperative cancellation, checked before every request; the checkpoints stay for a resume. */
  signal?: { readonly aborted: boolean };
  /** Incremental: how far before the last sync's start to look again (search index lag, clock skew). Default 5 min. */
  overlapMs?: number;
  /** List page size (max 100). */
  pageSize?: number;
  /** Search page size (max 200). */
  searchPageSize?: number;
  /** Contacts per association batch (max 1,000). */
  associationBatch?: number;
  /** Association batches in flight. Default 2. */
  associationParallel?: number;
  /** HubSpot's search result cap (10,000); lower only in tests. */
  searchCap?: number;
  /**
   * Full sync: readers per object type. List readers use standard requests (the 10 s window), search
   * readers the search limit (5/s); together they keep both budgets full. Default 4 list and 3 search (with
   * two, one reader held back by a retry left the other alone to fill the search limit between round trips:
   * a 100k-contact sync with 5% faults read at 89.5% of the ceiling with two, 93.1% with three);
   * `search: 0` reads with the list endpoint only.
   */
  readers?: { list?: number; search?: number };
  /** Full sync: a lane is split for an idle reader only when each half holds about this many records. Default 400. */
  minSplit?: number;
}

export interface SyncResult {
  mode: 'full' | 'incremental';
  /** True when this run continued an interrupted one. */
  resumed: boolean;
  generation: number;
  contacts: { upserted: number; deleted: number };
  deals: { upserted: number; deleted: number };
  /** Contacts (and deals, incrementally) whose associations were re-read. */
  associationsRead: number;
  pages: number;
  requests: number;
  seconds: number;
  recordsPerSecond: number;
  /** Incremental: the searched window [from, to) in epoch ms. */
  window?: { from: number; to: number };
}

export class SyncAborted extends Error {
  constructor() {
    super('sync stopped before it finished; run it again to resume from the last checkpoint');
    this.name = 'SyncAborted';
  }
}

// ---- Checkpoint state (per portal, in the store's sync_state) -----------------------------------

const KEY = {
  last: 'sync.last',
  full: 'sync.full',
  fullStream: (type: ObjectType) => `sync.full.${type}`,
  fullLane: (type: ObjectType, lo: number | null) => `sync.full.${type}.lane.${lo ?? 'start'}`,
  fullAssoc: 'sync.full.assoc',
  inc: 'sync.inc',
  incStream: (type: ObjectType) => `sync.inc.${type}`,
  incArchived: (type: ObjectType) => `sync.inc.archived.${type}`,
  incAssoc: 'sync.inc.assoc',
} as const;

const INC_KEYS = [KEY.inc, KEY.incStream('contacts'), KEY.incStream('deals'), KEY.incArchived('contacts'), KEY.incArchived('deals'), KEY.incAssoc];

/** The last completed sync. */
export interface LastSync {
  mode: 'full' | 'incremental';
  /** When the run started (epoch ms): the next incremental searches from here (minus the overlap). */
  runStart: number;
  completedAt: number;
  generation: number;
}

interface FullState {
  generation: number;
  runStart: number;
}
interface ListCursor {
  after: string | null;
  done: boolean;
}
/**
 * A full sync reads each type as lanes: consecutive slices of its id space, each read upward by one reader
 * at a time, either the list endpoint (standard requests) or a search on hs_object_id (its own 5/s limit).
 * A lane ends where the next one starts, so splitting a lane is persisting one new lane, never rewriting
 * another reader's checkpoint: whatever a crash leaves, the lanes still cover every id.
 */
interface LaneState {
  /** The lane's first id; null = the bottom lane, from the first record. */
  lo: number | null;
  /** Ids below this are stored; null = nothing read yet. */
  next: number | null;
  /** The list endpoint's own cursor, kept for the bottom lane when the portal's cursors are not ids. */
  after: string | null;
  done: boolean;
}

interface Lane extends LaneState {
  /** Who reads it now (in this process), if anyone. */
  reader: 'list' | 'search' | null;
}

/** One type's lanes, persisted under the type's key; each lane's position under its own key. */
interface TypePlan {
  /**
   * What the list endpoint's `paging.next.after` is: 'id' when it was the next record id (last id + 1) on
   * the first page, so a list cursor can start any lane at `after = <id>`; 'opaque' otherwise, when only
   * the bottom lane is listed and search reads the others; 'unknown' before the first list page.
   */
  cursor: 'unknown' | 'id' | 'opaque';
  /** Starts of the lanes, bottom first. */
  lanes: (number | null)[];
  /** The first id the bottom lane read (with the count and highest id, sizes a lane for splitting). */
  first: number | null;
}

const emptyLane = (lo: number | null): LaneState => ({ lo, next: null, after: null, done: false });

function isPlan(value: unknown): value is TypePlan {
  return typeof value === 'object' && value !== null && Array.isArray((value as TypePlan).lanes);
}

function laneState(lane: Lane): LaneState {
  return { lo: lane.lo, next: lane.next, after: lane.after, done: lane.done };
}

function idRange(objects: readonly HubSpotObject[]): { min: number; max: number; ascending: boolean } | null {
  let min = Infinity;
  let max = -Infinity;
  let ascending = true;
  let previous = -Infinity;
  for (const o of objects) {
    const n = Number(o.id);
    if (!Number.isSafeInteger(n)) return null;
    if (n <= previous) ascending = false;
    previous = n;
    if (n < min) min = n;
    if (n > max) max = n;
  }
  return objects.length === 0 ? null : { min, max, ascending };
}
interface IncState {
  runStart: number;
  from: number;
  to: number;
}
interface SearchCursor {
  cursor: number;
  done: boolean;
}
interface PendingAssoc {
  contacts: string[];
  deals: string[];
}

/** The last completed sync of this store's portal, if any. */
export async function lastSync(store: Store): Promise<LastSync | undefined> {
  return store.getState<LastSync>(KEY.last);
}

// ---- Shared run machinery -----------------------------------------------------------------------

class Run {
  readonly started: number;
  readonly requestsAtStart: number;
  contacts = 0;
  deals = 0;
  contactsDeleted = 0;
  dealsDeleted = 0;
  associations = 0;
  pages = 0;
  total: number | undefined;
  private error: unknown = null;

  constructor(
    readonly mode: 'full' | 'incremental',
    readonly ctx: SyncContext,
    readonly options: SyncOptions,
  ) {
    this.started = Date.now();
    this.requestsAtStart = ctx.client.stats().requests;
  }

  /** Throws when the caller aborted or another stream of this run failed. */
  check(): void {
    if (this.error !== null) throw new SyncAborted();
    if (this.options.signal?.aborted) throw new SyncAborted();
  }

  fail(error: unknown): void {
    if (this.error === null) this.error = error;
  }

  /** Marks the run failed as soon as `work` fails, so the other streams stop at their next check. */
  async guard<T>(work: Promise<T>): Promise<T> {
    try {
      return await work;
    } catch (e) {
      if (!(e instanceof SyncAborted)) this.fail(e);
      throw e;
    }
  }

  /** Runs the streams together; the first failure stops the others and is rethrown. */
  async all(streams: (() => Promise<void>)[]): Promise<void> {
    await settleAll(
      streams.map(async (s) => {
        try {
          await s();
        } catch (e) {
          if (!(e instanceof SyncAborted)) this.fail(e);
          throw e;
        }
      }),
    );
  }

  get requests(): number {
    return this.ctx.client.stats().requests - this.requestsAtStart;
  }

  progress(stage: SyncStage, message: string): void {
    if (!this.options.onProgress) return;
    const seconds = (Date.now() - this.started) / 1000;
    const done = this.contacts + this.deals;
    const rate = seconds > 0 ? done / seconds : 0;
    const event: SyncProgress = {
      mode: this.mode,
      stage,
      done,
      contacts: this.contacts,
      deals: this.deals,
      associations: this.associations,
      deleted: this.contactsDeleted + this.dealsDeleted,
      pages: this.pages,
      requests: this.requests,
      rate,
      message,
    };
    if (this.total !== undefined) {
      event.total = Math.max(this.total, done);
      if (rate > 0 && this.total > done) event.etaSeconds = (this.total - done) / rate;
    }
    this.options.onProgress(event);
  }

  result(generation: number, resumed: boolean, window?: { from: number; to: number }): SyncResult {
    const seconds = (Date.now() - this.started) / 1000;
    const records = this.contacts + this.deals;
    return {
      mode: this.mode,
      resumed,
      generation,
      contacts: { upserted: this.contacts, deleted: this.contactsDeleted },
      deals: { upserted: this.deals, deleted: this.dealsDeleted },
      associationsRead: this.associations,
      pages: this.pages,
      requests: this.requests,
      seconds,
      recordsPerSecond: seconds > 0 ? records / seconds : 0,
      ...(window ? { window } : {}),
    };
  }
}

/**
 * Feeds ids to association batch reads: batches of `size`, up to `parallel` in flight, dispatched as soon
 * as a batch is full (or when the feeding stream is closed), so association reads overlap the paging.
 */
class BatchPipeline {
  private queue: string[] = [];
  private inFlight = 0;
  private closed = false;
  private failure: unknown = null;
  private waiters: { resolve: () => void; reject: (e: unknown) => void }[] = [];

  constructor(
    private readonly size: number,
    private readonly parallel: number,
    private readonly work: (ids: string[]) => Promise<void>,
  ) {}

  push(ids: readonly string[]): void {
    for (const id of ids) this.queue.push(id);
    this.pump();
  }

  close(): void {
    this.closed = true;
    this.pump();
  }

  /** Resolves when closed and everything was processed; rejects with the first failure. */
  drained(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ resolve, reject });
      this.settle();
    });
  }

  private pump(): void {
    while (this.failure === null && this.inFlight < this.parallel && (this.queue.length >= this.size || (this.closed && this.queue.length > 0))) {
      const ids = this.queue.splice(0, this.size);
      this.inFlight++;
      this.work(ids).then(
        () => {
          this.inFlight--;
          this.pump();
        },
        (e: unknown) => {
          this.inFlight--;
          if (this.failure === null) this.failure = e;
          this.settle();
        },
      );
    }
    this.settle();
  }

  private settle(): void {
    // On failure, wait for the batches in flight too, so nothing writes after the sync returned.
    if (this.failure !== null && this.inFlight === 0) {
      for (const w of this.waiters.splice(0)) w.reject(this.failure);
      return;
    }
    if (this.failure !== null) return;
    if (this.closed && this.queue.length === 0 && this.inFlight === 0) {
      for (const w of this.waiters.splice(0)) w.resolve();
    }
  }
}

/**
 * Waits for every promise (so no stream is still writing when the sync returns), then throws the first
 * real failure (a stream stopped because another failed reports SyncAborted, which is not the cause).
 */
async function settleAll(promises: Promise<unknown>[]): Promise<void> {
  const failures = (await Promise.allSettled(promises)).filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as unknown);
  if (failures.length > 0) throw failures.find((e) => !(e instanceof SyncAborted)) ?? failures[0];
}

function nowOf(ctx: SyncContext): number {
  return (ctx.now ?? Date.now)();
}

/** How many records a type has and its highest id (one search, sorted by id, descending). */
async function countAll(ctx: SyncContext, type: ObjectType): Promise<{ total: number; top: number | null } | undefined> {
  try {
    const page = await ctx.client.search(type, {
      filterGroups: [],
      sorts: [{ propertyName: 'hs_object_id', direction: 'DESCENDING' }],
      limit: 1,
      properties: ['hs_object_id'],
    });
    const top = Number(page.results[0]?.id);
    return { total: page.total, top: Number.isSafeInteger(top) ? top : null };
  } catch (e) {
    // The count feeds the ETA and lane sizes; a search outage must not stop the sync itself.
    if (e instanceof HubSpotError && e.code !== 'UNAUTHORIZED' && e.code !== 'DAILY_LIMIT') return undefined;
    throw e;
  }
}

// ---- Full sync ----------------------------------------------------------------------------------

export async function fullSync(ctx: SyncContext, options: SyncOptions = {}): Promise<SyncResult> {
  const { store } = ctx;
  const run = new Run('full', ctx, options);
  const pageSize = options.pageSize ?? 100;
  const searchSize = options.searchPageSize ?? 200;
  const assocSize = options.associationBatch ?? 1000;
  const minSplit = options.minSplit ?? 400;
  const readers = { list: options.readers?.list ?? 4, search: options.readers?.search ?? 3 };
  if (readers.list + readers.search < 1) throw new RangeError('a full sync needs at least one reader');

  let state = await store.getState<FullState>(KEY.full);
  const resumed = state !== undefined;
  if (!state) {
    const last = await lastSync(store);
    const previous = Math.max(last?.generation ?? 0, (await store.getState<number>('sync.generation')) ?? 0);
    state = { generation: previous + 1, runStart: nowOf(ctx) };
    const fresh = state;
    await store.transaction(async () => {
      await store.setState('sync.generation', fresh.generation);
      await store.setState(KEY.full, fresh);
      for (const type of ['contacts', 'deals'] as const) {
        await store.setState(KEY.fullStream(type), { cursor: 'unknown', lanes: [null], first: null } satisfies TypePlan);
        await store.setState(KEY.fullLane(type, null), emptyLane(null));
      }
      await store.setState(KEY.fullAssoc, { contacts: [], deals: [] } satisfies PendingAssoc);
    });
  }
  const { generation } = state;

  run.check();
  // The counts (for the ETA and lane sizes) come in while the first pages are read.
  type Count = Awaited<ReturnType<typeof countAll>>;
  const counts: Record<ObjectType, Promise<Count>> = { contacts: countAll(ctx, 'contacts'), deals: countAll(ctx, 'deals') };
  const counted = Promise.all([counts.contacts, counts.deals]).then(([c, d]) => {
    if (c && d) run.total = c.total + d.total;
  });
  // Awaited with the streams below, after more awaits: a failure before then (a revoked token) is not unhandled.
  counted.catch(() => undefined);
  run.progress('contacts', resumed ? 'resuming full sync' : 'starting full sync');

  // Contacts whose associations are not yet stored; persisted with every page so a resume re-reads them.
  const pendingState = (await store.getState<PendingAssoc>(KEY.fullAssoc)) ?? { contacts: [], deals: [] };
  const pending = new Set(pendingState.contacts);
  const savePending = (): Promise<void> => store.setState(KEY.fullAssoc, { contacts: [...pending], deals: [] } satisfies PendingAssoc);

  const associations = new BatchPipeline(assocSize, options.associationParallel ?? 2, (ids) => run.guard(readAssociations(ids)));
  async function readAssociations(ids: string[]): Promise<void> {
    run.check();
    const map = await ctx.client.associationsBatchRead('contacts', 'deals', ids);
    run.check();
    await store.transaction(async () => {
      await store.replaceAssociations(map);
      for (const id of ids) pending.delete(id);
      await savePending();
    });
    run.associations += ids.length;
    run.progress('associations', `associations of ${run.associations} contacts`);
  }
  associations.push([...pending]);

  const readType = async (type: ObjectType): Promise<void> => {
    const properties = propertiesFor(type, ctx.config);
    const saved = await store.getState<unknown>(KEY.fullStream(type));
    // A checkpoint from before lanes existed (or none) starts the type over: pages are upserts, so
    // reading again loses and duplicates nothing.
    const plan: TypePlan = isPlan(saved) ? saved : { cursor: 'unknown', lanes: [null], first: null };
    const lanes: Lane[] = [];
    for (const lo of plan.lanes) {
      const s = isPlan(saved) ? await store.getState<LaneState>(KEY.fullLane(type, lo)) : undefined;
      lanes.push({ ...(s ?? emptyLane(lo)), lo, reader: null });
    }
    lanes.sort((a, b) => (a.lo ?? -Infinity) - (b.lo ?? -Infinity));
    // A lane split off while the lane below still read on past its start: those ids are stored already.
    for (let i = 1; i < lanes.length; i++) {
      const below = lanes[i - 1]!.next;
      const lane = lanes[i]!;
      if (below !== null && below > (lane.next ?? lane.lo ?? -Infinity)) lane.next = below;
    }

    const hiOf = (lane: Lane): number | null => lanes[lanes.indexOf(lane) + 1]?.lo ?? null;
    const startOf = (lane: Lane): number | null => lane.next ?? lane.lo;
    // A lane is finished once its position reached the next lane's start (which a split may have moved).
    const finished = (lane: Lane): boolean => {
      const hi = hiOf(lane);
      return lane.done || (hi !== null && lane.next !== null && lane.next >= hi);
    };
    const canRead = (kind: 'list' | 'search', lane: Lane): boolean =>
      kind === 'search' || plan.cursor === 'id' || (lane.lo === null && (lane.next === null || lane.after !== null));

    // Readers other than the first wait for the bottom lane's first page: it tells where ids start and
    // what the list cursor is, which splitting needs.
    let firstSeen!: () => void;
    const firstPage = new Promise<void>((resolve) => (firstSeen = resolve));
    if (plan.first !== null || lanes[0]!.next !== null || finished(lanes[0]!)) firstSeen();

    const commit = async (lane: Lane, kind: 'list' | 'search', results: HubSpotObject[], after: string | undefined, exhausted: boolean): Promise<void> => {
      let records: StoredRecord[] = [];
      await store.transaction(async () => {
        const hi = hiOf(lane);
        const range = idRange(results);
        let planChanged = false;
        if (lane.lo === null && plan.first === null && range) {
          plan.first = range.min;
          planChanged = true;
        }
        if (kind === 'list' && lane.lo === null && plan.cursor === 'unknown') {
          // The first list page decides: a cursor equal to the last id + 1 over ascending ids is an id.
          plan.cursor = range && range.ascending && after !== undefined && after === String(range.max + 1) ? 'id' : 'opaque';
          planChanged = true;
        }
        const kept = hi === null ? results : results.filter((o) => Number(o.id) < hi);
        records = kept.map((o) => toStoredRecord(type, o));
        if (type === 'contacts') {
          await store.upsertContacts(records, { generation });
          for (const r of records) pending.add(r.id);
          await savePending();
        } else {
          await store.upsertDeals(records, { generation });
        }
        const top = idRange(kept)?.max;
        if (top !== undefined) lane.next = Math.max(lane.next ?? top + 1, top + 1);
        lane.after = kind === 'list' ? (after ?? null) : null;
        lane.done = exhausted || kept.length < results.length || finished(lane);
        await store.setState(KEY.fullLane(type, lane.lo), laneState(lane));
        if (planChanged) await store.setState(KEY.fullStream(type), plan);
      });
      if (lane.lo === null) firstSeen();
      run.pages++;
      if (type === 'contacts') {
        run.contacts += records.length;
        associations.push(records.map((r) => r.id));
      } else {
        run.deals += records.length;
      }
      run.progress(type, `${run.contacts} contacts, ${run.deals} deals`);
    };

    /**
     * Reads a lane upward, one page ahead of its checkpoint: the next page is requested while the
     * previous one is being written, so the store's write time (a page and its checkpoint in one
     * transaction) is not added to every request's round trip. Writes stay one at a time and in page
     * order, so the checkpoint never passes a page that is not stored; a page that turns out to lie past
     * the lane's end (the write before it ended the lane) is dropped unwritten, and one requested but not
     * yet written when the sync stops is read again on resume.
     */
    const readLane = async (lane: Lane, kind: 'list' | 'search'): Promise<void> => {
      // Where the next request starts: the checkpoint's position plus the pages being written.
      let next = lane.next;
      let after = lane.after;
      let exhausted = false;
      let writing: Promise<void> | null = null;
      const ended = (): boolean => {
        const hi = hiOf(lane);
        return exhausted || finished(lane) || (hi !== null && next !== null && next >= hi);
      };
      try {
        while (!ended()) {
          run.check();
          const start = next ?? lane.lo;
          let results: HubSpotObject[];
          let cursor: string | undefined;
          if (kind === 'list') {
            const from = plan.cursor === 'id' ? (start !== null ? String(start) : undefined) : (after ?? undefined);
            const page = await ctx.client.listPage(type, { properties, limit: pageSize, ...(from !== undefined ? { after: from } : {}) });
            results = page.results;
            cursor = page.paging?.next?.after;
            exhausted = cursor === undefined;
          } else {
            const hi = hiOf(lane);
            const filters: Filter[] = [];
            if (start !== null) filters.push({ propertyName: 'hs_object_id', operator: 'GTE', value: String(start) });
            if (hi !== null) filters.push({ propertyName: 'hs_object_id', operator: 'LT', value: String(hi) });
            const page = await ctx.client.search(type, {
              filterGroups: filters.length === 0 ? [] : [{ filters }],
              sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' }],
              properties,
              limit: searchSize,
            });
            results = page.results;
            exhausted = results.length < searchSize;
          }
          run.check();
          if (writing) await writing;
          if (finished(lane)) break; // the page before ended the lane: this one lies past its end
          writing = commit(lane, kind, results, cursor, exhausted);
          writing.catch(() => undefined); // awaited before the next write or below; not an unhandled rejection meanwhile
          // The bottom lane's first list page decides what list cursors are (in its write): wait for it.
          if (plan.cursor === 'unknown' && kind === 'list') await writing;
          const top = idRange(results)?.max;
          if (top !== undefined) next = Math.max(next ?? top + 1, top + 1);
          after = kind === 'list' ? (cursor ?? null) : null;
        }
      } finally {
        if (writing) await writing;
      }
      lane.done = true;
    };

    // Splits of this type run one at a time, so each sees the lanes the previous one left.
    let splitting: Promise<unknown> = Promise.resolve();
    const split = (kind: 'list' | 'search'): Promise<Lane | null> => {
      const attempt = splitting.then(async (): Promise<Lane | null> => {
        // A new lane starts at an id: search reads it, a list reader only when cursors are ids.
        if (kind === 'list' && plan.cursor !== 'id') return null;
        const count = await counts[type];
        const top = count?.top ?? null;
        const first = plan.first;
        const density = count && top !== null && first !== null && top >= first ? count.total / (top + 1 - first) : 1;
        let best: { lane: Lane; start: number; end: number } | null = null;
        for (const lane of lanes) {
          if (lane.reader === null || finished(lane)) continue;
          const start = startOf(lane);
          const end = hiOf(lane) ?? (top !== null ? top + 1 : null);
          if (start === null || end === null || end - start < 2) continue;
          if (!best || end - start > best.end - best.start) best = { lane, start, end };
        }
        if (!best || (best.end - best.start) * density < 2 * minSplit) return null;
        const mid = best.start + Math.floor((best.end - best.start) / 2);
        const fresh: Lane = { ...emptyLane(mid), reader: kind };
        const los = [...lanes.map((l) => l.lo), mid].sort((a, b) => (a ?? -Infinity) - (b ?? -Infinity));
        await store.transaction(async () => {
          await store.setState(KEY.fullLane(type, mid), laneState(fresh));
          await store.setState(KEY.fullStream(type), { ...plan, lanes: los } satisfies TypePlan);
        });
        plan.lanes = los;
        // The split lane may have read on while the new lane was saved: start the new one where it stands.
        if (best.lane.next !== null && best.lane.next > mid) fresh.next = best.lane.next;
        if (best.lane.done) fresh.done = true;
        lanes.splice(lanes.indexOf(best.lane) + 1, 0, fresh);
        return fresh;
      });
      splitting = attempt.catch(() => undefined);
      return attempt;
    };

    const claim = async (kind: 'list' | 'search'): Promise<Lane | null> => {
      for (;;) {
        run.check();
        const free = lanes.find((l) => l.reader === null && !finished(l) && canRead(kind, l));
        if (free) {
          free.reader = kind;
          return free;
        }
        if (lanes.every(finished)) return null;
        if (plan.first === null && lanes[0]!.next === null) {
          await firstPage;
          continue;
        }
        return split(kind);
      }
    };

    const reader = async (kind: 'list' | 'search'): Promise<void> => {
      for (;;) {
        const lane = await claim(kind);
        if (!lane) return;
        try {
          await readLane(lane, kind);
        } finally {
          lane.reader = null;
          if (lane.lo === null) firstSeen();
        }
      }
    };

    // List readers start first, so the bottom lane's first page comes from the list endpoint.
    const kinds = [...Array.from({ length: readers.list }, () => 'list' as const), ...Array.from({ length: readers.search }, () => 'search' as const)];
    await settleAll(kinds.map((kind) => run.guard(reader(kind))));
    run.check();
    const left = lanes.filter((l) => !finished(l));
    if (left.length > 0) {
      throw new Error(`full sync of ${type}: ${left.length} id range(s) from ${String(left[0]!.lo)} need a search reader (the list cursor is not an id); run again with search readers`);
    }
  };

  await run.all([
    async () => {
      try {
        await readType('contacts');
      } finally {
        associations.close();
      }
    },
    () => readType('deals'),
    () => associations.drained(),
    () => counted,
  ]);

  run.check();
  const laneKeys: string[] = [];
  for (const type of ['contacts', 'deals'] as const) {
    const plan = await store.getState<unknown>(KEY.fullStream(type));
    if (isPlan(plan)) for (const lo of plan.lanes) laneKeys.push(KEY.fullLane(type, lo));
  }
  // The sweep below plans its deletes on a million rows loaded since the tables were last analyzed.
  await store.analyze();
  await store.transaction(async () => {
    run.contactsDeleted = await store.sweep('contacts', generation);
    run.dealsDeleted = await store.sweep('deals', generation);
    await store.setState(KEY.last, { mode: 'full', runStart: state.runStart, completedAt: nowOf(ctx), generation } satisfies LastSync);
    // A full sync supersedes an interrupted incremental one as well.
    for (const key of [KEY.full, KEY.fullStream('contacts'), KEY.fullStream('deals'), ...laneKeys, KEY.fullAssoc, ...INC_KEYS]) await store.deleteState(key);
  });
  // Every row was rewritten: the old versions' space is free again (PGlite, which has no autovacuum).
  await store.vacuum();
  run.progress('finish', `full sync done: ${run.contacts} contacts, ${run.deals} deals`);
  return run.result(generation, resumed);
}

// ---- Incremental sync ---------------------------------------------------------------------------

/**
 * Changes since the last sync. Falls back to (or resumes) a full sync when there was no completed sync
 * or a full sync was interrupted.
 */
export async function incrementalSync(ctx: SyncContext, options: SyncOptions = {}): Promise<SyncResult> {
  const { store } = ctx;
  const last = await lastSync(store);
  if (!last || (await store.getState<FullState>(KEY.full)) !== undefined) return fullSync(ctx, options);

  const run = new Run('incremental', ctx, options);
  const overlap = options.overlapMs ?? 5 * 60_000;
  const searchSize = options.searchPageSize ?? 200;
  const cap = options.searchCap ?? 10_000;
  const pageSize = options.pageSize ?? 100;
  const { generation } = last;

  let state = await store.getState<IncState>(KEY.inc);
  const resumed = state !== undefined;
  if (!state) {
    const runStart = nowOf(ctx);
    state = { runStart, from: Math.max(0, last.runStart - overlap), to: runStart };
    const fresh = state;
    await store.transaction(async () => {
      await store.setState(KEY.inc, fresh);
      for (const type of ['contacts', 'deals'] as const) {
        await store.setState(KEY.incStream(type), { cursor: fresh.from, done: false } satisfies SearchCursor);
        await store.setState(KEY.incArchived(type), { after: null, done: false } satisfies ListCursor);
      }
      await store.setState(KEY.incAssoc, { contacts: [], deals: [] } satisfies PendingAssoc);
    });
  }
  const { from, to } = state;
  run.progress('contacts', resumed ? 'resuming incremental sync' : 'starting incremental sync');

  const pendingState = (await store.getState<PendingAssoc>(KEY.incAssoc)) ?? { contacts: [], deals: [] };
  const pending = { contacts: new Set(pendingState.contacts), deals: new Set(pendingState.deals) };
  const savePending = (): Promise<void> =>
    store.setState(KEY.incAssoc, { contacts: [...pending.contacts], deals: [...pending.deals] } satisfies PendingAssoc);

  let dealSideSupported = true;
  const assocFor = (type: ObjectType): BatchPipeline =>
    new BatchPipeline(options.associationBatch ?? 1000, options.associationParallel ?? 2, (ids) => run.guard(readAssociations(type, ids)));
  const readAssociations = async (type: ObjectType, ids: string[]): Promise<void> => {
    run.check();
    let map: Map<string, string[]> | null = null;
    if (type === 'contacts') {
      map = await ctx.client.associationsBatchRead('contacts', 'deals', ids);
    } else if (dealSideSupported) {
      try {
        map = await ctx.client.associationsBatchRead('deals', 'contacts', ids);
      } catch (e) {
        // A portal (or test server) without the deals -> contacts route: new deals then join their
        // contacts when the contact changes or at the next full sync.
        if (!(e instanceof HubSpotError && e.code === 'HTTP' && e.status === 404)) throw e;
        dealSideSupported = false;
      }
    }
    run.check();
    await store.transaction(async () => {
      if (map && type === 'contacts') await store.replaceAssociations(map);
      if (map && type === 'deals') await store.replaceDealAssociations(map);
      for (const id of ids) pending[type].delete(id);
      await savePending();
    });
    run.associations += ids.length;
    run.progress('associations', `associations of ${run.associations} changed records`);
  };
  const pipelines = { contacts: assocFor('contacts'), deals: assocFor('deals') };
  pipelines.contacts.push([...pending.contacts]);
  pipelines.deals.push([...pending.deals]);

  const searchBody = (type: ObjectType, a: number, b: number, limit: number, after?: string) => ({
    filterGroups: [
      {
        filters: [
          { propertyName: LAST_MODIFIED[type], operator: 'GTE' as const, value: String(a) },
          { propertyName: LAST_MODIFIED[type], operator: 'LT' as const, value: String(b) },
        ],
      },
    ],
    sorts: [{ propertyName: LAST_MODIFIED[type], direction: 'ASCENDING' as const }],
    properties: propertiesFor(type, ctx.config),
    limit,
    ...(after !== undefined ? { after } : {}),
  });

  const searchStream = async (type: ObjectType): Promise<void> => {
    const saved = (await store.getState<SearchCursor>(KEY.incStream(type))) ?? { cursor: from, done: false };
    if (saved.done) return;

    const search = async (a: number, b: number, after?: string): Promise<SearchPage> => {
      run.check();
      const page = await ctx.client.search(type, searchBody(type, a, b, searchSize, after));
      run.check();
      return page;
    };
    const commit = async (results: HubSpotObject[], cursor: SearchCursor): Promise<void> => {
      const records = results.map((o) => toStoredRecord(type, o));
      await store.transaction(async () => {
        if (type === 'contacts') await store.upsertContacts(records, { generation });
        else await store.upsertDeals(records, { generation });
        for (const r of records) pending[type].add(r.id);
        await savePending();
        await store.setState(KEY.incStream(type), cursor);
      });
      run.pages++;
      if (type === 'contacts') run.contacts += records.length;
      else run.deals += records.length;
      pipelines[type].push(records.map((r) => r.id));
      run.progress(type, `${run.contacts} changed contacts, ${run.deals} changed deals`);
    };

    /** Offset paging, for the rare case keyset paging cannot advance (over a page of equal timestamps). */
    const offsetPages = async (a: number, b: number, first: SearchPage): Promise<void> => {
      let page = first;
      for (;;) {
        const after = page.paging?.next?.after;
        if (after === undefined) return;
        page = await search(a, b, after);
        await commit(page.results, { cursor: a, done: false });
      }
    };

    const window = async (a: number, b: number): Promise<void> => {
      if (a >= b) return;
      let page = await search(a, b);
      if (page.total > cap && b - a > 1) {
        const mid = a + Math.floor((b - a) / 2);
        await window(a, mid);
        await window(mid, b);
        return;
      }
      run.total = (run.total ?? run.contacts + run.deals) + page.total;
      let cursor = a;
      for (;;) {
        const results = page.results;
        const more = page.paging?.next?.after !== undefined && results.length > 0;
        const lastTs = results.length > 0 ? lastModifiedMs(type, results[results.length - 1] as HubSpotObject) : Number.NaN;
        if (!more) {
          await commit(results, { cursor: b, done: false });
          return;
        }
        if (Number.isFinite(lastTs) && lastTs > cursor) {
          // Keyset: the next query starts at the last timestamp seen (ties are read again: upserts).
          await commit(results, { cursor: lastTs, done: false });
          cursor = lastTs;
          page = await search(cursor, b);
          continue;
        }
        // A full page of one timestamp (or no timestamps): page by offset through that slice, then move on.
        // The slice is queried on its own so the offsets belong to the query they page.
        const sliceEnd = Number.isFinite(lastTs) ? cursor + 1 : b;
        const slice = sliceEnd === b ? page : await search(cursor, sliceEnd);
        await commit(slice.results, { cursor, done: false });
        await offsetPages(cursor, sliceEnd, slice);
        if (sliceEnd >= b) {
          await commit([], { cursor: b, done: false });
          return;
        }
        cursor = sliceEnd;
        page = await search(cursor, b);
      }
    };

    await window(saved.cursor, to);
    await store.setState(KEY.incStream(type), { cursor: to, done: true } satisfies SearchCursor);
  };

  const archivedStream = async (type: ObjectType): Promise<void> => {
    let cursor = (await store.getState<ListCursor>(KEY.incArchived(type))) ?? { after: null, done: false };
    while (!cursor.done) {
      run.check();
      const page = await ctx.client.listPage(type, {
        properties: ['hs_object_id'],
        limit: pageSize,
        archived: true,
        ...(cursor.after !== null ? { after: cursor.after } : {}),
      });
      run.check();
      const ids = page.results.map((o) => String(o.id));
      const next: ListCursor = { after: page.paging?.next?.after ?? null, done: page.paging?.next?.after === undefined };
      let deleted = 0;
      await store.transaction(async () => {
        deleted = type === 'contacts' ? await store.deleteContacts(ids) : await store.deleteDeals(ids);
        await store.setState(KEY.incArchived(type), next);
      });
      cursor = next;
      run.pages++;
      if (type === 'contacts') run.contactsDeleted += deleted;
      else run.dealsDeleted += deleted;
      run.progress('deletions', `${run.contactsDeleted + run.dealsDeleted} deleted`);
    }
  };

  const searchThenClose = async (type: ObjectType): Promise<void> => {
    try {
      await searchStream(type);
    } finally {
      pipelines[type].close();
    }
  };

  // Search is limited per second on its own, so both search streams and the archived listings (standard
  // requests) overlap; the archived listings run after the searches so a record changed and then archived
  // during the run ends deleted.
  await run.all([
    async () => {
      await settleAll([run.guard(searchThenClose('contacts')), run.guard(searchThenClose('deals'))]);
      await archivedStream('contacts');
      await archivedStream('deals');
    },
    () => pipelines.contacts.drained(),
    () => pipelines.deals.drained(),
  ]);

  run.check();
  await store.transaction(async () => {
    await store.setState(KEY.last, { mode: 'incremental', runStart: state.runStart, completedAt: nowOf(ctx), generation } satisfies LastSync);
    for (const key of INC_KEYS) await store.deleteState(key);
  });
  run.progress('finish', `incremental sync done: ${run.contacts} contacts, ${run.deals} deals changed`);
  return run.result(generation, resumed, { from, to });
}
