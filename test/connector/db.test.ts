import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openDatabase, redactUrl, type Database } from '../../connector/db/database.js';
import { migrate } from '../../connector/db/migrate.js';
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPglite } from '../../connector/db/pglite.js';
import { BACKENDS, TEST_DATABASE_URL, dropSchema, freshSchema, type Backend, type Opened } from './db-backends.js';

/** PGlite in the calling thread (`thread: 'main'`): the same contract as in its worker (the default). */
const PGLITE_MAIN_THREAD: Backend = {
  name: 'pglite',
  skip: false,
  async open() {
    const db = await openPglite({ thread: 'main' });
    return { db, url: undefined, schema: undefined, cleanup: () => db.close() };
  },
};

for (const backend of [...BACKENDS, PGLITE_MAIN_THREAD]) {
  describe(`Database on ${backend.name}`, { skip: backend.skip }, () => {
    let opened: Opened;
    let db: Database;
    before(async () => {
      opened = await backend.open();
      db = opened.db;
      await db.exec(`
        CREATE TABLE items (id text PRIMARY KEY, n bigint, doc jsonb, at timestamptz, ok boolean);
        CREATE TABLE counters (id text PRIMARY KEY, n integer NOT NULL);
      `);
    });
    after(() => opened.cleanup());

    test('says which backend it is', () => {
      assert.equal(db.kind, backend.name);
    });

    test('returns rows with the same JavaScript types on both drivers', async () => {
      await db.query('INSERT INTO items VALUES ($1, $2, $3::jsonb, $4, $5)', ['a', 1_790_000_000_000, JSON.stringify({ x: [1, 'two', null] }), '2026-01-02T03:04:05.000Z', true]);
      await db.query('INSERT INTO items VALUES ($1, $2, $3::jsonb, $4, $5)', ['b', null, null, null, null]);
      const res = await db.query<{ id: string; n: number | null; doc: unknown; at: Date | null; ok: boolean | null }>('SELECT * FROM items ORDER BY id');
      assert.equal(res.rows.length, 2);
      const [a, b] = res.rows;
      assert.equal(a?.n, 1_790_000_000_000);
      assert.deepEqual(a?.doc, { x: [1, 'two', null] });
      assert.ok(a?.at instanceof Date);
      assert.equal(a.at.toISOString(), '2026-01-02T03:04:05.000Z');
      assert.equal(a.ok, true);
      assert.deepEqual(b, { id: 'b', n: null, doc: null, at: null, ok: null });
      const counted = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM items');
      assert.deepEqual(counted.rows, [{ n: 2 }]);
    });

    test('reports how many rows a statement changed', async () => {
      await db.query("INSERT INTO counters VALUES ('x', 1), ('y', 1), ('z', 1)");
      const updated = await db.query('UPDATE counters SET n = n + 1 WHERE id <> $1', ['z']);
      assert.equal(updated.affectedRows, 2);
      const deleted = await db.query('DELETE FROM counters WHERE id = $1', ['nope']);
      assert.equal(deleted.affectedRows, 0);
    });

    test('exec runs several statements at once', async () => {
      await db.exec("INSERT INTO counters VALUES ('e1', 5); UPDATE counters SET n = n * 2 WHERE id = 'e1';");
      assert.deepEqual((await db.query('SELECT n FROM counters WHERE id = $1', ['e1'])).rows, [{ n: 10 }]);
    });

    test('a transaction commits when its function resolves and rolls back when it rejects', async () => {
      await db.transaction(async (tx) => {
        await tx.query("INSERT INTO counters VALUES ('t1', 1)");
        await tx.query("INSERT INTO counters VALUES ('t2', 2)");
      });
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("INSERT INTO counters VALUES ('t3', 3)");
          throw new Error('stop here');
        }),
        /stop here/,
      );
      const ids = (await db.query<{ id: string }>("SELECT id FROM counters WHERE id LIKE 't%' ORDER BY id")).rows.map((r) => r.id);
      assert.deepEqual(ids, ['t1', 't2']);
    });

    test('queries on the database inside a transaction join it, and nested transactions join the outer one', async () => {
      await assert.rejects(
        db.transaction(async () => {
          await db.query("INSERT INTO counters VALUES ('j1', 1)");
          await db.transaction(async (inner) => {
            await inner.query("INSERT INTO counters VALUES ('j2', 2)");
          });
          // Visible inside: the same transaction.
          const inside = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM counters WHERE id LIKE 'j%'");
          assert.equal(inside.rows[0]?.n, 2);
          throw new Error('undo both');
        }),
        /undo both/,
      );
      const outside = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM counters WHERE id LIKE 'j%'");
      assert.equal(outside.rows[0]?.n, 0);
    });

    test('a failed statement rolls its transaction back and leaves the database usable', async () => {
      await db.query("INSERT INTO counters VALUES ('f1', 1)");
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("UPDATE counters SET n = 100 WHERE id = 'f1'");
          await tx.query("INSERT INTO counters VALUES ('f1', 2)"); // duplicate key
        }),
        /duplicate key/,
      );
      assert.deepEqual((await db.query('SELECT n FROM counters WHERE id = $1', ['f1'])).rows, [{ n: 1 }]);
      for (let i = 0; i < 6; i++) await db.transaction((tx) => tx.query('UPDATE counters SET n = n + 1 WHERE id = $1', ['f1']));
      assert.deepEqual((await db.query('SELECT n FROM counters WHERE id = $1', ['f1'])).rows, [{ n: 7 }]);
    });

    test('concurrent transactions each commit their own rows', async () => {
      await Promise.all(
        [1, 2, 3, 4, 5].map((i) =>
          db.transaction(async (tx) => {
            await tx.query('INSERT INTO counters VALUES ($1, $2)', [`c${i}`, i]);
            await tx.query('UPDATE counters SET n = n * 10 WHERE id = $1', [`c${i}`]);
          }),
        ),
      );
      const rows = (await db.query<{ id: string; n: number }>("SELECT id, n FROM counters WHERE id LIKE 'c%' ORDER BY id")).rows;
      assert.deepEqual(rows, [10, 20, 30, 40, 50].map((n, i) => ({ id: `c${i + 1}`, n })));
    });

    test('exclusive sections with the same key run one after another', async () => {
      const order: string[] = [];
      const section = (name: string) =>
        db.exclusive('test-lock', async (locked) => {
          order.push(`${name} in`);
          await locked.query('SELECT 1');
          await new Promise((resolve) => setTimeout(resolve, 20));
          order.push(`${name} out`);
          return name;
        });
      assert.deepEqual(await Promise.all([section('a'), section('b')]), ['a', 'b']);
      // Never interleaved. Which goes first is up to the backend: PostgreSQL's advisory locks, taken on two
      // pooled connections, promise exclusion, not arrival order.
      const [first, second] = order[0] === 'a in' ? ['a', 'b'] : ['b', 'a'];
      assert.deepEqual(order, [`${first} in`, `${first} out`, `${second} in`, `${second} out`]);
    });

    test('migrations apply once, in order, and a second run applies nothing', async () => {
      const migrations = [
        { id: 2, name: 'second', sql: "INSERT INTO m_log VALUES ('second')" },
        { id: 1, name: 'first', sql: "CREATE TABLE m_log (what text); INSERT INTO m_log VALUES ('first')" },
      ];
      assert.deepEqual(await migrate(db, 'test_migrations', migrations), [1, 2]);
      assert.deepEqual(await migrate(db, 'test_migrations', migrations), []);
      assert.deepEqual((await db.query<{ what: string }>('SELECT what FROM m_log')).rows.map((r) => r.what), ['first', 'second']);
    });

    test('a failing migration leaves no trace and stops the ones after it', async () => {
      const migrations = [
        { id: 1, name: 'ok', sql: 'CREATE TABLE f_ok (x int)' },
        { id: 2, name: 'broken', sql: 'CREATE TABLE f_half (x int); SELECT no_such_function()' },
        { id: 3, name: 'never', sql: 'CREATE TABLE f_never (x int)' },
      ];
      await assert.rejects(migrate(db, 'fail_migrations', migrations), /no_such_function/);
      const ledger = (await db.query<{ id: number }>('SELECT id FROM fail_migrations ORDER BY id')).rows.map((r) => r.id);
      assert.deepEqual(ledger, [1]);
      const tables = await db.query<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_name LIKE 'f\\_%' AND table_schema = current_schema() ORDER BY 1",
      );
      assert.deepEqual(tables.rows.map((r) => r.name), ['f_ok']);
    });
  });
}

