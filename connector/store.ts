/**
 * The local store: a copy of each portal's contacts, deals and contact->deal associations, plus sync
 * checkpoints. It runs on embedded PGlite by default (data in `<dataDir>`, or in memory for tests) and on
 * a PostgreSQL server when given `databaseUrl` (DATABASE_URL): the same migrations and statements on both
 * (connector/db).
 *
 * Every method is scoped to one portal. `transaction(fn)` runs `fn` so that the store's own methods,
 * called inside it (directly or through the store passed to `fn`), commit or roll back together: a page
 * of records and its checkpoint are written as one.
 */
import type { CrmRecord } from '../src/types.js';
import { openDatabase, type Database } from './db/database.js';
import { migrate, type Migration } from './db/migrate.js';

/** A record as the store keeps it. `updatedAt` / `archived` are optional for callers that only patch properties. */
export interface StoredRecord {
  id: string;
  properties: Record<string, string | null | undefined>;
  updatedAt?: string | null;
  archived?: boolean;
}

export type ObjectTable = 'contacts' | 'deals';

export interface UpsertOptions {
  /** Sync generation that saw these records (mark-and-sweep); other writers leave it unchanged. */
  generation?: number;
}

/** Numbered migrations (ledger table `migrations`); never edit a released one, add the next number. */
const MIGRATIONS: Migration[] = [
  {
    id: 1,
    name: 'initial tables',
    sql: `
      CREATE TABLE contacts (
        portal_id text NOT NULL,
        id text NOT NULL,
        properties jsonb NOT NULL,
        updated_at timestamptz,
        archived boolean NOT NULL DEFAULT false,
        generation bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (portal_id, id)
      );
      CREATE TABLE deals (
        portal_id text NOT NULL,
        id text NOT NULL,
        properties jsonb NOT NULL,
        updated_at timestamptz,
        archived boolean NOT NULL DEFAULT false,
        generation bigint NOT NULL DEFAULT 0,
        PRIMARY KEY (portal_id, id)
      );
      CREATE TABLE associations (
        portal_id text NOT NULL,
        contact_id text NOT NULL,
        deal_id text NOT NULL,
        PRIMARY KEY (portal_id, contact_id, deal_id)
      );
      CREATE INDEX associations_by_deal ON associations (portal_id, deal_id);
      CREATE TABLE sync_state (
        portal_id text NOT NULL,
        key text NOT NULL,
        value jsonb NOT NULL,
        PRIMARY KEY (portal_id, key)
      );
      CREATE TABLE kv (
        key text PRIMARY KEY,
        value jsonb NOT NULL
      );
    `,
  },
];

/** Last write wins within one page: ON CONFLICT cannot touch the same row twice in one statement. */
function dedupe<T extends { id: string }>(records: readonly T[]): T[] {
  const byId = new Map<string, T>();
  for (const r of records) byId.set(String(r.id), r);
  return [...byId.values()];
}

