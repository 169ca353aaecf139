/**
 * The snapshot the connector serves and the widget caches: every contact's features in columns (one
 * array per field, not one object per contact, so a million contacts stay compact), with an `etag` that
 * is a hash of the contents. The last few snapshots of each portal keep a hash per row, so a client that
 * sends back an older etag gets only the rows that changed (`snapshotDelta`), or null when that etag is
 * unknown (then it refetches in full).
 */
import { createHash } from 'node:crypto';
import { extractFeatures } from '../src/features.js';
import type { CrmInput, FeatureConfig, Geocoder, Snapshot, SnapshotDelta } from '../src/types.js';

/** What the snapshot reads from the store. */
export interface SnapshotSource {
  allContacts(): Promise<CrmInput['contacts']>;
  allDeals(): Promise<CrmInput['deals']>;
  associations(): Promise<CrmInput['associations']>;
}

export interface BuildSnapshotOptions {
  portalId: string | number;
  featureConfig: FeatureConfig;
  geocoder?: Geocoder;
  /** ISO timestamp (the caller's clock). */
  generatedAt: string;
  /** Decimal places kept for feature values (compactness). Default 4. */
  decimals?: number;
}

/** Snapshots kept per portal for deltas. */
const HISTORY = 5;

interface HistoryEntry {
  etag: string;
  portalId: string;
  features: string[];
  rows: Map<string, string>;
}

const history = new Map<string, HistoryEntry[]>();
const latest = new Map<string, Snapshot>();

function round(v: number, decimals: number): number | null {
  if (!Number.isFinite(v)) return null;
  const f = 10 ** decimals;
  const r = Math.round(v * f) / f;
  return Object.is(r, -0) ? 0 : r;
}

function text(v: string | null | undefined): string {
  return v === null || v === undefined ? '' : String(v);
}

function rowOf(s: Snapshot, i: number): unknown[] {
  const w = s.features.length;
  return [s.ids[i], s.firstnames[i], s.lastnames[i], s.emails[i], s.cities[i], s.countries[i], s.values.slice(i * w, (i + 1) * w), s.nps[i], s.segments[i]];
}

function rowHash(s: Snapshot, i: number): string {
  return createHash('sha256').update(JSON.stringify(rowOf(s, i))).digest('base64url').slice(0, 16);
}

/** sha256 of the contents (everything but the etag and generatedAt), shortened. */
export function snapshotEtag(s: Omit<Snapshot, 'etag'>): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([s.portalId, s.asOf, s.features]));
  for (const column of [s.ids, s.firstnames, s.lastnames, s.emails, s.cities, s.countries, s.values, s.nps, s.segments]) {
    h.update('\u0000');
    h.update(JSON.stringify(column));
  }
  return h.digest('base64url').slice(0, 22);
}

/** Builds the portal's snapshot from the store and remembers it for deltas. */
export async function buildSnapshot(store: SnapshotSource, options: BuildSnapshotOptions): Promise<Snapshot> {
  const [contacts, deals, associations] = await Promise.all([store.allContacts(), store.allDeals(), store.associations()]);
  const { table } = extractFeatures({ contacts, deals, associations }, options.featureConfig, options.geocoder);
  const decimals = options.decimals ?? 4;
  const byId = new Map(contacts.map((c) => [String(c.id), c]));
  const n = table.ids.length;
  const body: Omit<Snapshot, 'etag'> = {
    kind: 'smart-segments-snapshot',
    version: 1,
    portalId: String(options.portalId),
    generatedAt: options.generatedAt,
    asOf: options.featureConfig.asOf,
    features: [...table.columns],
    ids: [...table.ids],
    firstnames: new Array<string>(n),
    lastnames: new Array<string>(n),
    emails: new Array<string>(n),
    cities: new Array<string>(n),
    countries: new Array<string>(n),
    values: Array.from(table.values, (v) => round(v, decimals)),
    nps: Array.from(table.nps ?? new Float64Array(n).fill(Number.NaN), (v) => round(v, 1)),
    segments: new Array<string>(n),
  };
  for (let i = 0; i < n; i++) {
    const p = byId.get(table.ids[i] as string)?.properties ?? {};
    body.firstnames[i] = text(p.firstname);
    body.lastnames[i] = text(p.lastname);
    body.emails[i] = text(p.email);
    body.cities[i] = text(p.city);
    body.countries[i] = text(p.country);
    body.segments[i] = text(p.smart_segment);
  }
  const snapshot: Snapshot = { ...body, etag: snapshotEtag(body) };
  remember(snapshot);
  return snapshot;
}