describe('PostgreSQL specifics', { skip: TEST_DATABASE_URL === undefined ? 'TEST_DATABASE_URL is not set' : false }, () => {
  const url = TEST_DATABASE_URL ?? '';

  test('servers starting together apply each migration exactly once (advisory lock)', async () => {
    const schema = freshSchema();
    const dbs = await Promise.all([1, 2, 3].map(() => openDatabase({ url, schema, maxConnections: 2 })));
    try {
      // The migration is slow and not idempotent: without the lock a second runner would fail or double it.
      const migrations = [{ id: 1, name: 'slow', sql: 'CREATE TABLE once (x int); SELECT pg_sleep(0.2); INSERT INTO once VALUES (1)' }];
      const applied = await Promise.all(dbs.map((d) => migrate(d, 'race_migrations', migrations)));
      assert.deepEqual(applied.map((ids) => ids.length).sort(), [0, 0, 1]);
      assert.deepEqual((await dbs[0]!.query('SELECT x FROM once')).rows, [{ x: 1 }]);
    } finally {
      await Promise.all(dbs.map((d) => d.close()));
      await dropSchema(url, schema);
    }
  });

  test('a transaction is invisible to other connections until it commits', async () => {
    const schema = freshSchema();
    const db = await openDatabase({ url, schema, maxConnections: 3 });
    try {
      await db.exec('CREATE TABLE seen (x int)');
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      let inserted!: () => void;
      const didInsert = new Promise<void>((resolve) => (inserted = resolve));
      const tx = db.transaction(async (t) => {
        await t.query('INSERT INTO seen VALUES (1)');
        inserted();
        await gate;
      });
      await didInsert;
      // A query from outside the transaction's async context goes to another pooled connection.
      const during = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM seen');
      release();
      await tx;
      const afterCommit = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM seen');
      assert.equal(during.rows[0]?.n, 0);
      assert.equal(afterCommit.rows[0]?.n, 1);
    } finally {
      await db.close();
      await dropSchema(url, schema);
    }
  });

  test('a connection the server drops mid-transaction fails that transaction only; the pool carries on', async () => {
    const db = await openDatabase({ url, maxConnections: 1, onError: () => {} });
    try {
      await assert.rejects(db.transaction((tx) => tx.query('SELECT pg_terminate_backend(pg_backend_pid())')), /terminat/i);
      // With one connection in the pool, this only works if the dead one was discarded.
      assert.deepEqual((await db.query('SELECT 1 AS x')).rows, [{ x: 1 }]);
      assert.equal(await db.transaction(async (tx) => (await tx.query<{ y: number }>('SELECT 2 AS y')).rows[0]?.y), 2);
    } finally {
      await db.close();
    }
  });

  test('bigints beyond 2^53 come back as BigInt, like PGlite', async () => {
    const db = await openDatabase({ url, maxConnections: 1 });
    try {
      const res = await db.query<{ big: bigint; small: number }>('SELECT 9007199254740993::bigint AS big, 42::bigint AS small');
      assert.equal(res.rows[0]?.big, 9007199254740993n);
      assert.equal(res.rows[0]?.small, 42);
    } finally {
      await db.close();
    }
  });

  test('a wrong password fails at open with the URL shown without its password', async () => {
    const wrong = new URL(url);
    wrong.password = 'definitely-wrong-password';
    await assert.rejects(openDatabase({ url: wrong.toString() }), (error: Error) => {
      assert.match(error.message, /cannot use the PostgreSQL database at postgres:\/\/smart_segments:\*\*\*@/);
      assert.ok(!error.message.includes('definitely-wrong-password'));
      return true;
    });
  });
});

