import { expect } from '@open-wc/testing';
import { applyDelta, BLOCK_ROWS, closeCache, defineLazy, encodeColumn, loadModel, loadSnapshot, saveModel, saveSnapshot, setCacheErrorHandler } from '../../widget/shared/cache.js';
import { ListModel } from '../../widget/list/list-model.js';
import { loadSnapshotCacheFirst } from '../../widget/shared/snapshot-source.js';
import { ApiClient } from '../../widget/shared/api.js';
import type { Snapshot, SnapshotDelta } from '../../src/types.js';
import { afterEach, beforeEach, describe, it, json, makeModel, makeSnapshot, mockFetch } from './badge-fixtures.js';

let dbCounter = 0;
const freshDb = () => `smart-segments-test-${Date.now()}-${(dbCounter += 1)}`;

function delta(since: string, etag: string): SnapshotDelta {
  return {
    kind: 'smart-segments-snapshot-delta',
    version: 1,
    since,
    etag,
    upserts: {
      features: ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'],
      ids: ['1001', '2000'],
      firstnames: ['Taras', 'New'],
      lastnames: ['Changed', 'Person'],
      emails: ['t@example.com', 'new@example.com'],
      cities: ['Lviv', 'Poltava'],
      countries: ['Ukraine', 'Ukraine'],
      values: [9, 90, 9, null, 1, 2, 3, 4],
      nps: [10, null],
      segments: ['loyal', ''],
    },
    deletes: ['1000'],
  };
}

