/**
 * Write-back: puts each contact's segment, strategy and model id on the contact in HubSpot, so reps see it
 * on the record and marketers can build segments (HubSpot's lists) on it.
 *
 * Idempotent and resumable:
 * - the property group and the three properties are ensured (created, or read and reconciled after a 409;
 *   the enumeration's options only ever grow, so contacts holding an older segment keep a valid value);
 * - contacts whose stored values (last sync + what we wrote) are already right are skipped, so a second run
 *   with the same model sends nothing at all;
 * - after every batch of 100 the store's copy of those contacts and a checkpoint (model id + last contact id)
 *   are saved together, so a run killed at any point resumes after the last confirmed batch.
 */
import { NO_RECENT_ORDERS } from '../src/types.js';
import type { Assignment, Model, Segment } from '../src/types.js';
import type { HubSpotClient } from './hubspot/client.js';
import type { BatchUpdateInput, Property, PropertyCreate, PropertyOption } from './hubspot/types.js';

export const GROUP_NAME = 'smart_segments';
export const GROUP_LABEL = 'Smart Segments';
export const SEGMENT_PROPERTY = 'smart_segment';
export const STRATEGY_PROPERTY = 'smart_segment_strategy';
export const MODEL_PROPERTY = 'smart_segment_model';
export const WRITEBACK_PROPERTIES: readonly string[] = [SEGMENT_PROPERTY, STRATEGY_PROPERTY, MODEL_PROPERTY];
/** HubSpot's batch update takes at most 100 inputs. */
export const BATCH_SIZE = 100;
const DEFAULT_CONCURRENCY = 4;
export const CHECKPOINT_KEY = 'writeback.checkpoint';

/** What write-back needs from the HubSpot client (getProperty resolves null for a missing property). */
export type WriteBackClient = Pick<
  HubSpotClient,
  'getProperty' | 'createPropertyGroup' | 'createProperty' | 'updateProperty' | 'batchUpdate'
>;

export interface StoredContact {
  id: string;
  properties: Record<string, string | null | undefined>;
}

/** What write-back needs from the local store (connector/store.ts `Store` provides it). */
export interface WriteBackStore {
  allContacts(): Promise<StoredContact[]>;
  /** Merges properties into the stored contacts (unknown ids ignored). */
  mergeContactProperties(updates: readonly { id: string; properties: Record<string, string | null> }[]): Promise<void>;
  getState(key: string): Promise<unknown>;
  setState(key: string, value: unknown): Promise<void>;
  transaction<T>(fn: () => Promise<T>): Promise<T>;
}

export interface WriteBackContext {
  client: WriteBackClient;
  store: WriteBackStore;
  portalId: string | number;
}

export interface WriteBackProgress {
  done: number;
  total: number;
  updated: number;
  skipped: number;
}

export interface WriteBackOptions {
  dryRun?: boolean;
  onProgress?: (progress: WriteBackProgress) => void;
  /** Batch requests in flight. Default 4. */
  concurrency?: number;
  /** Cooperative cancellation, checked between batches (a crash behaves the same way). */
  signal?: { readonly aborted: boolean };
}

export interface WriteBackReport {
  modelId: string;
  dryRun: boolean;
  /** Contacts with an assignment. */
  considered: number;
  /** Already right (including contacts finished by an interrupted earlier run). */
  skipped: number;
  /** Written in this run (or, in a dry run, that would be written). */
  updated: number;
  /** Rejected by HubSpot in a multi-status answer (e.g. deleted since the last sync). */
  failed: number;
  failedIds: string[];
  /** HTTP requests write-back asked the client for (retries inside the client not counted). */
  requests: number;
  batches: number;
  /** Schema changes made: created group/properties, options added. */
  schema: string[];
  seconds: number;
  /** The last contact id an interrupted run with the same model confirmed, when this run resumed it. */
  resumedAfter: string | null;
}

interface Checkpoint {
  modelId: string;
  lastId: string;
  complete: boolean;
}

