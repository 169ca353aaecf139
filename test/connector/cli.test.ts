import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../../connector/cli.js';
import { UsageError, parseArgs } from '../../connector/args.js';
import type { CliIo } from '../../connector/args.js';
import { count, formatTable, formatValue } from '../../connector/report.js';
import { paperCsv, paperTable } from '../../src/synthetic.js';
import type { Snapshot } from '../../src/types.js';

/** The repository root: the nearest directory above this file with the project's package.json. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'smart-segments') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('package root not found');
    dir = up;
  }
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

let dir = '';

async function cli(...argv: string[]): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, cwd: dir };
  const code = await main(argv, io);
  return { code, stdout, stderr };
}

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** Asserts a failure with one stderr line containing every fragment, nothing on stdout and no model file. */
function assertFailure(run: Run, code: number, ...fragments: string[]): void {
  assert.equal(run.code, code, `exit code; stderr: ${run.stderr}`);
  assert.equal(run.stdout, '');
  const first = run.stderr.split('\n')[0]!;
  for (const f of fragments) assert.ok(first.includes(f), `${JSON.stringify(first)} lacks ${JSON.stringify(f)}`);
  if (code === 1) assert.equal(run.stderr.trimEnd().split('\n').length, 1, 'one line on stderr');
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.startsWith('out') || f.endsWith('.tmp')),
    [],
    'nothing written on failure',
  );
}

const HEADER = 'id,purchase_frequency,avg_order_amount,distance_km,satisfaction';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'smart-segments-cli-'));
  write('customers.csv', paperCsv(100, 1));
});
after(() => rmSync(dir, { recursive: true, force: true }));

describe('parseArgs', () => {
  const spec = { values: ['k', 'input'], booleans: ['json'] };

  test('reads --name value, --name=value, switches, positionals and --', () => {
    assert.deepEqual(parseArgs(['--k', 'auto', '--input=a.csv', '--json', 'x', '--', '--k'], spec), {
      flags: { k: 'auto', input: 'a.csv', json: true },
      positionals: ['x', '--k'],
    });
    assert.deepEqual(parseArgs(['--json=false', '-h'], spec).flags, { json: false, help: true });
  });

  test('rejects unknown options, missing values and values on switches when given a spec', () => {
    assert.throws(() => parseArgs(['--nope'], spec), (e: unknown) => e instanceof UsageError && /unknown option --nope/.test(e.message));
    assert.throws(() => parseArgs(['--k'], spec), /--k needs a value/);
    assert.throws(() => parseArgs(['--k', '--json'], spec), /--k needs a value/);
    assert.throws(() => parseArgs(['--json=1'], spec), /takes no value/);
    assert.throws(() => parseArgs(['-x'], spec), /unknown option -x/);
  });

  test('without a spec accepts any option and keeps common switches from eating the next word', () => {
    assert.deepEqual(parseArgs(['--full', 'extra', '--port', '8080', '--flag']), {
      flags: { full: true, port: '8080', flag: true },
      positionals: ['extra'],
    });
  });
});

describe('report formatting', () => {
  test('formats numbers without the locale: separators, 2 / 1 / 0 decimals by size, a dash for missing', () => {
    assert.equal(formatValue(17.064), '17.06');
    assert.equal(formatValue(351.64), '351.6');
    assert.equal(formatValue(-1234567.8), '-1,234,568');
    assert.equal(formatValue(NaN), '—');
    assert.equal(formatValue(null), '—');
    assert.equal(count(1000000), '1,000,000');
    assert.equal(count(999), '999');
  });
  test('aligns table columns', () => {
    assert.equal(formatTable(['name', 'n'], [['a', '1'], ['bbb', '22']]), 'name   n\n----  --\na      1\nbbb   22\n');
    assert.equal(formatTable(['x', 'y'], [['a', 'b']], 'll'), 'x  y\n-  -\na  b\n');
  });
});

