/**
 * Runs the sandbox portal on its own:
 *   node dist/connector/sandbox/main.js --port 4010 --data-dir .data/sandbox [--reset] [--contacts N]
 *     [--seed N] [--as-of 2026-11-01] [--order-scale 0.35] [--token T] [--no-rate-limit]
 *     [--latency MIN,MAX] [--verbose]
 * Prints its URL and token, and saves pending changes on SIGINT / SIGTERM.
 */
import { pathToFileURL } from 'node:url';
import { startSandbox, type SandboxOptions } from './server.js';

const USAGE = `usage: sandbox [--port N] [--host H] [--data-dir DIR] [--reset] [--contacts N] [--seed N]
               [--as-of YYYY-MM-DD] [--order-scale X] [--token T] [--no-rate-limit] [--latency MIN,MAX] [--verbose]`;

/** Parses the command line into sandbox options; throws with a message naming the bad flag. */
export function parseSandboxArgs(argv: readonly string[]): SandboxOptions & { help?: boolean } {
  const o: SandboxOptions & { help?: boolean } = {};
  const num = (flag: string, v: string | undefined): number => {
    const x = Number(v);
    if (v === undefined || !Number.isFinite(x)) throw new Error(`${flag} needs a number, got ${v ?? 'nothing'}`);
    return x;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const next = (): string | undefined => argv[++i];
    switch (a) {
      case '--port': o.port = num(a, next()); break;
      case '--host': o.host = next(); break;
      case '--data-dir': o.dataDir = next(); break;
      case '--reset': o.fresh = true; break;
      case '--contacts': o.contacts = num(a, next()); break;
      case '--seed': o.seed = num(a, next()); break;
      case '--as-of': o.asOf = next(); break;
      case '--order-scale': o.orderScale = num(a, next()); break;
      case '--token': o.tokens = [...(o.tokens ?? []), next() ?? 'sandbox-token']; break;
      case '--no-rate-limit': o.rateLimit = false; break;
      case '--latency': {
        const [lo, hi] = (next() ?? '').split(',').map(Number);
        if (!Number.isFinite(lo) || !Number.isFinite(hi ?? lo)) throw new Error('--latency needs MIN,MAX in ms');
        o.latencyMs = [lo!, hi ?? lo!];
        break;
      }
      case '--verbose': o.log = (line) => process.stderr.write(`${line}\n`); break;
      case '--help': case '-h': o.help = true; break;
      default: throw new Error(`unknown option ${a}`);
    }
  }
  return o;
}

export async function main(argv: readonly string[]): Promise<number> {
  let options: ReturnType<typeof parseSandboxArgs>;
  try {
    options = parseSandboxArgs(argv);
  } catch (e) {
    process.stderr.write(`sandbox: ${e instanceof Error ? e.message : String(e)}\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const log = options.log ?? ((line: string) => { if (line.startsWith('sandbox:')) process.stderr.write(`${line}\n`); });
  const sandbox = await startSandbox({ ...options, log });
  const n = sandbox.data.counts();
  process.stdout.write(`Sandbox HubSpot portal ${sandbox.portalId}: ${n.contacts} contacts, ${n.deals} deals\n`);
  process.stdout.write(`URL:   ${sandbox.url}\nToken: ${sandbox.token}\n`);
  await new Promise<void>((resolve) => {
    const stop = (): void => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sandbox.close();
  return 0;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await main(process.argv.slice(2));
}
