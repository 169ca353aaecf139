import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError, parseCsv, parseNumberCell, tableFromCsv } from '../../src/csv.js';
import { paperCsv, paperTable } from '../../src/synthetic.js';

/** Asserts that fn throws an InputError located at file:line[:column] whose message contains `text`. */
function assertInputError(fn: () => unknown, where: { file: string; line?: number; column?: number }, text: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof InputError, `expected InputError, got ${String(err)}`);
    assert.equal(err.file, where.file);
    assert.equal(err.line, where.line);
    assert.equal(err.column, where.column);
    assert.ok(err.message.includes(text), `message ${JSON.stringify(err.message)} lacks ${JSON.stringify(text)}`);
    return true;
  });
}

describe('parseCsv', () => {
  test('reads quoted fields with commas, doubled quotes and embedded newlines', () => {
    const text = 'id,name,note\n1,"Smith, J","said ""hi"""\n2,"two\nlines",x\n3,plain,\n';
    const data = parseCsv(text, 'a.csv');
    assert.deepEqual(data.header, ['id', 'name', 'note']);
    assert.deepEqual(data.rows, [
      ['1', 'Smith, J', 'said "hi"'],
      ['2', 'two\nlines', 'x'],
      ['3', 'plain', ''],
    ]);
    // the third record starts on physical line 5 because the second spans lines 3-4
    assert.deepEqual(data.lines, [2, 3, 5]);
  });

  test('accepts CRLF, a BOM, no trailing newline and skips blank lines', () => {
    const data = parseCsv('\uFEFFid,x\r\n1,2\r\n\r\n3,4', 'b.csv');
    assert.deepEqual(data.header, ['id', 'x']);
    assert.deepEqual(data.rows, [['1', '2'], ['3', '4']]);
    assert.deepEqual(data.lines, [2, 4]);
  });

  test('reports an unclosed quote at the line and column where it opened', () => {
    assertInputError(() => parseCsv('id,x\n1,"open\n2,3\n', 'c.csv'), { file: 'c.csv', line: 2, column: 2 }, 'never closed');
  });

  test('reports text after a closing quote', () => {
    assertInputError(() => parseCsv('id,x\n1,"a"b\n', 'c.csv'), { file: 'c.csv', line: 2, column: 2 }, 'after a closing quote');
  });

  test('reports a ragged row with its line', () => {
    assertInputError(() => parseCsv('id,x,y\n1,2,3\n4,5\n', 'd.csv'), { file: 'd.csv', line: 3 }, 'the row has 2 fields but the header has 3');
  });

  test('reports an empty file', () => {
    assertInputError(() => parseCsv('\n\n', 'e.csv'), { file: 'e.csv' }, 'empty');
  });
});

describe('parseNumberCell', () => {
  test('parses decimal numbers and treats an empty cell as missing', () => {
    assert.equal(parseNumberCell('12'), 12);
    assert.equal(parseNumberCell(' -3.5 '), -3.5);
    assert.equal(parseNumberCell('.5'), 0.5);
    assert.equal(parseNumberCell('1e3'), 1000);
    assert.ok(Number.isNaN(parseNumberCell('')));
    assert.ok(Number.isNaN(parseNumberCell('   ')));
  });
  test('rejects words, NaN, Infinity, hex, an incomplete exponent and decimal commas', () => {
    for (const bad of ['abc', 'NaN', 'Infinity', '-Infinity', '0x10', '1e', '1,5', '1.2.3', '--1', '12 kg']) {
      assert.equal(parseNumberCell(bad), undefined, bad);
    }
  });
});

describe('tableFromCsv', () => {
  const header = 'id,purchase_frequency,avg_order_amount,distance_km,satisfaction';

  test('reads the default features in order, ignores other columns and fills nps', () => {
    const text = `name,${header},nps,recency_days\nAnn,a1,3,10.5,20,4.5,9,5\nBob,b2,1,,300,1.5,2,40\n`;
    const table = tableFromCsv(text, 't.csv');
    assert.deepEqual(table.ids, ['a1', 'b2']);
    assert.deepEqual(table.columns, ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction']);
    assert.deepEqual(Array.from(table.values), [3, 10.5, 20, 4.5, 1, NaN, 300, 1.5]);
    assert.deepEqual(Array.from(table.nps!), [9, 2]);
  });

  test('reads only the requested features and the optional columns that exist', () => {
    const text = `${header},monetary_total\nx,3,10,20,4,30\n`;
    const table = tableFromCsv(text, 't.csv', ['satisfaction', 'distance_km'], { optional: ['monetary_total', 'recency_days'] });
    assert.deepEqual(table.columns, ['satisfaction', 'distance_km', 'monetary_total']);
    assert.deepEqual(Array.from(table.values), [4, 20, 30]);
    assert.equal(table.nps, undefined);
  });

  test('reads unreadable cells of optional columns as missing', () => {
    const table = tableFromCsv('id,x,monetary_total\na,1,n/a\nb,2,5\n', 'o.csv', ['x'], { optional: ['monetary_total'] });
    assert.deepEqual(Array.from(table.values), [1, NaN, 2, 5]);
  });

  test('names file, line, column and value for a non-numeric cell', () => {
    const text = `id,purchase_frequency,avg_order_amount,distance_km,satisfaction\nc1,1,2,3,4\nc2,1,abc,3,4\n`;
    assertInputError(
      () => tableFromCsv(text, 'customers.csv'),
      { file: 'customers.csv', line: 3, column: 3 },
      'customers.csv:3:3: "abc" in column "avg_order_amount" is not a number',
    );
  });

  test('reports a missing feature column on the header line', () => {
    assertInputError(() => tableFromCsv('id,purchase_frequency\n1,2\n', 'h.csv'), { file: 'h.csv', line: 1 }, 'no "avg_order_amount" column');
  });

  test('reports a missing id column', () => {
    assertInputError(() => tableFromCsv('purchase_frequency\n2\n', 'h.csv', ['purchase_frequency']), { file: 'h.csv', line: 1 }, 'no "id" column');
  });

  test('reports a duplicate id with both lines', () => {
    assertInputError(
      () => tableFromCsv('id,x\na,1\nb,2\na,3\n', 'dup.csv', ['x']),
      { file: 'dup.csv', line: 4, column: 1 },
      'duplicate id "a" (first seen on line 2)',
    );
  });

  test('reports a header without rows', () => {
    assertInputError(() => tableFromCsv(`${header}\n`, 'empty.csv'), { file: 'empty.csv', line: 2 }, 'no rows');
  });

  test('reports a ragged row', () => {
    assertInputError(() => tableFromCsv('id,x\na,1\nb\n', 'r.csv', ['x']), { file: 'r.csv', line: 3 }, 'the row has 1 field but the header has 2');
  });

  test('rejects an NPS outside 0..10', () => {
    assertInputError(() => tableFromCsv('id,x,nps\na,1,14\n', 'n.csv', ['x']), { file: 'n.csv', line: 2, column: 3 }, '"14" in column "nps"');
  });

  test('round-trips paperCsv into the same numbers as paperTable across a growth of the buffer', () => {
    const n = 3000;
    const { table } = paperTable({ n, seed: 4 });
    const parsed = tableFromCsv(paperCsv(n, 4), 'paper.csv', table.columns);
    assert.deepEqual(parsed.ids, table.ids);
    assert.deepEqual(Array.from(parsed.values), Array.from(table.values));
    assert.deepEqual(Array.from(parsed.nps!), Array.from(table.nps!));
  });
});
