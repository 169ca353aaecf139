/**
 * Access tokens for installed portals: decrypts what the PortalStore holds, refreshes shortly before
 * expiry (and once after a 401), one refresh per portal at a time, and marks the portal disconnected with
 * a message an admin can act on when HubSpot refuses the refresh token (the app was uninstalled or the
 * grant revoked). A disconnected portal makes `getToken()` reject with `PortalDisconnectedError`; nothing
 * here throws anything else for an expected HubSpot answer.
 */
import { decrypt, DecryptionError, encrypt } from '../crypto.js';
import type { TokenProvider } from '../hubspot/token.js';
import type { OAuthAppConfig } from './config.js';
import type { PortalRecord, PortalStore } from './portal-store.js';
import { OAuthError, refreshTokens, type FetchLike, type TokenSet } from './tokens.js';

export class PortalDisconnectedError extends Error {
  constructor(readonly portalId: string, readonly reason: string) {
    super(`HubSpot portal ${portalId} is disconnected: ${reason}`);
    this.name = 'PortalDisconnectedError';
  }
}

export const accessAad = (portalId: string): string => `portal:${portalId}:access`;
export const refreshAad = (portalId: string): string => `portal:${portalId}:refresh`;

/** Seals a fresh token set for the store. */
export function sealTokens(key: Buffer, portalId: string, t: TokenSet): { accessToken: string; refreshToken: string; expiresAt: number } {
  return {
    accessToken: encrypt(key, t.accessToken, accessAad(portalId)),
    refreshToken: encrypt(key, t.refreshToken, refreshAad(portalId)),
    expiresAt: t.expiresAt,
  };
}

export interface PortalTokensOptions {
  config: OAuthAppConfig;
  store: PortalStore;
  /** The 32-byte key (crypto.ts `encryptionKeyFromEnv`). */
  key: Buffer;
  /** Refresh this long before expiry; default 5 minutes. */
  refreshSkewMs?: number;
  now?: () => number;
  fetch?: FetchLike;
  /** Log lines (never contain a token). */
  log?: (line: string) => void;
}

export const UNREADABLE_MESSAGE =
  'The stored HubSpot tokens cannot be decrypted (TOKEN_ENCRYPTION_KEY changed since the install). Restore the key, or install Smart Segments again.';

export const UNINSTALLED_MESSAGE =
  'HubSpot refused the refresh token (the app was uninstalled or its access revoked). An admin must install Smart Segments again.';

export class PortalTokens {
  private readonly inflight = new Map<string, Promise<string>>();
  private readonly now: () => number;
  private readonly skew: number;

  constructor(private readonly options: PortalTokensOptions) {
    this.now = options.now ?? Date.now;
    this.skew = options.refreshSkewMs ?? 5 * 60_000;
  }

  /** The `TokenProvider` the HubSpot client uses for one portal. */
  provider(portalId: string | number): TokenProvider {
    const id = String(portalId);
    return {
      getToken: () => this.getToken(id),
      onUnauthorized: async () => {
        try {
          await this.refresh(id, true);
          return true;
        } catch {
          // Already recorded (disconnected) or logged (transient); the client reports UNAUTHORIZED.
          return false;
        }
      },
    };
  }

  /** A valid access token, refreshed first when it expires within the skew. */
  async getToken(portalId: string): Promise<string> {
    const p = await this.load(portalId);
    if (p.expiresAt - this.skew > this.now()) return this.open(portalId, p.accessToken, accessAad(portalId));
    return this.refresh(portalId, false);
  }

  /** Decrypts; a value that no longer opens disconnects the portal with a message naming the key. */
  private async open(portalId: string, sealed: string, aad: string): Promise<string> {
    try {
      return decrypt(this.options.key, sealed, aad);
    } catch (e) {
      if (!(e instanceof DecryptionError)) throw e;
      await this.options.store.markDisconnected(portalId, UNREADABLE_MESSAGE);
      this.options.log?.(`oauth: portal ${portalId} disconnected: ${e.message}`);
      throw new PortalDisconnectedError(portalId, UNREADABLE_MESSAGE);
    }
  }

  /** Single-flight per portal: concurrent callers share one refresh request. */
  refresh(portalId: string, force: boolean): Promise<string> {
    const running = this.inflight.get(portalId);
    if (running) return running;
    const job = this.doRefresh(portalId, force).finally(() => this.inflight.delete(portalId));
    this.inflight.set(portalId, job);
    return job;
  }

  private async load(portalId: string): Promise<PortalRecord> {
    const p = await this.options.store.get(portalId);
    if (!p) throw new PortalDisconnectedError(portalId, 'Smart Segments is not installed in this portal.');
    if (p.status === 'disconnected') throw new PortalDisconnectedError(portalId, p.disconnectedReason ?? UNINSTALLED_MESSAGE);
    return p;
  }

  private async doRefresh(portalId: string, force: boolean): Promise<string> {
    const { key, config, store, log } = this.options;
    const p = await this.load(portalId);
    // Another process (or an earlier caller) may have refreshed already.
    if (!force && p.expiresAt - this.skew > this.now()) return this.open(portalId, p.accessToken, accessAad(portalId));
    const refreshToken = await this.open(portalId, p.refreshToken, refreshAad(portalId));
    let fresh: TokenSet;
    try {
      fresh = await refreshTokens(config, refreshToken, { now: this.now, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
    } catch (e) {
      if (e instanceof OAuthError && e.code === 'invalid_grant') {
        await store.markDisconnected(portalId, UNINSTALLED_MESSAGE);
        log?.(`oauth: portal ${portalId} disconnected: ${e.message}`);
        throw new PortalDisconnectedError(portalId, UNINSTALLED_MESSAGE);
      }
      log?.(`oauth: refreshing portal ${portalId} failed: ${e instanceof Error ? e.message : String(e)}`);
      // A transient failure inside the early-refresh margin: the current token still works for a while.
      if (!force && p.expiresAt > this.now()) return this.open(portalId, p.accessToken, accessAad(portalId));
      throw e;
    }
    await store.updateTokens(portalId, sealTokens(key, portalId, fresh));
    log?.(`oauth: refreshed the access token of portal ${portalId}`);
    return fresh.accessToken;
  }
}
