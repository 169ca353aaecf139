/**
 * Numbered migrations with a ledger table. Each migration runs once, in its own transaction, and the
 * whole check-and-apply runs under `exclusive`, so two servers starting on one PostgreSQL database never
 * apply the same migration twice. Never edit a released migration; add the next number.
 */
import type { Database } from './database.js';

export interface Migration {
  id: number;
  name: string;
  /** One or more statements, no parameters. */
  sql: string;
}

/** Applies the migrations `ledger` has not recorded yet, in id order; returns the ids applied now. */
export async function migrate(db: Database, ledger: string, migrations: readonly Migration[]): Promise<number[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(ledger)) throw new Error(`"${ledger}" is not a usable ledger table name`);
  return db.exclusive(`migrate:${ledger}`, async (session) => {
    await session.exec(`CREATE TABLE IF NOT EXISTS ${ledger} (
      id integer PRIMARY KEY,
      name text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set((await session.query<{ id: number }>(`SELECT id FROM ${ledger}`)).rows.map((r) => Number(r.id)));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.id - b.id)) {
      if (done.has(m.id)) continue;
      await session.transaction(async (tx) => {
        await tx.exec(m.sql);
        await tx.query(`INSERT INTO ${ledger} (id, name) VALUES ($1, $2)`, [m.id, m.name]);
      });
      applied.push(m.id);
    }
    return applied;
  });
}
