/**
 * Short-lived tokens for the explorer page the record card opens with `actions.openIframeModal`. HubSpot
 * does not sign that iframe load, so the card first calls `GET /api/iframe-token` through `hubspot.fetch()`
 * (which HubSpot signs, v3, and to which it appends `portalId` and `userId`); we verify that signature and
 * answer a token bound to the portal and user, valid 5 minutes:
 *
 *   it1.<payload base64url>.<HMAC-SHA256 base64url>   payload = {"p":portal,"u":user,"iat":ms,"exp":ms}
 *
 * The explorer page verifies it (same portal as the page asks for, not expired) and is served with
 * `iframePageHeaders()`: framing only by HubSpot, everything else from our own origin. Tokens are never
 * logged.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { readBody, sendJson, type RouteHandler } from './http.js';
import { requestUri, signatureHeaders, verifySignatureV3 } from '../webhooks/signature.js';

export const IFRAME_TOKEN_TTL_MS = 5 * 60_000;
const PREFIX = 'it1';

export interface IframeClaims {
  portalId: string;
  userId: string;
  issuedAt: number;
  expiresAt: number;
}

export type IframeTokenProblem = 'malformed' | 'bad-signature' | 'expired' | 'wrong-portal';

export class IframeTokenError extends Error {
  constructor(readonly reason: IframeTokenProblem, message: string) {
    super(message);
    this.name = 'IframeTokenError';
  }
}

function mac(secret: Buffer | string, payload: string): string {
  return createHmac('sha256', secret).update(`${PREFIX}.${payload}`, 'utf8').digest('base64url');
}

export function issueIframeToken(
  secret: Buffer | string,
  claims: { portalId: string | number; userId: string | number },
  options: { now?: number; ttlMs?: number } = {},
): { token: string; expiresAt: number } {
  const iat = options.now ?? Date.now();
  const exp = iat + (options.ttlMs ?? IFRAME_TOKEN_TTL_MS);
  const payload = Buffer.from(JSON.stringify({ p: String(claims.portalId), u: String(claims.userId), iat, exp }), 'utf8').toString('base64url');
  return { token: `${PREFIX}.${payload}.${mac(secret, payload)}`, expiresAt: exp };
}

/** Checks the signature, the expiry and (when given) the portal; throws `IframeTokenError` saying which failed. */
export function verifyIframeToken(secret: Buffer | string, token: string, options: { now?: number; portalId?: string | number } = {}): IframeClaims {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== PREFIX || !/^[A-Za-z0-9_-]+$/.test(parts[1]!) || !/^[A-Za-z0-9_-]+$/.test(parts[2]!)) {
    throw new IframeTokenError('malformed', 'the iframe token is malformed');
  }
  const expected = Buffer.from(mac(secret, parts[1]!), 'utf8');
  const given = Buffer.from(parts[2]!, 'utf8');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new IframeTokenError('bad-signature', 'the iframe token was not issued by this server');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
  } catch {
    throw new IframeTokenError('malformed', 'the iframe token payload is not JSON');
  }
  const r = raw as Record<string, unknown>;
  if (typeof r.p !== 'string' || typeof r.u !== 'string' || typeof r.iat !== 'number' || typeof r.exp !== 'number') {
    throw new IframeTokenError('malformed', 'the iframe token payload lacks portal, user or times');
  }
  if ((options.now ?? Date.now()) >= r.exp) throw new IframeTokenError('expired', 'the iframe token has expired: reopen the explorer from the card');
  if (options.portalId !== undefined && String(options.portalId) !== r.p) {
    throw new IframeTokenError('wrong-portal', `the iframe token belongs to another portal than ${String(options.portalId)}`);
  }
  return { portalId: r.p, userId: r.u, issuedAt: r.iat, expiresAt: r.exp };
}

/** HubSpot's app origins, the only pages allowed to frame the explorer. */
export const HUBSPOT_FRAME_ANCESTORS = ['https://app.hubspot.com', 'https://app-eu1.hubspot.com', 'https://*.hubspot.com'];

/** Headers for the iframe (explorer) page: framed by HubSpot only, everything else from our origin. */
export function iframePageHeaders(extraFrameAncestors: readonly string[] = []): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'self'",
      "script-src 'self'",
      "style-src 'self' 'unsafe-inline'",
      "img-src 'self' data:",
      "connect-src 'self'",
      "object-src 'none'",
      "base-uri 'none'",
      "form-action 'self'",
      `frame-ancestors ${[...HUBSPOT_FRAME_ANCESTORS, ...extraFrameAncestors].join(' ')}`,
    ].join('; '),
    'Referrer-Policy': 'no-referrer',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'no-store',
  };
}

export interface IframeTokenHandlerOptions {
  /** The app's client secret: HubSpot signs `hubspot.fetch()` requests with it. */
  clientSecret: string;
  /** Signs the iframe tokens (32+ random bytes; not the client secret). */
  tokenSecret: Buffer | string;
  /** The public origin HubSpot calls (APP_BASE_URL); default: from the Host header. */
  publicBaseUrl?: string;
  now?: () => number;
  log?: (line: string) => void;
  /** Default '/api/iframe-token'. */
  path?: string;
}

/**
 * `GET|POST /api/iframe-token?portalId&userId…` from `hubspot.fetch()`: 401 unless HubSpot's v3 signature
 * checks out, 400 without portalId/userId, else `{ token, expiresAt }`.
 */
export function createIframeTokenHandler(options: IframeTokenHandlerOptions): RouteHandler {
  const now = options.now ?? Date.now;
  const path = options.path ?? '/api/iframe-token';
  return async (req, res, url) => {
    if (url.pathname !== path) return false;
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'POST') return false;
    const body = method === 'POST' ? await readBody(req, 64 * 1024) : '';
    const check = verifySignatureV3({
      method,
      uri: requestUri(req, options.publicBaseUrl),
      body,
      ...signatureHeaders(req),
      clientSecret: options.clientSecret,
      now: now(),
    });
    if (!check.ok) {
      options.log?.(`iframe-token: refused (${check.reason})`);
      sendJson(res, 401, { error: { code: 'BAD_SIGNATURE', message: `request signature refused: ${check.reason}` } });
      return true;
    }
    const portalId = url.searchParams.get('portalId');
    const userId = url.searchParams.get('userId');
    if (!portalId || !/^\d+$/.test(portalId) || !userId || !/^\d+$/.test(userId)) {
      sendJson(res, 400, { error: { code: 'MISSING_CONTEXT', message: 'portalId and userId query parameters are required' } });
      return true;
    }
    const issued = issueIframeToken(options.tokenSecret, { portalId, userId }, { now: now() });
    options.log?.(`iframe-token: issued for portal ${portalId} user ${userId}`);
    sendJson(res, 200, { token: issued.token, expiresAt: new Date(issued.expiresAt).toISOString() });
    return true;
  };
}
