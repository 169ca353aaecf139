/**
 * `smart-segments writeback --model model.json [--base-url URL] [--dry-run] [--data-dir DIR] [--full-sync]`:
 * assigns every contact in the local store with a fitted model and writes segment, strategy and model id to
 * HubSpot. Syncs first when the store is empty. Resumable: run it again after an interruption.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { assign, parseModel } from '../../src/assign.js';
import type { Model } from '../../src/types.js';
import type { CliIo, FlagSpec, ParsedArgs } from '../args.js';
import { ConfigError, featureConfigOf } from '../config.js';
import { createGeocoder } from '../geo.js';
import { createProgress } from '../progress.js';
import { connect, syncNow } from '../server/app.js';
import { savePublished, snapshotTable } from '../server/server.js';
import { buildSnapshot } from '../snapshot.js';
import { writeBack } from '../writeback.js';
import type { WriteBackReport } from '../writeback.js';

export const flagSpec: FlagSpec = { values: ['model', 'base-url', 'data-dir', 'as-of'], booleans: ['dry-run', 'json', 'sync'] };

export const usage = `Usage: smart-segments writeback --model model.json [--base-url URL] [--dry-run] [--data-dir DIR] [--sync] [--json]

Assigns every synced contact to the model's segments and writes smart_segment, smart_segment_strategy and
smart_segment_model to HubSpot (creating the "Smart Segments" property group and properties if needed).
Syncs first when the local store is empty (or with --sync). Contacts whose value is already right in the
local store (as of the last sync and the last write-back) are skipped: pass --sync to catch values edited
in HubSpot since. --dry-run prints the plan and sends nothing.
Token from HUBSPOT_ACCESS_TOKEN; without it the built-in sandbox portal is used.
`;

export async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.flags.help) {
    io.stdout(usage);
    return 0;
  }
  const modelPath = args.flags.model;
  if (typeof modelPath !== 'string' || modelPath === '') {
    io.stderr(`writeback: --model model.json is required\n${usage}`);
    return 2;
  }
  const file = resolve(io.cwd ?? process.cwd(), modelPath);
  let model: Model;
  try {
    model = parseModel(JSON.parse(await readFile(file, 'utf8')) as unknown);
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.message;
    io.stderr(`writeback: ${modelPath}: ${why}\n`);
    return 1;
  }
  const dryRun = args.flags['dry-run'] === true;
  let conn;
  try {
    conn = await connect({ env: io.env, flags: args.flags, out: io });
  } catch (error) {
    io.stderr(`writeback: ${(error as Error).message}\n`);
    return error instanceof ConfigError ? 2 : 1;
  }
  try {
    const empty = (await conn.store.allContacts()).length === 0;
    if (empty || args.flags.sync === true) {
      const s = await syncNow(conn, { full: empty });
      io.stderr(`${s.mode} sync done in ${s.seconds.toFixed(1)} s\n`);
    }
    const snapshot = await buildSnapshot(conn.store, {
      portalId: conn.portalId,
      featureConfig: featureConfigOf(conn.config),
      geocoder: createGeocoder(),
      generatedAt: new Date().toISOString(),
    });
    const missing = model.features.filter((f) => !snapshot.features.includes(f));
    if (missing.length) {
      io.stderr(`writeback: the model uses ${missing.join(', ')}, which the synced data does not have\n`);
      return 1;
    }
    const assignments = assign(model, snapshotTable(snapshot));
    // The server shows the model written back last as the published one.
    if (!dryRun) await savePublished(conn.store, model, assignments);
    const progress = createProgress({ label: dryRun ? 'Planning' : 'Write-back', total: assignments.length, stream: process.stderr });
    const report = await writeBack(
      { client: conn.client, store: conn.store, portalId: conn.portalId },
      model,
      assignments,
      { dryRun, onProgress: (p) => progress.update(p.done, p.total) },
    );
    progress.done(dryRun ? 'Plan ready' : 'Write-back done');
    if (args.flags.json === true) io.stdout(`${JSON.stringify(report)}\n`);
    else io.stdout(formatReport(report));
    return 0;
  } catch (error) {
    io.stderr(`writeback: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await conn.close();
  }
}

export function formatReport(r: WriteBackReport): string {
  const lines = [
    r.dryRun ? `Dry run for model ${r.modelId}: nothing was sent.` : `Write-back of model ${r.modelId}:`,
    `  contacts considered  ${r.considered}`,
    `  already up to date   ${r.skipped}`,
    `  ${r.dryRun ? 'would update        ' : 'updated             '} ${r.updated}` +
      (r.dryRun ? ` (${r.batches} batch requests)` : ''),
  ];
  if (!r.dryRun) {
    lines.push(`  requests sent        ${r.requests} (${r.batches} batches)`);
    if (r.failed) {
      lines.push(
        `  not found in HubSpot ${r.failed} (${r.failedIds.slice(0, 10).join(', ')}${r.failed > 10 ? ', ...' : ''}): ` +
          'deleted since the last sync; `smart-segments sync` forgets them',
      );
    }
    if (r.resumedAfter) lines.push(`  resumed after contact ${r.resumedAfter}`);
    for (const change of r.schema) lines.push(`  schema: ${change}`);
  }
  lines.push(`  time                 ${r.seconds.toFixed(1)} s`);
  return `${lines.join('\n')}\n`;
}
