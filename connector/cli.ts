/**
 * The `smart-segments` command line. `bin/smart-segments.js` calls `main(process.argv.slice(2))`; tests call
 * it with captured io. Commands are loaded with dynamic imports, so one that is missing or broken prints
 * "not available" instead of taking the whole CLI down. Exit codes: 0 success, 1 failure the user can fix
 * (bad file, bad data), 2 usage error.
 */
import { InputError } from '../src/csv.js';
import { UsageError, parseArgs } from './args.js';
import type { CliIo, FlagSpec, ParsedArgs } from './args.js';

interface CommandModule {
  run(args: ParsedArgs, io: CliIo): Promise<number>;
  usage?: string;
  /** When present the dispatcher rejects unknown options; otherwise the command validates its own. */
  flagSpec?: FlagSpec;
}

const COMMANDS: Readonly<Record<string, { summary: string; load: () => Promise<unknown> }>> = {
  fit: { summary: 'cluster customers from a CSV or snapshot into named segments', load: () => import('./commands/fit.js') },
  assign: { summary: "assign customers to a fitted model's segments", load: () => import('./commands/assign.js') },
  sync: { summary: 'copy contacts and deals from the HubSpot portal into the local store', load: () => import('./commands/sync.js') },
  writeback: { summary: 'write each contact\'s segment back to HubSpot properties', load: () => import('./commands/writeback.js') },
  serve: { summary: 'sync, then serve the demo pages and the JSON API', load: () => import('./commands/serve.js') },
};

export const usage =
  'Usage: smart-segments <command> [options]\n\nCommands:\n' +
  Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
    .join('\n') +
  '\n\nRun "smart-segments <command> --help" for the options of a command.\n';

/** The process's io: real stdout/stderr, environment and working directory. */
export function processIo(): CliIo {
  return {
    stdout: (text) => void process.stdout.write(text),
    stderr: (text) => void process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    stderrIsTTY: process.stderr.isTTY === true,
  };
}

function isCommandModule(m: unknown): m is CommandModule {
  return typeof m === 'object' && m !== null && typeof (m as { run?: unknown }).run === 'function';
}

/** Errors the user can fix print as one line (exit 1); anything else is a bug and keeps its stack. */
function isUserError(error: unknown): error is Error {
  if (!(error instanceof Error)) return false;
  return error instanceof InputError || ['CommandError', 'ModelError', 'ConfigError'].includes(error.name);
}

export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    (name === undefined ? io.stderr : io.stdout)(usage);
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    io.stdout('smart-segments 0.1.0\n');
    return 0;
  }
  const entry = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (entry === undefined) {
    io.stderr(`smart-segments: unknown command "${name}"\n\n${usage}`);
    return 2;
  }
  let mod: unknown;
  try {
    mod = await entry.load();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === 'ERR_MODULE_NOT_FOUND' ? 'is not available yet in this build' : `failed to load (${(error as Error).message})`;
    io.stderr(`smart-segments: the "${name}" command ${why}\n`);
    return 1;
  }
  if (!isCommandModule(mod)) {
    io.stderr(`smart-segments: the "${name}" command is not available yet in this build\n`);
    return 1;
  }
  const commandUsage = mod.usage ?? usage;
  try {
    const args = parseArgs(rest, mod.flagSpec);
    return await mod.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${name}: ${error.message}\n\n${commandUsage}`);
      return 2;
    }
    if (isUserError(error)) {
      io.stderr(`${name}: ${error.message}\n`);
      return 1;
    }
    io.stderr(`${name}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    return 1;
  }
}
