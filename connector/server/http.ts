/**
 * Small HTTP helpers for the server (Node `http`, no framework): JSON answers, the error shape every API
 * route uses, and size-limited JSON bodies.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** An error the API answers with `{ "error": { "message", "code" } }` and the given status. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** Request bodies larger than this are refused (a model JSON for k = 8 is a few kB; 2 MB leaves room). */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-cache',
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, status, { error: { message, code } });
}

export function sendNotModified(res: ServerResponse, etag: string): void {
  res.writeHead(304, { ...SECURITY_HEADERS, ETag: etag, 'Cache-Control': 'no-cache' });
  res.end();
}

export { SECURITY_HEADERS };

/** Reads a JSON body: 415 unless JSON, 413 when over the limit, 400 when it does not parse. */
export async function readJson(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = String(req.headers['content-type'] ?? '');
  if (!/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new HttpError(415, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json).');
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new HttpError(413, 'body_too_large', `The body is ${declared} bytes; the limit is ${limit} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = chunk as Buffer;
    size += buf.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, 'body_too_large', `The body is over the limit of ${limit} bytes.`);
    }
    chunks.push(buf);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'empty_body', 'The request body is empty; send a JSON document.');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new HttpError(400, 'invalid_json', `The body is not valid JSON: ${(error as Error).message}`);
  }
}

/** `?name=` as a bounded integer; absent -> fallback; malformed -> 400 naming the parameter. */
export function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) throw new HttpError(400, 'invalid_parameter', `"${name}" must be a whole number, got "${raw}".`);
  const n = Number(raw);
  if (n < min || n > max) throw new HttpError(400, 'invalid_parameter', `"${name}" must be between ${min} and ${max}, got ${n}.`);
  return n;
}