/** The id written to `smart_segment_model`: the model's creation time, which identifies a published model. */
export function modelId(model: Model): string {
  return `v${model.version}:${model.createdAt}`;
}

/** "P1: iot, big_data, automation_robotics, it_cloud" */
export function strategyText(segment: Segment | undefined): string {
  if (!segment) return '';
  return `P${segment.strategy.priority}: ${segment.strategy.technologies.join(', ')}`;
}

/** The enumeration options for a model: its segments in order, then no_recent_orders. */
export function segmentOptions(model: Model): PropertyOption[] {
  const options: PropertyOption[] = model.segments.map((segment, index) => ({
    label: segment.label,
    value: segment.id,
    displayOrder: index,
    hidden: false,
  }));
  if (!options.some((o) => o.value === NO_RECENT_ORDERS)) {
    options.push({ label: 'No recent orders', value: NO_RECENT_ORDERS, displayOrder: options.length, hidden: false });
  }
  return options;
}

/**
 * Merge wanted options into existing ones without removing any (contacts may still hold them).
 * Returns the merged list and whether it differs from the existing one.
 */
export function mergeOptions(
  existing: readonly PropertyOption[],
  wanted: readonly PropertyOption[],
): { options: PropertyOption[]; changed: boolean } {
  // HubSpot replaces the whole option list on PATCH, so the merged list is sent in full.
  const merged: PropertyOption[] = existing.map((o) => ({ ...o }));
  let changed = false;
  for (const want of wanted) {
    const found = merged.find((o) => o.value === want.value);
    if (!found) {
      merged.push({ ...want, displayOrder: merged.length });
      changed = true;
    } else if (found.label !== want.label || found.hidden) {
      found.label = want.label;
      found.hidden = false;
      changed = true;
    }
  }
  return { options: merged, changed };
}

/** Numeric ids in numeric order (HubSpot ids are numeric strings), anything else after, by text. */
export function compareIds(a: string, b: string): number {
  if (a.length !== b.length && /^\d+$/.test(a) && /^\d+$/.test(b)) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function httpStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as { status?: unknown; code?: unknown; statusCode?: unknown };
  for (const v of [e.status, e.statusCode, e.code]) if (typeof v === 'number') return v;
  return undefined;
}

/** The three properties as they should be defined for a model. */
export function propertyDefinitions(model: Model): PropertyCreate[] {
  return [
    {
      name: SEGMENT_PROPERTY,
      label: 'Smart segment',
      description: 'Customer segment from Smart Segments (k-means / Ward on order frequency, order value, distance, satisfaction).',
      groupName: GROUP_NAME,
      type: 'enumeration',
      fieldType: 'select',
      options: segmentOptions(model),
    },
    {
      name: STRATEGY_PROPERTY,
      label: 'Smart segment strategy',
      description: 'Priority and smart technologies recommended for the contact\'s segment.',
      groupName: GROUP_NAME,
      type: 'string',
      fieldType: 'text',
    },
    {
      name: MODEL_PROPERTY,
      label: 'Smart segment model',
      description: 'The published Smart Segments model that assigned the segment.',
      groupName: GROUP_NAME,
      type: 'string',
      fieldType: 'text',
    },
  ];
}

