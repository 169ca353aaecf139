/** Shared pieces of the benchmark: timing, formatting, the report's row shape, the machine description. */
import { execFileSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';

/** One line of a section's table: a figure measured in this run beside its reference, as a ratio. */
export interface Row {
  measure: string;
  value: string;
  reference: string;
  /** How many times better than the reference (>= 1 is better), or a plain ratio where stated. */
  ratio: string;
  goal: string;
  /** 'yes' | 'no' | '' (informational) | 'skipped' */
  met: string;
}

export interface Section {
  id: string;
  title: string;
  rows: Row[];
  notes: string[];
  seconds: number;
}

export interface BenchOptions {
  quick: boolean;
  /** Section ids to run; empty = all. */
  only: string[];
  /** The sync section's portal size, when not its default. */
  syncContacts?: number;
  /** A PostgreSQL URL: the sync section's store instead of PGlite in memory. */
  syncDatabaseUrl?: string;
  log: (line: string) => void;
}

/** Figures one section hands to another (e.g. the Node scikit-learn times to the worker section). */
export interface Shared {
  sklearnSeconds: Map<number, number>;
  sklearnNote?: string;
  mlKmeansDefaultSeconds: Map<number, number>;
}

export function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs `fn` `warmups` times untimed (so the optimising compiler has seen it), then up to `maxRepeats` times
 * (at least once, stopping early once `budgetSeconds` are spent); returns the median wall time in seconds
 * and the last result.
 */
export async function timed<T>(fn: () => T | Promise<T>, maxRepeats = 1, budgetSeconds = 3, warmups = 0): Promise<{ seconds: number; result: T; runs: number }> {
  const times: number[] = [];
  let result!: T;
  for (let w = 0; w < warmups; w++) await fn();
  const start = performance.now();
  for (let r = 0; r < maxRepeats; r++) {
    gc();
    const t = performance.now();
    result = await fn();
    times.push((performance.now() - t) / 1000);
    if ((performance.now() - start) / 1000 > budgetSeconds) break;
  }
  return { seconds: median(times), result, runs: times.length };
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function secs(s: number): string {
  if (!Number.isFinite(s)) return '—';
  if (s < 0.001) return `${(s * 1e6).toFixed(0)} µs`;
  if (s < 1) return `${(s * 1000).toFixed(s < 0.01 ? 2 : 1)} ms`;
  return `${s.toFixed(s < 10 ? 2 : 1)} s`;
}

export function ms(x: number): string {
  return Number.isFinite(x) ? `${x.toFixed(x < 10 ? 1 : 0)} ms` : '—';
}

export function ratio(x: number): string {
  if (!Number.isFinite(x)) return '—';
  return `${x.toFixed(x < 10 ? 2 : 1)}×`;
}

export function bytes(b: number): string {
  if (!Number.isFinite(b)) return '—';
  if (b < 1024) return `${b} B`;
  if (b < 1024 * 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${(b / 1024 / 1024).toFixed(1)} MiB`;
}

export function count(n: number): string {
  if (n >= 1_000_000 && n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n >= 1000 && n % 1000 === 0) return `${n / 1000}k`;
  return n.toLocaleString('en-US');
}

export function int(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), Number.MIN_VALUE);
}

export function yesNo(ok: boolean): string {
  return ok ? 'yes' : 'no';
}

export function row(measure: string, value: string, reference = '', ratioText = '', goal = '', met = ''): Row {
  return { measure, value, reference, ratio: ratioText, goal, met };
}

function sh(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 10_000 }).trim();
  } catch {
    return '';
  }
}

export interface Machine {
  cpu: string;
  cores: number;
  memory: string;
  node: string;
  chromium: string;
  python: string;
  os: string;
  load: string;
}

export function describeMachine(): Machine {
  const cpu = cpus()[0]?.model ?? 'unknown';
  const chromium = sh('/usr/bin/chromium', ['--version']).split('\n').find((l) => l.includes('Chromium')) ?? 'not found';
  const sklearn = sh('/usr/bin/python3', ['-c', 'import sklearn, numpy, sys; print(f"Python {sys.version.split()[0]}, scikit-learn {sklearn.__version__}, NumPy {numpy.__version__}")']);
  const load = sh('cat', ['/proc/loadavg']).split(' ').slice(0, 3).join(' ');
  return {
    cpu,
    cores: cpus().length,
    memory: bytes(totalmem()),
    node: process.version,
    chromium: chromium.trim(),
    python: sklearn || 'scikit-learn not available',
    os: sh('uname', ['-srm']),
    load,
  };
}