describe('smart-segments fit --json', () => {
  test('finds the paper segments loyal / profitable / risky with priorities 1 / 2 / 3 and sizes 54 / 35 / 11', async () => {
    const run = await cli('fit', '--input', 'customers.csv', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as {
      k: number;
      method: string;
      silhouette: number;
      segments: { id: string; archetype: string; size: number; centroid: Record<string, number>; strategy: { priority: number; technologies: string[] } }[];
      assignments: { id: string; segment: string }[];
    };
    assert.equal(out.k, 3);
    assert.equal(out.method, 'kmeans');
    assert.ok(out.silhouette > 0.6 && out.silhouette <= 1, `silhouette ${out.silhouette}`);
    const byId = Object.fromEntries(out.segments.map((s) => [s.id, s]));
    assert.deepEqual(Object.keys(byId).sort(), ['loyal', 'profitable', 'risky']);
    assert.deepEqual([byId['loyal']!.strategy.priority, byId['profitable']!.strategy.priority, byId['risky']!.strategy.priority], [1, 2, 3]);
    assert.deepEqual([byId['loyal']!.size, byId['profitable']!.size, byId['risky']!.size], [54, 35, 11]);
    assert.deepEqual(byId['loyal']!.strategy.technologies, ['iot', 'big_data', 'automation_robotics', 'it_cloud']);
    assert.deepEqual(byId['risky']!.strategy.technologies, ['iot', 'big_data', 'it_cloud', 'blockchain']);
    // the final centre lies near the published one (66.96 orders, $351.64, 328.55 km)
    assert.ok(Math.abs(byId['loyal']!.centroid['purchase_frequency']! - 66.96) < 5);
    assert.ok(Math.abs(byId['profitable']!.centroid['avg_order_amount']! - 351.64) < 25);
    assert.ok(Math.abs(byId['risky']!.centroid['distance_km']! - 328.55) < 25);
    // every customer lands in the cluster it was drawn from
    const { table, truth } = paperTable({ n: 100, seed: 1 });
    assert.equal(out.assignments.length, 100);
    out.assignments.forEach((a, i) => {
      assert.equal(a.id, table.ids[i]);
      assert.equal(a.segment, truth[i], a.id);
    });
  });

  test('prints exactly one JSON value on stdout', async () => {
    const run = await cli('fit', '--input=customers.csv', '--json', '--k', 'auto', '--seed', '7');
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout.trimEnd().split('\n').length, 1);
    const out = JSON.parse(run.stdout) as { k: number; kSearch: { k: number }[] };
    assert.equal(out.k, 3, 'auto picks the three paper clusters');
    assert.deepEqual(out.kSearch.map((r) => r.k), [2, 3, 4, 5, 6, 7, 8]);
  });

  test('clusters with Ward linkage on chosen features', async () => {
    const run = await cli('fit', '--input', 'customers.csv', '--json', '--method', 'ward', '--features', 'distance_km,satisfaction,avg_order_amount');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { method: string; features: string[]; segments: { id: string }[] };
    assert.equal(out.method, 'ward');
    assert.deepEqual(out.features, ['distance_km', 'satisfaction', 'avg_order_amount']);
    assert.equal(out.segments.length, 3);
  });

  test('reads a snapshot JSON, null values imputed', async () => {
    const { table } = paperTable({ n: 60, seed: 2 });
    const w = table.columns.length;
    const values: (number | null)[] = Array.from(table.values);
    values[0 * w + 2] = null; // c01 has no distance
    values[5 * w + 3] = null; // c06 has no satisfaction
    const snapshot: Snapshot = {
      kind: 'smart-segments-snapshot',
      version: 1,
      etag: 'e1',
      portalId: '1',
      generatedAt: '2026-01-01T00:00:00.000Z',
      asOf: '2026-01-01',
      features: table.columns,
      ids: table.ids,
      firstnames: table.ids.map(() => ''),
      lastnames: table.ids.map(() => ''),
      emails: table.ids.map(() => ''),
      cities: table.ids.map(() => ''),
      countries: table.ids.map(() => ''),
      values,
      nps: Array.from(table.nps!),
      segments: table.ids.map(() => ''),
    };
    write('snapshot.json', JSON.stringify(snapshot));
    const run = await cli('fit', '--input', 'snapshot.json', '--json');
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { rows: number; imputed: number; segments: { id: string }[] };
    assert.equal(out.rows, 60);
    assert.equal(out.imputed, 2);
    assert.deepEqual(out.segments.map((s) => s.id).sort(), ['loyal', 'profitable', 'risky']);
  });
});

describe('smart-segments fit (report)', () => {
  test('prints initial and final centres, sizes, strategies, KPIs, rules and quality', async () => {
    const run = await cli('fit', '--input', 'customers.csv');
    assert.equal(run.code, 0, run.stderr);
    for (const text of [
      'Final cluster centres (original units)',
      'Initial cluster centres (original units)',
      '54 (54%)',
      'Strategy, priority 1',
      'Automation and robotics (automation_robotics)',
      'Blockchain (blockchain)',
      'KPIs: revenue',
      'Rule: ',
      'Silhouette 0.',
      'training/holdout split 70/30',
      '0 with no recent orders, 0 rejected',
    ]) {
      assert.ok(run.stdout.includes(text), `report lacks ${JSON.stringify(text)}`);
    }
  });

  test('counts customers with no recent orders and rejected rows', async () => {
    const lines = paperCsv(30, 3).trimEnd().split('\n');
    lines.push('z1,0,,,,,0,', 'z2,4,-5,10,3,30,20,5');
    write('mixed.csv', lines.join('\n') + '\n');
    const run = await cli('fit', '--input', 'mixed.csv');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /32 customers: 30 clustered .*, 1 with no recent orders, 1 rejected/);
    assert.match(run.stdout, /No recent orders: 1 customers/);
    assert.match(run.stdout, /z2.*avg_order_amount/);
  });
});

