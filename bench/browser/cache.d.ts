/**
 * The widget's modules as the bench page sees them. The IndexedDB cache: rollup resolves this id to the compiled
 * dist/widget/shared/cache.js (the widget is its own TypeScript project, so the bench cannot import its
 * sources). Signatures mirror widget/shared/cache.ts.
 */
declare module 'bench:widget-cache' {
  import type { Snapshot } from '../../src/types.js';
  export const DEFAULT_DB_NAME: string;
  export function saveSnapshot(snapshot: Snapshot, dbName?: string): Promise<boolean>;
  export function loadSnapshot(dbName?: string): Promise<Snapshot | null>;
  export function closeCache(dbName?: string): Promise<void>;
}

/** The fit worker's protocol (dist/widget/explorer/protocol.js), so the bench posts what the explorer posts. */
declare module 'bench:widget-protocol' {
  export function packIds(ids: readonly string[]): { ids: string[] } | { idsJoined: { text: string; count: number } };
}
