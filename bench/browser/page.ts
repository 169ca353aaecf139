/**
 * The bench page's script (bundled by bench/browser.ts with rollup): exposes measurements to Playwright as
 * `window.bench`. The page loads the product bundle (dist/bundle/smart-segments.js) for the elements; the
 * widget's IndexedDB cache is bundled in from its compiled module (`bench:widget-cache`, see cache.d.ts).
 */
import { closeCache, DEFAULT_DB_NAME, loadSnapshot, saveSnapshot } from 'bench:widget-cache';
import { paperTable } from '../../src/synthetic.js';
import { packIds } from 'bench:widget-protocol';
import type { Snapshot } from '../../src/types.js';

const CITIES = ['Kyiv', 'Brovary', 'Irpin', 'Bucha', 'Fastiv', 'Poltava', 'Kharkiv', 'Dnipro'];

/** A snapshot of n synthetic contacts shaped as the connector serves it. */
export function makeSnapshot(n: number): Snapshot {
  const { table } = paperTable({ n, seed: 11 });
  const values: (number | null)[] = new Array<number | null>(table.values.length);
  for (let i = 0; i < table.values.length; i++) values[i] = i % 97 === 5 ? null : table.values[i]!;
  return {
    kind: 'smart-segments-snapshot',
    version: 1,
    etag: `bench-${n}`,
    portalId: 'bench',
    generatedAt: '2026-11-01T00:00:00.000Z',
    asOf: '2026-11-01',
    features: [...table.columns],
    ids: table.ids.map((_, i) => String(1001 + i)),
    firstnames: table.ids.map((_, i) => `First${i % 300}`),
    lastnames: table.ids.map((_, i) => `Lastname${i % 1000}`),
    emails: table.ids.map((_, i) => `contact${i}@example.com`),
    cities: table.ids.map((_, i) => CITIES[i % CITIES.length]!),
    countries: table.ids.map(() => 'Ukraine'),
    values,
    nps: Array.from(table.nps!, (v) => v),
    segments: table.ids.map((_, i) => ['loyal', 'profitable', 'risky', ''][i % 4]!),
  };
}

const frame = (): Promise<number> => new Promise((resolve) => requestAnimationFrame(resolve));

async function cacheSave(n: number, dbName = DEFAULT_DB_NAME): Promise<{ ms: number; ok: boolean }> {
  const snapshot = makeSnapshot(n);
  const t = performance.now();
  const ok = await saveSnapshot(snapshot, dbName);
  return { ms: performance.now() - t, ok };
}

async function cacheLoad(dbName = DEFAULT_DB_NAME): Promise<{ coldMs: number; warmMs: number; rows: number }> {
  let t = performance.now();
  const a = await loadSnapshot(dbName);
  const coldMs = performance.now() - t;
  t = performance.now();
  await loadSnapshot(dbName);
  const warmMs = performance.now() - t;
  await closeCache(dbName);
  return { coldMs, warmMs, rows: a?.ids.length ?? 0 };
}

/**
 * Where a cache load's time goes, without the product's code: opening the database, reading the meta record
 * and every block (IndexedDB and structured clone: small records holding a Blob reference each), then
 * reading the blocks' Blobs. The rest of `loadSnapshot`'s time is building the Snapshot from the bytes.
 */
async function cacheLoadParts(dbName = DEFAULT_DB_NAME): Promise<{ openMs: number; readMs: number; blobMs: number; blocks: number }> {
  let t = performance.now();
  const db = await idbRequest(indexedDB.open(dbName));
  const openMs = performance.now() - t;
  t = performance.now();
  const tx = db.transaction(['meta', 'blocks'], 'readonly');
  await idbRequest(tx.objectStore('meta').get('snapshot'));
  const blocks = (await idbRequest(tx.objectStore('blocks').getAll())) as { data: Blob }[];
  const readMs = performance.now() - t;
  t = performance.now();
  await Promise.all(blocks.map((block) => block.data.arrayBuffer()));
  const blobMs = performance.now() - t;
  db.close();
  return { openMs, readMs, blobMs, blocks: blocks.length };
}

const STRING_COLUMNS = ['ids', 'firstnames', 'lastnames', 'emails', 'cities', 'countries', 'segments'] as const;

