/**
 * `smart-segments fit`: reads customers from a CSV file or a snapshot JSON, fits segments with the core's
 * `fit`, prints a report (or one JSON object with --json) and optionally writes the model (--out).
 * Also exports the input readers that `assign` shares.
 */
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { tableFromCsv } from '../../src/csv.js';
import { fit } from '../../src/fit.js';
import { ALL_FEATURES, DEFAULT_FEATURES } from '../../src/types.js';
import type { FeatureTable, FitOptions, FitResult, Method, ScalerKind } from '../../src/types.js';
import { UsageError, choiceFlag, intFlag, listFlag, stringFlag } from '../args.js';
import { readModel } from './assign.js';
import type { CliIo, ParsedArgs } from '../args.js';
import { fitJson, formatFitReport } from '../report.js';

export const usage = `Usage: smart-segments fit --input customers.csv|snapshot.json [options]

Clusters customers into segments (k-means or Ward) and names them loyal / profitable / risky with a
smart-technology strategy each. Prints a report, or one JSON object with --json.

Options:
  --input FILE        CSV with an "id" column and one column per feature (empty cell = missing), or a
                      snapshot JSON written by "smart-segments sync --out"
  --features a,b,c    features to cluster (default ${DEFAULT_FEATURES.join(',')})
  --k auto|N          number of segments, or auto (2..8 by silhouette); default 3
  --method kmeans|ward    default kmeans
  --scaler zscore|minmax  default zscore
  --seed N            random seed (default 1): same data and seed, same segments
  --holdout F         fraction held out for the stability check, 0 to 0.9 (default 0.3)
  --json              print one JSON object instead of the report
  --out FILE          write the fitted model (JSON) for "assign" and "writeback"
  --previous FILE     a model written earlier with --out: matching segments keep its ids, names and colours

Environment: SOURCE_DATE_EPOCH (seconds) fixes the model's createdAt, for byte-identical model files.
`;

export const flagSpec = {
  values: ['input', 'features', 'k', 'method', 'scaler', 'seed', 'holdout', 'out', 'previous'],
  booleans: ['json'],
} as const;

/** A failure the user can fix: printed as one line, exit code 1. */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Reads a file relative to io.cwd; a missing or unreadable file is a CommandError naming it. */
export async function readText(io: CliIo, path: string): Promise<string> {
  try {
    return await readFile(resolve(io.cwd ?? process.cwd(), path), 'utf8');
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory, not a file' : e.message;
    throw new CommandError(`${path}: ${why}`);
  }
}

/** 1-based line and column of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

/**
 * Offset of the first JSON syntax error in `text` (JSON.parse's message does not always say where), or
 * -1 when the text is valid. Only called after JSON.parse failed, so it favours brevity over speed.
 */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const ws = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i]!)) i++;
  };
  const fail = (): never => {
    throw i;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      ws();
      if (text[i] === '}') return void i++;
      for (;;) {
        ws();
        if (text[i] !== '"') fail();
        string();
        ws();
        if (text[i] !== ':') fail();
        i++;
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === '}') return void i++;
        else fail();
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') return void i++;
      for (;;) {
        value();
        ws();
        if (text[i] === ',') i++;
        else if (text[i] === ']') return void i++;
        else fail();
      }
    } else if (c === '"') string();
    else {
      const m = /^(?:true|false|null|-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
      if (m === null) fail();
      i += m![0].length;
    }
  };
  const string = (): void => {
    i++;
    while (i < text.length) {
      const c = text[i]!;
      if (c === '"') return void i++;
      if (c === '\\') i += 2;
      else if (c < ' ') fail();
      else i++;
    }
    fail();
  };
  try {
    value();
    ws();
    return i < text.length ? i : -1;
  } catch (at) {
    return typeof at === 'number' ? Math.min(at, text.length) : -1;
  }
}

