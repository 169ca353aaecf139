/**
 * IndexedDB cache (via `idb`) for the snapshot and the published model, so the widget shows data at once on
 * the next visit. The snapshot is stored columnar: numeric columns as Float64Array blocks (NaN for missing),
 * string columns as array blocks, all written in ONE transaction with chunked puts. Storage is a nicety:
 * every failure (no IndexedDB, private mode, quota, a cleared or blocked database) is swallowed and reported
 * as "nothing cached" / `false`, never thrown into the UI.
 */
import { openDB } from 'idb';
import type { IDBPDatabase } from 'idb';
import type { Model, Snapshot, SnapshotDelta } from '../../src/types.js';
import { snapshotValue } from './table.js';

export const DEFAULT_DB_NAME = 'smart-segments';
const DB_VERSION = 1;
/** Rows per stored block: 50,000 rows x 6 features = 2.4 MB per numeric block. */
export const BLOCK_ROWS = 50_000;
const OPEN_TIMEOUT_MS = 3_000;

const STRING_COLUMNS = ['ids', 'firstnames', 'lastnames', 'emails', 'cities', 'countries', 'segments'] as const;
type StringColumn = (typeof STRING_COLUMNS)[number];

interface SnapshotMeta {
  etag: string;
  portalId: string;
  generatedAt: string;
  asOf: string;
  features: string[];
  rows: number;
  blocks: number;
  savedAt: number;
}

interface Block {
  values: Float64Array;
  nps: Float64Array;
  strings: Record<StringColumn, string[]>;
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

/** Queues the chunked puts (in one transaction); each request promise is marked handled for aborts. */
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
  for (let b = 0; b < blocks; b += 1) {
    const start = b * BLOCK_ROWS;
    const end = Math.min(rows, start + BLOCK_ROWS);
    const values = new Float64Array((end - start) * width);
    for (let i = start * width, o = 0; i < end * width; i += 1, o += 1) {
      const v = snapshot.values[i];
      values[o] = v === null || v === undefined ? Number.NaN : v;
    }
    const nps = new Float64Array(end - start);
    for (let i = start; i < end; i += 1) {
      const v = snapshot.nps[i];
      nps[i - start] = v === null || v === undefined ? Number.NaN : v;
    }
    const strings = {} as Record<StringColumn, string[]>;
    for (const column of STRING_COLUMNS) strings[column] = (snapshot[column] ?? []).slice(start, end);
    const block: Block = { values, nps, strings };
    track(blockStore.put(block, b));
  }
  const meta: SnapshotMeta = {
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

/** The cached snapshot, or null when there is none or storage fails. */
export async function loadSnapshot(dbName = DEFAULT_DB_NAME): Promise<Snapshot | null> {
  try {
    const db = await open(dbName);
    if (!db) return null;
    const tx = db.transaction(['meta', 'blocks'], 'readonly');
    const meta = (await tx.objectStore('meta').get('snapshot')) as SnapshotMeta | undefined;
    if (!meta) return null;
    const blocks = (await tx.objectStore('blocks').getAll()) as Block[];
    await tx.done;
    if (blocks.length !== meta.blocks) return null;
    const width = meta.features.length;
    // The numbers stay a Float64Array (NaN where missing, as Snapshot allows): a copy of each block,
    // where (number | null)[] would box every value (~60 ms for 100k contacts).
    const values = new Float64Array(meta.rows * width);
    const nps: (number | null)[] = new Array(meta.rows);
    // The blocks' string arrays are ours: one native concat per column (a single block is kept as it is).
    const strings = Object.fromEntries(
      STRING_COLUMNS.map((c) => [c, blocks.length === 1 ? blocks[0]!.strings[c] : ([] as string[]).concat(...blocks.map((b) => b.strings[c]))]),
    ) as Record<StringColumn, string[]>;
    let row = 0;
    for (const block of blocks) {
      const blockRows = block.nps.length;
      if (row * width + block.values.length > values.length) return null;
      values.set(block.values, row * width);
      for (let i = 0; i < blockRows; i += 1) {
        const v = block.nps[i] as number;
        nps[row + i] = Number.isNaN(v) ? null : v;
      }
      row += blockRows;
    }
    if (row !== meta.rows) return null;
    return {
      kind: 'smart-segments-snapshot',
      version: 1,
      etag: meta.etag,
      portalId: meta.portalId,
      generatedAt: meta.generatedAt,
      asOf: meta.asOf,
      features: meta.features,
      ...strings,
      values,
      nps,
    };
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
