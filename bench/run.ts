/**
 * `npm run bench [-- --quick] [-- --only fit,sync,writeback,browser]`: measures every hot path in one run
 * and writes BENCHMARKS.md (each figure beside its reference, as a ratio, with the machine noted).
 * Sections that were not run keep their previous text in BENCHMARKS.md.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { browserSection } from './browser.js';
import { fitSection } from './fit.js';
import { syncSection, writebackSection } from './sync.js';
import { describeMachine, secs } from './util.js';
import type { BenchOptions, Machine, Section, Shared } from './util.js';

/** The package root: the nearest directory above this file with a package.json (works from dist/ and under tsx). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const ROOT = packageRoot();
const OUT = join(ROOT, 'BENCHMARKS.md');
const SECTIONS = ['fit', 'sync', 'writeback', 'browser'] as const;
type SectionId = (typeof SECTIONS)[number];

const USAGE = `Usage: npm run bench -- [--quick] [--only ${SECTIONS.join(',')}] [--no-readme] [--sync-contacts N] [--sync-database-url URL]
  --quick   smaller sizes (fit 10k/100k, sync 1k contacts, write-back 5k, browser 10k rows), ~2 minutes
  --only    run only these sections; the others keep their text in BENCHMARKS.md
  --no-readme  do not copy the goals table into README.md (a full run of every section does by default)
  --sync-contacts N  the sync section's portal size (default 10,000; --quick 1,000); 100000 is the goal's
            size and takes ~20 minutes (two full syncs of ~1.1M records at the limits)
  --sync-database-url URL  sync into PostgreSQL (a schema of its own, dropped afterwards) instead of
            PGlite in memory; e.g. the test database of scripts/ensure-postgres.sh
`;

export function parseArgs(argv: readonly string[]): { quick: boolean; only: SectionId[]; help: boolean; readme: boolean; syncContacts?: number; syncDatabaseUrl?: string } {
  let quick = false;
  let syncContacts: number | undefined;
  let syncDatabaseUrl: string | undefined;
  let readme = true;
  let help = false;
  let only: SectionId[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--quick') quick = true;
    else if (a === '--no-readme') readme = false;
    else if (a === '--help' || a === '-h') help = true;
    else if (a === '--sync-contacts' || a.startsWith('--sync-contacts=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? '';
      syncContacts = Number(value);
      if (!Number.isInteger(syncContacts) || syncContacts < 100) throw new Error(`--sync-contacts needs a whole number of at least 100, got "${value}"`);
    } else if (a === '--sync-database-url' || a.startsWith('--sync-database-url=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? '';
      if (!/^postgres(ql)?:\/\//.test(value)) throw new Error('--sync-database-url needs a postgres:// or postgresql:// URL');
      syncDatabaseUrl = value;
    }
    else if (a === '--only' || a.startsWith('--only=')) {
      const value = a.includes('=') ? a.slice(a.indexOf('=') + 1) : argv[++i] ?? '';
      only = value.split(',').map((s) => s.trim()).filter(Boolean) as SectionId[];
      for (const s of only) if (!SECTIONS.includes(s)) throw new Error(`unknown section "${s}"; known: ${SECTIONS.join(', ')}`);
    } else throw new Error(`unknown option ${a}\n${USAGE}`);
  }
  return { quick, only, help, readme, ...(syncContacts !== undefined ? { syncContacts } : {}), ...(syncDatabaseUrl !== undefined ? { syncDatabaseUrl } : {}) };
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

export function renderSection(section: Section, quick: boolean, date = ''): string {
  const lines = [`<!-- section:${section.id} -->`, `## ${section.title}${quick ? ' (--quick)' : ''}`, ''];
  lines.push('| Measure | Ours | Reference | Ratio | Goal | Met |', '|---|---:|---:|---:|---|---|');
  for (const r of section.rows) lines.push(`| ${[r.measure, r.value, r.reference, r.ratio, r.goal, r.met].map(cell).join(' | ')} |`);
  lines.push('');
  for (const n of section.notes) lines.push(`- ${n}`);
  lines.push(`- Section time: ${secs(section.seconds)}${date ? `; measured ${date}` : ''}.`, `<!-- /section:${section.id} -->`, '');
  return lines.join('\n');
}

function renderMachine(m: Machine, date: string, quick: boolean, sections: readonly string[]): string {
  return [
    '<!-- machine -->',
    `Measured ${date}${quick ? ' with `--quick` (smaller sizes)' : ''}; sections run: ${sections.join(', ')}.`,
    '',
    `- Machine: ${m.cpu}, ${m.cores} cores, ${m.memory} RAM, ${m.os}; load average at start ${m.load}`,
    `- Node ${m.node}; ${m.chromium}; ${m.python}`,
    '<!-- /machine -->',
  ].join('\n');
}

/** The goals at a glance: every row that has a goal, from every section of this run. */
export function renderSummary(sections: readonly Section[], quick: boolean): string {
  const lines = ['<!-- summary -->', `## Goals at a glance${quick ? ' (--quick: smaller sizes)' : ''}`, '', '| Goal | Measure | Ours | Reference | Met |', '|---|---|---:|---:|---|'];
  for (const s of sections) {
    for (const r of s.rows) if (r.goal) lines.push(`| ${[r.goal, r.measure, r.value, r.reference, r.met].map(cell).join(' | ')} |`);
  }
  lines.push('<!-- /summary -->');
  return lines.join('\n');
}