/** Parses JSON text; a syntax error becomes a CommandError `file:line:column: not valid JSON ...`. */
export function parseJsonText(raw: string, fileName: string): unknown {
  const text = raw.charCodeAt(0) === 0xfeff ? raw.slice(1) : raw;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    const offset = jsonErrorOffset(text);
    if (offset < 0 || text.trim().length === 0) throw new CommandError(`${fileName}: not valid JSON (the file is empty)`);
    const { line, column } = lineColumn(text, offset);
    const near = offset >= text.length ? 'the end of the file' : JSON.stringify(text.slice(offset, offset + 12));
    throw new CommandError(`${fileName}:${line}:${column}: not valid JSON near ${near}`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A Snapshot (src/types.ts, kind 'smart-segments-snapshot') to a FeatureTable with the requested features
 * (null -> NaN). Every problem names the file and the JSON path.
 */
export function tableFromSnapshot(json: unknown, fileName: string, features: readonly string[]): FeatureTable {
  const bad = (path: string, why: string): never => {
    throw new CommandError(`${fileName}: ${path}: ${why}`);
  };
  if (!isRecord(json)) return bad('snapshot', 'expected a JSON object');
  if (json['kind'] !== 'smart-segments-snapshot') {
    return bad('kind', `expected "smart-segments-snapshot" (a model or another file?), got ${JSON.stringify(json['kind'] ?? null)}`);
  }
  const cols = json['features'];
  const ids = json['ids'];
  const values = json['values'];
  if (!Array.isArray(cols) || !cols.every((c) => typeof c === 'string')) return bad('features', 'expected an array of names');
  if (!Array.isArray(ids) || !ids.every((c) => typeof c === 'string')) return bad('ids', 'expected an array of strings');
  if (!Array.isArray(values)) return bad('values', 'expected an array');
  if (ids.length === 0) return bad('ids', 'the snapshot has no contacts');
  const width = cols.length;
  if (values.length !== ids.length * width) {
    return bad('values', `expected ${ids.length} x ${width} = ${ids.length * width} entries, got ${values.length}`);
  }
  const seen = new Set<string>();
  ids.forEach((id, r) => {
    if (seen.has(id)) bad(`ids[${r}]`, `duplicate id "${id}"`);
    seen.add(id);
  });
  const wanted = [...features];
  for (const f of ALL_FEATURES) if (cols.includes(f) && !wanted.includes(f)) wanted.push(f);
  for (const f of features) {
    if (!cols.includes(f)) bad('features', `has no "${f}" (found: ${cols.join(', ')})`);
  }
  const source = wanted.map((f) => cols.indexOf(f));
  const out = new Float64Array(ids.length * wanted.length);
  for (let r = 0; r < ids.length; r++) {
    for (let j = 0; j < wanted.length; j++) {
      const at = r * width + source[j]!;
      const v: unknown = values[at];
      if (v === null) out[r * wanted.length + j] = NaN;
      else if (typeof v === 'number' && Number.isFinite(v)) out[r * wanted.length + j] = v;
      else bad(`values[${at}]`, `${JSON.stringify(v)} for contact "${ids[r]}", feature "${wanted[j]}" is not a number or null`);
    }
  }
  const table: FeatureTable = { ids: [...ids] as string[], columns: wanted, values: out };
  const nps = json['nps'];
  if (Array.isArray(nps) && nps.length === ids.length) {
    table.nps = Float64Array.from(nps, (v: unknown) => (typeof v === 'number' && v >= 0 && v <= 10 ? v : NaN));
  }
  return table;
}

/**
 * Reads customers from `path`: a snapshot when it ends in .json or starts with "{", CSV otherwise. The
 * table has the requested features plus any other built-in feature present (for the KPIs).
 */
export async function readCustomers(io: CliIo, path: string, features: readonly string[]): Promise<FeatureTable> {
  const text = await readText(io, path);
  if (/\.json$/i.test(path) || /^\uFEFF?\s*\{/.test(text.slice(0, 64))) {
    return tableFromSnapshot(parseJsonText(text, path), path, features);
  }
  return tableFromCsv(text, path, features, { optional: ALL_FEATURES });
}

/** Writes `text` to `path` through a temporary file and a rename: readers never see half a file. */
export async function writeFileAtomically(io: CliIo, path: string, text: string): Promise<void> {
  const target = resolve(io.cwd ?? process.cwd(), path);
  const tmp = join(dirname(target), `.${basename(target)}.${process.pid}.tmp`);
  try {
    await writeFile(tmp, text);
    await rename(tmp, target);
  } catch (error) {
    await rm(tmp, { force: true });
    throw new CommandError(`${path}: cannot write (${(error as Error).message})`);
  }
}

function holdoutFlag(args: ParsedArgs): number | undefined {
  const v = stringFlag(args, 'holdout');
  if (v === undefined) return undefined;
  const x = Number(v);
  if (v.trim() === '' || !Number.isFinite(x) || x < 0 || x > 0.9) throw new UsageError(`--holdout must be a number from 0 to 0.9, got "${v}"`);
  return x;
}

/**
 * The model's timestamp: now, or SOURCE_DATE_EPOCH (seconds, the reproducible-builds convention) when set,
 * so that CI can produce byte-identical model files.
 */
export function createdAtOf(env: Record<string, string | undefined>): string {
  const epoch = env['SOURCE_DATE_EPOCH'];
  if (epoch !== undefined && /^\d+$/.test(epoch.trim())) return new Date(Number(epoch) * 1000).toISOString();
  return new Date().toISOString();
}

/** Fit options from the command line; UsageError for malformed ones. */
export function fitOptionsOf(args: ParsedArgs, env: Record<string, string | undefined> = {}): { input: string; options: FitOptions; features: string[] } {
  const input = stringFlag(args, 'input') ?? args.positionals[0];
  if (input === undefined) throw new UsageError('--input customers.csv is required');
  if (args.positionals.length > (stringFlag(args, 'input') === undefined ? 1 : 0)) {
    throw new UsageError(`unexpected argument "${args.positionals.at(-1)}"`);
  }
  const features = listFlag(args, 'features') ?? [...DEFAULT_FEATURES];
  const dup = features.find((f, i) => features.indexOf(f) !== i);
  if (dup !== undefined) throw new UsageError(`--features names "${dup}" twice`);
  const kText = stringFlag(args, 'k');
  if (kText !== undefined && kText !== 'auto' && !/^\d+$/.test(kText.trim())) {
    throw new UsageError(`--k must be auto or a whole number of segments, got "${kText}"`);
  }
  const k = kText === 'auto' ? 'auto' : intFlag(args, 'k', 3, 1, 1000);
  const options: FitOptions = {
    features,
    k,
    method: choiceFlag<Method>(args, 'method', ['kmeans', 'ward'], 'kmeans'),
    scaler: choiceFlag<ScalerKind>(args, 'scaler', ['zscore', 'minmax'], 'zscore'),
    seed: intFlag(args, 'seed', 1, 0, 0xffffffff),
    createdAt: createdAtOf(env),
  };
  const holdout = holdoutFlag(args);
  if (holdout !== undefined) options.holdout = holdout;
  return { input, options, features };
}

/** The fit itself, with the core's RangeErrors (k too large, no usable rows, ...) as CommandErrors. */
export function runFit(table: FeatureTable, options: FitOptions, fileName: string): FitResult {
  try {
    return fit(table, options);
  } catch (error) {
    if (error instanceof RangeError) throw new CommandError(`${fileName}: ${error.message}`);
    throw error;
  }
}

export async function run(args: ParsedArgs, io: CliIo): Promise<number> {
  if (args.flags['help'] === true) {
    io.stdout(usage);
    return 0;
  }
  const { input, options } = fitOptionsOf(args, io.env);
  const previous = stringFlag(args, 'previous');
  if (previous !== undefined) options.previous = await readModel(io, previous);
  const out = stringFlag(args, 'out');
  const table = await readCustomers(io, input, options.features ?? DEFAULT_FEATURES);
  const result = runFit(table, options, input);
  // The model is written before anything is printed, so a failed write leaves no half-reported success.
  if (out !== undefined) await writeFileAtomically(io, out, JSON.stringify(result.model, null, 2) + '\n');
  if (args.flags['json'] === true) io.stdout(JSON.stringify(fitJson(result, input)) + '\n');
  else io.stdout(formatFitReport(result, { input }));
  if (out !== undefined) io.stderr(`Model written to ${out}\n`);
  return 0;
}
