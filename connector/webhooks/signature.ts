/**
 * HubSpot request signatures, version 3 (webhooks and `hubspot.fetch()` from cards):
 * base64(HMAC-SHA256(clientSecret, method + uri + body + timestamp)), header X-HubSpot-Signature-v3, with
 * the millisecond timestamp in X-HubSpot-Request-Timestamp. Requests older than 5 minutes are refused, and
 * the comparison is constant-time. HubSpot signs the URI with some reserved characters decoded, so the
 * same decoding is applied here before hashing (developers.hubspot.com, "Validating requests").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-hubspot-signature-v3';
export const TIMESTAMP_HEADER = 'x-hubspot-request-timestamp';
export const MAX_AGE_MS = 5 * 60_000;

/** The percent-encodings HubSpot decodes in the URI it signs. */
const DECODED: Record<string, string> = {
  '%3A': ':', '%2F': '/', '%3F': '?', '%40': '@', '%21': '!', '%24': '$', '%27': "'",
  '%28': '(', '%29': ')', '%2A': '*', '%2C': ',', '%3B': ';',
};

export function decodeSignedUri(uri: string): string {
  return uri.replace(/%(3A|2F|3F|40|21|24|27|28|29|2A|2C|3B)/gi, (m) => DECODED[m.toUpperCase()]!);
}

export interface SignatureInput {
  method: string;
  /** The full URL HubSpot called: scheme, host, path and query, e.g. https://app.example.com/webhooks. */
  uri: string;
  /** The raw body exactly as received ('' for none). */
  body: string;
  /** X-HubSpot-Request-Timestamp (epoch ms, as sent). */
  timestamp: string | undefined;
  /** X-HubSpot-Signature-v3. */
  signature: string | undefined;
  clientSecret: string;
  /** Current epoch ms. */
  now: number;
}

export type SignatureResult =
  | { ok: true }
  | { ok: false; reason: 'missing-signature' | 'missing-timestamp' | 'bad-timestamp' | 'stale' | 'mismatch' };

export function signV3(method: string, uri: string, body: string, timestamp: string, clientSecret: string): string {
  return createHmac('sha256', clientSecret).update(`${method.toUpperCase()}${decodeSignedUri(uri)}${body}${timestamp}`, 'utf8').digest('base64');
}

export function verifySignatureV3(input: SignatureInput): SignatureResult {
  if (!input.signature) return { ok: false, reason: 'missing-signature' };
  if (!input.timestamp) return { ok: false, reason: 'missing-timestamp' };
  if (!/^\d{1,16}$/.test(input.timestamp)) return { ok: false, reason: 'bad-timestamp' };
  // Stale either way: a timestamp far in the future is as unverifiable as an old one.
  if (Math.abs(input.now - Number(input.timestamp)) > MAX_AGE_MS) return { ok: false, reason: 'stale' };
  const expected = Buffer.from(signV3(input.method, input.uri, input.body, input.timestamp, input.clientSecret), 'utf8');
  const given = Buffer.from(input.signature, 'utf8');
  // timingSafeEqual needs equal lengths; the length of a base64 SHA-256 digest is public anyway.
  const same = given.length === expected.length && timingSafeEqual(given, expected);
  return same ? { ok: true } : { ok: false, reason: 'mismatch' };
}

function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The full URL a request was made to: `publicBaseUrl` (behind a proxy) + path and query, else the Host. */
export function requestUri(req: { url?: string; headers: Record<string, string | string[] | undefined> }, publicBaseUrl?: string): string {
  const path = req.url ?? '/';
  if (publicBaseUrl) return `${publicBaseUrl.replace(/\/+$/, '')}${path}`;
  const proto = header(req.headers['x-forwarded-proto'])?.split(',')[0]?.trim() || 'http';
  return `${proto}://${header(req.headers.host) ?? 'localhost'}${path}`;
}

export function signatureHeaders(req: { headers: Record<string, string | string[] | undefined> }): { signature: string | undefined; timestamp: string | undefined } {
  return { signature: header(req.headers[SIGNATURE_HEADER]), timestamp: header(req.headers[TIMESTAMP_HEADER]) };
}
