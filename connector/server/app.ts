/**
 * The `serve` flow (`npm start`) and the connection set-up the `writeback` command shares with it:
 * configuration, the HubSpot portal (real, or the embedded sandbox when no token is set), the local store,
 * the start-up sync, then the HTTP server.
 */
import { mkdir } from 'node:fs/promises';
import { createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import type { Snapshot } from '../../src/types.js';
import { featureConfigOf, loadConfig } from '../config.js';
import type { AppConfig, Env, Flags } from '../config.js';
import { createGeocoder } from '../geo.js';
import { HubSpotClient } from '../hubspot/client.js';
import { PortalLimiter } from '../hubspot/limiter.js';
import { staticTokenProvider } from '../hubspot/token.js';
import { createProgress } from '../progress.js';
import { startSandbox } from '../sandbox/server.js';
import type { SandboxOptions, SandboxServer } from '../sandbox/server.js';
import { buildSnapshot } from '../snapshot.js';
import { openStore } from '../store.js';
import type { Store } from '../store.js';
import { fullSync, incrementalSync, lastSync } from '../sync.js';
import { fit } from '../../src/fit.js';
import { listenError, snapshotTable, startServer } from './server.js';
import type { MountedHandler, RunningServer } from './server.js';

/** The sandbox runs with the private-app Pro/Enterprise limit (HUBSPOT.md: 190 requests / 10 s). */
export const SANDBOX_RATE_LIMIT = { perTenSeconds: 190, searchPerSecond: 5 } as const;
export const SANDBOX_TOKEN = 'sandbox-token';

export interface Output {
  stdout(text: string): void;
  stderr(text: string): void;
}

export interface ConnectOptions {
  env: Env;
  flags?: Flags;
  out?: Output;
  /** Where progress bars go (a TTY gets a bar, anything else plain lines). Default process.stderr. */
  progressStream?: NodeJS.WritableStream;
  /** Overrides for the embedded sandbox (tests: fewer contacts, no rate limit, latency). */
  sandbox?: Partial<SandboxOptions>;
}

export interface Connection {
  config: AppConfig;
  client: HubSpotClient;
  store: Store;
  portalId: string;
  sandbox: SandboxServer | null;
  /** The HubSpot API base the client talks to. */
  baseUrl: string;
  close(): Promise<void>;
}

const quiet: Output = { stdout: () => {}, stderr: () => {} };

/** Config, portal (sandbox when HUBSPOT_ACCESS_TOKEN is unset), client and store. */
export async function connect(options: ConnectOptions): Promise<Connection> {
  const out = options.out ?? quiet;
  const flags = options.flags ?? {};
  let config = loadConfig(options.env, flags);
  let sandbox: SandboxServer | null = null;
  let token = config.token;
  let baseUrl = config.baseUrl;
  const cleanups: (() => Promise<void>)[] = [];
  try {
    if (token === undefined) {
      if (typeof flags['base-url'] === 'string' || options.env.HUBSPOT_API_BASE) {
        throw new Error(
          'HUBSPOT_ACCESS_TOKEN is not set: give the private app token of the portal at ' +
            `${baseUrl} (or unset HUBSPOT_API_BASE / --base-url to use the built-in sandbox portal)`,
        );
      }
      const dataDir = join(config.dataDir, 'sandbox');
      await mkdir(dataDir, { recursive: true });
      out.stderr(`No HUBSPOT_ACCESS_TOKEN: starting the built-in sandbox portal (data in ${dataDir}).\n`);
      sandbox = await startSandbox({
        dataDir,
        host: '127.0.0.1',
        port: 0,
        tokens: [SANDBOX_TOKEN],
        rateLimit: { ...SANDBOX_RATE_LIMIT },
        ...options.sandbox,
      });
      const started = sandbox;
      cleanups.push(() => started.close());
      token = sandbox.token;
      baseUrl = sandbox.url;
      config = {
        ...config,
        baseUrl,
        token,
        // The sandbox's generated history ends at its as-of date: use it unless one was set, so the demo
        // shows the same segments whatever day it runs.
        asOf: options.env.SMART_SEGMENTS_AS_OF || flags['as-of'] ? config.asOf : (options.sandbox?.asOf ?? '2026-11-01'),
        rateLimit: options.env.HUBSPOT_RATE_LIMIT ? config.rateLimit : { ...SANDBOX_RATE_LIMIT },
      };
    }
    if (token === undefined) throw new Error('no access token');
    const limiter = new PortalLimiter({
      perWindow: config.rateLimit.perTenSeconds,
      searchPerSecond: config.rateLimit.searchPerSecond,
      concurrency: config.concurrency,
    });
    const client = new HubSpotClient({ baseUrl, tokenProvider: staticTokenProvider(token), limiter });
    const portalId = sandbox ? String(sandbox.portalId) : String(await client.portalId());
    await mkdir(config.dataDir, { recursive: true });
    const store = await openStore({
      dataDir: join(config.dataDir, 'store'),
      portalId,
      ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl } : {}),
    });
    cleanups.push(() => store.close());
    return {
      config,
      client,
      store,
      portalId,
      sandbox,
      baseUrl,
      close: async () => {
        for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
      },
    };
  } catch (error) {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
    throw error;
  }
}

export interface SyncSummary {
  mode: 'full' | 'incremental';
  seconds: number;
  result: unknown;
}