describe('PGlite in its worker thread', () => {
  test('an error keeps its PostgreSQL fields (code, message) across the thread', async () => {
    const db = await openDatabase({});
    try {
      await db.exec('CREATE TABLE t (id text PRIMARY KEY)');
      await db.query('INSERT INTO t VALUES ($1)', ['a']);
      const error = await db.query('INSERT INTO t VALUES ($1)', ['a']).then(
        () => null,
        (e: unknown) => e as Error & { code?: string },
      );
      assert.ok(error instanceof Error);
      assert.match(error.message, /duplicate key value violates unique constraint/);
      assert.equal(error.code, '23505');
    } finally {
      await db.close();
    }
  });

  test('after close, queries fail with a clear error instead of hanging', async () => {
    const db = await openDatabase({});
    await db.close();
    await assert.rejects(db.query('SELECT 1'), /the database is closed/);
  });

  test('a database left open does not keep the process alive once its work is done', async () => {
    // As with PGlite in the calling thread: the worker holds the process only while a request waits.
    const module = new URL('../../connector/db/database.js', import.meta.url).href;
    const script = `const { openDatabase } = await import(${JSON.stringify(module)});
      const db = await openDatabase({});
      const res = await db.query('SELECT 41 + 1 AS n');
      console.log(res.rows[0].n);`;
    // Also under Node flags a worker refuses when given explicitly (the bench runs with these two).
    for (const flags of [['--input-type=module'], ['--input-type=module', '--max-old-space-size=512', '--expose-gc']]) {
      const child = spawnSync(process.execPath, [...flags, '-e', script], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.error, undefined, `the process did not exit by itself within 60 s (${flags.join(' ')})`);
      assert.equal(child.status, 0, child.stderr);
      assert.equal(child.stdout.trim(), '42');
    }
    // And a script file run with those flags (the worker inherits them).
    const dir = await mkdtemp(join(tmpdir(), 'pglite-flags-'));
    try {
      const file = join(dir, 'open.mjs');
      await writeFile(file, script);
      const child = spawnSync(process.execPath, ['--max-old-space-size=512', '--expose-gc', file], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(child.error, undefined, 'the process did not exit by itself within 60 s (file)');
      assert.equal(child.status, 0, child.stderr);
      assert.equal(child.stdout.trim(), '42');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('openDatabase', () => {
  test('refuses a URL that is not postgres://, without echoing the password', async () => {
    await assert.rejects(openDatabase({ url: 'mysql://u:secret@localhost/db' }), (error: Error) => {
      assert.match(error.message, /is not a postgres:\/\/ URL/);
      assert.ok(!error.message.includes('secret'));
      return true;
    });
  });

  test('refuses a schema name that would need quoting', async () => {
    await assert.rejects(openDatabase({ url: 'postgres://u:p@127.0.0.1:1/db', schema: 'x"; DROP TABLE y; --' }), /not a usable schema name/);
  });

  test('redactUrl masks only the password', () => {
    assert.equal(redactUrl('postgres://app:s3cret@db.example:5432/prod'), 'postgres://app:***@db.example:5432/prod');
    assert.equal(redactUrl('postgres://db.example/prod'), 'postgres://db.example/prod');
    assert.equal(redactUrl('not a url'), '(unparseable URL)');
  });
});