/** Ensure the group and properties exist and the enumeration holds every option the model needs. */
async function ensureSchema(
  client: WriteBackClient,
  model: Model,
  count: () => void,
  schema: string[],
): Promise<void> {
  let groupEnsured = false;
  const ensureGroup = async (): Promise<void> => {
    if (groupEnsured) return;
    count();
    try {
      await client.createPropertyGroup('contacts', { name: GROUP_NAME, label: GROUP_LABEL, displayOrder: -1 });
      schema.push(`created property group ${GROUP_NAME}`);
    } catch (error) {
      if (httpStatus(error) !== 409) throw error;
    }
    groupEnsured = true;
  };
  const read = async (name: string): Promise<Property | null> => {
    count();
    try {
      return await client.getProperty('contacts', name);
    } catch (error) {
      if (httpStatus(error) === 404) return null;
      throw error;
    }
  };

  for (const wanted of propertyDefinitions(model)) {
    let current = await read(wanted.name);
    if (!current) {
      await ensureGroup();
      count();
      try {
        await client.createProperty('contacts', wanted);
        schema.push(`created property ${wanted.name}`);
        continue;
      } catch (error) {
        // Someone (another run, another instance) created it in between: read it and reconcile below.
        if (httpStatus(error) !== 409) throw error;
        current = await read(wanted.name);
        if (!current) throw error;
      }
    }
    if (current.type !== wanted.type) {
      throw new Error(
        `HubSpot contact property "${wanted.name}" exists with type "${current.type}", expected "${wanted.type}": ` +
          'rename or delete it in HubSpot (Settings > Properties) and run the write-back again',
      );
    }
    if (wanted.options) {
      const { options, changed } = mergeOptions(current.options ?? [], wanted.options);
      if (changed) {
        count();
        await client.updateProperty('contacts', wanted.name, { options });
        const added = options.filter((o) => !(current.options ?? []).some((c) => c.value === o.value));
        schema.push(
          `updated options of ${wanted.name}` + (added.length ? ` (added ${added.map((o) => o.value).join(', ')})` : ''),
        );
      }
    }
  }
}

function failedIdsOf(result: unknown): string[] {
  // HubSpot answers 207 with `errors: [{ context: { ids: [...] } }]` when part of a batch fails.
  if (typeof result !== 'object' || result === null) return [];
  const errors = (result as { errors?: unknown }).errors;
  if (!Array.isArray(errors)) return [];
  const ids: string[] = [];
  for (const e of errors) {
    const ctx = (e as { context?: { ids?: unknown; id?: unknown } }).context;
    if (Array.isArray(ctx?.ids)) for (const id of ctx.ids) ids.push(String(id));
    else if (Array.isArray(ctx?.id)) for (const id of ctx.id) ids.push(String(id));
  }
  return ids;
}

/**
 * Write each assigned contact's segment, strategy and model id to HubSpot.
 * Order: contacts sorted by id; a checkpoint after each batch records the last id confirmed.
 */
