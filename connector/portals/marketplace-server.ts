/**
 * `serve` in marketplace mode (HUBSPOT_CLIENT_ID set): one server for every portal that installed the app.
 *
 *   GET  /oauth/install, /oauth/callback   install flow; on install the portal's full sync starts as a job
 *   GET|POST /api/iframe-token              short-lived explorer tokens for the record card (hubspot.fetch)
 *   POST /webhooks                          CRM changes -> that portal's re-sync, re-assign, write-back
 *   /api/*                                  the JSON API, scoped to the portal of the iframe token
 *   GET  /explorer, /list                   the widget pages, with a token, framed by HubSpot only
 *   /bundle/*, /demo/* (not HTML)           the browser bundle and styles
 *
 * Every `/api/*` request and page needs an iframe token (`?token=` or `Authorization: Bearer`), bound to
 * the portal and user it was issued for, and acts on that portal only. API answers carry a renewed token
 * (`X-Smart-Segments-Token`), so an explorer in use outlives the first token. Tokens never reach the log.
 */
import { mkdir } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import type { AppConfig, Env, Flags } from '../config.js';
import { EncryptionKeyError, parseEncryptionKey } from '../crypto.js';
import { createGeocoder } from '../geo.js';
import type { OAuthAppConfig } from '../oauth/config.js';
import { DEFAULT_API_BASE, DEFAULT_AUTHORIZE_BASE } from '../oauth/config.js';
import { sendPage } from '../oauth/http.js';
import { IframeTokenError, iframePageHeaders, issueIframeToken, verifyIframeToken } from '../oauth/iframe-token.js';
import type { IframeClaims } from '../oauth/iframe-token.js';
import { createMarketplace, iframeTokenKey } from '../oauth/marketplace.js';
import type { Marketplace } from '../oauth/marketplace.js';
import type { FetchLike } from '../oauth/tokens.js';
import { assertPortFree } from '../server/app.js';
import type { Output } from '../server/app.js';
import { HttpError, sendJson } from '../server/http.js';
import type { RunningServer } from '../server/server.js';
import { closeHttp, listenHttp, pageFile, serveAssets, staticRoots } from '../server/server.js';
import { serveFile } from '../server/static.js';
import { openStore } from '../store.js';
import type { OpenStoreOptions, Store } from '../store.js';
import type { WebhookCallbacks } from '../webhooks/handler.js';
import { PortalRegistry } from './registry.js';

/** The marketplace settings, validated once at start-up. */
export interface MarketplaceEnv {
  oauth: OAuthAppConfig;
  /** TOKEN_ENCRYPTION_KEY, 32 bytes. */
  key: Buffer;
  /** APP_BASE_URL without a trailing slash: what HubSpot calls (redirect, webhooks, hubspot.fetch). */
  appBaseUrl: string;
  /** HUBSPOT_API_BASE (CRM and token API). */
  apiBase: string;
}

function url(name: string, raw: string, opts: { httpsUnlessLoopback?: boolean } = {}): string {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not an absolute URL (e.g. https://segments.example.com)`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConfigError(name, `"${raw}" must be an http(s) URL`);
  if (u.search !== '' || u.hash !== '' || u.username !== '' || u.password !== '') {
    throw new ConfigError(name, `"${raw}" must be a plain base URL, without query, fragment or credentials`);
  }
  const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  if (opts.httpsUnlessLoopback && u.protocol !== 'https:' && !loopback) {
    throw new ConfigError(name, `"${raw}" must use https (HubSpot only redirects to and calls https URLs, except on localhost)`);
  }
  return u.toString().replace(/\/+$/, '');
}

/**
 * Reads HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, APP_BASE_URL and TOKEN_ENCRYPTION_KEY (and the optional
 * HUBSPOT_API_BASE, HUBSPOT_AUTHORIZE_BASE). A missing or malformed value throws ConfigError naming the
 * variable; secret values are never repeated in the message.
 */
export function marketplaceEnv(env: Env): MarketplaceEnv {
  const need = (name: string): string => {
    const v = env[name]?.trim();
    if (!v) throw new ConfigError(name, 'is not set (marketplace mode needs HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, APP_BASE_URL and TOKEN_ENCRYPTION_KEY)');
    return v;
  };
  const clientId = need('HUBSPOT_CLIENT_ID');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(clientId)) {
    throw new ConfigError('HUBSPOT_CLIENT_ID', 'is malformed: expected the app\'s client id (letters, digits and dashes) from the developer project\'s Auth tab');
  }
  const clientSecret = need('HUBSPOT_CLIENT_SECRET');
  if (!/^[\x21-\x7e]{8,256}$/.test(clientSecret)) {
    throw new ConfigError('HUBSPOT_CLIENT_SECRET', `is malformed: expected 8 to 256 printable characters without spaces, got ${clientSecret.length} characters`);
  }
  const appBaseUrl = url('APP_BASE_URL', need('APP_BASE_URL'), { httpsUnlessLoopback: true });
  let key: Buffer;
  try {
    key = parseEncryptionKey(env.TOKEN_ENCRYPTION_KEY);
  } catch (error) {
    if (error instanceof EncryptionKeyError) throw new ConfigError('TOKEN_ENCRYPTION_KEY', error.message.replace(/^TOKEN_ENCRYPTION_KEY /, ''));
    throw error;
  }
  const apiRaw = env.HUBSPOT_API_BASE?.trim();
  const apiBase = apiRaw ? url('HUBSPOT_API_BASE', apiRaw) : DEFAULT_API_BASE;
  const authRaw = env.HUBSPOT_AUTHORIZE_BASE?.trim();
  const authorizeBase = authRaw ? url('HUBSPOT_AUTHORIZE_BASE', authRaw) : DEFAULT_AUTHORIZE_BASE;
  return {
    oauth: { clientId, clientSecret, redirectUri: `${appBaseUrl}/oauth/callback`, authorizeBase, apiBase },
    key,
    appBaseUrl,
    apiBase,
  };
}

