/**
 * Static files: the demo pages and the browser bundle. Paths are resolved inside one root directory and
 * anything that would leave it (`..`, encoded slashes, NUL, absolute paths, symlinks out) answers 404.
 */
import { createReadStream, existsSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SECURITY_HEADERS, sendError } from './http.js';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** HubSpot opens our pages in an iframe modal (HUBSPOT.md): allow HubSpot's app domains to frame them. */
export const FRAME_ANCESTORS = "frame-ancestors 'self' https://app.hubspot.com https://*.hubspot.com";

export function contentType(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The package root (holds package.json), from either connector/server (tsx) or dist/connector/server. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'widget'))) return dir;
    dir = dirname(dir);
  }
  return process.cwd();
}

/**
 * Maps a URL path below a mount point to a file inside `root`, or null when the path is not acceptable.
 * `relative` is the part after the mount point, still percent-encoded.
 */
export function safeJoin(root: string, relative: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(relative);
  } catch {
    return null;
  }
  if (decoded.includes('\0') || decoded.includes('\\')) return null;
  const segments = decoded.split('/').filter((s) => s !== '');
  if (segments.length === 0) return null;
  if (segments.some((s) => s === '..' || s === '.' || s.startsWith('.'))) return null;
  const base = resolve(root);
  const full = resolve(base, ...segments);
  if (!full.startsWith(base + sep)) return null;
  return full;
}

/** Serves one file with ETag/If-None-Match and HEAD; 404 JSON when it is missing or not a regular file. */
export async function serveFile(
  req: IncomingMessage,
  res: ServerResponse,
  file: string | null,
  root: string,
  extraHeaders: Record<string, string> = {},
): Promise<void> {
  if (file === null) return sendError(res, 404, 'not_found', 'No such file.');
  let info;
  try {
    // realpath defeats symlinks pointing out of the root.
    const real = await realpath(file);
    const realRoot = await realpath(root);
    if (!real.startsWith(realRoot + sep)) return sendError(res, 404, 'not_found', 'No such file.');
    info = await stat(real);
    file = real;
  } catch {
    return sendError(res, 404, 'not_found', 'No such file.');
  }
  if (!info.isFile()) return sendError(res, 404, 'not_found', 'No such file.');
  const etag = `W/"${info.size.toString(16)}-${Math.floor(info.mtimeMs).toString(16)}"`;
  const headers: Record<string, string> = {
    ...SECURITY_HEADERS,
    'Content-Type': contentType(file),
    ETag: etag,
    'Last-Modified': info.mtime.toUTCString(),
    // Revalidate every time: the bundle is rebuilt in place during development.
    'Cache-Control': 'no-cache',
    ...extraHeaders,
  };
  const inm = req.headers['if-none-match'];
  if (inm && inm.split(',').some((t) => t.trim() === etag || t.trim() === '*')) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  headers['Content-Length'] = String(info.size);
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  const stream = createReadStream(file);
  stream.on('error', () => res.destroy());
  stream.pipe(res);
}
