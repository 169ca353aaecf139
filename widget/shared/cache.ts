/**
 * IndexedDB cache (via `idb`) for the snapshot and the published model, so the widget shows data at once on
 * the next visit. The snapshot is stored columnar in ONE Blob (see `StoredSnapshot`), written in one
 * transaction: every number (NaN for missing), then each block of rows' string columns, each in the most
 * compact form that gives back the same strings (see `encodeColumn`): 700k separate strings in a record cost
 * IndexedDB more to read than the bytes they hold. On load the display columns (names, e-mails, cities,
 * countries, segments) are decoded on first read (see `defineLazy`), so a view that never shows them never
 * pays for them. Storage is a nicety: every failure (no IndexedDB, private mode, quota, a cleared or blocked
 * database) is swallowed and reported as "nothing cached" / `false`, never thrown into the UI.
 */
import { openDB } from 'idb';
import type { IDBPDatabase } from 'idb';
import type { Model, Snapshot, SnapshotDelta } from '../../src/types.js';
import { joinStrings, splitStrings } from './joined.js';
import { snapshotValue } from './table.js';

export const DEFAULT_DB_NAME = 'smart-segments';
const DB_VERSION = 1;
/** Layout of the stored snapshot; a snapshot cached in any other layout is treated as not cached. */
const BLOCK_FORMAT = 4;
/** Rows per block of string columns (each block has dictionaries of its own, so encoding stays bounded). */
export const BLOCK_ROWS = 50_000;
/** The key of the one record in the `blocks` store. */
const SNAPSHOT_KEY = 0;
const OPEN_TIMEOUT_MS = 3_000;

const STRING_COLUMNS = ['ids', 'firstnames', 'lastnames', 'emails', 'cities', 'countries', 'segments'] as const;
type StringColumn = (typeof STRING_COLUMNS)[number];
/** Columns only shown to people (the list, the demo): decoded on first read, not by `loadSnapshot`. */
const DISPLAY_COLUMNS = ['firstnames', 'lastnames', 'emails', 'cities', 'countries', 'segments'] as const;

interface SnapshotMeta {
  format: number;
  etag: string;
  portalId: string;
  generatedAt: string;
  asOf: string;
  features: string[];
  rows: number;
  blocks: number;
  savedAt: number;
}

/**
 * One string column of a block: `codes` into a dictionary when values repeat (names, cities, segments: one
 * byte or two a row, and no string made per row on load beyond a reference); `integers` when every value
 * is a canonical integer below 2^53 (HubSpot ids); otherwise `joined` with U+001F (one string to read and
 * split), or `strings` as they are when a value contains the separator.
 */
type EncodedColumn =
  | { codes: Uint8Array | Uint16Array | Uint32Array; dict: string[] }
  | { integers: Float64Array }
  | { joined: string; length: number }
  | { strings: string[] };

/**
 * How a column sits in the snapshot's Blob: typed arrays by byte offset (each 8-byte aligned), joined strings as
 * UTF-8, a dictionary (small) and separator-holding strings as they are.
 */
type StoredColumn =
  | { kind: 'codes'; offset: number; length: number; bytesPerCode: 1 | 2 | 4; dict: string[] }
  | { kind: 'integers'; offset: number; length: number }
  | { kind: 'joined'; offset: number; length: number; bytes: number }
  | { kind: 'strings'; strings: string[] };

/**
 * The stored snapshot: every number and string of it in ONE Blob, in one record. IndexedDB keeps a Blob as a
 * file and hands back a reference; reading it with `arrayBuffer()` is about twice as fast (measured in
 * Chromium) as IndexedDB deserialising the same bytes held as typed arrays in the record, and each Blob in a
 * record costs ~10 ms to hand back whatever its size, so there is one. The Blob holds the values (rows x
 * width doubles) from byte 0, then nps (rows doubles), then each block's string columns.
 */
interface StoredSnapshot {
  rows: number;
  /** Numbers per row in the values section. */
  width: number;
  data: Blob;
  blocks: StoredBlock[];
}

/** One block of rows' string columns, by byte offset into the snapshot's Blob. */
interface StoredBlock {
  rows: number;
  columns: Record<StringColumn, StoredColumn>;
}

