/** Test data shared by the widget-core tests: a three-segment model on the paper's centres and snapshots. */
import type { Model, Segment, Snapshot } from '../../src/types.js';
import { recommend } from '../../src/strategy.js';

export const FEATURES = ['purchase_frequency', 'avg_order_amount', 'distance_km', 'satisfaction'];
const OFFSET = [40, 150, 80, 3.5];
const SCALE = [25, 150, 100, 1];

function segment(id: 'loyal' | 'profitable' | 'risky', label: string, color: string, centre: number[], size: number): Segment {
  return {
    id,
    archetype: id,
    label,
    why: `Why ${label}: orders ${centre[0]} a year, ${centre[2]} km from the warehouse.`,
    color,
    size,
    centroid: Object.fromEntries(FEATURES.map((f, j) => [f, centre[j] as number])),
    strategy: recommend(id),
    kpis: { customers: size, customerShare: size / 100, revenue: 1000, revenueShare: 0.3, clv: 500, nps: 10, npsResponses: 5 },
  };
}

const CENTRES: Record<'loyal' | 'profitable' | 'risky', number[]> = {
  loyal: [66.96, 17.06, 23.19, 4.31],
  risky: [10.0, 67.66, 328.55, 1.55],
  profitable: [29.2, 351.64, 40.26, 3.29],
};

export function makeModel(): Model {
  const segments = [
    segment('loyal', 'Loyal', '#00a4bd', CENTRES.loyal, 54),
    segment('profitable', 'Profitable', '#f5c26b', CENTRES.profitable, 35),
    segment('risky', 'Risky', '#f2545b', CENTRES.risky, 11),
  ];
  return {
    kind: 'smart-segments-model',
    version: 1,
    createdAt: '2026-11-01T00:00:00.000Z',
    method: 'kmeans',
    k: 3,
    seed: 7,
    features: FEATURES,
    scaler: { kind: 'zscore', offset: OFFSET, scale: SCALE },
    imputation: { purchase_frequency: 30, avg_order_amount: 60, distance_km: 40, satisfaction: 3.5 },
    centroids: segments.map((s) => FEATURES.map((f, j) => ((s.centroid[f] as number) - (OFFSET[j] as number)) / (SCALE[j] as number))),
    segments,
    quality: { silhouette: 0.6, silhouetteSampleSize: 100, inertia: 10, iterations: 5 },
    data: { rows: 100, clustered: 100, imputed: 0, noRecentOrders: 0, rejected: [] },
  };
}

const FIRST = ['Olena', 'Taras', 'Anna', 'Mykola', 'Iryna', 'Petro', 'Sofia', 'Andrii'];
const LAST = ['Shevchenko', 'Kovalenko', 'Bondarenko', 'Tkachenko', 'Kravchenko', 'Oliynyk', 'Melnyk', 'Boyko'];
const CITIES = ['Kyiv', 'Lviv', 'Odesa', 'Kharkiv', 'Dnipro'];
const SEGMENTS = ['loyal', 'profitable', 'risky', 'no_recent_orders'];

/** `n` contacts; row i: segment SEGMENTS[i % 4], frequency i % 50, amount 10 * i, distance i % 400, satisfaction 1 + i % 5. */
export function makeSnapshot(n: number, etag = 'e1'): Snapshot {
  const snapshot: Snapshot & { values: (number | null)[] } = {
    kind: 'smart-segments-snapshot',
    version: 1,
    etag,
    portalId: '123',
    generatedAt: '2026-11-01T00:00:00.000Z',
    asOf: '2026-11-01',
    features: [...FEATURES],
    ids: [],
    firstnames: [],
    lastnames: [],
    emails: [],
    cities: [],
    countries: [],
    values: [],
    nps: [],
    segments: [],
  };
  for (let i = 0; i < n; i += 1) {
    const first = FIRST[i % FIRST.length] as string;
    const last = `${LAST[Math.floor(i / FIRST.length) % LAST.length] as string}${i >= 64 ? ` ${i}` : ''}`;
    snapshot.ids.push(String(1000 + i));
    snapshot.firstnames.push(first);
    snapshot.lastnames.push(last);
    snapshot.emails.push(`contact${i}@example.com`);
    snapshot.cities.push(CITIES[i % CITIES.length] as string);
    snapshot.countries.push('Ukraine');
    snapshot.values.push(i % 50, 10 * i, i % 400, i % 7 === 3 ? null : 1 + (i % 5));
    snapshot.nps.push(i % 11);
    snapshot.segments.push(SEGMENTS[i % SEGMENTS.length] as string);
  }
  return snapshot;
}

export type Route = (url: URL, init?: RequestInit) => Response | Promise<Response>;

/** Replaces globalThis.fetch with a router over path -> handler; returns the restore function and the calls. */
export function mockFetch(routes: Record<string, Route>): { restore: () => void; calls: string[] } {
  const original = globalThis.fetch;
  const calls: string[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, location.href);
    calls.push(`${init?.method ?? 'GET'} ${url.pathname}${url.search}`);
    const route = routes[url.pathname];
    if (!route) return json({ error: { message: `No route for ${url.pathname}`, code: 'not_found' } }, 404);
    return route(url, init);
  }) as typeof fetch;
  return { restore: () => (globalThis.fetch = original), calls };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

/** Mocha's globals, typed (the widget tsconfig loads no test-runner types). */
interface MochaGlobals {
  describe(name: string, body: () => void): void;
  it(name: string, body: () => void | Promise<void>): void;
  beforeEach(body: () => void | Promise<void>): void;
  afterEach(body: () => void | Promise<void>): void;
}
export const { describe, it, beforeEach, afterEach } = globalThis as unknown as MochaGlobals;
