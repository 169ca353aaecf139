/**
 * The two database backends the storage tests run on: embedded PGlite always, PostgreSQL when
 * TEST_DATABASE_URL is set (`.ci/run` sets it from scripts/ensure-postgres.sh). Each PostgreSQL database
 * opened here lives in its own fresh schema, dropped again by `cleanup`, so tests never see each other's rows.
 */
import { randomBytes } from 'node:crypto';
import { openDatabase, type Database } from '../../connector/db/database.js';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** Why the backend's tests skip (printed by the runner), or false. */
  skip: string | false;
  /** A fresh, empty database. */
  open(): Promise<Opened>;
}

export interface Opened {
  db: Database;
  /** For openStore({ databaseUrl, schema }) on the same database; undefined on PGlite. */
  url: string | undefined;
  schema: string | undefined;
  /** Drops what the test created and closes the database. */
  cleanup(): Promise<void>;
}

export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL?.trim() || undefined;

let counter = 0;
/** A schema name unique to this process and call (several test files run in parallel). */
export function freshSchema(): string {
  counter += 1;
  return `test_${process.pid}_${counter}_${randomBytes(4).toString('hex')}`;
}

/** Drops a test schema with a connection of its own (the one under test may be closed or broken). */
export async function dropSchema(url: string, schema: string): Promise<void> {
  const admin = await openDatabase({ url, maxConnections: 1 });
  try {
    await admin.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await admin.close();
  }
}

export const BACKENDS: readonly Backend[] = [
  {
    name: 'pglite',
    skip: false,
    async open() {
      const db = await openDatabase({});
      return { db, url: undefined, schema: undefined, cleanup: () => db.close() };
    },
  },
  {
    name: 'postgres',
    skip: TEST_DATABASE_URL === undefined ? 'TEST_DATABASE_URL is not set (bash scripts/ensure-postgres.sh prints one)' : false,
    async open() {
      const url = TEST_DATABASE_URL;
      if (url === undefined) throw new Error('TEST_DATABASE_URL is not set');
      const schema = freshSchema();
      const db = await openDatabase({ url, schema, maxConnections: 4 });
      return {
        db,
        url,
        schema,
        async cleanup() {
          await db.close();
          await dropSchema(url, schema);
        },
      };
    },
  },
];