describe('snapshot cache (IndexedDB)', () => {
  const errors: string[] = [];
  beforeEach(() => {
    errors.length = 0;
    setCacheErrorHandler((operation) => errors.push(operation));
  });

  it('round-trips a snapshot, nulls included', async () => {
    const db = freshDb();
    const snapshot = makeSnapshot(25);
    expect(await saveSnapshot(snapshot, db)).to.equal(true);
    const loaded = await loadSnapshot(db);
    // The numbers come back as one Float64Array (NaN where missing): no boxed number per value.
    expect(loaded!.values).to.be.instanceOf(Float64Array);
    expect(Array.from(loaded!.values, (v) => (Number.isNaN(v) ? null : v))).to.deep.equal(snapshot.values);
    expect(Number.isNaN(loaded!.values[3 * 4 + 3])).to.equal(true);
    expect({ ...loaded, values: [] }).to.deep.equal({ ...snapshot, values: [] });
    await closeCache(db);
  });

  it('round-trips a snapshot larger than one stored block', async () => {
    const db = freshDb();
    const snapshot = makeSnapshot(BLOCK_ROWS + 3);
    expect(await saveSnapshot(snapshot, db)).to.equal(true);
    const loaded = (await loadSnapshot(db))!;
    expect(loaded.ids.length).to.equal(BLOCK_ROWS + 3);
    expect(loaded.ids[BLOCK_ROWS + 2]).to.equal(snapshot.ids[BLOCK_ROWS + 2]);
    expect(Array.from(loaded.values.slice(-4), (v) => (Number.isNaN(v) ? null : v))).to.deep.equal(snapshot.values.slice(-4));
    expect(loaded.emails[BLOCK_ROWS]).to.equal(`contact${BLOCK_ROWS}@example.com`);
    await closeCache(db);
  });

  it('stores each string column in its compact form and gives back exactly the same strings', async () => {
    const repeated = Array.from({ length: 40 }, (_, i) => ['Kyiv', 'Lviv', ''][i % 3]!);
    const many = Array.from({ length: 300 }, (_, i) => `name${i % 70_000}`);
    expect(Object.keys(encodeColumn(repeated))).to.deep.equal(['codes', 'dict']);
    expect(encodeColumn(repeated)).to.have.property('codes').that.is.instanceOf(Uint8Array);
    expect(encodeColumn(['12', '9007199254740991', '0'])).to.have.property('integers');
    // Not canonical integers: each would come back different from a number.
    for (const odd of [['007', '8', '9'], ['1e3', '2', '3'], ['', '1', '2'], ['-0', '1', '2'], ['9007199254740993', '1', '2']]) {
      expect(encodeColumn(odd)).to.have.property('joined');
    }
    expect(encodeColumn(['a\u001fb', 'c', 'd'])).to.have.property('strings');
    expect(encodeColumn(many)).to.have.property('joined');

    const db = freshDb();
    const snapshot = makeSnapshot(300);
    snapshot.emails = snapshot.emails.map((e, i) => (i === 5 ? 'odd\u001fname@example.com' : e));
    snapshot.cities = snapshot.cities.map((c, i) => (i % 2 ? 'Бровари' : c)); // repeated, non-ASCII
    snapshot.lastnames = many;
    // ids stored as integers, emails as they are (one holds the separator), last names joined, the rest coded
    expect(await saveSnapshot(snapshot, db)).to.equal(true);
    await closeCache(db);
    const loaded = (await loadSnapshot(db))!;
    for (const column of ['ids', 'firstnames', 'lastnames', 'emails', 'cities', 'countries', 'segments'] as const) {
      expect(loaded[column], column).to.deep.equal(snapshot[column]);
    }
    await closeCache(db);
  });

  it('gives back display columns decoded on first read that behave as the arrays saved, for every access', async () => {
    const db = freshDb();
    const snapshot = makeSnapshot(BLOCK_ROWS + 7);
    snapshot.emails[3] = 'odd\u001fname@example.com'; // a value holding the separator: stored as it is
    snapshot.cities[BLOCK_ROWS + 1] = 'Бровари';
    expect(await saveSnapshot(snapshot, db)).to.equal(true);
    await closeCache(db);
    const display = ['firstnames', 'lastnames', 'emails', 'cities', 'countries', 'segments'] as const;
    const load = async () => (await loadSnapshot(db))!;

    // Index and length first, as the list's rows read them.
    let loaded = await load();
    // ids are decoded by the load; the display columns only when first read.
    expect(Object.getOwnPropertyDescriptor(loaded, 'ids')).to.have.property('value');
    for (const column of display) expect(Object.getOwnPropertyDescriptor(loaded, column), column).to.have.property('get');
    expect(loaded.emails[BLOCK_ROWS + 6]).to.equal(snapshot.emails[BLOCK_ROWS + 6]);
    expect(loaded.emails[3]).to.equal('odd\u001fname@example.com');
    expect(loaded.cities.length).to.equal(BLOCK_ROWS + 7);
    expect(loaded.cities[BLOCK_ROWS + 1]).to.equal('Бровари');
    // Decoded once: the same array on every read, a plain array like the one saved.
    expect(loaded.emails).to.equal(loaded.emails);
    expect(Array.isArray(loaded.emails)).to.equal(true);
    for (const column of display) {
      expect(loaded[column], column).to.deep.equal(snapshot[column]);
      expect(loaded[column].slice(5, 9), column).to.deep.equal(snapshot[column].slice(5, 9));
      expect(loaded[column].indexOf(snapshot[column][BLOCK_ROWS + 2]!), column).to.equal(snapshot[column].indexOf(snapshot[column][BLOCK_ROWS + 2]!));
      expect([...loaded[column]].length, column).to.equal(BLOCK_ROWS + 7);
      expect(loaded[column].map((v) => v.length), column).to.deep.equal(snapshot[column].map((v) => v.length));
    }

    // Keys, spread, JSON and structured clone (postMessage) see every column, without reading it first.
    loaded = await load();
    expect(Object.keys(loaded).sort()).to.deep.equal(Object.keys(snapshot).sort());
    expect({ ...loaded, values: [] }).to.deep.equal({ ...snapshot, values: [] });
    loaded = await load();
    const parsed = JSON.parse(JSON.stringify(loaded)) as Snapshot;
    expect(parsed.lastnames).to.deep.equal(snapshot.lastnames);
    loaded = await load();
    expect(structuredClone(loaded).segments).to.deep.equal(snapshot.segments);

    // Writes: a column replaced before it is read stays replaced; a read column is mutable like any array.
    loaded = await load();
    loaded.firstnames = ['replaced'];
    expect(loaded.firstnames).to.deep.equal(['replaced']);
    loaded.lastnames.push('pushed');
    expect(loaded.lastnames.length).to.equal(BLOCK_ROWS + 8);
    expect(loaded.lastnames.at(-1)).to.equal('pushed');
    loaded.cities[0] = 'Lviv';
    expect(loaded.cities[0]).to.equal('Lviv');

    // The views built from a loaded snapshot see the same rows as from the snapshot saved.
    loaded = await load();
    const fromLoaded = new ListModel(loaded);
    const fromSaved = new ListModel(snapshot);
    expect(Array.from(fromLoaded.filter('loyal', 'contact1'))).to.deep.equal(Array.from(fromSaved.filter('loyal', 'contact1')));
    expect(Array.from(fromLoaded.sort(fromLoaded.filter('', ''), { key: 'city', direction: 'descending' })).slice(0, 50)).to.deep.equal(
      Array.from(fromSaved.sort(fromSaved.filter('', ''), { key: 'city', direction: 'descending' })).slice(0, 50),
    );
    expect(fromLoaded.name(BLOCK_ROWS + 3)).to.equal(fromSaved.name(BLOCK_ROWS + 3));
    loaded = await load();
    const delta: SnapshotDelta = {
      kind: 'smart-segments-snapshot-delta',
      version: 1,
      since: 'e1',
      etag: 'e2',
      upserts: { ...makeSnapshot(0), ids: ['1002'], firstnames: ['Ivan'], lastnames: ['Franko'], emails: ['i@example.com'], cities: ['Lviv'], countries: ['Ukraine'], values: [1, 2, 3, 4], nps: [9], segments: ['risky'] },
      deletes: ['1000'],
    };
    const fromCache = applyDelta(loaded, delta);
    const fromMemory = applyDelta(snapshot, delta);
    for (const column of display) expect(fromCache[column], column).to.deep.equal(fromMemory[column]);
    await closeCache(db);
  });

  it('defines a lazy property that decodes at most once, also on a frozen object', () => {
    let decodes = 0;
    const target: { column: string[] } = { column: [] };
    defineLazy(target, 'column', () => {
      decodes += 1;
      return ['a', 'b'];
    });
    expect(decodes).to.equal(0);
    expect(Object.getOwnPropertyDescriptor(target, 'column')!.enumerable).to.equal(true);
    Object.freeze(target);
    expect(target.column).to.deep.equal(['a', 'b']);
    expect(target.column).to.equal(target.column);
    expect(decodes).to.equal(1);
    expect(() => {
      target.column = [];
    }).to.throw(TypeError);
    expect(target.column).to.deep.equal(['a', 'b']);

    const open: { column: string[] } = { column: [] };
    defineLazy(open, 'column', () => ['x']);
    expect(open.column).to.deep.equal(['x']);
    // Read once, it is an ordinary data property.
    expect(Object.getOwnPropertyDescriptor(open, 'column')).to.deep.include({ value: ['x'], writable: true, enumerable: true, configurable: true });
  });

  it('treats a snapshot cached in the earlier block layout as not cached', async () => {
    const db = freshDb();
    expect(await saveSnapshot(makeSnapshot(5), db)).to.equal(true);
    await closeCache(db);
    const raw = await new Promise<IDBDatabase>((resolve, reject) => {
      const request = indexedDB.open(db);
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
    });
    const tx = raw.transaction('meta', 'readwrite');
    const store = tx.objectStore('meta');
    await new Promise<void>((resolve) => {
      store.get('snapshot').onsuccess = (event) => {
        const meta = (event.target as IDBRequest<Record<string, unknown>>).result;
        delete meta.format;
        store.put(meta, 'snapshot');
        tx.oncomplete = () => resolve();
      };
    });
    raw.close();
    expect(await loadSnapshot(db)).to.equal(null);
    expect(errors).to.deep.equal([]);
    await closeCache(db);
  });

  it('replaces the stored snapshot on save', async () => {
    const db = freshDb();
    await saveSnapshot(makeSnapshot(10, 'a'), db);
    await saveSnapshot(makeSnapshot(3, 'b'), db);
    const loaded = (await loadSnapshot(db))!;
    expect(loaded.etag).to.equal('b');
    expect(loaded.ids).to.deep.equal(['1000', '1001', '1002']);
    await closeCache(db);
  });

  it('returns null when nothing is cached', async () => {
    const db = freshDb();
    expect(await loadSnapshot(db)).to.equal(null);
    expect(await loadModel(db)).to.equal(null);
    await closeCache(db);
  });

  it('stores and clears the published model', async () => {
    const db = freshDb();
    const model = makeModel();
    expect(await saveModel(model, db)).to.equal(true);
    expect(await loadModel(db)).to.deep.equal(model);
    await saveModel(null, db);
    expect(await loadModel(db)).to.equal(null);
    await closeCache(db);
  });

  it('applies a delta: updates rows in place, appends new ids, removes deleted ids', () => {
    const snapshot = makeSnapshot(3, 'e1');
    const next = applyDelta(snapshot, delta('e1', 'e2'));
    expect(next.etag).to.equal('e2');
    expect(next.ids).to.deep.equal(['1001', '1002', '2000']);
    expect(next.lastnames).to.deep.equal(['Changed', 'Shevchenko', 'Person']);
    expect(next.values).to.deep.equal([9, 90, 9, null, 2, 20, 2, 3, 1, 2, 3, 4]);
    expect(next.nps).to.deep.equal([10, 2, null]);
    expect(next.segments).to.deep.equal(['loyal', 'risky', '']);
    // the input is untouched
    expect(snapshot.ids).to.deep.equal(['1000', '1001', '1002']);
  });

  it('degrades to "nothing cached" when IndexedDB cannot be opened', async () => {
    const original = indexedDB.open;
    indexedDB.open = () => {
      throw new DOMException('The user denied permission to access the database.', 'SecurityError');
    };
    try {
      const db = freshDb();
      expect(await saveSnapshot(makeSnapshot(2), db)).to.equal(false);
      expect(await loadSnapshot(db)).to.equal(null);
      expect(await saveModel(makeModel(), db)).to.equal(false);
      expect(await loadModel(db)).to.equal(null);
      expect(errors).to.include('open');
    } finally {
      indexedDB.open = original;
    }
  });

  it('degrades when a write fails (e.g. quota exceeded)', async () => {
    const db = freshDb();
    await saveSnapshot(makeSnapshot(2), db);
    const originalPut = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('Quota exceeded', 'QuotaExceededError');
    };
    try {
      expect(await saveSnapshot(makeSnapshot(5), db)).to.equal(false);
      expect(errors).to.include('saveSnapshot');
    } finally {
      IDBObjectStore.prototype.put = originalPut;
    }
    // the failed transaction rolled back: the earlier snapshot is intact
    expect((await loadSnapshot(db))!.ids.length).to.equal(2);
    await closeCache(db);
  });
});

