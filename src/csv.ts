/**
 * CSV input (RFC 4180: quoted fields, doubled quotes, CRLF or LF, a UTF-8 BOM, an optional trailing newline).
 * Errors are `InputError`s that name the file, the 1-based line and column, and the offending value, so a
 * user can open the file at the right place: `customers.csv:14:3: "abc" in column "avg_order_amount" is not a number`.
 */
import { DEFAULT_FEATURES } from './types.js';
import type { FeatureTable } from './types.js';

/** Bad input, located in its source: `file:line:column: reason`. */
export class InputError extends Error {
  override name = 'InputError';
  readonly file: string;
  /** 1-based physical line, when known. */
  readonly line: number | undefined;
  /** 1-based field number within the record, when known. */
  readonly column: number | undefined;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(file: string, line: number | undefined, column: number | undefined, reason: string) {
    const where = line === undefined ? file : column === undefined ? `${file}:${line}` : `${file}:${line}:${column}`;
    super(`${where}: ${reason}`);
    this.file = file;
    this.line = line;
    this.column = column;
    this.reason = reason;
  }
}

/** A parsed CSV file: the header, the records, and the physical line on which each record starts. */
export interface CsvData {
  header: string[];
  rows: string[][];
  lines: number[];
}

const QUOTE = 0x22;
const COMMA = 0x2c;
const LF = 0x0a;
const CR = 0x0d;

/**
 * Calls `onRecord` for every record with its fields and starting line. Blank lines are skipped (hand-edited
 * files often end with several); a lone CR counts as a line end like LF and CRLF.
 */
function scanRecords(text: string, fileName: string, onRecord: (fields: string[], line: number) => void): void {
  const n = text.length;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  let nextQuote = -1;
  let nextCr = -1;
  while (i < n) {
    const first = text.charCodeAt(i);
    if (first === LF || first === CR) {
      i += first === CR && text.charCodeAt(i + 1) === LF ? 2 : 1;
      line++;
      continue;
    }
    const recordLine = line;
    // Fast path: a line without quotes or lone CRs is split natively (most machine-written files). The next
    // quote and CR positions are cached so the look-ahead stays linear over the whole file.
    const lf = text.indexOf('\n', i);
    const end = lf < 0 ? n : lf;
    if (nextQuote < i) nextQuote = indexOrEnd(text, '"', i);
    if (nextQuote > end) {
      if (nextCr < i) nextCr = indexOrEnd(text, '\r', i);
      const stop = nextCr === end - 1 ? end - 1 : end;
      if (nextCr >= stop) {
        onRecord(text.slice(i, stop).split(','), recordLine);
        i = end + 1;
        line++;
        continue;
      }
    }
    const fields: string[] = [];
    for (;;) {
      let c = i < n ? text.charCodeAt(i) : -1;
      if (c === QUOTE) {
        const openLine = line;
        let value = '';
        let start = i + 1;
        let j = start;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            throw new InputError(fileName, openLine, fields.length + 1, 'quoted field is never closed');
          }
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(start, q + 1);
            j = start = q + 2;
            continue;
          }
          value += text.slice(start, q);
          for (let k = i + 1; k < q; k++) {
            const d = text.charCodeAt(k);
            if (d === LF || (d === CR && text.charCodeAt(k + 1) !== LF)) line++;
          }
          i = q + 1;
          break;
        }
        fields.push(value);
        c = i < n ? text.charCodeAt(i) : -1;
        if (c !== COMMA && c !== LF && c !== CR && c !== -1) {
          throw new InputError(fileName, line, fields.length, 'unexpected character after a closing quote');
        }
      } else {
        let j = i;
        while (j < n) {
          const d = text.charCodeAt(j);
          if (d === COMMA || d === LF || d === CR) break;
          j++;
        }
        fields.push(text.slice(i, j));
        i = j;
        c = j < n ? text.charCodeAt(j) : -1;
      }
      if (c === COMMA) {
        i++;
        continue;
      }
      if (c === CR) {
        i += text.charCodeAt(i + 1) === LF ? 2 : 1;
        line++;
      } else if (c === LF) {
        i++;
        line++;
      }
      break;
    }
    onRecord(fields, recordLine);
  }
}

function indexOrEnd(text: string, search: string, from: number): number {
  const k = text.indexOf(search, from);
  return k < 0 ? text.length : k;
}

/** Parses CSV text into a header and records. Throws InputError for an empty file or a ragged record. */
export function parseCsv(text: string, fileName: string): CsvData {
  let header: string[] | undefined;
  const rows: string[][] = [];
  const lines: number[] = [];
  scanRecords(text, fileName, (fields, line) => {
    if (header === undefined) {
      header = fields.map((f) => f.trim());
      return;
    }
    if (fields.length !== header.length) throw raggedError(fileName, line, fields.length, header.length);
    rows.push(fields);
    lines.push(line);
  });
  if (header === undefined) throw new InputError(fileName, undefined, undefined, 'the file is empty (no header line)');
  return { header, rows, lines };
}

function raggedError(fileName: string, line: number, got: number, want: number): InputError {
  return new InputError(fileName, line, undefined, `the row has ${got} field${got === 1 ? '' : 's'} but the header has ${want}`);
}

/**
 * Strict number parsing: decimal notation only (`12`, `-3.5`, `.5`, `1e3`), surrounding spaces allowed.
 * Returns NaN for an empty cell (missing) and undefined for anything else that is not a finite number
 * (`abc`, `NaN`, `Infinity`, `1e`, `0x10`, `1,5`).
 */
