/**
 * The sandbox portal's OAuth server: enough of HubSpot's to run the marketplace install flow over loopback.
 *
 *   GET  /oauth/authorize                auto-approves for the sandbox portal: 302 to redirect_uri?code&state
 *   POST /oauth/v3/token                 authorization_code (PKCE S256, single-use codes) | refresh_token
 *   POST /oauth/v3/token/introspect      token metadata (active, hub_id, scopes, exp)
 *   GET  /oauth/v1/access-tokens/{token} legacy metadata, for tokens issued here
 *
 * Token errors answer 400 with HubSpot's `{ status, message, correlationId }` (BAD_AUTH_CODE,
 * BAD_REFRESH_TOKEN, BAD_CLIENT_ID, BAD_CLIENT_SECRET, BAD_REDIRECT_URI, BAD_GRANT_TYPE) plus the OAuth 2
 * `error` field (invalid_grant, invalid_client, ...) that v3 clients read. Access tokens issued here pass
 * the sandbox's Bearer check until they expire (`expires_in` 1800 s) or a test revokes them.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { correlationId } from './hubspot-shapes.js';

export const SANDBOX_SCOPES = ['oauth', 'crm.objects.contacts.read', 'crm.objects.contacts.write', 'crm.objects.deals.read', 'crm.schemas.contacts.write'];

export interface SandboxOAuthOptions {
  /** Default 'sandbox-client-id'. */
  clientId?: string;
  /** Default 'sandbox-client-secret'. */
  clientSecret?: string;
  /** Registered redirect URLs; default: any http URL on 127.0.0.1 / localhost / [::1]. */
  redirectUris?: string[];
  /** Access-token lifetime in seconds; default 1800 (HubSpot's 30 minutes). */
  accessTokenTtlSeconds?: number;
  /** Authorization-code lifetime in seconds; default 600. */
  codeTtlSeconds?: number;
  /** The installing user; default 1. */
  userId?: number;
}

export interface SandboxOAuth {
  readonly clientId: string;
  readonly clientSecret: string;
  /** True for an access token issued here that is neither expired nor revoked. */
  accepts(token: string): boolean;
  /** Answers the OAuth routes; false for any other request. */
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean>;
  /** Test hook: every access token issued so far is expired now (refresh tokens stay valid). */
  expireAccessTokens(): void;
  /** Test hook: refresh tokens stop working (the app was uninstalled); their access tokens too. */
  revokeRefreshTokens(): void;
  /** Counts, for tests: codes issued, token grants answered by type, refreshes refused. */
  stats(): { codes: number; authorizationCode: number; refreshToken: number; refused: number };
}

interface CodeGrant {
  redirectUri: string;
  challenge: string | null;
  scopes: string[];
  expiresAt: number;
  used: boolean;
}

interface AccessGrant {
  expiresAt: number;
  revoked: boolean;
  refreshToken: string;
  scopes: string[];
}

interface RefreshGrant {
  revoked: boolean;
  scopes: string[];
}

function isLoopbackHttp(uri: string): boolean {
  try {
    const u = new URL(uri);
    return (u.protocol === 'http:' || u.protocol === 'https:') && ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
  } catch {
    return false;
  }
}