/** Encodes a column in the most compact form that gives back exactly the same strings. */
export function encodeColumn(column: readonly string[]): EncodedColumn {
  const n = column.length;
  const limit = n >> 2;
  const dict: string[] = [];
  const index = new Map<string, number>();
  const codes = new Uint32Array(n);
  for (let i = 0; i < n && dict.length <= limit; i += 1) {
    const value = column[i] as string;
    let code = index.get(value);
    if (code === undefined) {
      code = dict.length;
      dict.push(value);
      index.set(value, code);
    }
    codes[i] = code;
  }
  if (dict.length <= limit) {
    return { codes: dict.length <= 0x100 ? Uint8Array.from(codes) : dict.length <= 0x10000 ? Uint16Array.from(codes) : codes, dict };
  }
  const integers = new Float64Array(n);
  let i = 0;
  for (; i < n; i += 1) {
    const value = column[i] as string;
    const number = Number(value);
    if (!Number.isSafeInteger(number) || String(number) !== value) break;
    integers[i] = number;
  }
  if (i === n) return { integers };
  const joined = joinStrings(column);
  return joined === null ? { strings: column.slice() } : { joined, length: n };
}

/** The strings an `encodeColumn` result stands for, appended to `out` from `at`. */
function decodeColumn(column: EncodedColumn, out: string[], at: number): number {
  if ('codes' in column) {
    const { codes, dict } = column;
    for (let i = 0; i < codes.length; i += 1) out[at + i] = dict[codes[i] as number] as string;
    return codes.length;
  }
  if ('integers' in column) {
    const { integers } = column;
    for (let i = 0; i < integers.length; i += 1) out[at + i] = String(integers[i]);
    return integers.length;
  }
  const strings = 'strings' in column ? column.strings : splitStrings(column.joined, column.length);
  for (let i = 0; i < strings.length; i += 1) out[at + i] = strings[i] as string;
  return strings.length;
}

/** Whether a stored column holds `rows` strings within `byteLength` bytes (so decoding it cannot throw). */
function columnFits(column: StoredColumn, rows: number, byteLength: number): boolean {
  switch (column.kind) {
    case 'codes':
      return column.length === rows && column.offset % column.bytesPerCode === 0 && column.offset + rows * column.bytesPerCode <= byteLength;
    case 'integers':
      return column.length === rows && column.offset % 8 === 0 && column.offset + rows * 8 <= byteLength;
    case 'joined':
      return column.length === rows && column.offset + column.bytes <= byteLength;
    default:
      return column.strings.length === rows;
  }
}

const align8 = (n: number) => (n + 7) & ~7;

/** Appends views to a Blob's parts, each 8-byte aligned, and says where each starts. */
class BlobParts {
  readonly parts: BlobPart[] = [];
  size = 0;

  add(view: ArrayBufferView): number {
    const offset = this.size;
    // Every view here is over a plain ArrayBuffer of its own (typed arrays made by this module).
    this.parts.push(view as ArrayBufferView<ArrayBuffer>);
    this.size += view.byteLength;
    const padded = align8(this.size);
    if (padded > this.size) this.parts.push(new Uint8Array(padded - this.size));
    this.size = padded;
    return offset;
  }
}

/** Adds a block's string columns to the parts and says where each one is. */
function packStrings(parts: BlobParts, strings: Record<StringColumn, EncodedColumn>, encoder: TextEncoder): Record<StringColumn, StoredColumn> {
  const columns = {} as Record<StringColumn, StoredColumn>;
  for (const c of STRING_COLUMNS) {
    const column = strings[c];
    if ('codes' in column) {
      const bytesPerCode = column.codes.BYTES_PER_ELEMENT as 1 | 2 | 4;
      columns[c] = { kind: 'codes', offset: parts.add(column.codes), length: column.codes.length, bytesPerCode, dict: column.dict };
    } else if ('integers' in column) {
      columns[c] = { kind: 'integers', offset: parts.add(column.integers), length: column.integers.length };
    } else if ('joined' in column) {
      const bytes = encoder.encode(column.joined);
      columns[c] = { kind: 'joined', offset: parts.add(bytes), length: column.length, bytes: bytes.byteLength };
    } else {
      columns[c] = { kind: 'strings', strings: column.strings };
    }
  }
  return columns;
}

/** A stored column as `decodeColumn` reads it, over the block's bytes. */
function unpackColumn(column: StoredColumn, buffer: ArrayBuffer, decoder: TextDecoder): EncodedColumn {
  switch (column.kind) {
    case 'codes': {
      const Codes = column.bytesPerCode === 1 ? Uint8Array : column.bytesPerCode === 2 ? Uint16Array : Uint32Array;
      return { codes: new Codes(buffer, column.offset, column.length), dict: column.dict };
    }
    case 'integers':
      return { integers: new Float64Array(buffer, column.offset, column.length) };
    case 'joined':
      return { joined: decoder.decode(new Uint8Array(buffer, column.offset, column.bytes)), length: column.length };
    default:
      return { strings: column.strings };
  }
}

