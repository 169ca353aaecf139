/**
 * Everything the marketplace app adds to the product server, assembled behind one request handler:
 *
 *   GET  /oauth/install, GET /oauth/callback   install flow (install.ts)
 *   GET|POST /api/iframe-token                 short-lived explorer tokens for the card (iframe-token.ts)
 *   POST /webhooks                             CRM change events (../webhooks/handler.ts)
 *
 * With a database (the product store's PGlite: `store.db`) portals and the webhook ledger persist there
 * (migrations applied here); without one they live in memory. The iframe-token signing key is derived
 * from the token encryption key (HKDF), so a deployment has one secret to manage, not two.
 */
import { hkdfSync } from 'node:crypto';
import type { OAuthAppConfig } from './config.js';
import type { RouteHandler } from './http.js';
import { createIframeTokenHandler } from './iframe-token.js';
import { createInstallHandler } from './install.js';
import { applyMarketplaceMigrations, type SqlDatabase } from './migrations.js';
import { PglitePortalStore } from './pglite-store.js';
import { MemoryPortalStore, type PortalStore } from './portal-store.js';
import { PortalTokens } from './provider.js';
import type { FetchLike } from './tokens.js';
import { createWebhookHandler, type WebhookCallbacks } from '../webhooks/handler.js';
import { MemoryWebhookLedger, PgliteWebhookLedger, type WebhookLedger } from '../webhooks/ledger.js';

export interface MarketplaceOptions {
  config: OAuthAppConfig;
  /** TOKEN_ENCRYPTION_KEY, parsed (crypto.ts `encryptionKeyFromEnv`). */
  key: Buffer;
  /** The product store's database; omitted: in-memory portals and ledger. */
  db?: SqlDatabase;
  /** What webhook events turn into (sync, assign, write-back). */
  callbacks: WebhookCallbacks;
  /** The public origin HubSpot calls (APP_BASE_URL); default from each request's Host header. */
  publicBaseUrl?: string;
  onInstalled?: (portalId: string) => void | Promise<void>;
  now?: () => number;
  fetch?: FetchLike;
  log?: (line: string) => void;
}

export interface Marketplace {
  /** Mount in the server: resolves true when it answered the request. */
  handle: RouteHandler;
  portals: PortalStore;
  /** `tokens.provider(portalId)` is the HubSpot client's TokenProvider for an installed portal. */
  tokens: PortalTokens;
  ledger: WebhookLedger;
}

/** The key that signs iframe tokens: HKDF-SHA256 of the encryption key, for this purpose only. */
export function iframeTokenKey(key: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'smart-segments iframe token v1', 32));
}

export async function createMarketplace(options: MarketplaceOptions): Promise<Marketplace> {
  const { config, key, log } = options;
  const now = options.now ?? Date.now;
  if (options.db) await applyMarketplaceMigrations(options.db);
  const portals: PortalStore = options.db ? new PglitePortalStore(options.db) : new MemoryPortalStore();
  const ledger: WebhookLedger = options.db ? new PgliteWebhookLedger(options.db) : new MemoryWebhookLedger();
  const fetchOption = options.fetch ? { fetch: options.fetch } : {};
  const logOption = log ? { log } : {};
  const baseOption = options.publicBaseUrl ? { publicBaseUrl: options.publicBaseUrl } : {};
  const tokens = new PortalTokens({ config, store: portals, key, now, ...fetchOption, ...logOption });
  const handlers: RouteHandler[] = [
    createInstallHandler({ config, store: portals, key, now, ...fetchOption, ...logOption, ...(options.onInstalled ? { onInstalled: options.onInstalled } : {}) }),
    createIframeTokenHandler({ clientSecret: config.clientSecret, tokenSecret: iframeTokenKey(key), now, ...baseOption, ...logOption }),
    createWebhookHandler({ clientSecret: config.clientSecret, ledger, callbacks: options.callbacks, now, ...baseOption, ...logOption }),
  ];
  const handle: RouteHandler = async (req, res, url) => {
    for (const h of handlers) if (await h(req, res, url)) return true;
    return false;
  };
  return { handle, portals, tokens, ledger };
}
