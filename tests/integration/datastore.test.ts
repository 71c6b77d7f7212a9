// One datastore conformance suite run against both engines (SQLite in a temp file, Postgres on a fresh
// database of the run's server), then what only one engine does: Postgres notifications across
// connections, listener reconnect, concurrent migration, and a database outage on a dedicated server.
import { mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase } from '../../helpers/databases.js';
import { freePort } from '../../helpers/ports.js';
import { startPostgres } from '../../helpers/postgres.js';
import { sampleRoute } from '../../helpers/sample-route.js';
import { waitUntil } from '../../helpers/wait.js';
import {
  AlreadyExistsError,
  type Datastore,
  DatastoreUnavailableError,
  NotFoundError,
  type RouteChange,
} from '../../src/node/datastore/datastore.js';
import {
  MIGRATIONS,
  type Migration,
  migratePostgres,
  migrateSqlite,
  SCHEMA_VERSION,
  SchemaTooNewError,
} from '../../src/node/datastore/migrations.js';
import { DEFAULT_DB_URL, openDatastore, parseDbUrl } from '../../src/node/datastore/open.js';
import { PostgresDatastore } from '../../src/node/datastore/postgres.js';
import { RouteCache } from '../../src/node/datastore/route-cache.js';
import { SqliteDatastore } from '../../src/node/datastore/sqlite.js';

/** One empty database of one engine, and raw access to it that bypasses the datastore. */
interface TestDatabase {
  url: string;
  open(): Promise<Datastore>;
  versions(): Promise<number[]>;
  addVersion(version: number): Promise<void>;
  tableExists(name: string): Promise<boolean>;
  migrate(migrations: Migration[]): Promise<number[]>;
  drop(): Promise<void>;
}

interface Engine {
  kind: 'sqlite' | 'postgres';
  /** Whether other connections' writes are pushed (Postgres LISTEN) rather than left to the cache TTL. */
  live: boolean;
  setup(): Promise<void>;
  teardown(): Promise<void>;
  create(): Promise<TestDatabase>;
}

/** Polls until `predicate` holds; returns the elapsed milliseconds, or fails naming what it waited for. */
/** Polls every 10 ms; resolves with the milliseconds it took. */
const until = (what: string, predicate: () => boolean | Promise<boolean>, timeoutMs: number) =>
  waitUntil(what, predicate, timeoutMs, 10);

/** A raw session on `url` for the duration of `fn`, bypassing the datastore. */
async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: 5000,
    query_timeout: 30_000,
  });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function sqliteEngine(): Engine {
  let dir = '';
  let count = 0;
  const raw = <T>(file: string, fn: (db: Database.Database) => T): T => {
    const db = new Database(file);
    try {
      return fn(db);
    } finally {
      db.close();
    }
  };
  return {
    kind: 'sqlite',
    live: false,
    async setup() {
      dir = mkdtempSync(join(tmpdir(), 'fnguard-ds-'));
    },
    async teardown() {
      rmSync(dir, { recursive: true, force: true });
    },
    async create() {
      count += 1;
      const file = join(dir, `db-${count}`, 'fn.db');
      const url = `sqlite://${file}`;
      return {
        url,
        open: () => openDatastore(url),
        versions: async () =>
          raw(file, (db) =>
            (
              db.prepare('SELECT version FROM schema_migrations ORDER BY version').all() as {
                version: number;
              }[]
            ).map((row) => row.version),
          ),
        addVersion: async (version) => {
          raw(file, (db) =>
            db
              .prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)')
              .run(version, 'now'),
          );
        },
        tableExists: async (name) =>
          raw(file, (db) =>
            db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name),
          ) !== undefined,
        migrate: async (migrations) => raw(file, (db) => migrateSqlite(db, migrations)),
        drop: async () => undefined,
      };
    },
  };
}