const connections = new Map<string, Promise<IDBPDatabase | null>>();

/** Called with every swallowed storage failure (for diagnostics); default: console.warn. */
export let onCacheError: (operation: string, error: unknown) => void = (operation, error) => {
  console.warn(`smart-segments cache: ${operation} failed; continuing without the cache.`, error);
};
export function setCacheErrorHandler(handler: (operation: string, error: unknown) => void): void {
  onCacheError = handler;
}

function open(dbName: string): Promise<IDBPDatabase | null> {
  let connection = connections.get(dbName);
  if (!connection) {
    connection = openWithTimeout(dbName).catch((error: unknown) => {
      connections.delete(dbName);
      onCacheError('open', error);
      return null;
    });
    connections.set(dbName, connection);
  }
  return connection;
}

async function openWithTimeout(dbName: string): Promise<IDBPDatabase> {
  if (typeof indexedDB === 'undefined') throw new Error('IndexedDB is not available');
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Opening IndexedDB timed out (blocked?)')), OPEN_TIMEOUT_MS);
  });
  try {
    const db = await Promise.race([
      openDB(dbName, DB_VERSION, {
        upgrade(database) {
          for (const store of ['meta', 'blocks', 'model']) {
            if (!database.objectStoreNames.contains(store)) database.createObjectStore(store);
          }
        },
        blocking() {
          // Another tab wants a newer version: step aside.
          void closeCache(dbName);
        },
        terminated() {
          connections.delete(dbName);
        },
      }),
      timeout,
    ]);
    return db;
  } finally {
    clearTimeout(timer);
  }
}

/** Closes the connection (tests, or before deleting the database). */
export async function closeCache(dbName = DEFAULT_DB_NAME): Promise<void> {
  const connection = connections.get(dbName);
  connections.delete(dbName);
  const db = await connection?.catch(() => null);
  db?.close();
}

/** Stores the snapshot, replacing any cached one. Resolves false (never rejects) when storage fails. */
export async function saveSnapshot(snapshot: Snapshot, dbName = DEFAULT_DB_NAME): Promise<boolean> {
  try {
    const db = await open(dbName);
    if (!db) return false;
    const tx = db.transaction(['meta', 'blocks'], 'readwrite');
    // Nothing may be half-written: any failure aborts the whole transaction, keeping the previous snapshot.
    tx.done.catch(() => {});
    try {
      await Promise.all(writeSnapshot(tx.objectStore('meta'), tx.objectStore('blocks'), snapshot));
      await tx.done;
    } catch (error) {
      try {
        tx.abort();
      } catch {
        // already finished or aborted
      }
      throw error;
    }
    return true;
  } catch (error) {
    onCacheError('saveSnapshot', error);
    return false;
  }
}

interface Store {
  put(value: unknown, key: IDBValidKey): Promise<IDBValidKey>;
  clear(): Promise<void>;
}

/** Queues the puts (in one transaction); each request promise is marked handled for aborts. */
function writeSnapshot(metaStore: Store, blockStore: Store, snapshot: Snapshot): Promise<unknown>[] {
  const rows = snapshot.ids.length;
  const width = snapshot.features.length;
  const blocks = Math.ceil(rows / BLOCK_ROWS);
  const puts: Promise<unknown>[] = [];
  const track = (request: Promise<unknown>) => {
    request.catch(() => {});
    puts.push(request);
  };
  track(blockStore.clear());
  // Values then nps first, so each is one run of doubles from a known offset; then the string blocks.
  const parts = new BlobParts();
  const values = new Float64Array(rows * width);
  for (let i = 0; i < values.length; i += 1) {
    const v = snapshot.values[i];
    values[i] = v === null || v === undefined ? Number.NaN : v;
  }
  parts.add(values);
  const nps = new Float64Array(rows);
  for (let i = 0; i < rows; i += 1) {
    const v = snapshot.nps[i];
    nps[i] = v === null || v === undefined ? Number.NaN : v;
  }
  parts.add(nps);
  const encoder = new TextEncoder();
  const stored: StoredBlock[] = [];
  for (let b = 0; b < blocks; b += 1) {
    const start = b * BLOCK_ROWS;
    const end = Math.min(rows, start + BLOCK_ROWS);
    const encoded = {} as Record<StringColumn, EncodedColumn>;
    for (const column of STRING_COLUMNS) encoded[column] = encodeColumn((snapshot[column] ?? []).slice(start, end));
    stored.push({ rows: end - start, columns: packStrings(parts, encoded, encoder) });
  }
  const record: StoredSnapshot = { rows, width, data: new Blob(parts.parts), blocks: stored };
  track(blockStore.put(record, SNAPSHOT_KEY));
  const meta: SnapshotMeta = {
    format: BLOCK_FORMAT,
    etag: snapshot.etag,
    portalId: snapshot.portalId,
    generatedAt: snapshot.generatedAt,
    asOf: snapshot.asOf,
    features: snapshot.features,
    rows,
    blocks,
    savedAt: Date.now(),
  };
  track(metaStore.put(meta, 'snapshot'));
  return puts;
}

