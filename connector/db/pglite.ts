/**
 * `Database` over PGlite: embedded PostgreSQL in WebAssembly, one connection, in memory or in a directory.
 *
 * By default PGlite runs in a worker thread of its own (connector/db/pglite-worker.ts): PGlite works on
 * the thread that calls it, and a sync of a large portal writes a page of records every few milliseconds,
 * which in the main thread held up the HubSpot client and the HTTP server sharing it (bench: the sync's
 * thread was 70–83% busy at 100k contacts, more than half of it PGlite). `{ thread: 'main' }` keeps it in
 * the calling thread (no worker start-up; results are not copied between threads).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdir } from 'node:fs/promises';
import { Worker } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import type { Database, PgliteDatabaseOptions, Queryable, QueryResult } from './database.js';
import type { SerializedError, WorkerReply, WorkerRequest } from './pglite-worker.js';

/** What PgliteDatabase needs of PGlite's transaction object (PGlite's own, or the worker's proxy). */
interface PgliteTx {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
}

/** What PgliteDatabase needs of PGlite (PGlite itself, or `WorkerPglite`). */
interface PgliteLike extends PgliteTx {
  transaction<T>(fn: (tx: PgliteTx) => Promise<T>): Promise<T>;
  close(): Promise<void>;
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

  /** Use `openDatabase()` / `openPglite()`; this wraps a PGlite (or the worker's proxy) that is ready. */
  constructor(private readonly pglite: PgliteLike) {}

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
      const tx = new Tx(raw);
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

/** An Error rebuilt on this side from what the worker sent (name, message, PostgreSQL's fields). */
function rebuildError(e: SerializedError): Error {
  const error = new Error(e.message);
  error.name = e.name;
  Object.assign(error, e.fields);
  return error;
}

/** Distributes a request's fields minus its id (TypeScript's Omit does not distribute over a union). */
type Request = WorkerRequest extends infer R ? (R extends WorkerRequest ? Omit<R, 'id'> : never) : never;

/**
 * PGlite in a worker thread, with PGlite's query / exec / transaction / close surface. The worker keeps
 * the process alive only while a request is waiting for it, as an in-thread PGlite would: a store left
 * open does not hold the process after its work is done.
 */
class WorkerPglite implements PgliteLike {
  private readonly pending = new Map<number, { resolve: (reply: WorkerReply & { ok: true }) => void; reject: (e: Error) => void }>();
  private nextId = 1;
  private stopped: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (reply: WorkerReply) => {
      const waiting = this.pending.get(reply.id);
      if (!waiting) return;
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      if (reply.ok) waiting.resolve(reply);
      else waiting.reject(rebuildError(reply.error));
    });
    const stop = (error: Error): void => {
      this.stopped ??= error;
      for (const waiting of this.pending.values()) waiting.reject(this.stopped);
      this.pending.clear();
    };
    worker.on('error', (e) => stop(new Error(`the PGlite worker failed: ${e.message}`, { cause: e })));
    worker.on('exit', (code) => stop(new Error(`the PGlite worker stopped (exit code ${code})`)));
  }

  request(message: Request): Promise<WorkerReply & { ok: true }> {
    if (this.stopped) return Promise.reject(this.stopped);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id } as WorkerRequest);
    });
  }

  async query<T>(sql: string, params: unknown[] = [], tx?: number): Promise<{ rows: T[]; affectedRows: number }> {
    const reply = await this.request(tx === undefined ? { op: 'query', sql, params } : { op: 'query', sql, params, tx });
    return { rows: (reply.rows ?? []) as T[], affectedRows: reply.affectedRows ?? 0 };
  }

  async exec(sql: string, tx?: number): Promise<void> {
    await this.request(tx === undefined ? { op: 'exec', sql } : { op: 'exec', sql, tx });
  }

  async transaction<T>(fn: (tx: PgliteTx) => Promise<T>): Promise<T> {
    const { tx } = await this.request({ op: 'begin' });
    const id = tx!;
    const raw: PgliteTx = {
      query: <R>(sql: string, params?: unknown[]) => this.query<R>(sql, params, id),
      exec: (sql: string) => this.exec(sql, id),
    };
    let result: T;
    try {
      result = await fn(raw);
    } catch (e) {
      // Roll back, then report what went wrong in fn (not a failure to roll back a broken connection).
      await this.request({ op: 'end', tx: id, commit: false }).catch(() => undefined);
      throw e;
    }
    await this.request({ op: 'end', tx: id, commit: true });
    return result;
  }

  async close(): Promise<void> {
    try {
      if (!this.stopped) await this.request({ op: 'close' });
    } finally {
      this.stopped ??= new Error('the database is closed');
      await this.worker.terminate();
    }
  }
}

async function startWorker(dataDir: string | undefined): Promise<WorkerPglite> {
  // The worker inherits Node's flags, except under --input-type (code given with --eval or on stdin),
  // which a worker refuses; it then starts without any (a worker also refuses per-process flags such as
  // --max-old-space-size when they are given explicitly, so filtering would not do).
  const evalCode = process.execArgv.some((a) => a.startsWith('--input-type'));
  const worker = new Worker(new URL('./pglite-worker.js', import.meta.url), evalCode ? { execArgv: [] } : {});
  const pglite = new WorkerPglite(worker);
  try {
    await pglite.request(dataDir === undefined ? { op: 'open' } : { op: 'open', dataDir });
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  return pglite;
}

export async function openPglite(options: PgliteDatabaseOptions = {}): Promise<PgliteDatabase> {
  if (options.dataDir !== undefined) await mkdir(options.dataDir, { recursive: true });
  if ((options.thread ?? 'worker') === 'worker') return new PgliteDatabase(await startWorker(options.dataDir));
  const pglite = options.dataDir === undefined ? new PGlite() : new PGlite(options.dataDir);
  await pglite.waitReady;
  return new PgliteDatabase(pglite as unknown as PgliteLike);
}