function postgresEngine(): Engine {
  const raw = withClient;
  return {
    kind: 'postgres',
    live: true,
    async setup() {},
    async teardown() {},
    async create() {
      const scratch = await createScratchDatabase(inject('pgUrl'), 'fn_datastore');
      const url = scratch.url;
      return {
        url,
        open: () => openDatastore(url),
        versions: () =>
          raw(url, async (client) =>
            (
              await client.query<{ version: number }>(
                'SELECT version FROM schema_migrations ORDER BY version',
              )
            ).rows.map((row) => row.version),
          ),
        addVersion: (version) =>
          raw(url, async (client) => {
            await client.query('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
          }),
        tableExists: (name) =>
          raw(
            url,
            async (client) => (await client.query('SELECT to_regclass($1) AS t', [name])).rows[0].t !== null,
          ),
        migrate: (migrations) => raw(url, (client) => migratePostgres(client, migrations)),
        drop: () => scratch.drop(),
      };
    },
  };
}

describe.each([sqliteEngine(), postgresEngine()])('datastore conformance: $kind', (engine) => {
  let database: TestDatabase;
  let store: Datastore;
  const opened: Datastore[] = [];
  const open = async () => {
    const next = await database.open();
    opened.push(next);
    return next;
  };

  beforeAll(() => engine.setup());
  afterAll(() => engine.teardown());
  beforeEach(async () => {
    database = await engine.create();
    store = await open();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await database.drop();
  });

  it('starts empty and says whether notifications are live', async () => {
    expect(store.kind).toBe(engine.kind);
    expect(store.notificationsLive).toBe(engine.live);
    expect(await store.getApps()).toEqual([]);
    expect(await store.getApp('nope')).toBeUndefined();
    expect(await store.getRoutes('nope')).toEqual([]);
    expect(await store.getRoute('nope', '/x')).toBeUndefined();
  });

  it('inserts and reads apps, listed in byte order of their names', async () => {
    const names = ['b', 'a_1', 'A', 'a-2', 'a', 'Zeta', 'é'];
    for (const name of names) {
      expect(await store.insertApp({ name, config: { NAME: name } })).toEqual({
        name,
        config: { NAME: name },
      });
    }
    const apps = await store.getApps();
    expect(apps.map((app) => app.name)).toEqual(['A', 'Zeta', 'a', 'a-2', 'a_1', 'b', 'é']);
    expect(apps.filter((app) => app.config.NAME !== app.name)).toEqual([]);
    expect(await store.getApp('a-2')).toEqual({ name: 'a-2', config: { NAME: 'a-2' } });
  });

  it('refuses a duplicate app and keeps the original', async () => {
    await store.insertApp({ name: 'app', config: { A: '1' } });
    await expect(store.insertApp({ name: 'app', config: { A: '2' } })).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    expect(await store.getApp('app')).toEqual({ name: 'app', config: { A: '1' } });
  });

  it('replaces an app config on update and refuses an unknown app', async () => {
    await store.insertApp({ name: 'app', config: { A: '1', B: '2' } });
    expect(await store.updateApp('app', { C: '3' })).toEqual({ name: 'app', config: { C: '3' } });
    expect(await store.getApp('app')).toEqual({ name: 'app', config: { C: '3' } });
    await expect(store.updateApp('nope', {})).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.getApp('nope')).toBeUndefined();
  });

  it('removes an app with all its routes and leaves other apps alone', async () => {
    await store.insertRoute(sampleRoute('gone', '/a'));
    await store.insertRoute(sampleRoute('gone', '/b'));
    await store.insertRoute(sampleRoute('kept', '/a'));
    await store.removeApp('gone');
    expect(await store.getApp('gone')).toBeUndefined();
    expect(await store.getRoutes('gone')).toEqual([]);
    expect(await store.getRoute('gone', '/a')).toBeUndefined();
    expect((await store.getRoutes('kept')).map((r) => r.path)).toEqual(['/a']);
    await expect(store.removeApp('gone')).rejects.toBeInstanceOf(NotFoundError);
    // A new app of the same name starts without the old routes.
    await store.insertApp({ name: 'gone', config: {} });
    expect(await store.getRoutes('gone')).toEqual([]);
  });

  it('creates the missing app of an inserted route and leaves an existing app untouched', async () => {
    await store.insertRoute(sampleRoute('fresh', '/r'));
    expect(await store.getApp('fresh')).toEqual({ name: 'fresh', config: {} });
    await store.insertApp({ name: 'configured', config: { KEEP: 'me' } });
    await store.insertRoute(sampleRoute('configured', '/r'));
    expect(await store.getApp('configured')).toEqual({ name: 'configured', config: { KEEP: 'me' } });
    expect((await store.getApps()).map((app) => app.name)).toEqual(['configured', 'fresh']);
  });

  it('round-trips every route field, config and multi-value headers included', async () => {
    const full = sampleRoute('app', '/deep/path/ünï', {
      image: 'fnguard/primes:1.2',
      format: 'http',
      memory: 8192,
      timeout: 120,
      idle_timeout: 3600,
      type: 'async',
      config: { DB: 'postgres://x', EMPTY: '', 'WITH SPACE': 'yes "quoted" \\ back' },
      headers: { 'Content-Type': ['application/json'], 'X-Many': ['1', '2', '3'], 'X-None': [] },
    });
    expect(await store.insertRoute(full)).toEqual(full);
    expect(await store.getRoute('app', full.path)).toEqual(full);
    expect(await store.getRoutes('app')).toEqual([full]);
    expect(await store.getRoute('app', '/deep/path')).toBeUndefined();
  });

  it('lists the routes of one app in byte order of their paths', async () => {
    for (const path of ['/b', '/a/x', '/a', '/A', '/a-b', '/ab'])
      await store.insertRoute(sampleRoute('app', path));
    await store.insertRoute(sampleRoute('other', '/0'));
    expect((await store.getRoutes('app')).map((r) => r.path)).toEqual([
      '/A',
      '/a',
      '/a-b',
      '/a/x',
      '/ab',
      '/b',
    ]);
  });

  it('refuses a duplicate route but allows the same path in another app', async () => {
    await store.insertRoute(sampleRoute('app', '/r', { image: 'first' }));
    await expect(store.insertRoute(sampleRoute('app', '/r', { image: 'second' }))).rejects.toBeInstanceOf(
      AlreadyExistsError,
    );
    expect((await store.getRoute('app', '/r'))?.image).toBe('first');
    await store.insertRoute(sampleRoute('app2', '/r', { image: 'second' }));
    expect((await store.getRoute('app2', '/r'))?.image).toBe('second');
  });

  it('replaces a stored route on update and refuses an unknown one', async () => {
    await store.insertRoute(sampleRoute('app', '/r', { config: { A: '1' }, headers: { X: ['1'] } }));
    const changed = sampleRoute('app', '/r', {
      image: 'new',
      format: 'json',
      memory: 256,
      config: { B: '2' },
    });
    expect(await store.updateRoute(changed)).toEqual(changed);
    expect(await store.getRoute('app', '/r')).toEqual(changed);
    await expect(store.updateRoute(sampleRoute('app', '/nope'))).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.updateRoute(sampleRoute('nope', '/r'))).rejects.toBeInstanceOf(NotFoundError);
    expect(await store.getRoute('app', '/nope')).toBeUndefined();
  });

  it('removes a route, keeps its app, and refuses an unknown one', async () => {
    await store.insertRoute(sampleRoute('app', '/r'));
    await store.insertRoute(sampleRoute('app', '/s'));
    await store.removeRoute('app', '/r');
    expect(await store.getRoute('app', '/r')).toBeUndefined();
    expect((await store.getRoutes('app')).map((r) => r.path)).toEqual(['/s']);
    expect(await store.getApp('app')).toBeDefined();
    await expect(store.removeRoute('app', '/r')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.removeRoute('nope', '/s')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('tells each subscriber about every successful write once, and about failed writes never', async () => {
    const seen: RouteChange[] = [];
    const alsoSeen: RouteChange[] = [];
    store.subscribe(() => {
      throw new Error('a broken listener must not fail the write');
    });
    store.subscribe((change) => seen.push(change));
    const unsubscribe = store.subscribe((change) => alsoSeen.push(change));

    await store.insertApp({ name: 'app', config: {} });
    await store.updateApp('app', { A: '1' });
    await store.insertRoute(sampleRoute('app', '/r'));
    await store.updateRoute(sampleRoute('app', '/r', { image: 'new' }));
    await store.removeRoute('app', '/r');
    await store.removeApp('app');
    // Failed writes: nothing changed, so nobody is told.
    await expect(store.removeApp('app')).rejects.toBeInstanceOf(NotFoundError);
    await expect(store.updateRoute(sampleRoute('app', '/r'))).rejects.toBeInstanceOf(NotFoundError);
    await store.insertApp({ name: 'dup', config: {} });
    await expect(store.insertApp({ name: 'dup', config: {} })).rejects.toBeInstanceOf(AlreadyExistsError);
    unsubscribe();
    await store.removeApp('dup');
    // Long enough for the echo of our own NOTIFYs to arrive if it were not filtered out.
    await sleep(300);

    expect(seen).toEqual([
      { app: 'app' },
      { app: 'app' },
      { app: 'app', path: '/r' },
      { app: 'app', path: '/r' },
      { app: 'app', path: '/r' },
      { app: 'app' },
      { app: 'dup' },
      { app: 'dup' },
    ]);
    expect(alsoSeen).toEqual(seen.slice(0, 7));
  });

  it('keeps its data and applies no migration twice when reopened', async () => {
    await store.insertRoute(sampleRoute('app', '/r'));
    await store.close();
    const again = await open();
    expect(await again.getRoute('app', '/r')).toEqual(sampleRoute('app', '/r'));
    await (await open()).close();
    expect(await database.versions()).toEqual(MIGRATIONS.map((m) => m.version));
    expect(SCHEMA_VERSION).toBe(MIGRATIONS.length);
  });

  it('refuses a database whose schema is newer than it knows, and leaves it untouched', async () => {
    await store.insertApp({ name: 'app', config: {} });
    await store.close();
    await database.addVersion(SCHEMA_VERSION + 1);
    const refused = database.open();
    await expect(refused).rejects.toBeInstanceOf(SchemaTooNewError);
    await expect(refused).rejects.toThrow(
      `version ${SCHEMA_VERSION + 1} is newer than this fn-node supports`,
    );
    expect(await database.versions()).toEqual([...MIGRATIONS.map((m) => m.version), SCHEMA_VERSION + 1]);
    expect(await database.tableExists('apps'), 'table apps exists').toBe(true);
  });

  it('rolls a failing migration back whole and applies the next ones in order later', async () => {
    const broken: Migration = {
      version: MIGRATIONS.length + 1,
      description: 'creates a table, then fails',
      sqlite: 'CREATE TABLE half (x INTEGER); INSERT INTO no_such_table VALUES (1);',
      postgres: 'CREATE TABLE half (x integer); INSERT INTO no_such_table VALUES (1);',
    };
    await expect(database.migrate([...MIGRATIONS, broken])).rejects.toThrow(/no_such_table/);
    expect(await database.tableExists('half'), 'the failed migration left no table half').toBe(false);
    expect(await database.versions()).toEqual(MIGRATIONS.map((m) => m.version));

    const fixed: Migration = {
      ...broken,
      sqlite: 'CREATE TABLE half (x INTEGER);',
      postgres: 'CREATE TABLE half (x integer);',
    };
    const third: Migration = {
      version: fixed.version + 1,
      description: 'depends on the previous one',
      sqlite: 'ALTER TABLE half ADD COLUMN y INTEGER;',
      postgres: 'ALTER TABLE half ADD COLUMN y integer;',
    };
    expect(await database.migrate([...MIGRATIONS, fixed, third])).toEqual([fixed.version, third.version]);
    expect(await database.migrate([...MIGRATIONS, fixed, third])).toEqual([]);
    expect(await database.tableExists('half'), 'table half exists once its migration ran').toBe(true);
    // The real code now knows fewer versions than the database has.
    await expect(database.open()).rejects.toBeInstanceOf(SchemaTooNewError);
  });
});

describe('sqlite specifics', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'fnguard-sqlite-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs in WAL mode: reads proceed while another process holds the write lock, writes fail fast', async () => {
    const file = join(dir, 'busy.db');
    const store = SqliteDatastore.open(file, { busyTimeoutMs: 200 });
    const other = new Database(file);
    try {
      expect(other.pragma('journal_mode', { simple: true })).toBe('wal');
      await store.insertApp({ name: 'before', config: {} });
      other.exec('BEGIN IMMEDIATE');
      other.prepare("INSERT INTO apps (name, config) VALUES ('held', '{}')").run();
      expect((await store.getApps()).map((a) => a.name)).toEqual(['before']);
      const started = performance.now();
      await expect(store.insertApp({ name: 'blocked', config: {} })).rejects.toBeInstanceOf(
        DatastoreUnavailableError,
      );
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(150);
      expect(waited).toBeLessThan(2000);
      other.exec('COMMIT');
      await store.insertApp({ name: 'after', config: {} });
      expect((await store.getApps()).map((a) => a.name)).toEqual(['after', 'before', 'held']);
    } finally {
      other.close();
      await store.close();
    }
  });

  it("tells subscribers only about this datastore's own writes; others sharing the file rely on the TTL", async () => {
    const file = join(dir, 'shared.db');
    const a = SqliteDatastore.open(file);
    const b = SqliteDatastore.open(file);
    try {
      const seenByA: RouteChange[] = [];
      const seenByB: RouteChange[] = [];
      a.subscribe((change) => seenByA.push(change));
      b.subscribe((change) => seenByB.push(change));
      await a.insertRoute(sampleRoute('app', '/r'));
      expect(seenByA).toEqual([{ app: 'app', path: '/r' }]);
      expect(seenByB).toEqual([]);
      expect(await b.getRoute('app', '/r')).toEqual(sampleRoute('app', '/r'));
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('openDatastore', () => {
  it.each([
    ['postgres://u:p@db:5432/fn', { kind: 'postgres', url: 'postgres://u:p@db:5432/fn' }],
    ['postgresql://db/fn', { kind: 'postgres', url: 'postgresql://db/fn' }],
    ['sqlite:///var/lib/fn/fn.db', { kind: 'sqlite', file: '/var/lib/fn/fn.db' }],
    ['sqlite3:///var/lib/fn/fn.db', { kind: 'sqlite', file: '/var/lib/fn/fn.db' }],
    ['sqlite://./fn.db', { kind: 'sqlite', file: '/work/here/fn.db' }],
    ['sqlite://data/x.db', { kind: 'sqlite', file: '/work/here/data/x.db' }],
    [undefined, { kind: 'sqlite', file: '/work/here/data/fn.db' }],
  ])('reads DB_URL %s', (url, target) => {
    expect(parseDbUrl(url, '/work/here')).toEqual(target);
  });

  it('names DB_URL and the accepted forms for an unknown scheme', () => {
    expect(() => parseDbUrl('mysql://db/fn')).toThrow(
      /DB_URL scheme "mysql:" is not supported.*postgres:\/\/.*sqlite:\/\//,
    );
    expect(() => parseDbUrl('fn.db')).toThrow(/DB_URL "fn.db" is not a URL/);
    expect(DEFAULT_DB_URL).toBe('sqlite://./data/fn.db');
  });

  it('opens SQLite under a directory it creates, with either spelling', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fnguard-open-'));
    try {
      for (const scheme of ['sqlite', 'sqlite3']) {
        const store = await openDatastore(`${scheme}://${join(dir, scheme, 'nested', 'fn.db')}`);
        expect(store.kind).toBe('sqlite');
        await store.insertApp({ name: scheme, config: {} });
        await store.close();
      }
      const reopened = await openDatastore(`sqlite://${join(dir, 'sqlite3', 'nested', 'fn.db')}`);
      expect(await reopened.getApps()).toEqual([{ name: 'sqlite3', config: {} }]);
      await reopened.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('gives up on a server that accepts connections but never answers, within the connect timeout', async () => {
    const sockets: Socket[] = [];
    const silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as AddressInfo;
    try {
      const started = performance.now();
      await expect(
        PostgresDatastore.open(`postgres://postgres@127.0.0.1:${port}/fn`, { connectTimeoutMs: 500 }),
      ).rejects.toBeInstanceOf(DatastoreUnavailableError);
      const waited = performance.now() - started;
      expect(waited).toBeGreaterThanOrEqual(400);
      expect(waited).toBeLessThan(3000);
    } finally {
      for (const socket of sockets) socket.destroy();
      silent.close();
    }
  });

  it('rejects quickly with DatastoreUnavailableError when Postgres refuses connections', async () => {
    const port = await freePort();
    const started = performance.now();
    await expect(openDatastore(`postgres://postgres@127.0.0.1:${port}/fn`)).rejects.toBeInstanceOf(
      DatastoreUnavailableError,
    );
    expect(performance.now() - started).toBeLessThan(3000);
  });
});

describe('postgres across connections', () => {
  const engine = postgresEngine();
  let database: TestDatabase;
  const opened: PostgresDatastore[] = [];
  const open = async () => {
    const store = (await database.open()) as PostgresDatastore;
    opened.push(store);
    return store;
  };
  beforeEach(async () => {
    database = await engine.create();
  });
  afterEach(async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
    await database.drop();
  });

  it('lets 5 nodes open a fresh database at once, migrating it exactly once', async () => {
    const stores = await Promise.all(Array.from({ length: 5 }, () => open()));
    expect(await database.versions()).toEqual(MIGRATIONS.map((m) => m.version));
    await stores[0]!.insertRoute(sampleRoute('app', '/r'));
    for (const store of stores) expect(await store.getRoute('app', '/r')).toEqual(sampleRoute('app', '/r'));
  });

  it("delivers one node's writes to another node's subscribers within a second", async () => {
    const a = await open();
    const b = await open();
    const seenByB: { change: RouteChange; at: number }[] = [];
    b.subscribe((change) => seenByB.push({ change, at: performance.now() }));

    const writes: [RouteChange, () => Promise<unknown>][] = [
      [{ app: 'app', path: '/r' }, () => a.insertRoute(sampleRoute('app', '/r'))],
      [{ app: 'app', path: '/r' }, () => a.updateRoute(sampleRoute('app', '/r', { image: 'v2' }))],
      [{ app: 'app' }, () => a.updateApp('app', { A: '1' })],
      [{ app: 'app' }, () => a.removeApp('app')],
    ];
    for (const [expected, write] of writes) {
      const before = seenByB.length;
      const started = performance.now();
      await write();
      await until(`B to hear ${JSON.stringify(expected)}`, () => seenByB.length > before, 1000);
      expect(seenByB[before]!.change).toEqual(expected);
      expect(seenByB[before]!.at - started).toBeLessThan(1000);
    }
    await sleep(200);
    expect(seenByB).toHaveLength(writes.length);
  });

  it('answers DatastoreUnavailableError when a statement outlives its timeout, instead of hanging', async () => {
    const store = (await PostgresDatastore.open(database.url, {
      statementTimeoutMs: 500,
    })) as PostgresDatastore;
    opened.push(store);
    await store.insertApp({ name: 'app', config: {} });
    await withClient(database.url, async (locker) => {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE apps IN ACCESS EXCLUSIVE MODE');
      for (const attempt of [() => store.getApps(), () => store.updateApp('app', { A: '1' })]) {
        const started = performance.now();
        await expect(attempt()).rejects.toBeInstanceOf(DatastoreUnavailableError);
        const waited = performance.now() - started;
        expect(waited).toBeGreaterThanOrEqual(400);
        expect(waited).toBeLessThan(2500);
      }
      await locker.query('ROLLBACK');
    });
    expect(await store.updateApp('app', { A: '1' })).toEqual({ name: 'app', config: { A: '1' } });
  });

  it('reconnects a dropped listener, says so, and tells subscribers to drop what they cached', async () => {
    const a = await open();
    const b = await open();
    const seenByB: RouteChange[] = [];
    b.subscribe((change) => seenByB.push(change));
    // Both nodes' listeners go: the database sees only its own sessions, so nothing else is touched.
    const terminated = await withClient(database.url, (client) =>
      client.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM (
           SELECT pg_terminate_backend(pid) FROM pg_stat_activity
           WHERE datname = current_database() AND application_name = 'fn-node:listen') t`,
      ),
    );
    expect(terminated.rows[0]?.n).toBe(2);
    await until('the listener to notice', () => !b.notificationsLive, 2000);
    const downFor = await until('the listener to come back', () => b.notificationsLive, 5000);
    expect(seenByB).toContainEqual({});
    await a.insertRoute(sampleRoute('app', '/after'));
    await until(
      'B to hear the write made after the reconnect',
      () => seenByB.some((c) => c.path === '/after'),
      1000,
    );
    console.log(`listener back after ${downFor.toFixed(0)} ms`);
  });
});

describe('postgres outage (dedicated server)', () => {
  it('answers DatastoreUnavailableError within seconds while the database is down, then recovers', async () => {
    await using server = await startPostgres();
    const store = await PostgresDatastore.open(server.url, {
      connectTimeoutMs: 1000,
      statementTimeoutMs: 2000,
    });
    try {
      const seen: RouteChange[] = [];
      store.subscribe((change) => seen.push(change));
      await store.insertRoute(sampleRoute('app', '/before'));
      expect(store.notificationsLive, 'the change feed listens').toBe(true);

      await server.stop();
      for (const attempt of [
        () => store.insertApp({ name: 'during', config: {} }),
        () => store.insertRoute(sampleRoute('app', '/during')),
        () => store.getApps(),
      ]) {
        const started = performance.now();
        await expect(attempt()).rejects.toBeInstanceOf(DatastoreUnavailableError);
        expect(performance.now() - started).toBeLessThan(3000);
      }
      await until('the listener to notice the outage', () => !store.notificationsLive, 3000);

      await server.start();
      let lastError: unknown;
      const recovered = await until(
        'a write to succeed again',
        () =>
          store.insertApp({ name: 'after', config: {} }).then(
            () => true,
            (err: unknown) => {
              lastError = err;
              return false;
            },
          ),
        10_000,
      ).catch((err: Error) => {
        throw new Error(`${err.message}; last error: ${String(lastError)}`);
      });
      expect(await store.getApp('after')).toEqual({ name: 'after', config: {} });
      expect(await store.getRoute('app', '/before')).toEqual(sampleRoute('app', '/before'));
      await until('the listener to reconnect', () => store.notificationsLive, 10_000);
      expect(seen).toContainEqual({});
      console.log(`outage: writes recovered ${recovered.toFixed(0)} ms after restart`);
    } finally {
      await store.close();
    }
  });

  it('while the database does not answer, fails at once after the first timeout and serves cached routes stale', async () => {
    await using server = await startPostgres();
    // A proxy in front of the server that can go silent: connections accepted, never answered.
    const upstream = new URL(server.url);
    const held: Socket[] = [];
    let silent = false;
    const proxy = createServer((client) => {
      held.push(client);
      if (silent) return;
      const backend = connect(Number(upstream.port), upstream.hostname);
      held.push(backend);
      client.pipe(backend).pipe(client);
      client.on('error', () => backend.destroy());
      backend.on('error', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const via = new URL(server.url);
    via.port = String((proxy.address() as AddressInfo).port);
    const store = await PostgresDatastore.open(via.toString(), {
      connectTimeoutMs: 1000,
      statementTimeoutMs: 1000,
    });
    const cache = new RouteCache(store, { liveTtlMs: 100, shortTtlMs: 100 });
    try {
      await store.insertRoute(sampleRoute('app', '/cached'));
      expect(await cache.getRoute('app', '/cached')).toMatchObject({ path: '/cached' });
      silent = true;
      for (const socket of held.splice(0)) socket.destroy();
      await new Promise((resolve) => setTimeout(resolve, 200));

      const timed = async (attempt: () => Promise<unknown>) => {
        const started = performance.now();
        const outcome = await attempt().then(
          (value) => value,
          (error: unknown) => error,
        );
        return { outcome, ms: performance.now() - started };
      };
      const first = await timed(() => store.insertApp({ name: 'during', config: {} }));
      expect(first.outcome).toBeInstanceOf(DatastoreUnavailableError);
      // Then the circuit is open: writes fail at once, and a cached route is served as it was.
      for (let attempt = 0; attempt < 5; attempt++) {
        const write = await timed(() => store.insertApp({ name: 'during', config: {} }));
        expect(write.outcome).toBeInstanceOf(DatastoreUnavailableError);
        expect(write.ms).toBeLessThan(100);
        const read = await timed(() => cache.getRoute('app', '/cached'));
        expect(read.outcome).toMatchObject({ path: '/cached' });
        expect(read.ms).toBeLessThan(100);
      }

      silent = false;
      await until(
        'a write to succeed again',
        () =>
          store.insertApp({ name: 'after', config: {} }).then(
            () => true,
            () => false,
          ),
        15_000,
      );
    } finally {
      await store.close();
      for (const socket of held) socket.destroy();
      proxy.close();
    }
  });
});