/** A string column over every block, as the strings it stands for. */
function decodeStoredColumn(record: StoredSnapshot, column: StringColumn, buffer: ArrayBuffer, decoder: TextDecoder): string[] {
  const parts = record.blocks.map((block) => unpackColumn(block.columns[column], buffer, decoder));
  // Joined text splits into its array in one built-in call: no per-row script (which runs cold, in the
  // interpreter, on a new visit).
  if (parts.every((part) => 'joined' in part || 'strings' in part)) {
    const arrays = parts.map((part) => ('joined' in part ? splitStrings(part.joined, part.length) : part.strings.slice()));
    return arrays.length === 1 ? (arrays[0] as string[]) : ([] as string[]).concat(...arrays);
  }
  const out = new Array<string>(record.rows);
  let at = 0;
  for (const part of parts) at += decodeColumn(part, out, at);
  return out;
}

/**
 * Defines `key` on `target` as computed by `decode` on its first read (or replaced by its first write), from
 * then on an ordinary writable data property: every read, spread, clone or mutation sees a plain array, as
 * if it had been there all along. `decode` runs at most once.
 */
export function defineLazy<T extends object, K extends keyof T>(target: T, key: K, decode: () => T[K]): void {
  let decoded = false;
  let value: T[K] | undefined;
  const settle = (next: T[K]) => {
    Object.defineProperty(target, key, { value: next, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(target, key, {
    enumerable: true,
    configurable: true,
    get(): T[K] {
      if (!decoded) {
        value = decode();
        decoded = true;
      }
      try {
        settle(value as T[K]);
      } catch {
        // A frozen or sealed target keeps this accessor: the decoded value is kept here instead.
      }
      return value as T[K];
    },
    set(next: T[K]) {
      settle(next);
    },
  });
}

/** The cached snapshot, or null when there is none or storage fails. */
export async function loadSnapshot(dbName = DEFAULT_DB_NAME): Promise<Snapshot | null> {
  try {
    const db = await open(dbName);
    if (!db) return null;
    const tx = db.transaction(['meta', 'blocks'], 'readonly');
    const [meta, record] = (await Promise.all([tx.objectStore('meta').get('snapshot'), tx.objectStore('blocks').get(SNAPSHOT_KEY), tx.done])) as [
      SnapshotMeta | undefined,
      StoredSnapshot | undefined,
      void,
    ];
    if (meta?.format !== BLOCK_FORMAT || !record) return null;
    const { rows, width } = record;
    if (rows !== meta.rows || width !== meta.features.length || record.blocks.reduce((sum, block) => sum + block.rows, 0) !== rows) return null;
    const buffer = await record.data.arrayBuffer();
    const valuesBytes = rows * width * 8;
    if (buffer.byteLength < valuesBytes + rows * 8) return null;
    // Checked now, so a column decoded later cannot fail in the hands of a view.
    for (const block of record.blocks) {
      for (const column of STRING_COLUMNS) if (!columnFits(block.columns[column], block.rows, buffer.byteLength)) return null;
    }
    // The numbers stay a Float64Array (NaN where missing, as Snapshot allows), where (number | null)[]
    // would box every value (~60 ms for 100k contacts): a view over the bytes read, as a copy of 4.8 MB
    // costs 5-25 ms on a new visit. It keeps the strings' bytes (smaller than the strings) alive with it.
    const values = new Float64Array(buffer, 0, rows * width);
    const storedNps = new Float64Array(buffer, valuesBytes, rows);
    const nps: (number | null)[] = new Array(rows);
    for (let i = 0; i < rows; i += 1) {
      const v = storedNps[i] as number;
      nps[i] = Number.isNaN(v) ? null : v;
    }
    const decoder = new TextDecoder();
    const snapshot = {
      kind: 'smart-segments-snapshot',
      version: 1,
      etag: meta.etag,
      portalId: meta.portalId,
      generatedAt: meta.generatedAt,
      asOf: meta.asOf,
      features: meta.features,
      // Every view counts and keys rows by id: decoded now.
      ids: decodeStoredColumn(record, 'ids', buffer, decoder),
    } as Snapshot;
    for (const column of DISPLAY_COLUMNS) defineLazy(snapshot, column, () => decodeStoredColumn(record, column, buffer, decoder));
    snapshot.values = values;
    snapshot.nps = nps;
    return snapshot;
  } catch (error) {
    onCacheError('loadSnapshot', error);
    return null;
  }
}

export async function saveModel(model: Model | null, dbName = DEFAULT_DB_NAME): Promise<boolean> {
  try {
    const db = await open(dbName);
    if (!db) return false;
    if (model) await db.put('model', model, 'published');
    else await db.delete('model', 'published');
    return true;
  } catch (error) {
    onCacheError('saveModel', error);
    return false;
  }
}

export async function loadModel(dbName = DEFAULT_DB_NAME): Promise<Model | null> {
  try {
    const db = await open(dbName);
    if (!db) return null;
    return ((await db.get('model', 'published')) as Model | undefined) ?? null;
  } catch (error) {
    onCacheError('loadModel', error);
    return null;
  }
}

/** Empties every store (e.g. after switching portals). */
export async function clearCache(dbName = DEFAULT_DB_NAME): Promise<boolean> {
  try {
    const db = await open(dbName);
    if (!db) return false;
    const tx = db.transaction(['meta', 'blocks', 'model'], 'readwrite');
    await Promise.all([tx.objectStore('meta').clear(), tx.objectStore('blocks').clear(), tx.objectStore('model').clear(), tx.done]);
    return true;
  } catch (error) {
    onCacheError('clearCache', error);
    return false;
  }
}

/**
 * Applies a delta to a snapshot (pure: returns a new snapshot). Upserted ids replace their row in place,
 * new ids are appended in the delta's order, deleted ids are removed. Delta feature columns are matched by
 * name; a feature the delta lacks becomes null for the upserted rows.
 */
export function applyDelta(snapshot: Snapshot, delta: SnapshotDelta): Snapshot {
  const width = snapshot.features.length;
  const up = delta.upserts;
  const upWidth = up.features.length;
  const columnMap = snapshot.features.map((feature) => up.features.indexOf(feature));
  const index = new Map<string, number>();
  snapshot.ids.forEach((id, i) => index.set(id, i));
  const deleted = new Set(delta.deletes);

  const values: (number | null)[] = Array.from(snapshot.values, (_, i) => snapshotValue(snapshot, i));
  const nps = snapshot.nps.slice();
  const strings = Object.fromEntries(STRING_COLUMNS.map((c) => [c, (snapshot[c] ?? []).slice()])) as Record<StringColumn, string[]>;

  up.ids.forEach((id, u) => {
    let row = index.get(id);
    if (row === undefined) {
      row = strings.ids.length;
      index.set(id, row);
      strings.ids.push(id);
      for (const column of STRING_COLUMNS) if (column !== 'ids') strings[column].push('');
      for (let j = 0; j < width; j += 1) values.push(null);
      nps.push(null);
    }
    for (let j = 0; j < width; j += 1) {
      const from = columnMap[j] as number;
      values[row * width + j] = from < 0 ? null : (up.values[u * upWidth + from] ?? null);
    }
    nps[row] = up.nps[u] ?? null;
    for (const column of STRING_COLUMNS) {
      if (column === 'ids') continue;
      strings[column][row] = up[column]?.[u] ?? '';
    }
  });

  if (deleted.size > 0) {
    const keep: number[] = [];
    strings.ids.forEach((id, row) => {
      if (!deleted.has(id)) keep.push(row);
    });
    const outValues: (number | null)[] = new Array(keep.length * width);
    const outNps: (number | null)[] = new Array(keep.length);
    const outStrings = Object.fromEntries(STRING_COLUMNS.map((c) => [c, new Array<string>(keep.length)])) as Record<StringColumn, string[]>;
    keep.forEach((row, i) => {
      for (let j = 0; j < width; j += 1) outValues[i * width + j] = values[row * width + j] ?? null;
      outNps[i] = nps[row] ?? null;
      for (const column of STRING_COLUMNS) outStrings[column][i] = strings[column][row] as string;
    });
    return { ...snapshot, etag: delta.etag, ...outStrings, values: outValues, nps: outNps };
  }
  return { ...snapshot, etag: delta.etag, ...strings, values, nps };
}
