/** `Database` over PGlite: embedded PostgreSQL in WebAssembly, one connection, in memory or in a directory. */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { PGlite } from '@electric-sql/pglite';
import type { Database, PgliteDatabaseOptions, Queryable, QueryResult } from './database.js';

/** The part of PGlite's transaction object we use. */
interface PgliteTx {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

/** An open transaction; `finished` lets work that outlives it (a stray promise) fall back to the database. */
class Tx implements Queryable {
  finished = false;
  constructor(private readonly tx: PgliteTx) {}

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    const res = await this.tx.query<T>(sql, params ? [...params] : []);
    return { rows: res.rows, affectedRows: res.affectedRows ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    await this.tx.exec(sql);
  }
}

export class PgliteDatabase implements Database {
  readonly kind = 'pglite' as const;
  private readonly ambient = new AsyncLocalStorage<Tx>();
  private readonly locks = new Map<string, Promise<unknown>>();
  private closed = false;

  /** Use `openDatabase()` / `openPglite()`; this wraps a PGlite that is ready (`waitReady`). */
  constructor(readonly pglite: PGlite) {}

  private current(): Queryable | null {
    const tx = this.ambient.getStore();
    return tx && !tx.finished ? tx : null;
  }

  async query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<T>> {
    const tx = this.current();
    if (tx) return tx.query<T>(sql, params);
    const res = await this.pglite.query<T>(sql, params ? [...params] : []);
    return { rows: res.rows, affectedRows: res.affectedRows ?? 0 };
  }

  async exec(sql: string): Promise<void> {
    const tx = this.current();
    if (tx) return tx.exec(sql);
    await this.pglite.exec(sql);
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const outer = this.current();
    if (outer) return fn(outer);
    return this.pglite.transaction(async (raw) => {
      const tx = new Tx(raw as unknown as PgliteTx);
      try {
        return await this.ambient.run(tx, () => fn(tx));
      } finally {
        tx.finished = true;
      }
    });
  }

  /** One process owns a PGlite directory, so an in-process queue per key is the whole lock. */
  exclusive<T>(key: string, fn: (db: Database) => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(() => fn(this), () => fn(this));
    const settled = run.catch(() => undefined);
    this.locks.set(key, settled);
    void settled.then(() => {
      if (this.locks.get(key) === settled) this.locks.delete(key);
    });
    return run;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pglite.close();
  }
}

export async function openPglite(options: PgliteDatabaseOptions = {}): Promise<PgliteDatabase> {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  const pglite = options.dataDir === undefined ? new PGlite() : new PGlite(options.dataDir);
  await pglite.waitReady;
  return new PgliteDatabase(pglite);
}
