/**
 * `smart-segments serve [--port N] [--data-dir DIR]` (what `npm start` runs): sync the portal (the built-in
 * sandbox when HUBSPOT_ACCESS_TOKEN is unset), then serve the demo pages and the JSON API until Ctrl-C.
 */
import type { CliIo, FlagSpec, ParsedArgs } from '../args.js';
import { ConfigError } from '../config.js';
import { startApp } from '../server/app.js';
import { ListenError } from '../server/server.js';

export const flagSpec: FlagSpec = { values: ['port', 'data-dir', 'host', 'as-of'], booleans: [] };

export const usage = `Usage: smart-segments serve [--port N] [--data-dir DIR] [--host ADDR]

Syncs the HubSpot portal into the local store, then serves the demo pages and the JSON API.
Without HUBSPOT_ACCESS_TOKEN it starts the built-in sandbox portal (data in <data-dir>/sandbox).
Environment: HUBSPOT_ACCESS_TOKEN, HUBSPOT_API_BASE, PORT (default 3000), SMART_SEGMENTS_DATA_DIR (default .data).
`;

export async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.flags.help) {
    io.stdout(usage);
    return 0;
  }
  if (args.positionals.length > 0) {
    io.stderr(`serve: unexpected argument "${args.positionals[0]}"\n${usage}`);
    return 2;
  }
  const host = typeof args.flags.host === 'string' ? args.flags.host : '127.0.0.1';
  try {
    await startApp({
      env: io.env,
      flags: args.flags,
      out: io,
      host,
      handleSignals: true,
      starterModel: true,
    });
    // Keep running: the open server holds the event loop; signals close it.
    return await new Promise<number>(() => {});
  } catch (error) {
    if (error instanceof ConfigError || error instanceof ListenError) {
      io.stderr(`serve: ${error.message}\n`);
      return error instanceof ConfigError ? 2 : 1;
    }
    io.stderr(`serve: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}
