/**
 * Test helper: one "HubSpot" URL in front of several sandbox portals, the way api.hubapi.com serves every
 * account. Authorize goes to the portal the browser is "logged in" to (`login`); codes, access and refresh
 * tokens are routed to the sandbox that issued them; CRM calls by their bearer token. It also records the
 * contact ids each portal received in batch updates (write-back), so tests can say exactly what was written.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SandboxServer } from '../../connector/sandbox/server.js';

export interface Hub {
  url: string;
  /** The portal the next authorize request installs into. */
  login(sandbox: SandboxServer): void;
  /** Contact ids written by batch update, per portal id, in order. */
  written(portalId: number): string[];
  /** Requests routed to each portal id. */
  requests(portalId: number): number;
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export async function startHub(sandboxes: SandboxServer[]): Promise<Hub> {
  if (sandboxes.length === 0) throw new Error('no sandboxes');
  let current = sandboxes[0]!;
  const owner = new Map<string, SandboxServer>();
  const writes = new Map<number, string[]>();
  const counts = new Map<number, number>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://hub');
      const form = (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') ? new URLSearchParams(body.toString('utf8')) : null;
      let target: SandboxServer | undefined;
      if (url.pathname === '/oauth/authorize') target = current;
      else if (url.pathname === '/oauth/v3/token' && form) target = owner.get(form.get('code') ?? form.get('refresh_token') ?? '');
      else if (url.pathname === '/oauth/v3/token/introspect' && form) target = owner.get(form.get('token') ?? '');
      else if (url.pathname.startsWith('/oauth/v1/access-tokens/')) target = owner.get(decodeURIComponent(url.pathname.slice('/oauth/v1/access-tokens/'.length)));
      else {
        const m = /^Bearer\s+(\S+)/i.exec(req.headers.authorization ?? '');
        target = m ? owner.get(m[1]!) : undefined;
      }
      target ??= sandboxes[0]!;
      counts.set(target.portalId, (counts.get(target.portalId) ?? 0) + 1);
      if (/^\/crm\/v3\/objects\/contacts\/batch\/update$/.test(url.pathname)) {
        const inputs = (JSON.parse(body.toString('utf8')) as { inputs: { id: string }[] }).inputs;
        const list = writes.get(target.portalId) ?? [];
        list.push(...inputs.map((i) => String(i.id)));
        writes.set(target.portalId, list);
      }
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) {
        if (typeof v === 'string' && !['host', 'content-length', 'connection'].includes(k)) headers[k] = v;
      }
      const method = req.method ?? 'GET';
      const answer = await fetch(`${target.url}${url.pathname}${url.search}`, {
        method,
        headers,
        ...(method === 'GET' || method === 'HEAD' ? {} : { body: new Uint8Array(body) }),
        redirect: 'manual',
      });
      const text = Buffer.from(await answer.arrayBuffer());
      const location = answer.headers.get('location');
      if (location) {
        const code = new URL(location).searchParams.get('code');
        if (code) owner.set(code, target);
      }
      if (url.pathname === '/oauth/v3/token' && answer.status === 200) {
        const t = JSON.parse(text.toString('utf8')) as { access_token?: string; refresh_token?: string };
        if (t.access_token) owner.set(t.access_token, target);
        if (t.refresh_token) owner.set(t.refresh_token, target);
      }
      const out: Record<string, string> = { 'content-length': String(text.length) };
      answer.headers.forEach((v, k) => {
        if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) out[k] = v;
      });
      res.writeHead(answer.status, out);
      res.end(text);
    })().catch((error: unknown) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    login: (sandbox) => {
      current = sandbox;
    },
    written: (portalId) => [...(writes.get(portalId) ?? [])],
    requests: (portalId) => counts.get(portalId) ?? 0,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port that was free a moment ago (APP_BASE_URL must be known before the server listens). */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}
