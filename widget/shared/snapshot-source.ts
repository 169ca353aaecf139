/**
 * Cache-first snapshot loading: hand the cached snapshot to the UI at once, then ask the server for what
 * changed since its etag (`?since=`) and hand over the updated snapshot (delta applied, or the full one).
 * The cache never blocks or breaks loading: without it this is simply a fetch.
 */
import type { Snapshot, SnapshotDelta } from '../../src/types.js';
import type { ApiClient } from './api.js';
import { applyDelta, DEFAULT_DB_NAME, loadSnapshot, saveSnapshot } from './cache.js';

export interface SnapshotSourceOptions {
  api: ApiClient;
  /** Called with each snapshot as it becomes available: first the cached one (`fromCache`), then the fresh one. */
  onSnapshot: (snapshot: Snapshot, info: { fromCache: boolean; delta: boolean }) => void;
  dbName?: string;
  /** Skip the cache entirely. */
  noCache?: boolean;
  signal?: AbortSignal;
}

function isDelta(body: Snapshot | SnapshotDelta): body is SnapshotDelta {
  return body.kind === 'smart-segments-snapshot-delta';
}

/**
 * Loads the snapshot cache-first. Resolves with the freshest snapshot; rejects only when the server
 * fails AND nothing was cached (a cached snapshot stays on screen if the refresh fails).
 */
export async function loadSnapshotCacheFirst(options: SnapshotSourceOptions): Promise<Snapshot> {
  const dbName = options.dbName ?? DEFAULT_DB_NAME;
  const cached = options.noCache ? null : await loadSnapshot(dbName);
  if (cached) options.onSnapshot(cached, { fromCache: true, delta: false });
  let body: Snapshot | SnapshotDelta;
  try {
    body = await options.api.snapshot(cached?.etag, options.signal);
  } catch (error) {
    if (cached) return cached;
    throw error;
  }
  let fresh: Snapshot;
  let delta = false;
  if (isDelta(body)) {
    if (!cached) {
      // A delta without a base cannot be used: fetch the full snapshot.
      const full = await options.api.snapshot(undefined, options.signal);
      if (isDelta(full)) throw new Error('The server answered a delta to a request for the full snapshot');
      fresh = full;
    } else if (body.etag === cached.etag && body.upserts.ids.length === 0 && body.deletes.length === 0) {
      return cached;
    } else {
      fresh = applyDelta(cached, body);
      delta = true;
    }
  } else {
    fresh = body;
    if (cached && cached.etag === fresh.etag) return cached;
  }
  options.onSnapshot(fresh, { fromCache: false, delta });
  if (!options.noCache) void saveSnapshot(fresh, dbName);
  return fresh;
}
