/**
 * The marketplace tables (installed portals, webhook ledger) in the product store's database, PGlite or
 * PostgreSQL (connector/db). They follow connector/store.ts's pattern (numbered migrations, each applied
 * once in a transaction, under a lock on PostgreSQL) with their own ledger table, so neither numbering can
 * collide with the other. The server calls `applyMarketplaceMigrations(store.db)` once after `openStore()`.
 */
import type { Database } from '../db/database.js';
import { migrate, type Migration } from '../db/migrate.js';

/** The database the marketplace stores use (the name predates connector/db). */
export type SqlDatabase = Database;

/** Never edit a released migration; add the next number. */
const MIGRATIONS: Migration[] = [
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

export async function applyMarketplaceMigrations(db: Database): Promise<void> {
  await migrate(db, 'marketplace_migrations', MIGRATIONS);
}
