/** Shared data for the explorer's browser tests: paper-shaped snapshots and a scripted fetch. */
import { paperTable } from '../../src/synthetic.js';
import type { Snapshot } from '../../src/types.js';

/** A Snapshot (as the server sends it) of `n` synthetic customers around the paper's centres. */
export function paperSnapshot(n: number, seed = 7): Snapshot {
  const { table } = paperTable({ n, seed });
  const values = Array.from(table.values, (v) => (Number.isNaN(v) ? null : v));
  const nps = Array.from(table.nps ?? new Float64Array(n), (v) => (Number.isNaN(v) ? null : v));
  return {
    kind: 'smart-segments-snapshot',
    version: 1,
    etag: `paper-${n}-${seed}`,
    portalId: 'sandbox',
    generatedAt: '2026-11-23T12:00:00.000Z',
    asOf: '2026-11-23',
    features: [...table.columns],
    ids: [...table.ids],
    firstnames: table.ids.map((id) => `First ${id}`),
    lastnames: table.ids.map(() => 'Customer'),
    emails: table.ids.map((id) => `${id}@example.com`),
    cities: table.ids.map(() => 'Kyiv'),
    countries: table.ids.map(() => 'UA'),
    values,
    nps,
    segments: table.ids.map(() => ''),
  };
}

/** An empty snapshot (no contacts). */
export function emptySnapshot(): Snapshot {
  return {
    ...paperSnapshot(1),
    etag: 'empty',
    ids: [],
    values: [],
    nps: [],
    firstnames: [],
    lastnames: [],
    emails: [],
    cities: [],
    countries: [],
    segments: [],
  };
}

export type Route = (url: URL, init: RequestInit | undefined) => Response | Promise<Response>;

/** Replaces globalThis.fetch with `route` until the returned restore function is called. */
export function stubFetch(route: Route): { restore: () => void; calls: { method: string; path: string }[] } {
  const original = globalThis.fetch;
  const calls: { method: string; path: string }[] = [];
  globalThis.fetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url, location.href);
    calls.push({ method: init?.method ?? 'GET', path: url.pathname });
    return route(url, init);
  }) as typeof fetch;
  return { restore: () => (globalThis.fetch = original), calls };
}

export function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });
}

type Body = (this: unknown) => void | Promise<void>;
interface MochaGlobals {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body): void;
  beforeEach(body: Body): void;
  afterEach(body: Body): void;
}
/**
 * Mocha's globals (web-test-runner installs them before a test file runs), typed locally so the widget
 * project needs no global test-runner typings.
 */
export const { describe, it, beforeEach, afterEach } = globalThis as unknown as MochaGlobals;
