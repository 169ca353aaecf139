/**
 * The worker thread that owns an embedded PGlite (connector/db/pglite.ts starts it). PGlite runs
 * PostgreSQL in WebAssembly on the thread that calls it: in the worker, parsing, planning and writing
 * pages of records no longer hold up the thread that serves HTTP and talks to HubSpot.
 *
 * Protocol (one message port, requests answered by id): `open`, `query` / `exec` (optionally inside a
 * transaction `tx`), `begin` (answers once the transaction holds PGlite), `end` (commit or roll back;
 * answers when it is over) and `close`. Errors travel as their name, message and own fields (PostgreSQL's
 * `code`, `detail`, ...).
 */
import { parentPort } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';

export type WorkerRequest =
  | { id: number; op: 'open'; dataDir?: string }
  | { id: number; op: 'query'; sql: string; params: unknown[]; tx?: number }
  | { id: number; op: 'exec'; sql: string; tx?: number }
  | { id: number; op: 'begin' }
  | { id: number; op: 'end'; tx: number; commit: boolean }
  | { id: number; op: 'close' };

export interface SerializedError {
  name: string;
  message: string;
  fields: Record<string, unknown>;
}

export type WorkerReply =
  | { id: number; ok: true; rows?: unknown[]; affectedRows?: number; tx?: number }
  | { id: number; ok: false; error: SerializedError };

/** What a thrown value keeps on its way to the other thread. */
export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e), fields: {} };
  const fields: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(e)) {
    if (value === undefined || typeof value === 'function') continue;
    if (typeof value === 'object' && value !== null) continue; // PGlite's query/params echo: not needed, may not clone
    fields[key] = value;
  }
  return { name: e.name, message: e.message, fields };
}

/** Thrown inside PGlite's transaction callback to make it roll back. */
class RollBack extends Error {}

interface OpenTx {
  tx: Transaction;
  finish: (commit: boolean) => void;
}

const port = parentPort;
if (port) {
  let db: PGlite | null = null;
  const open = new Map<number, OpenTx>();
  let nextTx = 1;
  /** `end` requests waiting for their transaction to be over, by transaction id. */
  const ending = new Map<number, number>();
  const reply = (message: WorkerReply): void => port.postMessage(message);
  const fail = (id: number, e: unknown): void => reply({ id, ok: false, error: serializeError(e) });
  const ready = (): PGlite => {
    if (!db) throw new Error('the database is not open');
    return db;
  };
  const target = (tx: number | undefined): Transaction | PGlite => {
    if (tx === undefined) return ready();
    const t = open.get(tx);
    if (!t) throw new Error(`transaction ${tx} is not open`);
    return t.tx;
  };

  port.on('message', (m: WorkerRequest) => {
    switch (m.op) {
      case 'open': {
        const pg = m.dataDir === undefined ? new PGlite() : new PGlite(m.dataDir);
        pg.waitReady.then(
          () => {
            db = pg;
            reply({ id: m.id, ok: true });
          },
          (e: unknown) => fail(m.id, e),
        );
        return;
      }
      case 'query': {
        let run: Promise<{ rows: unknown[]; affectedRows?: number }>;
        try {
          run = target(m.tx).query(m.sql, m.params);
        } catch (e) {
          fail(m.id, e);
          return;
        }
        run.then(
          (res) => reply({ id: m.id, ok: true, rows: res.rows, affectedRows: res.affectedRows ?? 0 }),
          (e: unknown) => fail(m.id, e),
        );
        return;
      }
      case 'exec': {
        let run: Promise<unknown>;
        try {
          run = target(m.tx).exec(m.sql);
        } catch (e) {
          fail(m.id, e);
          return;
        }
        run.then(
          () => reply({ id: m.id, ok: true }),
          (e: unknown) => fail(m.id, e),
        );
        return;
      }
      case 'begin': {
        const txId = nextTx++;
        let began = false;
        let pg: PGlite;
        try {
          pg = ready();
        } catch (e) {
          fail(m.id, e);
          return;
        }
        // PGlite serialises transactions itself: the callback starts when this one holds the database.
        pg.transaction(
          (tx) =>
            new Promise<void>((resolve, reject) => {
              began = true;
              open.set(txId, { tx, finish: (commit) => (commit ? resolve() : reject(new RollBack('rolled back'))) });
              reply({ id: m.id, ok: true, tx: txId });
            }),
        ).then(
          () => settle(txId, null),
          (e: unknown) => {
            if (!began) fail(m.id, e);
            else settle(txId, e instanceof RollBack ? null : e);
          },
        );
        return;
      }
      case 'end': {
        const t = open.get(m.tx);
        if (!t) {
          fail(m.id, new Error(`transaction ${m.tx} is not open`));
          return;
        }
        ending.set(m.tx, m.id);
        t.finish(m.commit);
        return;
      }
      case 'close': {
        const pg = db;
        db = null;
        (pg ? pg.close() : Promise.resolve()).then(
          () => reply({ id: m.id, ok: true }),
          (e: unknown) => fail(m.id, e),
        );
        return;
      }
    }
  });

  function settle(txId: number, error: unknown): void {
    open.delete(txId);
    const id = ending.get(txId);
    ending.delete(txId);
    if (id === undefined) return;
    if (error === null) reply({ id, ok: true });
    else fail(id, error);
  }
}