export async function writeBack(
  ctx: WriteBackContext,
  model: Model,
  assignments: readonly Assignment[],
  options: WriteBackOptions = {},
): Promise<WriteBackReport> {
  const started = performance.now();
  const { client, store } = ctx;
  const dryRun = options.dryRun ?? false;
  const id = modelId(model);
  const strategies = new Map<string, string>();
  for (const segment of model.segments) strategies.set(segment.id, strategyText(segment));

  const contacts = new Map<string, StoredContact>();
  for (const c of await store.allContacts()) contacts.set(c.id, c);

  const checkpoint = parseCheckpoint(await store.getState(CHECKPOINT_KEY));
  // The store's copy of each written batch commits with the checkpoint, so the per-contact check below is
  // what makes a resumed run skip finished work; the checkpoint says where the interrupted run stopped.
  const resumeAfter = checkpoint && checkpoint.modelId === id && !checkpoint.complete ? checkpoint.lastId : null;

  const ordered = [...assignments].sort((a, b) => compareIds(a.id, b.id));
  const report: WriteBackReport = {
    modelId: id,
    dryRun,
    considered: ordered.length,
    skipped: 0,
    updated: 0,
    failed: 0,
    failedIds: [],
    requests: 0,
    batches: 0,
    schema: [],
    seconds: 0,
    resumedAfter: resumeAfter,
  };

  const pending: BatchUpdateInput[] = [];
  for (const a of ordered) {
    const wanted: Record<string, string> = {
      [SEGMENT_PROPERTY]: a.segment,
      [STRATEGY_PROPERTY]: strategies.get(a.segment) ?? '',
      [MODEL_PROPERTY]: id,
    };
    const stored = contacts.get(a.id)?.properties;
    if (stored && isAlreadyRight(stored, wanted)) {
      report.skipped++;
      continue;
    }
    pending.push({ id: a.id, properties: wanted });
  }

  const total = ordered.length;
  const progress = (): void =>
    options.onProgress?.({ done: report.skipped + report.updated + report.failed, total, updated: report.updated, skipped: report.skipped });
  progress();

  if (dryRun) {
    report.updated = pending.length;
    report.batches = Math.ceil(pending.length / BATCH_SIZE);
    report.seconds = (performance.now() - started) / 1000;
    return report;
  }

  if (pending.length > 0) {
    await ensureSchema(client, model, () => report.requests++, report.schema);
  }

  // Several batches in flight (the client's limiter keeps the portal under its rate limit). Each batch's
  // store update commits on its own; the checkpoint names the end of the contiguous finished prefix.
  const batches: BatchUpdateInput[][] = [];
  for (let start = 0; start < pending.length; start += BATCH_SIZE) batches.push(pending.slice(start, start + BATCH_SIZE));
  const finished: boolean[] = batches.map(() => false);
  let prefix = -1;
  let next = 0;
  let stop = false;
  let commits: Promise<void> = Promise.resolve();
  const worker = async (): Promise<void> => {
    while (!stop && next < batches.length) {
      if (options.signal?.aborted) {
        stop = true;
        break;
      }
      const index = next++;
      const batch = batches[index]!;
      report.requests++;
      let result: unknown;
      try {
        result = await client.batchUpdate('contacts', batch);
      } catch (error) {
        stop = true;
        throw error;
      }
      const failed = new Set(failedIdsOf(result));
      const written = batch.filter((input) => !failed.has(input.id));
      const commit = commits.then(async () => {
        finished[index] = true;
        while (finished[prefix + 1]) prefix++;
        const lastId = prefix >= 0 ? batches[prefix]!.at(-1)!.id : (resumeAfter ?? '');
        await store.transaction(async () => {
          if (written.length) await store.mergeContactProperties(written);
          await store.setState(CHECKPOINT_KEY, { modelId: id, lastId, complete: false } satisfies Checkpoint);
        });
      });
      commits = commit.catch(() => {});
      await commit;
      report.batches++;
      report.updated += written.length;
      report.failed += failed.size;
      for (const f of failed) report.failedIds.push(f);
      progress();
    }
  };
  const workers = Array.from({ length: Math.min(options.concurrency ?? DEFAULT_CONCURRENCY, batches.length) }, worker);
  const settled = await Promise.allSettled(workers);
  const failure = settled.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) throw failure.reason;
  // Only cancellation leaves batches unsent without an error.
  if (next < batches.length) throw new WriteBackAborted(report);

  if (!checkpoint || checkpoint.modelId !== id || !checkpoint.complete || pending.length > 0) {
    await store.setState(CHECKPOINT_KEY, {
      modelId: id,
      lastId: ordered.length ? ordered[ordered.length - 1]!.id : '',
      complete: true,
    } satisfies Checkpoint);
  }
  report.seconds = (performance.now() - started) / 1000;
  return report;
}

/**
 * Right when the segment matches and the strategy/model match wherever we know them: a sync that does not
 * read those two properties must not force every contact to be rewritten.
 */
function isAlreadyRight(stored: Record<string, string | null | undefined>, wanted: Record<string, string>): boolean {
  for (const [key, value] of Object.entries(wanted)) {
    const have = stored[key];
    if (key === SEGMENT_PROPERTY) {
      if ((have ?? '') !== value) return false;
    } else if (have !== undefined && (have ?? '') !== value) {
      return false;
    }
  }
  return true;
}

function parseCheckpoint(value: unknown): Checkpoint | null {
  if (typeof value !== 'object' || value === null) return null;
  const v = value as Partial<Checkpoint>;
  if (typeof v.modelId !== 'string' || typeof v.lastId !== 'string') return null;
  return { modelId: v.modelId, lastId: v.lastId, complete: v.complete === true };
}

/** Thrown when a run is cancelled between batches; the report says how far it got. */
export class WriteBackAborted extends Error {
  constructor(readonly report: WriteBackReport) {
    super(`write-back cancelled after ${report.batches} batches (${report.updated} contacts updated); run it again to resume`);
    this.name = 'WriteBackAborted';
  }
}
