/**
 * `smart-segments serve [--port N] [--data-dir DIR]` (what `npm start` runs): sync the portal (the built-in
 * sandbox when HUBSPOT_ACCESS_TOKEN is unset), then serve the demo pages and the JSON API until Ctrl-C.
 * With HUBSPOT_CLIENT_ID set it is the marketplace app's backend instead: every installed portal, OAuth
 * install, webhooks and the token-gated iframe pages (connector/portals/marketplace-server.ts).
 */
import type { CliIo, FlagSpec, ParsedArgs } from '../args.js';
import { ConfigError } from '../config.js';
import { startMarketplaceApp } from '../portals/marketplace-server.js';
import { startApp } from '../server/app.js';
import { ListenError } from '../server/server.js';

export const flagSpec: FlagSpec = { values: ['port', 'data-dir', 'host', 'as-of'], booleans: [] };

export const usage = `Usage: smart-segments serve [--port N] [--data-dir DIR] [--host ADDR]

Syncs the HubSpot portal into the local store, then serves the demo pages and the JSON API.
Without HUBSPOT_ACCESS_TOKEN it starts the built-in sandbox portal (data in <data-dir>/sandbox).
Environment: HUBSPOT_ACCESS_TOKEN, HUBSPOT_API_BASE, PORT (default 3000), SMART_SEGMENTS_DATA_DIR (default .data).

Marketplace mode (when HUBSPOT_CLIENT_ID is set): serves every portal that installs the app.
Needs HUBSPOT_CLIENT_ID, HUBSPOT_CLIENT_SECRET, APP_BASE_URL (this server's public https URL) and
TOKEN_ENCRYPTION_KEY (32 bytes, base64 or hex: openssl rand -base64 32); optional DATABASE_URL,
HUBSPOT_API_BASE, HUBSPOT_AUTHORIZE_BASE.
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
    if (io.env.HUBSPOT_CLIENT_ID?.trim()) {
      await startMarketplaceApp({ env: io.env, flags: args.flags, out: io, host, handleSignals: true });
      return await new Promise<number>(() => {});
    }
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