function toIso(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

/** Shared by every portal view of one database. */
interface Shared {
  db: Database;
  /** The store opened the database, so closing the store closes it. */
  ownsDb: boolean;
  closed: boolean;
}

export interface OpenStoreOptions {
  /** Directory for the embedded database's files; undefined keeps everything in memory. */
  dataDir?: string;
  portalId: string | number;
  /** postgres:// URL (DATABASE_URL): use that server instead of the embedded database; `dataDir` is then unused. */
  databaseUrl?: string;
  /** With `databaseUrl`: the schema for the tables (default: the server's search_path, normally public). */
  schema?: string;
  /** An open database to use (shared with other stores); the store then leaves closing it to the caller. */
  database?: Database;
}

export async function openStore(options: OpenStoreOptions): Promise<Store> {
  const owns = options.database === undefined;
  const db =
    options.database ??
    (options.databaseUrl !== undefined
      ? await openDatabase(options.schema === undefined ? { url: options.databaseUrl } : { url: options.databaseUrl, schema: options.schema })
      : await openDatabase(options.dataDir === undefined ? {} : { dataDir: options.dataDir }));
  try {
    await migrate(db, 'migrations', MIGRATIONS);
  } catch (error) {
    if (owns) await db.close().catch(() => {});
    throw error;
  }
  return new Store({ db, ownsDb: owns, closed: false }, String(options.portalId));
}

export class Store {
  readonly portalId: string;
  private readonly shared: Shared;

  /** Use `openStore()`; `withPortal()` gives another portal's view of the same database. */
  constructor(shared: Shared, portalId: string) {
    this.shared = shared;
    this.portalId = portalId;
  }

  withPortal(portalId: string | number): Store {
    return new Store(this.shared, String(portalId));
  }

  /** The underlying database (the marketplace tables live there too), for diagnostics and benchmarks. */
  get db(): Database {
    return this.shared.db;
  }

  /** Queries join the current transaction by themselves (connector/db). */
  private get q(): Database {
    return this.shared.db;
  }

  /**
   * Runs `fn` in one transaction: the store's methods called inside it (on this store or the one passed
   * in) join it. Nested calls join the outer transaction.
   */
  async transaction<T>(fn: (store: Store) => Promise<T>): Promise<T> {
    return this.shared.db.transaction(() => fn(this));
  }

  async close(): Promise<void> {
    if (this.shared.closed) return;
    this.shared.closed = true;
    if (this.shared.ownsDb) await this.shared.db.close();
  }

  // ---- Records --------------------------------------------------------------------------------

  upsertContacts(records: readonly StoredRecord[], options: UpsertOptions = {}): Promise<number> {
    return this.upsert('contacts', records, options);
  }

  upsertDeals(records: readonly StoredRecord[], options: UpsertOptions = {}): Promise<number> {
    return this.upsert('deals', records, options);
  }

  /** One statement per page: the page travels as one jsonb array and is unpacked by jsonb_to_recordset. */
  private async upsert(table: ObjectTable, records: readonly StoredRecord[], options: UpsertOptions): Promise<number> {
    if (records.length === 0) return 0;
    const rows = dedupe(records).map((r) => ({
      id: String(r.id),
      properties: r.properties,
      updated_at: r.updatedAt ?? null,
      archived: r.archived ?? null,
    }));
    // Patching writers (write-back) send no updatedAt / archived / generation: keep what is stored.
    await this.q.query(
      `INSERT INTO ${table} (portal_id, id, properties, updated_at, archived, generation)
       SELECT $1, r.id, r.properties, r.updated_at, coalesce(r.archived, false), coalesce($3::bigint, 0)
       FROM jsonb_to_recordset($2::jsonb) AS r(id text, properties jsonb, updated_at timestamptz, archived boolean)
       ON CONFLICT (portal_id, id) DO UPDATE SET
         properties = EXCLUDED.properties,
         updated_at = coalesce(EXCLUDED.updated_at, ${table}.updated_at),
         archived = EXCLUDED.archived,
         generation = coalesce($3::bigint, ${table}.generation)`,
      [this.portalId, JSON.stringify(rows), options.generation ?? null],
    );
    return rows.length;
  }

  /** Merges properties into stored contacts (e.g. after write-back); unknown ids are ignored. */
  async mergeContactProperties(updates: readonly { id: string; properties: Record<string, string | null> }[]): Promise<void> {
    if (updates.length === 0) return;
    await this.q.query(
      `UPDATE contacts AS c SET properties = c.properties || u.properties
       FROM jsonb_to_recordset($2::jsonb) AS u(id text, properties jsonb)
       WHERE c.portal_id = $1 AND c.id = u.id`,
      [this.portalId, JSON.stringify(dedupe(updates))],
    );
  }

  async deleteContacts(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const list = JSON.stringify(ids.map(String));
    await this.q.query(
      'DELETE FROM associations WHERE portal_id = $1 AND contact_id IN (SELECT jsonb_array_elements_text($2::jsonb))',
      [this.portalId, list],
    );
    const res = await this.q.query('DELETE FROM contacts WHERE portal_id = $1 AND id IN (SELECT jsonb_array_elements_text($2::jsonb))', [this.portalId, list]);
    return res.affectedRows ?? 0;
  }

  async deleteDeals(ids: readonly string[]): Promise<number> {
    if (ids.length === 0) return 0;
    const list = JSON.stringify(ids.map(String));
    await this.q.query(
      'DELETE FROM associations WHERE portal_id = $1 AND deal_id IN (SELECT jsonb_array_elements_text($2::jsonb))',
      [this.portalId, list],
    );
    const res = await this.q.query('DELETE FROM deals WHERE portal_id = $1 AND id IN (SELECT jsonb_array_elements_text($2::jsonb))', [this.portalId, list]);
    return res.affectedRows ?? 0;
  }

  /**
   * Refreshes the planner's statistics of the record tables, after a bulk load such as a full sync.
   * PGlite never analyzes by itself (its `autovacuum` setting reads on, but its single-user backend starts
   * no autovacuum worker), so its planner keeps guessing from the tables' first pages: a full sync's sweep
   * over a million deals then probed the deals index once per association row, 30 s instead of under one.
   * PostgreSQL's autovacuum analyzes too, but later than the sweep that follows the load.
   */
  async analyze(): Promise<void> {
    await this.q.exec('ANALYZE contacts, deals, associations, sync_state');
  }

  /**
   * Makes the space of deleted and overwritten rows reusable, after a full sync rewrote every row. On
   * PGlite only, which has no autovacuum: without it the embedded store grows by the portal's whole size
   * on every full sync. PostgreSQL's autovacuum does this by itself; there it does nothing. Not inside a
   * transaction (VACUUM cannot run in one).
   */
  async vacuum(): Promise<void> {
    if (this.q.kind === 'pglite') await this.q.exec('VACUUM contacts, deals, associations, sync_state');
  }

  /** Deletes records a full sync of `generation` did not see (they were deleted or archived in HubSpot). */
  async sweep(table: ObjectTable, generation: number): Promise<number> {
    const column = table === 'contacts' ? 'contact_id' : 'deal_id';
    await this.q.query(
      `DELETE FROM associations a WHERE a.portal_id = $1 AND EXISTS (
         SELECT 1 FROM ${table} t WHERE t.portal_id = a.portal_id AND t.id = a.${column} AND t.generation <> $2)`,
      [this.portalId, generation],
    );
    const res = await this.q.query(`DELETE FROM ${table} WHERE portal_id = $1 AND generation <> $2`, [this.portalId, generation]);
    return res.affectedRows ?? 0;
  }

  async allContacts(): Promise<CrmRecord[]> {
    return this.all('contacts');
  }

  async allDeals(): Promise<CrmRecord[]> {
    return this.all('deals');
  }

  private async all(table: ObjectTable): Promise<CrmRecord[]> {
    const res = await this.q.query<CrmRecord>(
      `SELECT id, properties FROM ${table} WHERE portal_id = $1 AND NOT archived ORDER BY length(id), id COLLATE "C"`,
      [this.portalId],
    );
    return res.rows;
  }

  /** Full stored rows (with updatedAt and archived), for diagnostics and tests. */
  async records(table: ObjectTable): Promise<Required<StoredRecord>[]> {
    const res = await this.q.query<{ id: string; properties: Record<string, string | null>; updated_at: unknown; archived: boolean }>(
      `SELECT id, properties, updated_at, archived FROM ${table} WHERE portal_id = $1 ORDER BY length(id), id COLLATE "C"`,
      [this.portalId],
    );
    return res.rows.map((r) => ({ id: r.id, properties: r.properties, updatedAt: toIso(r.updated_at), archived: r.archived }));
  }

  async getContact(id: string): Promise<CrmRecord | null> {
    const res = await this.q.query<CrmRecord>('SELECT id, properties FROM contacts WHERE portal_id = $1 AND id = $2', [this.portalId, String(id)]);
    return res.rows[0] ?? null;
  }

  async getDeal(id: string): Promise<CrmRecord | null> {
    const res = await this.q.query<CrmRecord>('SELECT id, properties FROM deals WHERE portal_id = $1 AND id = $2', [this.portalId, String(id)]);
    return res.rows[0] ?? null;
  }

  async count(table: ObjectTable | 'associations'): Promise<number> {
    const res = await this.q.query<{ n: number | string }>(`SELECT count(*)::int AS n FROM ${table} WHERE portal_id = $1`, [this.portalId]);
    return Number(res.rows[0]?.n ?? 0);
  }

  // ---- Associations ---------------------------------------------------------------------------

  /** Replaces the deal lists of the given contacts (a contact mapped to [] loses all its deals). */
  async replaceAssociations(map: ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>): Promise<void> {
    const entries: [string, readonly string[]][] = map instanceof Map ? [...map.entries()] : Object.entries(map);
    if (entries.length === 0) return;
    const contactIds = JSON.stringify(entries.map(([c]) => String(c)));
    const pairs: { c: string; d: string }[] = [];
    for (const [c, deals] of entries) for (const d of new Set(deals)) pairs.push({ c: String(c), d: String(d) });
    await this.q.query(
      'DELETE FROM associations WHERE portal_id = $1 AND contact_id IN (SELECT jsonb_array_elements_text($2::jsonb))',
      [this.portalId, contactIds],
    );
    if (pairs.length === 0) return;
    await this.q.query(
      `INSERT INTO associations (portal_id, contact_id, deal_id)
       SELECT $1, p.c, p.d FROM jsonb_to_recordset($2::jsonb) AS p(c text, d text)
       ON CONFLICT DO NOTHING`,
      [this.portalId, JSON.stringify(pairs)],
    );
  }

  /**
   * Replaces the contact lists of the given deals (incremental sync: a new or changed deal and the
   * contacts HubSpot now associates it with). A deal mapped to [] loses all its contacts.
   */
  async replaceDealAssociations(map: ReadonlyMap<string, readonly string[]> | Readonly<Record<string, readonly string[]>>): Promise<void> {
    const entries: [string, readonly string[]][] = map instanceof Map ? [...map.entries()] : Object.entries(map);
    if (entries.length === 0) return;
    const pairs: { c: string; d: string }[] = [];
    for (const [d, contacts] of entries) for (const c of new Set(contacts)) pairs.push({ c: String(c), d: String(d) });
    await this.q.query(
      'DELETE FROM associations WHERE portal_id = $1 AND deal_id IN (SELECT jsonb_array_elements_text($2::jsonb))',
      [this.portalId, JSON.stringify(entries.map(([d]) => String(d)))],
    );
    if (pairs.length === 0) return;
    await this.q.query(
      `INSERT INTO associations (portal_id, contact_id, deal_id)
       SELECT $1, p.c, p.d FROM jsonb_to_recordset($2::jsonb) AS p(c text, d text)
       ON CONFLICT DO NOTHING`,
      [this.portalId, JSON.stringify(pairs)],
    );
  }

  /** contact id -> associated deal ids (only contacts with at least one deal). */
  async associations(): Promise<Record<string, string[]>> {
    const res = await this.q.query<{ contact_id: string; deal_id: string }>(
      'SELECT contact_id, deal_id FROM associations WHERE portal_id = $1 ORDER BY contact_id COLLATE "C", length(deal_id), deal_id COLLATE "C"',
      [this.portalId],
    );
    const out: Record<string, string[]> = {};
    for (const r of res.rows) (out[r.contact_id] ??= []).push(r.deal_id);
    return out;
  }

  // ---- State ----------------------------------------------------------------------------------

  /** Per-portal state (sync checkpoints, models); undefined when never set. */
  async getState<T = unknown>(key: string): Promise<T | undefined> {
    const res = await this.q.query<{ value: T }>('SELECT value FROM sync_state WHERE portal_id = $1 AND key = $2', [this.portalId, key]);
    return res.rows.length === 0 ? undefined : (res.rows[0] as { value: T }).value;
  }

  async setState(key: string, value: unknown): Promise<void> {
    if (value === undefined) {
      await this.deleteState(key);
      return;
    }
    await this.q.query(
      `INSERT INTO sync_state (portal_id, key, value) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (portal_id, key) DO UPDATE SET value = EXCLUDED.value`,
      [this.portalId, key, JSON.stringify(value)],
    );
  }

  async deleteState(key: string): Promise<void> {
    await this.q.query('DELETE FROM sync_state WHERE portal_id = $1 AND key = $2', [this.portalId, key]);
  }

  /** Process-wide key/value (not per portal). */
  async getKv<T = unknown>(key: string): Promise<T | undefined> {
    const res = await this.q.query<{ value: T }>('SELECT value FROM kv WHERE key = $1', [key]);
    return res.rows.length === 0 ? undefined : (res.rows[0] as { value: T }).value;
  }

  async setKv(key: string, value: unknown): Promise<void> {
    await this.q.query(
      'INSERT INTO kv (key, value) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value',
      [key, JSON.stringify(value)],
    );
  }
}