/** Full sync the first time (or when forced), incremental afterwards; progress on the given stream. */
export async function syncNow(
  conn: Connection,
  options: { full?: boolean; progressStream?: NodeJS.WritableStream } = {},
): Promise<SyncSummary> {
  const started = performance.now();
  const ctx = { client: conn.client, store: conn.store, portalId: conn.portalId, config: conn.config };
  const first = !(await hasSynced(conn.store));
  const mode = options.full || first ? 'full' : 'incremental';
  const progress = createProgress({
    label: mode === 'full' ? 'Full sync' : 'Sync',
    stream: options.progressStream ?? process.stderr,
  });
  const onProgress = (p: { done?: number; total?: number }): void => {
    if (typeof p.done === 'number') progress.update(p.done, p.total);
  };
  const result = mode === 'full' ? await fullSync(ctx, { onProgress }) : await incrementalSync(ctx, { onProgress });
  const seconds = (performance.now() - started) / 1000;
  progress.done(`${mode === 'full' ? 'Full sync' : 'Sync'} done in ${seconds.toFixed(1)} s`);
  return { mode, seconds, result };
}

async function hasSynced(store: Store): Promise<boolean> {
  return (await lastSync(store)) !== undefined;
}

export interface AppOptions extends ConnectOptions {
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Default: --port, PORT, then 3000. 0 picks a free port. */
  port?: number;
  rootDir?: string;
  /** Extra route handlers (OAuth, webhooks), tried before the built-in routes. */
  handlers?: MountedHandler[];
  /** Install SIGINT/SIGTERM handlers that close everything (the `serve` command; not tests). */
  handleSignals?: boolean;
  /**
   * On the sandbox portal only: when no model has been published yet, fit the paper's default (k-means,
   * k = 3, the four features) and publish it, so a newcomer's first look shows segments. Never on a real
   * portal, where only an admin publishes.
   */
  starterModel?: boolean;
}

export interface App {
  url: string;
  server: RunningServer;
  connection: Connection;
  sandbox: SandboxServer | null;
  timings: { connectSeconds: number; syncSeconds: number; snapshotSeconds: number; totalSeconds: number };
  sync: SyncSummary;
  close(): Promise<void>;
}

/** The whole `npm start`: connect, sync, build the snapshot, listen, print the one line that matters. */
export async function startApp(options: AppOptions): Promise<App> {
  const out = options.out ?? quiet;
  const t0 = performance.now();
  const host = options.host ?? '127.0.0.1';
  // Say "port busy" before a minute of syncing, and before opening a store another instance may hold.
  const wantedPort = options.port ?? loadConfig(options.env, options.flags ?? {}).port;
  if (wantedPort !== 0) await assertPortFree(host, wantedPort);
  const conn = await connect(options);
  try {
    const t1 = performance.now();
    const sync = await syncNow(conn, { progressStream: options.progressStream });
    const t2 = performance.now();
    const geocoder = createGeocoder();
    const snapshot: Snapshot = await buildSnapshot(conn.store, {
      portalId: conn.portalId,
      featureConfig: featureConfigOf(conn.config),
      geocoder,
      generatedAt: new Date().toISOString(),
    });
    const t3 = performance.now();
    const server = await startServer({
      config: conn.config,
      store: conn.store,
      client: conn.client,
      portalId: conn.portalId,
      sandbox: conn.sandbox !== null,
      hubspotBase: conn.baseUrl,
      host,
      port: options.port ?? conn.config.port,
      rootDir: options.rootDir,
      snapshot,
      geocoder,
      handlers: options.handlers,
      log: (line) => out.stderr(`${line}\n`),
    });
    if (options.starterModel && conn.sandbox) await publishStarterModel(server.url, snapshot, out);
    const t4 = performance.now();
    let closing: Promise<void> | null = null;
    const close = (): Promise<void> =>
      (closing ??= (async () => {
        await server.close();
        await conn.close();
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
    const app: App = {
      url: server.url,
      server,
      connection: conn,
      sandbox: conn.sandbox,
      sync,
      timings: {
        connectSeconds: (t1 - t0) / 1000,
        syncSeconds: (t2 - t1) / 1000,
        snapshotSeconds: (t3 - t2) / 1000,
        totalSeconds: (t4 - t0) / 1000,
      },
      close,
    };
    out.stderr(
      `${snapshot.ids.length} contacts from portal ${conn.portalId}${conn.sandbox ? ' (sandbox)' : ''}; ` +
        `ready in ${app.timings.totalSeconds.toFixed(1)} s.\n`,
    );
    out.stdout(`${runningLine(server.url)}\n`);
    return app;
  } catch (error) {
    await conn.close();
    throw error;
  }
}

/** Fits and publishes the default model through the server's own validated API (sandbox demo only). */
async function publishStarterModel(url: string, snapshot: Snapshot, out: Output): Promise<void> {
  const current = await fetch(`${url}/api/model`);
  await current.body?.cancel();
  if (current.status !== 404 || snapshot.ids.length === 0) return;
  const { model } = fit(snapshotTable(snapshot), { k: 3, method: 'kmeans', seed: 42, createdAt: new Date().toISOString() });
  const res = await fetch(`${url}/api/model`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(model),
  });
  const body = (await res.json()) as { error?: { message?: string } };
  if (res.status !== 202) {
    out.stderr(`Could not publish the starter model: ${body.error?.message ?? res.status}\n`);
    return;
  }
  out.stderr(
    `Published a starter model (k-means, k = 3: ${model.segments.map((s) => s.label).join(', ')}) to the sandbox portal; ` +
      'fit and publish your own in the explorer.\n',
  );
}

/** Rejects with the same ListenError startServer gives when the port cannot be bound. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', (error: NodeJS.ErrnoException) => reject(listenError(error, port)));
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/** The one obvious line printed last. */
export function runningLine(url: string): string {
  const u = new URL(url);
  if (u.hostname === '127.0.0.1' || u.hostname === '[::1]') u.hostname = 'localhost';
  const base = u.toString();
  return `Smart Segments is running: open ${base}  (contact record demo), /list (marketer), /explorer (admin)`;
}
