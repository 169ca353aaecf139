/**
 * `Database` over a PostgreSQL server with node-postgres: a pool for ordinary queries, a dedicated pooled
 * connection per transaction (BEGIN / COMMIT / ROLLBACK) and per `exclusive` section (a session advisory
 * lock, so migrations run once however many servers start together).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { Database, PostgresDatabaseOptions, Queryable, QueryResult } from './database.js';
import { redactUrl, schemaIdentifier } from './database.js';

const INT8_OID = 20;

/** bigint as PGlite returns it: a number when it is a safe integer, a BigInt beyond. */
function parseInt8(value: string): number | bigint {
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : BigInt(value);
}

const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text')) as pg.CustomTypesConfig['getTypeParser'],
};

type Client = pg.PoolClient;

function toResult<T>(res: pg.QueryResult): QueryResult<T> {
  return { rows: res.rows as T[], affectedRows: res.rowCount ?? 0 };
}

/** An open transaction on one connection; `finished` lets stray late queries fall back to the pool. */
class Tx implements Queryable {
  finished = false;
  constructor(private readonly client: Client) {}

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    return toResult<T>(await this.client.query(sql, params ? [...params] : []));
  }

  async exec(sql: string): Promise<void> {
    await this.client.query(sql);
  }
}

/**
 * Runs `fn` between BEGIN and COMMIT on `client` (ROLLBACK when it rejects). A connection whose ROLLBACK
 * failed is in an unknown state: `broken` is told, so it is discarded instead of going back to the pool.
 */
async function inTransaction<T>(client: Client, ambient: AsyncLocalStorage<Tx>, fn: (tx: Queryable) => Promise<T>, broken: (error: Error) => void): Promise<T> {
  const tx = new Tx(client);
  await client.query('BEGIN');
  try {
    const result = await ambient.run(tx, () => fn(tx));
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: unknown) => broken(rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError))));
    throw error;
  } finally {
    tx.finished = true;
  }
}

/** The `Database` handed to an `exclusive` section: every query on the connection that holds the lock. */
class LockedSession implements Database {
  readonly kind = 'postgres' as const;
  constructor(
    private readonly client: Client,
    private readonly ambient: AsyncLocalStorage<Tx>,
    private readonly broken: (error: Error) => void,
  ) {}

  private current(): Queryable {
    const tx = this.ambient.getStore();
    return tx && !tx.finished ? tx : new Tx(this.client);
  }

  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    return this.current().query<T>(sql, params);
  }

  exec(sql: string): Promise<void> {
    return this.current().exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const tx = this.ambient.getStore();
    if (tx && !tx.finished) return fn(tx);
    return inTransaction(this.client, this.ambient, fn, this.broken);
  }

  /** Already exclusive: nested sections run inline (advisory locks are re-entrant per session anyway). */
  exclusive<T>(_key: string, fn: (db: Database) => Promise<T>): Promise<T> {
    return fn(this);
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

export class PostgresDatabase implements Database {
  readonly kind = 'postgres' as const;
  private readonly ambient = new AsyncLocalStorage<Tx>();
  private closed = false;

  /** Use `openDatabase({ url })`. */
  constructor(readonly pool: pg.Pool) {}

  private current(): Queryable | null {
    const tx = this.ambient.getStore();
    return tx && !tx.finished ? tx : null;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    const tx = this.current();
    if (tx) return tx.query<T>(sql, params);
    return toResult<T>(await this.pool.query(sql, params ? [...params] : []));
  }

  async exec(sql: string): Promise<void> {
    const tx = this.current();
    if (tx) return tx.exec(sql);
    await this.pool.query(sql);
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const outer = this.current();
    if (outer) return fn(outer);
    return this.withClient((client, broken) => inTransaction(client, this.ambient, fn, broken));
  }

  async exclusive<T>(key: string, fn: (db: Database) => Promise<T>): Promise<T> {
    return this.withClient(async (client, broken) => {
      // hashtextextended gives the 64-bit key pg_advisory_lock wants; the prefix keeps clear of other apps.
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`smart-segments:${key}`]);
      try {
        return await fn(new LockedSession(client, this.ambient, broken));
      } finally {
        // Should the unlock fail, closing the connection ends the session and with it the lock.
        await client
          .query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`smart-segments:${key}`])
          .catch((error: unknown) => broken(error instanceof Error ? error : new Error(String(error))));
      }
    });
  }

  /** A pooled connection for `fn`; one that failed (connection error, failed ROLLBACK) is discarded, not reused. */
  private async withClient<T>(fn: (client: Client, broken: (error: Error) => void) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let failure: Error | undefined;
    const broken = (error: Error): void => {
      failure ??= error;
    };
    client.on('error', broken);
    try {
      return await fn(client, broken);
    } finally {
      client.off('error', broken);
      client.release(failure);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export async function openPostgres(options: PostgresDatabaseOptions): Promise<PostgresDatabase> {
  const where = redactUrl(options.url);
  let url: URL;
  try {
    url = new URL(options.url);
  } catch {
    throw new Error(`the PostgreSQL URL ${where} cannot be parsed`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw new Error(`${where} is not a postgres:// URL`);
  }
  const schema = options.schema === undefined ? undefined : schemaIdentifier(options.schema);
  const config: pg.PoolConfig = {
    connectionString: options.url,
    max: options.maxConnections ?? 10,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'smart-segments',
    types: typeParsers,
  };
  // Every connection of the pool starts in the schema (a startup parameter, so no query can run before it).
  if (schema !== undefined) config.options = `-c search_path=${schema}`;
  const pool = new pg.Pool(config);
  const onError = options.onError ?? ((error: Error) => process.stderr.write(`PostgreSQL (${where}): ${error.message}\n`));
  pool.on('error', onError);
  try {
    if (schema !== undefined) {
      await pool.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: unknown) => {
        // Two processes creating it at once: one loses the race, and the schema exists either way.
        if (!(error instanceof Error && 'code' in error && (error.code === '42P06' || error.code === '23505'))) throw error;
      });
    } else {
      await pool.query('SELECT 1');
    }
  } catch (error) {
    await pool.end().catch(() => {});
    throw new Error(`cannot use the PostgreSQL database at ${where}: ${describeError(error)}`, { cause: error });
  }
  return new PostgresDatabase(pool);
}