describe('smart-segments fit --out and assign', () => {
  test('writes a model that assign accepts and that reproduces the fitted labels', async () => {
    const fitted = await cli('fit', '--input', 'customers.csv', '--json', '--out', 'model.json');
    assert.equal(fitted.code, 0, fitted.stderr);
    assert.match(fitted.stderr, /Model written to model\.json/);
    const model = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { kind: string; k: number };
    assert.equal(model.kind, 'smart-segments-model');
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);

    const assigned = await cli('assign', '--model', 'model.json', '--input', 'customers.csv', '--json');
    assert.equal(assigned.code, 0, assigned.stderr);
    const a = JSON.parse(assigned.stdout) as { assignments: { id: string; segment: string }[]; counts: Record<string, number> };
    const f = JSON.parse(fitted.stdout) as { assignments: { id: string; segment: string }[] };
    assert.deepEqual(
      a.assignments.map((x) => [x.id, x.segment]),
      f.assignments.map((x) => [x.id, x.segment]),
    );
    assert.deepEqual(a.counts, { loyal: 54, profitable: 35, risky: 11 });
  });

  test('writes byte-identical models for the same data and seed when SOURCE_DATE_EPOCH is set', async () => {
    const env = { SOURCE_DATE_EPOCH: '1767225600' };
    const runs: string[] = [];
    for (const name of ['model-a.json', 'model-b.json']) {
      const io: CliIo = { stdout: () => {}, stderr: () => {}, env, cwd: dir };
      assert.equal(await main(['fit', '--input', 'customers.csv', '--seed', '5', '--out', name], io), 0);
      runs.push(readFileSync(join(dir, name), 'utf8'));
    }
    assert.equal(runs[0], runs[1]);
    assert.equal((JSON.parse(runs[0]!) as { createdAt: string }).createdAt, '2026-01-01T00:00:00.000Z');
  });

  test('prints the same --json bytes for the same data and seed, with no clock in it', async () => {
    const first = await cli('fit', '--input', 'customers.csv', '--k', 'auto', '--seed', '3', '--json');
    await new Promise((r) => setTimeout(r, 5));
    const second = await cli('fit', '--input', 'customers.csv', '--k', 'auto', '--seed', '3', '--json');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, second.stdout);
    assert.equal('createdAt' in (JSON.parse(first.stdout) as object), false);
  });

  test('--previous keeps the previous model segment ids and colours on a re-fit', async () => {
    const base = await cli('fit', '--input', 'customers.csv', '--seed', '1', '--out', 'prev.json');
    assert.equal(base.code, 0, base.stderr);
    const again = await cli('fit', '--input', 'customers.csv', '--seed', '9', '--previous', 'prev.json', '--json');
    assert.equal(again.code, 0, again.stderr);
    const prev = JSON.parse(readFileSync(join(dir, 'prev.json'), 'utf8')) as { segments: { id: string; color: string }[] };
    const next = JSON.parse(again.stdout) as { segments: { id: string; color: string }[] };
    assert.deepEqual(
      next.segments.map((s) => [s.id, s.color]).sort(),
      prev.segments.map((s) => [s.id, s.color]).sort(),
    );
    const bad = await cli('fit', '--input', 'customers.csv', '--previous', 'customers.csv');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /customers\.csv/);
  });

  test('prints an assignment table without --json', async () => {
    await cli('fit', '--input', 'customers.csv', '--out', 'model2.json');
    write('three.csv', `${HEADER}\nn1,70,15,20,4.5\nn2,30,360,35,3.2\nn3,9,60,340,1.4\n`);
    const run = await cli('assign', '--model', 'model2.json', '--input', 'three.csv');
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^n1 +loyal +Loyal/m);
    assert.match(run.stdout, /^n2 +profitable /m);
    assert.match(run.stdout, /^n3 +risky /m);
    assert.match(run.stdout, /3 customers from three\.csv/);
  });
});

