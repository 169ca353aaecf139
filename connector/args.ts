/**
 * A small typed command-line parser: `--name value`, `--name=value`, boolean switches (`--json`),
 * positionals, and `--` to end the options. With a FlagSpec, unknown options and missing values are
 * UsageErrors (exit code 2); without one (commands that validate their own options) anything goes.
 */

export interface ParsedArgs {
  /** `true` for a switch, the text for an option with a value. */
  flags: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/** Where a command writes and what it may read: injected so tests capture output. */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Record<string, string | undefined>;
  /** Base directory for relative paths; default process.cwd(). */
  cwd?: string;
  /** True when stderr is a terminal (progress bars instead of lines). */
  stderrIsTTY?: boolean;
}

export interface FlagSpec {
  /** Options that take a value. */
  values: readonly string[];
  /** Switches; `--name=false` turns one off. */
  booleans: readonly string[];
}

/** Bad command-line usage: the message is one line; the caller adds the usage text and exits with 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Switches commonly used by commands that parse permissively, so `--full file` is not read as a value. */
const COMMON_BOOLEANS = new Set(['help', 'json', 'full', 'dry-run', 'sync', 'force', 'yes', 'verbose', 'quiet']);

export function parseArgs(argv: readonly string[], spec?: FlagSpec): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  const values = new Set(spec?.values ?? []);
  const booleans = new Set([...(spec?.booleans ?? []), 'help']);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (arg === '-h') {
      flags['help'] = true;
      continue;
    }
    if (!arg.startsWith('--') || arg.length === 2) {
      if (arg.startsWith('-') && arg.length > 1 && !/^-\d/.test(arg)) throw new UsageError(`unknown option ${arg}`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const inline = eq < 0 ? undefined : arg.slice(eq + 1);
    const isBoolean = booleans.has(name) || (spec === undefined && COMMON_BOOLEANS.has(name));
    if (spec !== undefined && !isBoolean && !values.has(name)) throw new UsageError(`unknown option --${name}`);
    if (isBoolean) {
      if (inline === undefined || inline === 'true') flags[name] = true;
      else if (inline === 'false') flags[name] = false;
      else throw new UsageError(`--${name} is a switch and takes no value (got "${inline}")`);
      continue;
    }
    if (inline !== undefined) {
      flags[name] = inline;
      continue;
    }
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      flags[name] = next;
      i++;
    } else if (spec !== undefined) {
      throw new UsageError(`--${name} needs a value`);
    } else {
      flags[name] = true;
    }
  }
  return { flags, positionals };
}

/** The value of an option, undefined when absent; a UsageError when given as a bare switch or empty. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags[name];
  if (v === undefined || v === false) return undefined;
  if (v === true || v.length === 0) throw new UsageError(`--${name} needs a value`);
  return v;
}

/** An integer option within [min, max]. */
export function intFlag(args: ParsedArgs, name: string, fallback: number, min: number, max: number): number {
  const v = stringFlag(args, name);
  if (v === undefined) return fallback;
  const n = /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got "${v}"`);
  }
  return n;
}

/** An option restricted to a few words. */
export function choiceFlag<T extends string>(args: ParsedArgs, name: string, choices: readonly T[], fallback: T): T {
  const v = stringFlag(args, name);
  if (v === undefined) return fallback;
  if (!(choices as readonly string[]).includes(v)) {
    throw new UsageError(`--${name} must be one of ${choices.join(', ')}, got "${v}"`);
  }
  return v as T;
}

/** A comma-separated list option (empty items dropped). */
export function listFlag(args: ParsedArgs, name: string): string[] | undefined {
  const v = stringFlag(args, name);
  if (v === undefined) return undefined;
  const items = v.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (items.length === 0) throw new UsageError(`--${name} needs at least one name`);
  return items;
}