function idbRequest<T>(request: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

/**
 * The reference for the product's cache layout: the layout it replaced, each string column of a block stored
 * as an array of strings (structured clone makes one string object per value; 700k of them at 100k rows),
 * the same 50,000-row blocks and numbers as Float64Array; loaded into the same output shape.
 */
async function cacheArrayLayout(n: number): Promise<{ saveMs: number; loadMs: number; rows: number }> {
  const snapshot = makeSnapshot(n);
  const name = 'bench-array-layout';
  await idbRequest(indexedDB.deleteDatabase(name));
  const openDb = (): Promise<IDBDatabase> => {
    const request = indexedDB.open(name, 1);
    request.onupgradeneeded = () => request.result.createObjectStore('blocks');
    return idbRequest(request);
  };
  let db = await openDb();
  const width = snapshot.features.length;
  const blockRows = 50_000;
  let t = performance.now();
  {
    const tx = db.transaction('blocks', 'readwrite');
    const store = tx.objectStore('blocks');
    for (let start = 0, b = 0; start < n; start += blockRows, b++) {
      const end = Math.min(n, start + blockRows);
      const values = new Float64Array((end - start) * width);
      for (let i = start * width, o = 0; i < end * width; i++, o++) values[o] = snapshot.values[i] ?? NaN;
      const strings: Record<string, string[]> = {};
      for (const c of STRING_COLUMNS) strings[c] = snapshot[c].slice(start, end);
      store.put({ values, nps: Float64Array.from(snapshot.nps.slice(start, end), (v) => v ?? NaN), strings }, b);
    }
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error);
    });
  }
  const saveMs = performance.now() - t;
  db.close();
  t = performance.now();
  db = await openDb();
  const blocks = (await idbRequest(db.transaction('blocks').objectStore('blocks').getAll())) as { values: Float64Array; nps: Float64Array; strings: Record<string, string[]> }[];
  const columns: Record<string, string[]> = {};
  for (const c of STRING_COLUMNS) columns[c] = ([] as string[]).concat(...blocks.map((b) => b.strings[c]!));
  const values = new Float64Array(blocks.reduce((s, b) => s + b.values.length, 0));
  let o = 0;
  for (const b of blocks) {
    values.set(b.values, o);
    o += b.values.length;
  }
  const nps = blocks.flatMap((b) => Array.from(b.nps, (v) => (Number.isNaN(v) ? null : v)));
  const loadMs = performance.now() - t;
  db.close();
  return { saveMs, loadMs, rows: values.length === n * width && nps.length === n ? columns.ids!.length : -1 };
}

/** Explorer from cache: element added -> its controls are in the DOM -> the next frame (painted). */
async function explorerPaint(apiBase: string): Promise<{ readyMs: number; paintMs: number; rows: string }> {
  await customElements.whenDefined('smart-segment-explorer');
  const t = performance.now();
  const el = document.createElement('smart-segment-explorer');
  el.setAttribute('api-base', apiBase);
  document.body.append(el);
  const deadline = t + 30_000;
  let readyMs: number;
  for (;;) {
    await frame();
    const controls = el.shadowRoot?.querySelector('[part="controls"]');
    if (controls) {
      readyMs = performance.now() - t;
      break;
    }
    if (performance.now() > deadline) throw new Error('explorer never showed its controls');
  }
  await frame();
  const paintMs = performance.now() - t;
  const text = el.shadowRoot?.textContent ?? '';
  const m = /([\d,.\s\u00a0\u202f]+)\s*(contacts|customers)/i.exec(text);
  return { readyMs, paintMs, rows: m ? m[0].trim() : '' };
}

/** The list with n rows: first render, then a scroll through the whole list driven one step per frame. */
async function listScroll(n: number, frames: number): Promise<{ renderMs: number; intervals: number[]; rowsRendered: number; scrollHeight: number; script: number[]; layout: number[] }> {
  const snapshot = makeSnapshot(n);
  await customElements.whenDefined('smart-segment-list');
  const t = performance.now();
  const el = document.createElement('smart-segment-list') as HTMLElement & { snapshot: Snapshot; updateComplete: Promise<boolean> };
  el.setAttribute('no-cache', '');
  el.snapshot = snapshot;
  document.body.append(el);
  await el.updateComplete;
  await frame();
  const renderMs = performance.now() - t;
  const scroller = el.shadowRoot!.querySelector('.scroller') as HTMLElement;
  const max = scroller.scrollHeight - scroller.clientHeight;
  const intervals: number[] = [];
  let last = await frame();
  for (let f = 1; f <= frames; f++) {
    // A long fling: every frame lands on rows not rendered before (about max / frames px a step).
    scroller.scrollTop = Math.round((max * f) / frames);
    const now = await frame();
    intervals.push(now - last);
    last = now;
  }
  const rowsRendered = el.shadowRoot!.querySelectorAll('[role="row"]').length;
  // Where a frame's time goes, on a second fling between the first one's stops: the list's own script
  // (scroll handler and Lit's render, to updateComplete), then style and layout forced by reading a row's
  // box; paint and raster are what remains of a frame (not visible to script).
  const script: number[] = [];
  const layout: number[] = [];
  for (let f = 1; f <= frames; f++) {
    scroller.scrollTop = Math.round((max * (f - 0.5)) / frames);
    const t0 = performance.now();
    scroller.dispatchEvent(new Event('scroll'));
    await el.updateComplete;
    const t1 = performance.now();
    el.shadowRoot!.querySelector('[role="row"]:last-of-type')?.getBoundingClientRect();
    layout.push(performance.now() - t1);
    script.push(t1 - t0);
    await frame();
  }
  el.remove();
  return { renderMs, intervals, rowsRendered, scrollHeight: scroller.scrollHeight, script, layout };
}