describe('smart-segments errors', () => {
  test('a missing input file exits 1 naming the file', async () => {
    assertFailure(await cli('fit', '--input', 'nope.csv', '--out', 'out.json'), 1, 'fit: nope.csv: no such file');
  });

  test('a header without a requested feature exits 1 naming file, line and column name', async () => {
    write('bad-header.csv', 'id,purchase_frequency,avg_order_amount,satisfaction\na,1,2,3\n');
    assertFailure(await cli('fit', '--input', 'bad-header.csv', '--out', 'out.json'), 1, 'bad-header.csv:1:', 'no "distance_km" column');
  });

  test('a non-numeric cell exits 1 naming file, line and column', async () => {
    write('bad-cell.csv', `${HEADER}\na,1,2,3,4\nb,1,abc,3,4\n`);
    assertFailure(
      await cli('fit', '--input', 'bad-cell.csv', '--out', 'out.json'),
      1,
      'fit: bad-cell.csv:3:3: "abc" in column "avg_order_amount" is not a number',
    );
  });

  test('an empty table exits 1', async () => {
    write('empty.csv', `${HEADER}\n`);
    assertFailure(await cli('fit', '--input', 'empty.csv', '--out', 'out.json'), 1, 'empty.csv:2:', 'no rows');
  });

  test('k larger than the distinct rows exits 1', async () => {
    write('few.csv', `${HEADER}\na,1,2,3,4\nb,1,2,3,4\nc,5,6,7,2\n`);
    assertFailure(await cli('fit', '--input', 'few.csv', '--k', '3', '--out', 'out.json'), 1, 'few.csv', 'k = 3', '(2)');
  });

  test('a model file with broken JSON exits 1 naming line and column', async () => {
    write('broken.json', '{\n  "kind": "smart-segments-model",\n  "k": ,\n}\n');
    assertFailure(await cli('assign', '--model', 'broken.json', '--input', 'customers.csv'), 1, 'assign: broken.json:3:8: not valid JSON');
  });

  test('a JSON file that is not a model exits 1 naming the field', async () => {
    write('notmodel.json', '{"kind": "something-else"}');
    assertFailure(await cli('assign', '--model', 'notmodel.json', '--input', 'customers.csv'), 1, 'notmodel.json: not a Smart Segments model', 'model.kind');
  });

  test('a snapshot with a non-numeric value exits 1 naming the contact and feature', async () => {
    write('bad-snapshot.json', JSON.stringify({ kind: 'smart-segments-snapshot', features: ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'], ids: ['a'], values: [1, 'x', 3, 4] }));
    assertFailure(await cli('fit', '--input', 'bad-snapshot.json', '--out', 'out.json'), 1, 'bad-snapshot.json: values[1]', 'contact "a"', 'avg_order_amount');
  });

  test('usage errors exit 2 with the command usage', async () => {
    for (const argv of [
      ['fit', '--input', 'customers.csv', '--bogus'],
      ['fit', '--input', 'customers.csv', '--k', 'many'],
      ['fit', '--input', 'customers.csv', '--method', 'dbscan'],
      ['fit', '--input', 'customers.csv', '--json=yes'],
      ['fit', '--out', 'out.json'],
      ['assign', '--input', 'customers.csv'],
    ]) {
      const run = await cli(...argv);
      assertFailure(run, 2, `${argv[0]}: `);
      assert.match(run.stderr, /Usage: smart-segments (fit|assign)/, argv.join(' '));
    }
  });

  test('no command or an unknown one prints the usage listing every command', async () => {
    for (const argv of [[], ['frobnicate']]) {
      const run = await cli(...argv);
      assert.equal(run.code, 2);
      for (const name of ['fit', 'assign', 'sync', 'writeback', 'serve']) assert.match(run.stderr, new RegExp(`^  ${name} `, 'm'));
    }
    const help = await cli('--help');
    assert.equal(help.code, 0);
    assert.match(help.stdout, /Commands:/);
  });
});

describe('the smart-segments binary', () => {
  const root = repoRoot();
  const built = existsSync(join(root, 'dist', 'connector', 'cli.js'));
  test('runs fit from the command line', { skip: built ? false : 'dist/ is missing: run `npm run build` first' }, () => {
    const result = spawnSync(process.execPath, [join(root, 'bin', 'smart-segments.js'), 'fit', '--input', 'customers.csv', '--json'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(result.status, 0, result.stderr);
    const out = JSON.parse(result.stdout) as { k: number; segments: { id: string }[] };
    assert.equal(out.k, 3);
    assert.deepEqual(out.segments.map((s) => s.id).sort(), ['loyal', 'profitable', 'risky']);
  });
});

describe('test/fixtures', () => {
  test('paper-100.csv is paperCsv(100, 1)', () => {
    assert.equal(readFileSync(join(repoRoot(), 'test', 'fixtures', 'paper-100.csv'), 'utf8'), paperCsv(100, 1));
  });
});