/**
 * Puts the goals table into README.md between `<!-- bench:table -->` and `<!-- /bench:table -->` (the
 * README's own markers); a README without them is left alone.
 */
export function updateReadme(readme: string, summary: string, machineLine: string): string | null {
  const open = '<!-- bench:table -->';
  const close = '<!-- /bench:table -->';
  const a = readme.indexOf(open);
  const b = readme.indexOf(close);
  if (a < 0 || b < a) return null;
  const table = summary.split('\n').filter((l) => l.startsWith('|')).join('\n');
  return `${readme.slice(0, a)}${open}\n${machineLine}\n\n${table}\n${readme.slice(b)}`;
}

const HEADER = `# Benchmarks

Written by \`npm run bench\` (bench/run.ts); every figure in a table was measured in the same run as its
reference. "Ratio" is how many times better ours is than the reference (above 1 is better) unless the
row says otherwise. Tests never assert on timings; this file is where speed is shown.
`;

/** Replaces the marked blocks of the previous file (or builds a new one) with the fresh sections. */
export function mergeReport(previous: string | null, machine: string, sections: readonly { id: string; text: string }[], summary?: string): string {
  let text = previous && previous.includes('<!-- machine -->') ? previous : `${HEADER}\n<!-- machine -->\n<!-- /machine -->\n\n<!-- summary -->\n<!-- /summary -->\n\n${SECTIONS.map((s) => `<!-- section:${s} -->\n<!-- /section:${s} -->\n`).join('\n')}`;
  const replace = (open: string, close: string, body: string): void => {
    const a = text.indexOf(open);
    const b = text.indexOf(close);
    if (a < 0 || b < 0) {
      text += `\n${body}\n`;
      return;
    }
    text = text.slice(0, a) + body.trimEnd() + text.slice(b + close.length);
  };
  replace('<!-- machine -->', '<!-- /machine -->', machine);
  if (summary !== undefined) replace('<!-- summary -->', '<!-- /summary -->', summary);
  for (const s of sections) replace(`<!-- section:${s.id} -->`, `<!-- /section:${s.id} -->`, s.text);
  return text.endsWith('\n') ? text : text + '\n';
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const t0 = performance.now();
  const log = (line: string): void => {
    process.stderr.write(`[bench ${((performance.now() - t0) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
  };
  const options: BenchOptions = { quick: args.quick, only: args.only, log, ...(args.syncContacts !== undefined ? { syncContacts: args.syncContacts } : {}), ...(args.syncDatabaseUrl !== undefined ? { syncDatabaseUrl: args.syncDatabaseUrl } : {}) };
  const shared: Shared = { sklearnSeconds: new Map(), mlKmeansDefaultSeconds: new Map() };
  const selected = args.only.length > 0 ? SECTIONS.filter((s) => args.only.includes(s)) : [...SECTIONS];
  const machine = describeMachine();
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const runners: Record<SectionId, () => Promise<Section | Section[]>> = {
    fit: () => fitSection(options, shared),
    sync: () => syncSection(options),
    writeback: () => writebackSection(options),
    browser: () => browserSection(options, shared),
  };
  const rendered: { id: string; text: string }[] = [];
  const done: Section[] = [];
  let previous: string | null;
  try {
    previous = readFileSync(OUT, 'utf8');
  } catch {
    previous = null;
  }
  for (const id of selected) {
    log(`section ${id}`);
    let result: Section | Section[];
    try {
      result = await runners[id]();
    } catch (e) {
      const error = e as Error;
      log(`section ${id} failed: ${error.stack ?? error.message}`);
      result = { id, title: id, rows: [], notes: [`This section failed in this run: ${error.message.split('\n')[0]}`], seconds: 0 };
    }
    const list = Array.isArray(result) ? result : [result];
    done.push(...list);
    const text = list.map((s) => renderSection(s, args.quick, date)).join('\n');
    rendered.push({ id, text: `<!-- section:${id} -->\n${text.replace(/<!-- \/?section:[a-z-]+ -->\n?/g, '')}<!-- /section:${id} -->` });
    process.stdout.write(text + '\n');
    // Write after every section, so a long run that is interrupted still leaves what it measured.
    // The summary is rewritten only by a run of every section, so it never mixes runs.
    const complete = selected.length === SECTIONS.length && id === selected[selected.length - 1];
    const summary = complete ? renderSummary(done, args.quick) : undefined;
    previous = mergeReport(previous, renderMachine(machine, date, args.quick, selected), rendered.slice(-1), summary);
    writeFileSync(OUT, previous);
    if (summary !== undefined && !args.quick && args.readme) {
      const readmePath = join(ROOT, 'README.md');
      const readme = existsSync(readmePath) ? readFileSync(readmePath, 'utf8') : '';
      const line = `Measured ${date} (${machine.cpu}, ${machine.cores} cores, Node ${machine.node}, ${machine.chromium}); details and notes in BENCHMARKS.md.`;
      const updated = updateReadme(readme, summary, line);
      if (updated !== null && updated !== readme) {
        writeFileSync(readmePath, updated);
        log('updated the goals table in README.md');
      }
    }
  }
  log(`done in ${secs((performance.now() - t0) / 1000)}; wrote ${OUT}`);
  return 0;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      process.stderr.write(`bench: ${(e as Error).message}\n`);
      process.exit(2);
    },
  );
}