describe('cache-first snapshot source', () => {
  let restore: (() => void) | null = null;
  afterEach(() => {
    restore?.();
    restore = null;
  });

  it('shows the cached snapshot at once, then applies the delta since its etag and caches the result', async () => {
    const db = freshDb();
    await saveSnapshot(makeSnapshot(3, 'e1'), db);
    const mock = mockFetch({ '/api/snapshot': () => json(delta('e1', 'e2')) });
    restore = mock.restore;
    const seen: { etag: string; fromCache: boolean; delta: boolean }[] = [];
    const fresh = await loadSnapshotCacheFirst({
      api: new ApiClient(),
      dbName: db,
      onSnapshot: (s: Snapshot, info) => seen.push({ etag: s.etag, ...info }),
    });
    expect(seen).to.deep.equal([
      { etag: 'e1', fromCache: true, delta: false },
      { etag: 'e2', fromCache: false, delta: true },
    ]);
    expect(mock.calls).to.deep.equal(['GET /api/snapshot?since=e1']);
    expect(fresh.ids).to.deep.equal(['1001', '1002', '2000']);
    // saved in the background
    let cached: Snapshot | null = null;
    for (let i = 0; i < 50 && cached?.etag !== 'e2'; i += 1) {
      cached = await loadSnapshot(db);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(cached!.etag).to.equal('e2');
    await closeCache(db);
  });

  it('uses the full snapshot when the server does not know the etag', async () => {
    const db = freshDb();
    await saveSnapshot(makeSnapshot(3, 'old'), db);
    restore = mockFetch({ '/api/snapshot': () => json(makeSnapshot(5, 'new')) }).restore;
    const fresh = await loadSnapshotCacheFirst({ api: new ApiClient(), dbName: db, onSnapshot: () => {} });
    expect(fresh.etag).to.equal('new');
    expect(fresh.ids.length).to.equal(5);
    await closeCache(db);
  });

  it('keeps the cached snapshot when the server is unreachable', async () => {
    const db = freshDb();
    await saveSnapshot(makeSnapshot(3, 'e1'), db);
    restore = mockFetch({ '/api/snapshot': () => json({ error: { message: 'down', code: 'x' } }, 502) }).restore;
    const fresh = await loadSnapshotCacheFirst({ api: new ApiClient(), dbName: db, onSnapshot: () => {} });
    expect(fresh.etag).to.equal('e1');
    await closeCache(db);
  });

  it('still fetches when IndexedDB is unavailable', async () => {
    const original = indexedDB.open;
    indexedDB.open = () => {
      throw new DOMException('blocked', 'InvalidStateError');
    };
    setCacheErrorHandler(() => {});
    const mock = mockFetch({ '/api/snapshot': () => json(makeSnapshot(4, 'net')) });
    restore = mock.restore;
    try {
      const fresh = await loadSnapshotCacheFirst({ api: new ApiClient(), dbName: freshDb(), onSnapshot: () => {} });
      expect(fresh.etag).to.equal('net');
      expect(mock.calls).to.deep.equal(['GET /api/snapshot']);
    } finally {
      indexedDB.open = original;
    }
  });
});
