/**
 * `smart-segments sync [--base-url URL] [--full] [--out snapshot.json] [--data-dir DIR]`: copies the portal's
 * contacts, deals and associations into the local store (incremental when a previous sync exists, resumes
 * an interrupted one), prints a summary, and with --out writes the snapshot JSON (atomically).
 */
import { rename, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { CliIo, ParsedArgs } from '../args.js';
import { ConfigError, featureConfigOf, loadConfig, redact } from '../config.js';
import { createGeocoder } from '../geo.js';
import { HubSpotClient } from '../hubspot/client.js';
import { HubSpotError } from '../hubspot/errors.js';
import { PortalLimiter } from '../hubspot/limiter.js';
import { staticTokenProvider } from '../hubspot/token.js';
import { createProgress } from '../progress.js';
import type { ProgressStream } from '../progress.js';
import { buildSnapshot } from '../snapshot.js';
import { openStore } from '../store.js';
import type { Store } from '../store.js';
import { SyncAborted, fullSync, incrementalSync, lastSync } from '../sync.js';
import type { SyncResult } from '../sync.js';

export const usage = `Usage: smart-segments sync [--base-url URL] [--full] [--out snapshot.json] [--data-dir DIR]

Copies the HubSpot portal's contacts, deals and contact-deal associations into the local store
(<data-dir>/store). The first run is a full sync; later runs fetch only what changed (--full forces a
full one). An interrupted sync resumes where it stopped. --out writes the feature snapshot as JSON.

Environment: HUBSPOT_ACCESS_TOKEN (required), HUBSPOT_API_BASE, SMART_SEGMENTS_DATA_DIR,
HUBSPOT_RATE_LIMIT (requests per 10 s, default 110), HUBSPOT_SEARCH_RATE (per second, default 5).
`;

const KNOWN_FLAGS = new Set(['base-url', 'full', 'out', 'data-dir', 'as-of', 'help']);

/** Writes via a temporary file and a rename, so readers never see half a file. */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text);
  await rename(tmp, path);
}

function summary(result: SyncResult, totals: { contacts: number; deals: number }): string {
  const records = result.contacts.upserted + result.deals.upserted;
  const deleted = result.contacts.deleted + result.deals.deleted;
  return (
    `${result.mode === 'full' ? 'Full sync' : 'Incremental sync'}${result.resumed ? ' (resumed)' : ''}: ` +
    `${result.contacts.upserted} contacts, ${result.deals.upserted} deals read, ${deleted} deleted; ` +
    `store holds ${totals.contacts} contacts, ${totals.deals} deals; ` +
    `${result.requests} requests in ${result.seconds.toFixed(1)} s (${Math.round(result.recordsPerSecond)} records/s)` +
    (records === 0 && deleted === 0 && result.mode === 'incremental' ? ' — no changes' : '')
  );
}

export async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.flags.help) {
    io.stdout(usage);
    return 0;
  }
  for (const flag of Object.keys(args.flags)) {
    if (!KNOWN_FLAGS.has(flag)) {
      io.stderr(`sync: unknown option --${flag}\n${usage}`);
      return 2;
    }
  }
  if (args.flags.out === true) {
    io.stderr('sync: --out needs a file name\n');
    return 2;
  }

  let config;
  try {
    config = loadConfig(io.env, args.flags);
  } catch (e) {
    if (e instanceof ConfigError) {
      io.stderr(`sync: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (config.token === undefined) {
    io.stderr(
      'sync: HUBSPOT_ACCESS_TOKEN is not set. Create a private app (or install the app) in the HubSpot portal ' +
        'with the crm.objects.contacts.read and crm.objects.deals.read scopes and export its access token.\n',
    );
    return 1;
  }

  const cwd = io.cwd ?? process.cwd();
  const limiter = new PortalLimiter({
    perWindow: config.rateLimit.perTenSeconds,
    searchPerSecond: config.rateLimit.searchPerSecond,
    concurrency: config.concurrency,
  });
  let retries = 0;
  const client = new HubSpotClient({
    baseUrl: config.baseUrl,
    tokenProvider: staticTokenProvider(config.token),
    limiter,
    onEvent: (e) => {
      if (e.type === 'retry') retries++;
    },
  });

  let store: Store | undefined;
  try {
    // Open the database first: starting it blocks the event loop for a while, which would leave an idle
    // keep-alive connection to HubSpot stale for the first API call.
    const database = await openStore({
      dataDir: join(resolve(cwd, config.dataDir), 'store'),
      portalId: 'unknown',
      ...(config.databaseUrl !== undefined ? { databaseUrl: config.databaseUrl } : {}),
    });
    store = database;
    const portalId = await client.portalId();
    store = database.withPortal(portalId);
    const ctx = { client, store, portalId, config };
    const previous = await lastSync(store);
    const mode = args.flags.full === true || previous === undefined ? 'full' : 'incremental';
    io.stderr(`Portal ${portalId} at ${config.baseUrl} (token ${redact(config.token)}): ${mode} sync\n`);

    const stream: ProgressStream = { write: (s: string) => io.stderr(s), isTTY: io.stderrIsTTY === true };
    const progress = createProgress({ label: mode === 'full' ? 'Full sync' : 'Sync', stream });
    const onProgress = (p: { done: number; total?: number }): void => progress.update(p.done, p.total);
    const result = mode === 'full' ? await fullSync(ctx, { onProgress }) : await incrementalSync(ctx, { onProgress });
    const totals = { contacts: await store.count('contacts'), deals: await store.count('deals') };
    progress.done(summary(result, totals) + (retries > 0 ? `; ${retries} retries` : ''));

    const out = args.flags.out;
    if (typeof out === 'string') {
      const snapshot = await buildSnapshot(store, {
        portalId,
        featureConfig: featureConfigOf(config),
        geocoder: createGeocoder(),
        generatedAt: new Date().toISOString(),
      });
      const path = resolve(cwd, out);
      await writeAtomically(path, JSON.stringify(snapshot));
      io.stderr(`Snapshot of ${snapshot.ids.length} contacts written to ${path} (etag ${snapshot.etag})\n`);
    }
    return 0;
  } catch (e) {
    if (e instanceof HubSpotError) {
      io.stderr(`sync: ${e.message}\n`);
      if (e.code !== 'UNAUTHORIZED') io.stderr('sync: progress is saved; run the command again to resume.\n');
      return 1;
    }
    if (e instanceof SyncAborted) {
      io.stderr(`sync: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await store?.close();
  }
}
