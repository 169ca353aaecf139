/**
 * `PortalStore` in the product store's database, PGlite or PostgreSQL (connector/db; run
 * `applyMarketplaceMigrations` first). One row per portal, so installs of different portals never meet.
 */
import type { Database } from '../db/database.js';
import type { PortalRecord, PortalStore, SealedTokens } from './portal-store.js';

interface Row {
  portal_id: string;
  status: 'connected' | 'disconnected';
  access_token: string;
  refresh_token: string;
  expires_at: string | number | bigint;
  scopes: string[];
  installed_at: Date | string;
  installed_by: string | null;
  disconnected_reason: string | null;
}

function fromRow(r: Row): PortalRecord {
  return {
    id: r.portal_id,
    status: r.status,
    accessToken: r.access_token,
    refreshToken: r.refresh_token,
    expiresAt: Number(r.expires_at),
    scopes: r.scopes,
    installedAt: r.installed_at instanceof Date ? r.installed_at.toISOString() : new Date(r.installed_at).toISOString(),
    installedBy: r.installed_by,
    disconnectedReason: r.disconnected_reason,
  };
}

export class SqlPortalStore implements PortalStore {
  constructor(private readonly db: Database) {}

  async get(id: string): Promise<PortalRecord | null> {
    const res = await this.db.query<Row>('SELECT * FROM oauth_portals WHERE portal_id = $1', [String(id)]);
    return res.rows[0] ? fromRow(res.rows[0]) : null;
  }

  async put(r: PortalRecord): Promise<void> {
    await this.db.query(
      `INSERT INTO oauth_portals (portal_id, status, access_token, refresh_token, expires_at, scopes, installed_at, installed_by, disconnected_reason)
       VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9)
       ON CONFLICT (portal_id) DO UPDATE SET status = EXCLUDED.status, access_token = EXCLUDED.access_token,
         refresh_token = EXCLUDED.refresh_token, expires_at = EXCLUDED.expires_at, scopes = EXCLUDED.scopes,
         installed_at = EXCLUDED.installed_at, installed_by = EXCLUDED.installed_by, disconnected_reason = EXCLUDED.disconnected_reason`,
      [r.id, r.status, r.accessToken, r.refreshToken, r.expiresAt, JSON.stringify(r.scopes), r.installedAt, r.installedBy, r.disconnectedReason],
    );
  }

  async updateTokens(id: string, t: SealedTokens): Promise<void> {
    await this.db.query(
      `UPDATE oauth_portals SET access_token = $2, refresh_token = $3, expires_at = $4, status = 'connected', disconnected_reason = NULL
       WHERE portal_id = $1`,
      [String(id), t.accessToken, t.refreshToken, t.expiresAt],
    );
  }

  async markDisconnected(id: string, reason: string): Promise<void> {
    await this.db.query("UPDATE oauth_portals SET status = 'disconnected', disconnected_reason = $2 WHERE portal_id = $1", [String(id), reason]);
  }

  async list(): Promise<PortalRecord[]> {
    const res = await this.db.query<Row>('SELECT * FROM oauth_portals ORDER BY portal_id COLLATE "C"');
    return res.rows.map(fromRow);
  }

  async delete(id: string): Promise<void> {
    await this.db.query('DELETE FROM oauth_portals WHERE portal_id = $1', [String(id)]);
  }
}

/** The name from when PGlite was the only backend. */
export const PglitePortalStore = SqlPortalStore;
export type PglitePortalStore = SqlPortalStore;