export function parseNumberCell(cell: string): number | undefined {
  // Fast path for the common case, a plain decimal starting with a digit, '-' or '.'.
  const c0 = cell.charCodeAt(0);
  if ((c0 >= 0x30 && c0 <= 0x39) || c0 === 0x2d || c0 === 0x2e) {
    const v = +cell;
    if (v - v === 0) {
      // `Number` also reads 0x10, 0b1 and 0o7: a letter right after a leading zero is not decimal.
      const c1 = cell.charCodeAt(1);
      if (c0 !== 0x30 || !(c1 > 0x39 && c1 !== 0x45 && c1 !== 0x65)) return v;
      return undefined;
    }
  }
  const s = cell.trim();
  if (s.length === 0) return NaN;
  for (let k = 0; k < s.length; k++) {
    const c = s.charCodeAt(k);
    // digits, '+', '-', '.', 'e', 'E'
    if (!((c >= 0x30 && c <= 0x39) || c === 0x2b || c === 0x2d || c === 0x2e || c === 0x65 || c === 0x45)) return undefined;
  }
  const v = Number(s);
  return Number.isFinite(v) ? v : undefined;
}

export interface TableFromCsvOptions {
  /**
   * Columns read when the header has them and skipped otherwise (e.g. RFM columns for the KPIs). Their
   * unreadable cells become NaN instead of an error, since the user did not ask for them.
   */
  optional?: readonly string[];
}

/**
 * Reads a FeatureTable from CSV text. The header must contain `id` and every requested feature (default
 * DEFAULT_FEATURES); other columns are ignored, except an optional `nps` column (0–10) that fills `table.nps`
 * and the `optional` columns that are present. Empty cells become NaN (missing, handled by the core's
 * imputation policy). Non-numeric cells, duplicate or empty ids, ragged rows and a table without rows throw
 * InputError with the line and column.
 */
export function tableFromCsv(
  text: string,
  fileName: string,
  features: readonly string[] = DEFAULT_FEATURES,
  options: TableFromCsvOptions = {},
): FeatureTable {
  let header: string[] | undefined;
  let idIndex = -1;
  let npsIndex = -1;
  let columns: string[] = [];
  let sourceIndex: number[] = [];
  let width = 0;
  let required = 0;
  let capacity = 1024;
  let values = new Float64Array(0);
  let nps = new Float64Array(0);
  const ids: string[] = [];
  const seen = new Set<string>();
  const rowLines: number[] = [];

  scanRecords(text, fileName, (fields, line) => {
    if (header === undefined) {
      header = readHeader(fields, fileName, line);
      idIndex = header.indexOf('id');
      if (idIndex < 0) {
        throw new InputError(fileName, line, undefined, `the header has no "id" column (found: ${header.join(', ')})`);
      }
      for (const f of features) {
        if (!header.includes(f)) {
          throw new InputError(fileName, line, undefined, `the header has no "${f}" column (found: ${header.join(', ')})`);
        }
      }
      columns = [...features];
      for (const extra of options.optional ?? []) {
        if (header.includes(extra) && !columns.includes(extra) && extra !== 'id' && extra !== 'nps') columns.push(extra);
      }
      sourceIndex = columns.map((c) => header!.indexOf(c));
      required = features.length;
      npsIndex = header.indexOf('nps');
      width = columns.length;
      values = new Float64Array(capacity * width);
      nps = new Float64Array(capacity);
      return;
    }
    if (fields.length !== header.length) throw raggedError(fileName, line, fields.length, header.length);
    const id = fields[idIndex]!.trim();
    if (id.length === 0) throw new InputError(fileName, line, idIndex + 1, 'the id is empty');
    // Set.add plus a size check hashes the id once (a Map get + set hashes it twice): 1M ids in ~0.5 s.
    const before = seen.size;
    seen.add(id);
    if (seen.size === before) {
      const previous = rowLines[ids.indexOf(id)];
      throw new InputError(fileName, line, idIndex + 1, `duplicate id "${id}" (first seen on line ${previous})`);
    }
    rowLines.push(line);
    const r = ids.length;
    if (r === capacity) {
      capacity *= 2;
      const grown = new Float64Array(capacity * width);
      grown.set(values);
      values = grown;
      const grownNps = new Float64Array(capacity);
      grownNps.set(nps);
      nps = grownNps;
    }
    ids.push(id);
    const base = r * width;
    for (let j = 0; j < width; j++) {
      const src = sourceIndex[j]!;
      const cell = fields[src]!;
      const v = parseNumberCell(cell);
      if (v === undefined) {
        // Optional columns were not asked for: an unreadable cell there is missing, not a reason to stop.
        if (j >= required) {
          values[base + j] = NaN;
          continue;
        }
        throw new InputError(fileName, line, src + 1, `${JSON.stringify(cell)} in column "${columns[j]}" is not a number`);
      }
      values[base + j] = v;
    }
    if (npsIndex >= 0) {
      const cell = fields[npsIndex]!;
      const v = parseNumberCell(cell);
      if (v === undefined || v < 0 || v > 10) {
        throw new InputError(fileName, line, npsIndex + 1, `${JSON.stringify(cell)} in column "nps" is not a rating from 0 to 10`);
      }
      nps[r] = v;
    }
  });

  if (header === undefined) throw new InputError(fileName, undefined, undefined, 'the file is empty (no header line)');
  if (ids.length === 0) throw new InputError(fileName, 2, undefined, 'the table has a header but no rows');
  const table: FeatureTable = { ids, columns, values: values.slice(0, ids.length * width) };
  if (npsIndex >= 0) table.nps = nps.slice(0, ids.length);
  return table;
}

function readHeader(fields: string[], fileName: string, line: number): string[] {
  const header = fields.map((f) => f.trim());
  const seen = new Set<string>();
  header.forEach((name, k) => {
    if (name.length > 0 && seen.has(name)) {
      throw new InputError(fileName, line, k + 1, `the header names column "${name}" twice`);
    }
    seen.add(name);
  });
  return header;
}
