/**
 * The marketplace tables (installed portals, webhook ledger) in the product store's database. They follow
 * connector/store.ts's pattern (numbered migrations, each applied once in a transaction) with their own
 * ledger table, so neither numbering can collide with the other. The server calls
 * `applyMarketplaceMigrations(store.db)` once after `openStore()`.
 */

/** The part of PGlite the migrations and the PGlite-backed stores use. */
export interface SqlDatabase {
  query<T>(sql: string, params?: unknown[]): Promise<{ rows: T[]; affectedRows?: number }>;
  exec(sql: string): Promise<unknown>;
  transaction<T>(fn: (tx: { query: SqlDatabase['query']; exec: SqlDatabase['exec'] }) => Promise<T>): Promise<T>;
}

/** Never edit a released migration; add the next number. */
const MIGRATIONS: { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'portals and webhook ledger',
    sql: `
      CREATE TABLE oauth_portals (
        portal_id text PRIMARY KEY,
        status text NOT NULL CHECK (status IN ('connected', 'disconnected')),
        access_token text NOT NULL,
        refresh_token text NOT NULL,
        expires_at bigint NOT NULL,
        scopes jsonb NOT NULL,
        installed_at timestamptz NOT NULL,
        installed_by text,
        disconnected_reason text
      );
      CREATE TABLE webhook_events (
        portal_id text NOT NULL,
        event_id text NOT NULL,
        occurred_at bigint NOT NULL,
        PRIMARY KEY (portal_id, event_id)
      );
      CREATE INDEX webhook_events_by_time ON webhook_events (occurred_at);
      CREATE TABLE webhook_watermarks (
        portal_id text NOT NULL,
        object_key text NOT NULL,
        occurred_at bigint NOT NULL,
        deleted boolean NOT NULL DEFAULT false,
        PRIMARY KEY (portal_id, object_key)
      );
    `,
  },
];

export async function applyMarketplaceMigrations(db: SqlDatabase): Promise<void> {
  await db.exec(`CREATE TABLE IF NOT EXISTS marketplace_migrations (
    id integer PRIMARY KEY,
    name text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const done = new Set((await db.query<{ id: number }>('SELECT id FROM marketplace_migrations')).rows.map((r) => r.id));
  for (const m of MIGRATIONS) {
    if (done.has(m.id)) continue;
    await db.transaction(async (tx) => {
      await tx.exec(m.sql);
      await tx.query('INSERT INTO marketplace_migrations (id, name) VALUES ($1, $2)', [m.id, m.name]);
    });
  }
}