export interface MarketplaceAppOptions {
  env: Env;
  flags?: Flags;
  out?: Output;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Default: --port, PORT, then 3000. 0 picks a free port. */
  port?: number;
  rootDir?: string;
  /** Keep the store in memory (tests); default: DATABASE_URL, else `<data-dir>/store`. */
  memoryStore?: boolean;
  /** A PostgreSQL database (and schema) instead of DATABASE_URL (tests). */
  database?: { databaseUrl: string; schema?: string };
  /** Install SIGINT/SIGTERM handlers that close everything (the `serve` command; not tests). */
  handleSignals?: boolean;
  /** Token API calls (tests). */
  fetch?: FetchLike;
  now?: () => number;
}

export interface MarketplaceApp {
  url: string;
  server: RunningServer['server'];
  config: AppConfig;
  settings: MarketplaceEnv;
  store: Store;
  marketplace: Marketplace;
  registry: PortalRegistry;
  /** Resolves when every portal's queued jobs are finished. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const quiet: Output = { stdout: () => {}, stderr: () => {} };

/** The response header with a renewed iframe token (same name as widget/shared/api.ts RENEWED_TOKEN_HEADER). */
export const RENEWED_TOKEN_HEADER = 'X-Smart-Segments-Token';

/** The token of a request: `Authorization: Bearer` first, else `?token=`. */
function requestToken(req: IncomingMessage, url: URL): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string') {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1]!;
  }
  const q = url.searchParams.get('token');
  return q === null || q === '' ? null : q;
}

const TOKEN_MESSAGES: Record<IframeTokenError['reason'] | 'missing', string> = {
  missing: 'A token is needed: open Smart Segments from its card on a HubSpot contact record.',
  malformed: 'The token is malformed: reopen Smart Segments from its card on a HubSpot contact record.',
  'bad-signature': 'The token was not issued by this server: reopen Smart Segments from its card.',
  expired: 'The token has expired: reopen Smart Segments from its card on a HubSpot contact record.',
  'wrong-portal': 'The token belongs to another HubSpot portal than the one asked for.',
};

