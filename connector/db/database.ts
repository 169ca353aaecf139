/**
 * One SQL surface for the two places the connector's data can live: embedded PGlite (the default, so
 * `npm start` needs nothing installed) and a PostgreSQL server (`DATABASE_URL`). The store, the
 * marketplace tables and their migrations are written once against this interface; both drivers return
 * `{ rows }` with the same JavaScript types (jsonb parsed, timestamptz as Date, bigint as a number when it
 * is a safe integer).
 *
 * Portable SQL: pass JSON as text and cast it (`$1::jsonb`); several statements only through `exec`
 * (no parameters); order text with `COLLATE "C"` when the order matters (servers differ in locale).
 */

export type DatabaseKind = 'pglite' | 'postgres';

export interface QueryResult<T> {
  rows: T[];
  /** Rows inserted, updated or deleted by the statement. */
  affectedRows?: number;
}

/** What a database and an open transaction share. */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>>;
  /** One or more statements without parameters (migrations, maintenance). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: DatabaseKind;
  /**
   * Runs `fn` in one transaction: commits when it resolves, rolls back when it rejects. Queries made on
   * this database anywhere inside `fn`'s async context (not only through `tx`) join the transaction, and
   * nested `transaction` calls join the outer one, so callers compose without passing `tx` around.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Runs `fn` while holding the lock named `key` against every process using the same database
   * (PostgreSQL: a session advisory lock on a dedicated connection, which `fn` receives; PGlite has one
   * process: calls with the same key run one after another).
   */
  exclusive<T>(key: string, fn: (db: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface PgliteDatabaseOptions {
  /** Directory for the database files; omitted keeps everything in memory. */
  dataDir?: string;
  /**
   * Where PGlite runs: in a worker thread of its own (default; its work does not hold up the calling
   * thread) or in the calling thread ('main').
   */
  thread?: 'worker' | 'main';
}

export interface PostgresDatabaseOptions {
  /** postgres://user:password@host:port/database */
  url: string;
  /**
   * Schema for every table (created when missing; `search_path` of each connection). Default: the
   * server's (normally `public`). Tests give each run its own.
   */
  schema?: string;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** Errors of idle pooled connections (server restart, network); default: written to stderr. */
  onError?: (error: Error) => void;
}

export type OpenDatabaseOptions = PgliteDatabaseOptions | PostgresDatabaseOptions;

/** Embedded PGlite for `{ dataDir }` or `{}`, PostgreSQL for `{ url }`. */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if ('url' in options) {
    // Loaded only when used: the embedded default never touches the pg driver.
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(options);
  }
  const { openPglite } = await import('./pglite.js');
  return openPglite(options);
}

/** A connection URL with its password masked, for messages and logs. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    return '(unparseable URL)';
  }
}

/** A quoted SQL identifier for a schema name we accept (letters, digits, underscore). */
export function schemaIdentifier(schema: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`"${schema}" is not a usable schema name (letters, digits and _ only, at most 63)`);
  }
  return `"${schema}"`;
}
