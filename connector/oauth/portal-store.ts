/**
 * Installed portals and their OAuth tokens. Tokens are stored only as ciphertext from crypto.ts; the store
 * never sees a plaintext token. Two implementations: in memory (tests, the single-user demo) and PGlite
 * (pglite-store.ts), sharing the product store's database.
 */

export type PortalStatus = 'connected' | 'disconnected';

export interface PortalRecord {
  /** HubSpot's hub id, as a string. */
  id: string;
  status: PortalStatus;
  /** Ciphertext (crypto.ts `encrypt`, associated data `portal:<id>:access`). */
  accessToken: string;
  /** Ciphertext (associated data `portal:<id>:refresh`). */
  refreshToken: string;
  /** Epoch ms at which the access token expires. */
  expiresAt: number;
  scopes: string[];
  /** ISO time of the (latest) install. */
  installedAt: string;
  /** The HubSpot user who installed the app, when known. */
  installedBy: string | null;
  /** Why the portal is disconnected (shown to admins); null while connected. */
  disconnectedReason: string | null;
}

export interface SealedTokens {
  accessToken: string;
  refreshToken: string;
  expiresAt: number;
}

export interface PortalStore {
  get(id: string): Promise<PortalRecord | null>;
  /** Inserts or replaces the portal (an install or a re-install). */
  put(record: PortalRecord): Promise<void>;
  /** After a refresh; no-op for an unknown portal. */
  updateTokens(id: string, tokens: SealedTokens): Promise<void>;
  markDisconnected(id: string, reason: string): Promise<void>;
  list(): Promise<PortalRecord[]>;
  delete(id: string): Promise<void>;
}

const clone = (r: PortalRecord): PortalRecord => ({ ...r, scopes: [...r.scopes] });

export class MemoryPortalStore implements PortalStore {
  private readonly portals = new Map<string, PortalRecord>();

  get(id: string): Promise<PortalRecord | null> {
    const r = this.portals.get(String(id));
    return Promise.resolve(r ? clone(r) : null);
  }

  put(record: PortalRecord): Promise<void> {
    this.portals.set(record.id, clone(record));
    return Promise.resolve();
  }

  updateTokens(id: string, tokens: SealedTokens): Promise<void> {
    const r = this.portals.get(String(id));
    if (r) Object.assign(r, tokens, { status: 'connected', disconnectedReason: null });
    return Promise.resolve();
  }

  markDisconnected(id: string, reason: string): Promise<void> {
    const r = this.portals.get(String(id));
    if (r) Object.assign(r, { status: 'disconnected', disconnectedReason: reason });
    return Promise.resolve();
  }

  list(): Promise<PortalRecord[]> {
    return Promise.resolve([...this.portals.values()].map(clone).sort((a, b) => a.id.localeCompare(b.id)));
  }

  delete(id: string): Promise<void> {
    this.portals.delete(String(id));
    return Promise.resolve();
  }
}