export async function startMarketplaceApp(options: MarketplaceAppOptions): Promise<MarketplaceApp> {
  const out = options.out ?? quiet;
  const log = (line: string): void => out.stderr(`${line}\n`);
  const settings = marketplaceEnv(options.env);
  const config = loadConfig(options.env, options.flags ?? {});
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? config.port;
  if (port !== 0) await assertPortFree(host, port);

  // Each portal gets `store.withPortal(id)`; the base store's own portal id is never used.
  const databaseUrl = options.database?.databaseUrl ?? config.databaseUrl;
  let storeOptions: OpenStoreOptions = { portalId: '0' };
  if (databaseUrl) storeOptions = { ...storeOptions, databaseUrl, ...(options.database?.schema ? { schema: options.database.schema } : {}) };
  else if (!options.memoryStore) {
    await mkdir(config.dataDir, { recursive: true });
    storeOptions = { ...storeOptions, dataDir: join(config.dataDir, 'store') };
  }
  const store = await openStore(storeOptions);
  let registry: PortalRegistry | null = null;
  try {
    // The webhook handler needs callbacks before the registry (which needs the token provider) exists.
    const forward = (name: keyof WebhookCallbacks) => (portalId: string, ids: string[]): Promise<void> =>
      registry ? (registry.callbacks()[name] as (p: string, i: string[]) => Promise<void>)(portalId, ids) : Promise.resolve();
    const callbacks: WebhookCallbacks = {
      resyncContacts: forward('resyncContacts'),
      resyncDeals: forward('resyncDeals'),
      deleteContacts: forward('deleteContacts'),
      deleteDeals: forward('deleteDeals'),
    };
    const marketplace = await createMarketplace({
      config: settings.oauth,
      key: settings.key,
      db: store.db,
      callbacks,
      publicBaseUrl: settings.appBaseUrl,
      onInstalled: async (portalId) => {
        await registry?.installed(portalId);
      },
      log,
      ...(options.now ? { now: options.now } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    const reg = new PortalRegistry({
      config,
      store,
      portals: marketplace.portals,
      tokens: marketplace.tokens,
      apiBase: settings.apiBase,
      geocoder: createGeocoder(),
      log,
    });
    registry = reg;
    await reg.resumeAll();

    const tokenKey = iframeTokenKey(settings.key);
    const now = options.now ?? Date.now;
    const roots = staticRoots(options.rootDir);
    const pageHeaders = iframePageHeaders();

    /** The iframe token's claims, or an HttpError(401) saying what is wrong. */
    const authenticate = (req: IncomingMessage, url: URL): IframeClaims => {
      const token = requestToken(req, url);
      if (token === null) throw new HttpError(401, 'missing_token', TOKEN_MESSAGES.missing);
      const wanted = url.searchParams.get('portalId');
      try {
        return verifyIframeToken(tokenKey, token, { now: now(), ...(wanted ? { portalId: wanted } : {}) });
      } catch (error) {
        if (error instanceof IframeTokenError) throw new HttpError(401, `token_${error.reason.replace('-', '_')}`, TOKEN_MESSAGES[error.reason]);
        throw error;
      }
    };

    const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const path = url.pathname;
      const method = req.method ?? 'GET';
      if (await marketplace.handle(req, res, url)) return;

      if (path.startsWith('/api/')) {
        let claims: IframeClaims;
        try {
          claims = authenticate(req, url);
        } catch (error) {
          if (error instanceof HttpError && error.status === 401) {
            return sendJson(res, 401, { error: { message: error.message, code: error.code } }, { 'WWW-Authenticate': 'Bearer' });
          }
          throw error;
        }
        const app = await reg.app(claims.portalId);
        // A page in use keeps working past the first token's 5 minutes: every answer carries a renewed token
        // for the same portal and user (widget/shared/api.ts picks it up); an idle page's token still expires.
        res.setHeader(RENEWED_TOKEN_HEADER, issueIframeToken(tokenKey, { portalId: claims.portalId, userId: claims.userId }, { now: now() }).token);
        // The token is a credential, not a parameter: the API never sees it in its query.
        url.searchParams.delete('token');
        return app.api(req, res, method, path, url.searchParams);
      }
      if (method !== 'GET' && method !== 'HEAD') throw new HttpError(405, 'method_not_allowed', `${method} is not allowed on ${path}.`);
      if (path === '/healthz') {
        const portals = await marketplace.portals.list();
        return sendJson(res, 200, { ok: true, mode: 'marketplace', portals: portals.filter((p) => p.status === 'connected').length });
      }
      if (path === '/favicon.ico') {
        res.writeHead(204, { 'Cache-Control': 'max-age=86400' });
        res.end();
        return;
      }
      if (path === '/' || path === '/index.html') {
        return sendPage(res, 200, 'Smart Segments', 'Smart Segments runs inside HubSpot: install it from its marketplace listing, then open it from the Smart Segment card on a contact record.');
      }
      const page = path === '/explorer' || path === '/explorer.html' || path === '/list' || path === '/list.html' ? pageFile(path) : undefined;
      if (page) {
        let claims: IframeClaims;
        try {
          claims = authenticate(req, url);
          await reg.require(claims.portalId);
        } catch (error) {
          if (error instanceof HttpError) return sendPagePlain(res, error.status, error.message, pageHeaders);
          throw error;
        }
        return serveFile(req, res, join(roots.demoDir, page), roots.demoDir, pageHeaders);
      }
      if (await serveAssets(req, res, roots, null)) return;
      throw new HttpError(404, 'not_found', `Nothing at ${path}.`);
    };

    const listening = await listenHttp(handle, { host, port, log });
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await closeHttp(listening.server, () => reg.close());
        await store.close();
      })());
    if (options.handleSignals) {
      const onSignal = (signal: NodeJS.Signals): void => {
        out.stderr(`\n${signal}: shutting down...\n`);
        close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
    }
    const connected = (await marketplace.portals.list()).filter((p) => p.status === 'connected').length;
    out.stderr(`Marketplace mode: ${connected} connected portal${connected === 1 ? '' : 's'}; HubSpot API at ${settings.apiBase}.\n`);
    out.stdout(`Smart Segments marketplace server is running on ${listening.url} (public URL ${settings.appBaseUrl}; install: ${settings.appBaseUrl}/oauth/install)\n`);
    return {
      url: listening.url,
      server: listening.server,
      config,
      settings,
      store,
      marketplace,
      registry: reg,
      idle: () => reg.idle(),
      close,
    };
  } catch (error) {
    await registry?.close().catch(() => {});
    await store.close().catch(() => {});
    throw error;
  }
}

/** A refusal for a page inside HubSpot's iframe: plain text, still frameable by HubSpot so the user sees it. */
function sendPagePlain(res: ServerResponse, status: number, message: string, headers: Record<string, string>): void {
  const text = `${message}\n`;
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    ...(status === 401 ? { 'WWW-Authenticate': 'Bearer' } : {}),
  });
  res.end(text);
}

