/**
 * HubSpot's OAuth v3 token API, called with `fetch` (the client library still calls the deprecated v1
 * endpoint): code exchange and refresh at `POST /oauth/v3/token`, token metadata at
 * `POST /oauth/v3/token/introspect` (falling back to the legacy `GET /oauth/v1/access-tokens/{token}` when
 * the introspection answer has no hub id). Bodies are form-encoded so secrets never travel in URLs.
 */
import { DEFAULT_API_BASE, type OAuthAppConfig } from './config.js';

export type OAuthErrorCode =
  /** The code or refresh token is unknown, used, expired or revoked: the user must install again. */
  | 'invalid_grant'
  /** The client id or secret is wrong: a configuration problem. */
  | 'invalid_client'
  /** Any other refusal, a 5xx, or a malformed answer. */
  | 'http'
  /** The request never got an answer. */
  | 'network';

export class OAuthError extends Error {
  constructor(readonly code: OAuthErrorCode, message: string, readonly status?: number) {
    super(message);
    this.name = 'OAuthError';
  }
}

export interface TokenSet {
  accessToken: string;
  refreshToken: string;
  /** Epoch ms at which the access token stops working. */
  expiresAt: number;
}

export interface TokenMetadata {
  portalId: string;
  userId: string | null;
  scopes: string[];
}

export type FetchLike = (url: string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;

interface CallOptions {
  fetch?: FetchLike;
  now?: () => number;
  timeoutMs?: number;
}

function apiBase(config: OAuthAppConfig): string {
  return (config.apiBase ?? DEFAULT_API_BASE).replace(/\/+$/, '');
}

async function postForm(url: string, form: Record<string, string>, options: CallOptions): Promise<{ status: number; body: unknown }> {
  const doFetch = options.fetch ?? (fetch as FetchLike);
  let res: Response;
  try {
    res = await doFetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (e) {
    throw new OAuthError('network', `could not reach ${new URL(url).origin}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? null : JSON.parse(text);
  } catch {
    body = null;
  }
  return { status: res.status, body };
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** Maps a refusal to a code: HubSpot's `status` (BAD_AUTH_CODE, BAD_REFRESH_TOKEN, ...) or OAuth's `error`. */
function refusal(what: string, status: number, body: unknown): OAuthError {
  const hsStatus = String(field(body, 'status') ?? '');
  const error = String(field(body, 'error') ?? '');
  const message = String(field(body, 'message') ?? field(body, 'error_description') ?? `HTTP ${status}`);
  let code: OAuthErrorCode = 'http';
  if (error === 'invalid_grant' || hsStatus === 'BAD_AUTH_CODE' || hsStatus === 'BAD_REFRESH_TOKEN' || hsStatus === 'BAD_REDIRECT_URI') code = 'invalid_grant';
  else if (error === 'invalid_client' || hsStatus === 'BAD_CLIENT_ID' || hsStatus === 'BAD_CLIENT_SECRET') code = 'invalid_client';
  else if (status === 401 && what === 'refresh') code = 'invalid_grant';
  return new OAuthError(code, `HubSpot refused the ${what === 'refresh' ? 'token refresh' : 'authorization code'}: ${message}`, status);
}

function tokenSet(body: unknown, now: number, previousRefresh?: string): TokenSet {
  const accessToken = field(body, 'access_token');
  const refreshToken = field(body, 'refresh_token') ?? previousRefresh;
  const expiresIn = Number(field(body, 'expires_in'));
  if (typeof accessToken !== 'string' || accessToken === '' || typeof refreshToken !== 'string' || !Number.isFinite(expiresIn)) {
    throw new OAuthError('http', 'HubSpot answered the token request without access_token, refresh_token or expires_in');
  }
  return { accessToken, refreshToken, expiresAt: now + expiresIn * 1000 };
}

/** Exchanges the authorization code (with its PKCE verifier) for tokens. */
export async function exchangeCode(config: OAuthAppConfig, code: string, codeVerifier: string, options: CallOptions = {}): Promise<TokenSet> {
  const now = options.now ?? Date.now;
  const { status, body } = await postForm(`${apiBase(config)}/oauth/v3/token`, {
    grant_type: 'authorization_code',
    client_id: config.clientId,
    client_secret: config.clientSecret,
    redirect_uri: config.redirectUri,
    code,
    code_verifier: codeVerifier,
  }, options);
  if (status !== 200) throw refusal('code', status, body);
  return tokenSet(body, now());
}

/** Gets a new access token; HubSpot keeps the refresh token, but a rotated one is honoured. */
export async function refreshTokens(config: OAuthAppConfig, refreshToken: string, options: CallOptions = {}): Promise<TokenSet> {
  const now = options.now ?? Date.now;
  const { status, body } = await postForm(`${apiBase(config)}/oauth/v3/token`, {
    grant_type: 'refresh_token',
    client_id: config.clientId,
    client_secret: config.clientSecret,
    refresh_token: refreshToken,
  }, options);
  if (status !== 200) throw refusal('refresh', status, body);
  return tokenSet(body, now(), refreshToken);
}

function idString(v: unknown): string | null {
  return (typeof v === 'number' && Number.isFinite(v)) || (typeof v === 'string' && /^\d+$/.test(v)) ? String(v) : null;
}

function scopeList(body: unknown): string[] {
  const list = field(body, 'scopes');
  if (Array.isArray(list)) return list.map(String);
  const scope = field(body, 'scope');
  return typeof scope === 'string' ? scope.split(/\s+/).filter((s) => s !== '') : [];
}

/** The portal (hub id), user and scopes an access token belongs to. */
export async function introspect(config: OAuthAppConfig, accessToken: string, options: CallOptions = {}): Promise<TokenMetadata> {
  const base = apiBase(config);
  const { status, body } = await postForm(`${base}/oauth/v3/token/introspect`, {
    client_id: config.clientId,
    client_secret: config.clientSecret,
    token: accessToken,
    token_type_hint: 'access_token',
  }, options);
  if (status === 200 && field(body, 'active') === false) throw new OAuthError('invalid_grant', 'HubSpot reports the new access token as inactive');
  const hub = status === 200 ? idString(field(body, 'hub_id') ?? field(body, 'hubId')) : null;
  if (hub !== null) return { portalId: hub, userId: idString(field(body, 'user_id') ?? field(body, 'userId')), scopes: scopeList(body) };

  // Legacy metadata endpoint: still documented, and the only one older HubSpot-compatible servers have.
  const doFetch = options.fetch ?? (fetch as FetchLike);
  let res: Response;
  try {
    res = await doFetch(`${base}/oauth/v1/access-tokens/${encodeURIComponent(accessToken)}`, {
      method: 'GET',
      headers: { Accept: 'application/json' },
      signal: AbortSignal.timeout(options.timeoutMs ?? 15_000),
    });
  } catch (e) {
    throw new OAuthError('network', `could not reach ${new URL(base).origin}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const legacy: unknown = await res.json().catch(() => null);
  const legacyHub = res.status === 200 ? idString(field(legacy, 'hub_id')) : null;
  if (legacyHub === null) throw new OAuthError('http', `could not read the portal id of the new token (HTTP ${res.status})`, res.status);
  return { portalId: legacyHub, userId: idString(field(legacy, 'user_id')), scopes: scopeList(legacy) };
}