/** Records a snapshot (built here or loaded elsewhere) as its portal's latest, for deltas. */
export function remember(snapshot: Snapshot): void {
  const rows = new Map<string, string>();
  for (let i = 0; i < snapshot.ids.length; i++) rows.set(snapshot.ids[i] as string, rowHash(snapshot, i));
  const list = (history.get(snapshot.portalId) ?? []).filter((e) => e.etag !== snapshot.etag);
  list.push({ etag: snapshot.etag, portalId: snapshot.portalId, features: [...snapshot.features], rows });
  while (list.length > HISTORY) list.shift();
  history.set(snapshot.portalId, list);
  latest.set(snapshot.portalId, snapshot);
}

/**
 * The rows that changed between the snapshot with etag `since` and its portal's latest snapshot, or
 * null when `since` is not one of the last few (or the feature columns changed): refetch in full.
 */
export function snapshotDelta(since: string, portalId?: string | number): SnapshotDelta | null {
  const etag = since.replace(/^W\//, '').replace(/"/g, '');
  const portals = portalId === undefined ? [...history.keys()] : [String(portalId)];
  for (const p of portals) {
    const old = history.get(p)?.find((e) => e.etag === etag);
    const current = latest.get(p);
    if (!old || !current) continue;
    if (old.features.join('\u0000') !== current.features.join('\u0000')) return null;
    const w = current.features.length;
    const upserts: SnapshotDelta['upserts'] = {
      features: [...current.features],
      ids: [], firstnames: [], lastnames: [], emails: [], cities: [], countries: [], values: [], nps: [], segments: [],
    };
    const seen = new Set<string>();
    for (let i = 0; i < current.ids.length; i++) {
      const id = current.ids[i] as string;
      seen.add(id);
      if (old.rows.get(id) === rowHash(current, i)) continue;
      upserts.ids.push(id);
      upserts.firstnames.push(current.firstnames[i] ?? '');
      upserts.lastnames.push(current.lastnames[i] ?? '');
      upserts.emails.push(current.emails[i] ?? '');
      upserts.cities.push(current.cities[i] ?? '');
      upserts.countries.push(current.countries[i] ?? '');
      for (let j = 0; j < w; j++) upserts.values.push(current.values[i * w + j] ?? null);
      upserts.nps.push(current.nps[i] ?? null);
      upserts.segments.push(current.segments[i] ?? '');
    }
    const deletes = [...old.rows.keys()].filter((id) => !seen.has(id));
    return { kind: 'smart-segments-snapshot-delta', version: 1, since: etag, etag: current.etag, upserts, deletes };
  }
  return null;
}

/** Applies a delta to a snapshot (what the widget does; here for tests and tools). */
export function applyDelta(base: Snapshot, delta: SnapshotDelta): Omit<Snapshot, 'generatedAt'> & { generatedAt: string } {
  const w = base.features.length;
  const drop = new Set(delta.deletes);
  const up = new Map(delta.upserts.ids.map((id, k) => [id, k]));
  const out: Snapshot & { values: (number | null)[] } = {
    ...base, etag: delta.etag,
    ids: [], firstnames: [], lastnames: [], emails: [], cities: [], countries: [], values: [], nps: [], segments: [],
  };
  const push = (src: Omit<Snapshot, 'kind' | 'version' | 'etag' | 'portalId' | 'generatedAt' | 'asOf'>, i: number): void => {
    out.ids.push(src.ids[i] as string);
    out.firstnames.push(src.firstnames[i] ?? '');
    out.lastnames.push(src.lastnames[i] ?? '');
    out.emails.push(src.emails[i] ?? '');
    out.cities.push(src.cities[i] ?? '');
    out.countries.push(src.countries[i] ?? '');
    for (let j = 0; j < w; j++) out.values.push(src.values[i * w + j] ?? null);
    out.nps.push(src.nps[i] ?? null);
    out.segments.push(src.segments[i] ?? '');
  };
  for (let i = 0; i < base.ids.length; i++) {
    const id = base.ids[i] as string;
    if (drop.has(id)) continue;
    const k = up.get(id);
    if (k === undefined) push(base, i);
    else {
      push(delta.upserts, k);
      up.delete(id);
    }
  }
  for (const k of up.values()) push(delta.upserts, k);
  return out;
}

/** Forgets remembered snapshots (tests; a portal uninstall). */
export function forgetSnapshots(portalId?: string | number): void {
  if (portalId === undefined) {
    history.clear();
    latest.clear();
  } else {
    history.delete(String(portalId));
    latest.delete(String(portalId));
  }
}