function s256(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

function token(prefix: string): string {
  return `${prefix}-${randomBytes(24).toString('base64url')}`;
}

export function createSandboxOAuth(portalId: number, clock: () => number, options: SandboxOAuthOptions = {}): SandboxOAuth {
  const clientId = options.clientId ?? 'sandbox-client-id';
  const clientSecret = options.clientSecret ?? 'sandbox-client-secret';
  const accessTtl = options.accessTokenTtlSeconds ?? 1800;
  const codeTtl = options.codeTtlSeconds ?? 600;
  const userId = options.userId ?? 1;
  const codes = new Map<string, CodeGrant>();
  const access = new Map<string, AccessGrant>();
  const refresh = new Map<string, RefreshGrant>();
  const counts = { codes: 0, authorizationCode: 0, refreshToken: 0, refused: 0 };

  const redirectAllowed = (uri: string): boolean =>
    options.redirectUris ? options.redirectUris.includes(uri) : isLoopbackHttp(uri);

  const send = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, {
      'Content-Type': 'application/json;charset=utf-8',
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-store',
      'X-HubSpot-Correlation-Id': correlationId(),
      ...headers,
    });
    res.end(text);
  };

  const oauthError = (res: ServerResponse, status: string, error: string, message: string, httpStatus = 400): void => {
    counts.refused++;
    send(res, httpStatus, { status, message, correlationId: correlationId(), error, error_description: message });
  };

  const readForm = (req: IncomingMessage): Promise<URLSearchParams> => new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= 64 * 1024) chunks.push(c);
    });
    req.on('end', () => resolve(new URLSearchParams(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', reject);
  });

  const issue = (scopes: string[], refreshToken?: string): Record<string, unknown> => {
    const at = token('sbx-at');
    const rt = refreshToken ?? token('sbx-rt');
    if (!refreshToken) refresh.set(rt, { revoked: false, scopes });
    access.set(at, { expiresAt: clock() + accessTtl * 1000, revoked: false, refreshToken: rt, scopes });
    return { token_type: 'bearer', access_token: at, refresh_token: rt, expires_in: accessTtl, hub_id: portalId, scope: scopes.join(' ') };
  };

  const accessInfo = (tok: string): AccessGrant | null => {
    const g = access.get(tok);
    if (!g || g.revoked || g.expiresAt <= clock()) return null;
    const r = refresh.get(g.refreshToken);
    return r && !r.revoked ? g : null;
  };

  const authorize = (res: ServerResponse, url: URL): void => {
    const q = url.searchParams;
    const redirectUri = q.get('redirect_uri') ?? '';
    if (q.get('client_id') !== clientId) {
      send(res, 400, { status: 'BAD_CLIENT_ID', message: `Unknown client_id ${JSON.stringify(q.get('client_id') ?? '')}`, correlationId: correlationId() });
      return;
    }
    if (!redirectAllowed(redirectUri)) {
      send(res, 400, { status: 'BAD_REDIRECT_URI', message: `redirect_uri ${JSON.stringify(redirectUri)} is not registered for this app`, correlationId: correlationId() });
      return;
    }
    const scopes = (q.get('scope') ?? '').split(/[\s+]+/).filter((s) => s !== '');
    const unknown = scopes.filter((s) => !SANDBOX_SCOPES.includes(s));
    const challenge = q.get('code_challenge');
    const method = q.get('code_challenge_method');
    const back = new URL(redirectUri);
    const state = q.get('state');
    if (state !== null) back.searchParams.set('state', state);
    if (scopes.length === 0 || unknown.length > 0 || (challenge !== null && method !== 'S256')) {
      back.searchParams.set('error', 'invalid_request');
      back.searchParams.set('error_description', scopes.length === 0 ? 'scope is required'
        : unknown.length > 0 ? `unknown scopes: ${unknown.join(' ')}` : 'code_challenge_method must be S256');
    } else {
      const code = randomBytes(18).toString('base64url');
      codes.set(code, { redirectUri, challenge, scopes, expiresAt: clock() + codeTtl * 1000, used: false });
      counts.codes++;
      back.searchParams.set('code', code);
    }
    res.writeHead(302, { Location: back.toString(), 'Cache-Control': 'no-store', 'Content-Length': '0' });
    res.end();
  };

  const tokenGrant = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const type = req.headers['content-type'] ?? '';
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      oauthError(res, 'BAD_REQUEST', 'invalid_request', 'The token endpoint takes application/x-www-form-urlencoded bodies');
      return;
    }
    const f = await readForm(req);
    if (f.get('client_id') !== clientId) return oauthError(res, 'BAD_CLIENT_ID', 'invalid_client', 'missing or unknown client id');
    if (f.get('client_secret') !== clientSecret) return oauthError(res, 'BAD_CLIENT_SECRET', 'invalid_client', 'missing or invalid client secret');
    const grant = f.get('grant_type');
    if (grant === 'authorization_code') {
      const code = f.get('code') ?? '';
      const g = codes.get(code);
      if (!g) return oauthError(res, 'BAD_AUTH_CODE', 'invalid_grant', 'missing or unknown auth code');
      if (g.used) {
        // A replayed code revokes nothing here, but it never yields a second token pair.
        return oauthError(res, 'BAD_AUTH_CODE', 'invalid_grant', 'auth code already used');
      }
      g.used = true;
      if (g.expiresAt <= clock()) return oauthError(res, 'BAD_AUTH_CODE', 'invalid_grant', 'auth code expired');
      if (f.get('redirect_uri') !== g.redirectUri) return oauthError(res, 'BAD_REDIRECT_URI', 'invalid_grant', 'redirect_uri does not match the one used to authorize');
      if (g.challenge !== null) {
        const verifier = f.get('code_verifier') ?? '';
        if (verifier === '' || s256(verifier) !== g.challenge) return oauthError(res, 'BAD_AUTH_CODE', 'invalid_grant', 'code_verifier does not match the code_challenge');
      }
      counts.authorizationCode++;
      send(res, 200, issue(g.scopes));
      return;
    }
    if (grant === 'refresh_token') {
      const rt = f.get('refresh_token') ?? '';
      const r = refresh.get(rt);
      if (!r || r.revoked) return oauthError(res, 'BAD_REFRESH_TOKEN', 'invalid_grant', 'missing or invalid refresh token');
      counts.refreshToken++;
      send(res, 200, issue(r.scopes, rt));
      return;
    }
    oauthError(res, 'BAD_GRANT_TYPE', 'unsupported_grant_type', `grant_type must be authorization_code or refresh_token, got ${JSON.stringify(grant ?? '')}`);
  };

  const introspect = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const f = await readForm(req);
    if (f.get('client_id') !== clientId || f.get('client_secret') !== clientSecret) {
      return oauthError(res, 'BAD_CLIENT_ID', 'invalid_client', 'missing or invalid client credentials', 401);
    }
    const tok = f.get('token') ?? '';
    const a = accessInfo(tok);
    const r = refresh.get(tok);
    if (a) {
      send(res, 200, {
        active: true, token_type: 'access_token', client_id: clientId, hub_id: portalId, user_id: userId, app_id: 1_000_001,
        scopes: a.scopes, scope: a.scopes.join(' '), exp: Math.floor(a.expiresAt / 1000),
      });
    } else if (r && !r.revoked) {
      send(res, 200, { active: true, token_type: 'refresh_token', client_id: clientId, hub_id: portalId, user_id: userId, scopes: r.scopes, scope: r.scopes.join(' ') });
    } else {
      send(res, 200, { active: false });
    }
  };

  const legacyInfo = (res: ServerResponse, tok: string): boolean => {
    const a = accessInfo(tok);
    if (!a) return false;
    send(res, 200, {
      token: tok, user: 'sandbox@smart-segments.local', hub_domain: `sandbox-${portalId}.hubspot.local`, scopes: a.scopes,
      hub_id: portalId, app_id: 1_000_001, expires_in: Math.max(0, Math.floor((a.expiresAt - clock()) / 1000)), user_id: userId, token_type: 'access',
    });
    return true;
  };

  return {
    clientId,
    clientSecret,
    accepts: (tok) => accessInfo(tok) !== null,
    async handle(req, res, url) {
      const method = req.method ?? 'GET';
      const path = url.pathname;
      if (method === 'GET' && path === '/oauth/authorize') authorize(res, url);
      else if (method === 'POST' && path === '/oauth/v3/token') await tokenGrant(req, res);
      else if (method === 'POST' && path === '/oauth/v3/token/introspect') await introspect(req, res);
      else if (method === 'GET' && path.startsWith('/oauth/v1/access-tokens/')) {
        return legacyInfo(res, decodeURIComponent(path.slice('/oauth/v1/access-tokens/'.length)));
      } else return false;
      return true;
    },
    expireAccessTokens() {
      const now = clock();
      for (const g of access.values()) g.expiresAt = Math.min(g.expiresAt, now);
    },
    revokeRefreshTokens() {
      for (const r of refresh.values()) r.revoked = true;
    },
    stats: () => ({ ...counts }),
  };
}