/** The same scroll loop over a plain div as tall as the list: the harness's own frame intervals, for reference. */
async function plainScroll(n: number, frames: number): Promise<{ intervals: number[] }> {
  const scroller = document.createElement('div');
  scroller.style.cssText = 'height:560px;overflow:auto';
  const inner = document.createElement('div');
  inner.style.height = `${n * 44}px`;
  inner.textContent = 'plain';
  scroller.append(inner);
  document.body.append(scroller);
  await frame();
  const max = scroller.scrollHeight - scroller.clientHeight;
  const intervals: number[] = [];
  let last = await frame();
  for (let f = 1; f <= frames; f++) {
    scroller.scrollTop = Math.round((max * f) / frames);
    const now = await frame();
    intervals.push(now - last);
    last = now;
  }
  scroller.remove();
  return { intervals };
}

/** Our Lloyd in the bench worker. */
function workerCall<T>(worker: Worker, message: unknown): Promise<T> {
  return new Promise((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ok: boolean; error?: string }>) => (e.data.ok ? resolve(e.data as T) : reject(new Error(e.data.error)));
    worker.onerror = (e) => reject(new Error(e.message));
    worker.postMessage(message);
  });
}

let benchWorker: Worker | null = null;
function getBenchWorker(): Worker {
  benchWorker ??= new Worker('/dist/bench/browser/worker.js', { type: 'module' });
  return benchWorker;
}

async function workerLloyd(n: number, repeats: number): Promise<unknown> {
  return workerCall(getBenchWorker(), { task: 'lloyd', n, repeats });
}

async function workerHold(n: number): Promise<unknown> {
  return workerCall(getBenchWorker(), { task: 'hold', n });
}

async function workerRelease(): Promise<unknown> {
  return workerCall(getBenchWorker(), { task: 'release', n: 0 });
}

/** The product's worker (dist/bundle/fit-worker.js) through its protocol: postMessage -> 'done'. */
async function productFit(n: number, k: number | 'auto', helper = true): Promise<{ ms: number; k: number; iterations: number; stages: [string, number][] }> {
  const { table } = paperTable({ n, seed: 20_240_601, noise: 0.5 });
  const worker = new Worker('/dist/bundle/fit-worker.js', { type: 'module' });
  try {
    const t = performance.now();
    // When each stage's progress message arrived (ms from the start), to show where the time goes.
    const stages: [string, number][] = [];
    const done = await new Promise<{ model: { k: number; quality: { iterations: number } } }>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent<{ type: string; model?: unknown; message?: string; event?: { stage: string; message?: string } }>) => {
        if (e.data.type === 'progress' && e.data.event) {
          const label = e.data.event.message ? `${e.data.event.stage} (${e.data.event.message})` : e.data.event.stage;
          if (stages.at(-1)?.[0] !== label) stages.push([label, Math.round(performance.now() - t)]);
        } else if (e.data.type === 'done') resolve(e.data as never);
        else if (e.data.type === 'error') reject(new Error(e.data.message));
      };
      worker.onerror = (e) => reject(new Error(e.message));
      // The explorer's request (FitController): ids joined into one string, numbers transferred.
      const request = { type: 'fit', table: { ...packIds(table.ids), columns: table.columns, values: table.values, ...(table.nps ? { nps: table.nps } : {}) }, options: { k, method: 'kmeans', seed: 20_240_601 }, helper };
      worker.postMessage(request, table.nps ? [table.values.buffer, table.nps.buffer] : [table.values.buffer]);
    });
    stages.push(['model received', Math.round(performance.now() - t)]);
    return { ms: performance.now() - t, k: done.model.k, iterations: done.model.quality.iterations, stages };
  } finally {
    worker.terminate();
  }
}

async function memory(): Promise<unknown> {
  const p = performance as unknown as { measureUserAgentSpecificMemory?: () => Promise<unknown> };
  if (!p.measureUserAgentSpecificMemory) return { unavailable: `measureUserAgentSpecificMemory missing (crossOriginIsolated: ${String(crossOriginIsolated)})` };
  return p.measureUserAgentSpecificMemory();
}

(window as unknown as { bench: unknown }).bench = { plainScroll, cacheSave, cacheLoad, cacheLoadParts, cacheArrayLayout, explorerPaint, listScroll, workerLloyd, workerHold, workerRelease, productFit, memory };
