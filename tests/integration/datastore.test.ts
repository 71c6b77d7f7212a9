// One datastore conformance suite run against both engines (SQLite in a temp file, Postgres on a fresh
// database of the run's server), then what only one engine does: Postgres notifications across
// connections, listener reconnect, concurrent migration, and a database outage on a dedicated server.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { createScratchDatabase } from '../../helpers/databases.js';
import { freePort } from '../../helpers/ports.js';
import { startPostgres } from '../../helpers/postgres.js';
import { sampleRoute } from '../../helpers/sample-route.js';
import { waitUntil } from '../../helpers/wait.js';
import { ULID_PATTERN, ulid } from '../../src/common/ulid.js';
import type { AppV2, Fn, Trigger } from '../../src/common/wire-v2.js';
import {
  AlreadyExistsError,
  type Datastore,
  DatastoreUnavailableError,
  InvalidReferenceError,
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
  /** Runs SQL statements (no parameters) on a raw connection. */
  exec(sql: string): Promise<void>;
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

/** How the v2 records store their timestamps (and the API returns them). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** A v2 app as the API would hand it to the datastore: id, timestamps and all. */
function v2App(name: string, overrides: Partial<AppV2> = {}): AppV2 {
  const now = new Date().toISOString();
  return { id: ulid(), name, config: {}, created_at: now, updated_at: now, ...overrides };
}

function v2Fn(app: AppV2, name: string, overrides: Partial<Fn> = {}): Fn {
  const now = new Date().toISOString();
  return {
    id: ulid(),
    name,
    app_id: app.id,
    image: 'localhost/fnlb-guard/echo',
    memory: 128,
    timeout: 30,
    idle_timeout: 30,
    config: {},
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

function v2Trigger(fn: Fn, name: string, source: string, overrides: Partial<Trigger> = {}): Trigger {
  const now = new Date().toISOString();
  return {
    id: ulid(),
    name,
    app_id: fn.app_id,
    fn_id: fn.id,
    type: 'http',
    source,
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

/** Expects `promise` to reject with an error of `type` and exactly `message`. */
async function rejectsWith(
  promise: Promise<unknown>,
  type: new (...args: never[]) => Error,
  message: string,
): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}

function sqliteEngine(): Engine {
  let dir = '';
  let count = 0;
  const raw = <T>(file: string, fn: (db: Database.Database) => T): T => {
    mkdirSync(dirname(file), { recursive: true });
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
        exec: async (sql) => {
          raw(file, (db) => db.exec(sql));
        },
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
        exec: (sql) =>
          raw(url, async (client) => {
            await client.query(sql);
          }),
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
      image: 'localhost/fnlb-guard/primes:1.2',
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

  it('migrates a version-2 database with apps and routes to 3: ids and timestamps backfilled, routes intact', async () => {
    const old = await engine.create();
    try {
      expect(await old.migrate(MIGRATIONS.slice(0, 2))).toEqual([1, 2]);
      await old.exec(`
        INSERT INTO apps (name, config) VALUES ('first', '{"A":"1"}'), ('second', '{}'), ('third', '{}');
        INSERT INTO routes (app_name, path, image, format, memory, timeout, idle_timeout, type, config, headers, cpus)
        VALUES ('first', '/a', 'localhost/fnlb-guard/echo', 'default', 128, 30, 30, 'sync', '{"R":"1"}', '{"X":["1","2"]}', '100m'),
               ('first', '/b', 'localhost/fnlb-guard/echo', 'http', 256, 60, 30, 'async', '{}', '{}', ''),
               ('second', '/a', 'localhost/fnlb-guard/echo', 'json', 128, 30, 30, 'sync', '{}', '{}', '');`);
      const before = Date.now();
      expect(await old.migrate([...MIGRATIONS])).toEqual([3]);
      expect(await old.versions()).toEqual([1, 2, 3]);

      const migrated = await old.open();
      opened.push(migrated);
      const apps = await migrated.listApps({ limit: 10 });
      expect(apps.map((app) => app.name)).toEqual(['first', 'second', 'third']);
      for (const app of apps) {
        expect(app.id).toMatch(ULID_PATTERN);
        expect(app.created_at).toMatch(TIMESTAMP);
        expect(app.updated_at).toBe(app.created_at);
        expect(Date.parse(app.created_at)).toBeGreaterThanOrEqual(before - 5000);
        expect(app).not.toHaveProperty('annotations');
        expect(app).not.toHaveProperty('syslog_url');
      }
      expect(new Set(apps.map((app) => app.id)).size).toBe(3);
      expect(apps[0]!.config).toEqual({ A: '1' });
      expect(await migrated.getApps()).toEqual([
        { name: 'first', config: { A: '1' } },
        { name: 'second', config: {} },
        { name: 'third', config: {} },
      ]);
      expect(await migrated.getRoutes('first')).toEqual([
        sampleRoute('first', '/a', { config: { R: '1' }, headers: { X: ['1', '2'] }, cpus: '100m' }),
        sampleRoute('first', '/b', { format: 'http', memory: 256, timeout: 60, type: 'async' }),
      ]);
      expect((await migrated.getRoutes('second')).map((route) => route.path)).toEqual(['/a']);

      // The backfilled apps take fns and triggers, and removing one still removes its routes.
      const first = apps[0]!;
      const fn = await migrated.insertFn(v2Fn(first, 'fn'));
      await migrated.insertTrigger(v2Trigger(fn, 't', '/t'));
      await migrated.removeApp('first');
      expect(await migrated.getRoutes('first')).toEqual([]);
      expect(await migrated.getFn(fn.id)).toBeUndefined();
      expect((await migrated.getRoutes('second')).map((route) => route.path)).toEqual(['/a']);
      // A v1 write after the migration still works, and its app gets a ULID.
      await migrated.insertRoute(sampleRoute('fourth', '/r'));
      expect((await migrated.getAppByName('fourth'))?.id).toMatch(ULID_PATTERN);
    } finally {
      await old.drop();
    }
  });

  describe('Fn v2 records', () => {
    it('gives apps written through v1 an id and timestamps, and bumps updated_at on a v1 update', async () => {
      await store.insertApp({ name: 'v1', config: { A: '1' } });
      await store.insertRoute(sampleRoute('v1-route', '/r'));
      const app = (await store.getAppByName('v1'))!;
      expect(app.id).toMatch(ULID_PATTERN);
      expect(app.created_at).toMatch(TIMESTAMP);
      expect(app.updated_at).toBe(app.created_at);
      expect(app).toEqual({
        id: app.id,
        name: 'v1',
        config: { A: '1' },
        created_at: app.created_at,
        updated_at: app.updated_at,
      });
      const routed = (await store.getAppByName('v1-route'))!;
      expect(routed.id).toMatch(ULID_PATTERN);
      expect(routed.created_at).toMatch(TIMESTAMP);
      expect(routed.id).not.toBe(app.id);
      expect(await store.getAppById(app.id)).toEqual(app);
      // v1 answers keep their shape.
      expect(await store.getApp('v1')).toEqual({ name: 'v1', config: { A: '1' } });

      await sleep(5);
      expect(await store.updateApp('v1', { B: '2' })).toEqual({ name: 'v1', config: { B: '2' } });
      const updated = (await store.getAppById(app.id))!;
      expect(updated.created_at).toBe(app.created_at);
      expect(updated.updated_at).toMatch(TIMESTAMP);
      expect(updated.updated_at > app.updated_at).toBe(true);
      expect(updated.config).toEqual({ B: '2' });
      // A route inserted into an existing app leaves the app as it was.
      await store.insertRoute(sampleRoute('v1', '/r'));
      expect(await store.getAppById(app.id)).toEqual(updated);
    });

    it('inserts, reads, updates and removes apps by id', async () => {
      const plain = v2App('plain', { config: { A: '1' } });
      expect(await store.insertAppV2(plain)).toEqual(plain);
      const full = v2App('full', {
        config: { B: '2' },
        annotations: { 'example.com/key': { nested: [1, 'two', null] }, flag: true },
        syslog_url: 'tcp://logs.example.com:514',
        created_at: '2026-01-02T03:04:05.678Z',
        updated_at: '2026-01-02T03:04:05.678Z',
      });
      expect(await store.insertAppV2(full)).toEqual(full);
      expect(await store.getAppById(full.id)).toEqual(full);
      expect(await store.getAppByName('full')).toEqual(full);
      expect(await store.getAppById(plain.id)).toEqual(plain);
      // Empty annotations and no syslog_url are omitted, as Fn's omitempty does.
      expect(Object.keys((await store.getAppById(plain.id))!)).toEqual([
        'id',
        'name',
        'config',
        'created_at',
        'updated_at',
      ]);
      expect(await store.getApp('full')).toEqual({ name: 'full', config: { B: '2' } });
      expect(await store.getAppById('nope')).toBeUndefined();
      expect(await store.getAppByName('nope')).toBeUndefined();

      await rejectsWith(store.insertAppV2(v2App('full')), AlreadyExistsError, 'App already exists');
      await rejectsWith(
        store.insertAppV2(v2App('other', { id: full.id })),
        AlreadyExistsError,
        'App already exists',
      );
      await rejectsWith(
        store.insertApp({ name: 'full', config: {} }),
        AlreadyExistsError,
        'App already exists',
      );
      expect(await store.getAppById(full.id)).toEqual(full);

      // Update replaces config, annotations, syslog_url and updated_at; name and created_at stay.
      const changed: AppV2 = {
        ...full,
        name: 'renamed',
        config: { C: '3' },
        annotations: {},
        syslog_url: undefined,
        created_at: '2030-01-01T00:00:00.000Z',
        updated_at: '2026-02-03T04:05:06.789Z',
      };
      const updated = await store.updateAppV2(changed);
      expect(updated).toEqual({
        id: full.id,
        name: 'full',
        config: { C: '3' },
        created_at: full.created_at,
        updated_at: '2026-02-03T04:05:06.789Z',
      });
      expect(await store.getAppById(full.id)).toEqual(updated);
      const annotated = await store.updateAppV2({
        ...updated,
        annotations: { a: 'b' },
        syslog_url: 'udp://x:1',
      });
      expect(annotated.annotations).toEqual({ a: 'b' });
      expect(annotated.syslog_url).toBe('udp://x:1');
      await rejectsWith(store.updateAppV2(v2App('nope')), NotFoundError, 'App not found');

      await store.removeAppById(full.id);
      expect(await store.getAppById(full.id)).toBeUndefined();
      expect(await store.getApp('full')).toBeUndefined();
      await rejectsWith(store.removeAppById(full.id), NotFoundError, 'App not found');
      expect((await store.listApps({ limit: 10 })).map((app) => app.name)).toEqual(['plain']);
    });

    it('lists apps in byte order of their names, after a name, filtered by name, at most limit', async () => {
      const names = ['b', 'a_1', 'A', 'a-2', 'a', 'Zeta', 'é'];
      for (const name of names) await store.insertAppV2(v2App(name));
      const all = ['A', 'Zeta', 'a', 'a-2', 'a_1', 'b', 'é'];
      expect((await store.listApps({ limit: 100 })).map((app) => app.name)).toEqual(all);
      // Paging: each page starts after the last name of the one before.
      const pages: string[][] = [];
      let after: { name: string; id: string } | undefined;
      for (;;) {
        const page = await store.listApps({ limit: 3, ...(after ? { after } : {}) });
        if (page.length === 0) break;
        pages.push(page.map((app) => app.name));
        after = { name: page.at(-1)!.name, id: page.at(-1)!.id };
      }
      expect(pages).toEqual([['A', 'Zeta', 'a'], ['a-2', 'a_1', 'b'], ['é']]);
      expect((await store.listApps({ limit: 10, after: { name: 'a' } })).map((app) => app.name)).toEqual([
        'a-2',
        'a_1',
        'b',
        'é',
      ]);
      expect((await store.listApps({ limit: 10, after: { name: 'é' } })).map((app) => app.name)).toEqual([]);
      expect((await store.listApps({ limit: 10, name: 'a-2' })).map((app) => app.name)).toEqual(['a-2']);
      expect(await store.listApps({ limit: 10, name: 'A-2' })).toEqual([]);
      expect(await store.listApps({ limit: 10, name: 'b', after: { name: 'b' } })).toEqual([]);
      expect(await store.listApps({ limit: 10, name: 'b', after: { name: 'a' } })).toHaveLength(1);
    });

    it('inserts, lists, updates and removes fns', async () => {
      const app = await store.insertAppV2(v2App('app'));
      const other = await store.insertAppV2(v2App('other'));
      const fn = v2Fn(app, 'fn', {
        image: 'localhost/fnlb-guard/primes:1.2',
        memory: 8192,
        timeout: 300,
        idle_timeout: 3600,
        config: { DB: 'postgres://x', EMPTY: '' },
        annotations: { 'fnproject.io/fn/invokeEndpoint': 'http://x/invoke/1', n: 2 },
      });
      expect(await store.insertFn(fn)).toEqual(fn);
      expect(await store.getFn(fn.id)).toEqual(fn);
      expect(await store.getFn('nope')).toBeUndefined();
      const plain = v2Fn(app, 'plain');
      expect(await store.insertFn(plain)).toEqual(plain);
      expect(Object.keys((await store.getFn(plain.id))!)).not.toContain('annotations');
      // The same name in another app is another fn.
      const elsewhere = await store.insertFn(v2Fn(other, 'fn'));

      await rejectsWith(
        store.insertFn(v2Fn(app, 'fn')),
        AlreadyExistsError,
        'Fn with specified name already exists',
      );
      await rejectsWith(store.insertFn(v2Fn(app, 'fn', { app_id: ulid() })), NotFoundError, 'App not found');

      for (const name of ['b', 'B', 'a-b', 'a_b']) await store.insertFn(v2Fn(app, name));
      const names = ['B', 'a-b', 'a_b', 'b', 'fn', 'plain'];
      expect((await store.listFns({ appId: app.id, limit: 100 })).map((f) => f.name)).toEqual(names);
      expect((await store.listFns({ appId: other.id, limit: 100 })).map((f) => f.id)).toEqual([elsewhere.id]);
      // Without an app: every fn.
      expect((await store.listFns({ limit: 100 })).map((f) => f.name)).toEqual([
        'B',
        'a-b',
        'a_b',
        'b',
        'fn',
        'fn',
        'plain',
      ]);
      expect(
        (await store.listFns({ appId: app.id, limit: 2, after: { name: 'a-b' } })).map((f) => f.name),
      ).toEqual(['a_b', 'b']);
      expect(await store.listFns({ appId: app.id, name: 'fn', limit: 10 })).toEqual([fn]);
      expect((await store.listFns({ name: 'fn', limit: 10 })).map((f) => f.app_id).sort()).toEqual(
        [app.id, other.id].sort(),
      );
      expect(await store.listFns({ appId: ulid(), limit: 10 })).toEqual([]);

      // Update replaces everything but name, app_id and created_at.
      const changed: Fn = {
        ...fn,
        name: 'renamed',
        app_id: other.id,
        image: 'localhost/fnlb-guard/echo:2',
        memory: 256,
        timeout: 60,
        idle_timeout: 10,
        config: { NEW: '1' },
        annotations: {},
        created_at: '2030-01-01T00:00:00.000Z',
        updated_at: '2026-05-06T07:08:09.010Z',
      };
      const updated = await store.updateFn(changed);
      expect(updated).toEqual({
        id: fn.id,
        name: 'fn',
        app_id: app.id,
        image: 'localhost/fnlb-guard/echo:2',
        memory: 256,
        timeout: 60,
        idle_timeout: 10,
        config: { NEW: '1' },
        created_at: fn.created_at,
        updated_at: '2026-05-06T07:08:09.010Z',
      });
      expect(await store.getFn(fn.id)).toEqual(updated);
      await rejectsWith(store.updateFn(v2Fn(app, 'ghost')), NotFoundError, 'Fn not found');

      await store.removeFn(fn.id);
      expect(await store.getFn(fn.id)).toBeUndefined();
      await rejectsWith(store.removeFn(fn.id), NotFoundError, 'Fn not found');
      expect(await store.getFn(elsewhere.id)).toEqual(elsewhere);
    });

    it('inserts, lists, updates and removes triggers', async () => {
      const app = await store.insertAppV2(v2App('app'));
      const other = await store.insertAppV2(v2App('other'));
      const fn = await store.insertFn(v2Fn(app, 'fn'));
      const fn2 = await store.insertFn(v2Fn(app, 'fn2'));
      const foreign = await store.insertFn(v2Fn(other, 'fn'));

      const trigger = v2Trigger(fn, 't', '/hello', {
        annotations: { 'fnproject.io/trigger/httpEndpoint': 'x' },
      });
      expect(await store.insertTrigger(trigger)).toEqual(trigger);
      expect(await store.getTrigger(trigger.id)).toEqual(trigger);
      expect(await store.getTrigger('nope')).toBeUndefined();
      expect(await store.getTriggerBySource(app.id, 'http', '/hello')).toEqual(trigger);
      expect(await store.getTriggerBySource(app.id, 'http', '/nope')).toBeUndefined();
      expect(await store.getTriggerBySource(other.id, 'http', '/hello')).toBeUndefined();

      // Another fn of the app may reuse the name, not the source; another app may reuse the source.
      const sameName = await store.insertTrigger(v2Trigger(fn2, 't', '/other'));
      expect(Object.keys(sameName)).not.toContain('annotations');
      await store.insertTrigger(v2Trigger(foreign, 't', '/hello'));
      await rejectsWith(
        store.insertTrigger(v2Trigger(fn2, 'u', '/hello')),
        AlreadyExistsError,
        'Trigger with the same type and source exists on this app',
      );
      await rejectsWith(
        store.insertTrigger(v2Trigger(fn, 't', '/fresh')),
        AlreadyExistsError,
        'Trigger already exists',
      );
      await rejectsWith(
        store.insertTrigger(v2Trigger(fn, 'u', '/fresh', { app_id: ulid() })),
        NotFoundError,
        'App not found',
      );
      await rejectsWith(
        store.insertTrigger(v2Trigger(fn, 'u', '/fresh', { fn_id: ulid() })),
        NotFoundError,
        'Fn not found',
      );
      await rejectsWith(
        store.insertTrigger(v2Trigger(foreign, 'u', '/fresh', { app_id: app.id })),
        InvalidReferenceError,
        'Invalid Fn ID - not owned by specified app',
      );

      for (const [name, source] of [
        ['b', '/b'],
        ['B', '/B'],
        ['a-b', '/a-b'],
      ] as const) {
        await store.insertTrigger(v2Trigger(fn, name, source));
      }
      // Byte order of names; the two named "t" (on two fns) by id.
      const listed = await store.listTriggers({ appId: app.id, limit: 100 });
      expect(listed.map((t) => t.name)).toEqual(['B', 'a-b', 'b', 't', 't']);
      expect(listed.slice(3).map((t) => t.id)).toEqual([trigger.id, sameName.id].sort());
      expect(
        (await store.listTriggers({ appId: app.id, fnId: fn.id, limit: 100 })).map((t) => t.name),
      ).toEqual(['B', 'a-b', 'b', 't']);
      expect(
        (await store.listTriggers({ appId: app.id, fnId: fn2.id, limit: 100 })).map((t) => t.id),
      ).toEqual([sameName.id]);
      expect(
        (await store.listTriggers({ appId: app.id, fnId: fn.id, limit: 2, after: { name: 'B' } })).map(
          (t) => t.name,
        ),
      ).toEqual(['a-b', 'b']);
      expect(
        (await store.listTriggers({ appId: app.id, name: 't', limit: 100 })).map((t) => t.id).sort(),
      ).toEqual([trigger.id, sameName.id].sort());
      expect(await store.listTriggers({ appId: app.id, fnId: fn.id, name: 't', limit: 100 })).toEqual([
        trigger,
      ]);
      expect(await store.listTriggers({ appId: ulid(), limit: 100 })).toEqual([]);

      // Update: the stored trigger of this id is replaced, its app and created_at stay.
      const moved: Trigger = {
        ...trigger,
        name: 'moved',
        fn_id: fn2.id,
        source: '/moved',
        annotations: {},
        created_at: '2030-01-01T00:00:00.000Z',
        updated_at: '2026-03-04T05:06:07.080Z',
      };
      const updated = await store.updateTrigger(moved);
      expect(updated).toEqual({
        id: trigger.id,
        name: 'moved',
        app_id: app.id,
        fn_id: fn2.id,
        type: 'http',
        source: '/moved',
        created_at: trigger.created_at,
        updated_at: '2026-03-04T05:06:07.080Z',
      });
      expect(await store.getTrigger(trigger.id)).toEqual(updated);
      expect(await store.getTriggerBySource(app.id, 'http', '/hello')).toBeUndefined();
      await rejectsWith(
        store.updateTrigger({ ...updated, source: '/other' }),
        AlreadyExistsError,
        'Trigger with the same type and source exists on this app',
      );
      await rejectsWith(
        store.updateTrigger({ ...updated, name: 't' }),
        AlreadyExistsError,
        'Trigger already exists',
      );
      await rejectsWith(store.updateTrigger({ ...updated, fn_id: ulid() }), NotFoundError, 'Fn not found');
      await rejectsWith(
        store.updateTrigger({ ...updated, fn_id: foreign.id }),
        InvalidReferenceError,
        'Invalid Fn ID - not owned by specified app',
      );
      await rejectsWith(store.updateTrigger(v2Trigger(fn, 'x', '/x')), NotFoundError, 'Trigger not found');
      expect(await store.getTrigger(trigger.id)).toEqual(updated);

      await store.removeTrigger(trigger.id);
      expect(await store.getTrigger(trigger.id)).toBeUndefined();
      await rejectsWith(store.removeTrigger(trigger.id), NotFoundError, 'Trigger not found');
      expect(await store.getTrigger(sameName.id)).toEqual(sameName);
    });

    it('removes with an app its routes, fns and triggers, and with an fn its triggers', async () => {
      const setup = async (name: string) => {
        const app = await store.insertAppV2(v2App(name));
        await store.insertRoute(sampleRoute(name, '/r'));
        const fns = [await store.insertFn(v2Fn(app, 'a')), await store.insertFn(v2Fn(app, 'b'))];
        const triggers = [
          await store.insertTrigger(v2Trigger(fns[0]!, 't', '/a')),
          await store.insertTrigger(v2Trigger(fns[1]!, 't', '/b')),
        ];
        return { app, fns, triggers };
      };
      const gone = await setup('gone');
      const v1 = await setup('v1');
      const kept = await setup('kept');

      await store.removeAppById(gone.app.id);
      await store.removeApp('v1');
      for (const removed of [gone, v1]) {
        expect(await store.getAppById(removed.app.id)).toBeUndefined();
        expect(await store.getRoutes(removed.app.name)).toEqual([]);
        expect(await store.listFns({ appId: removed.app.id, limit: 10 })).toEqual([]);
        expect(await store.listTriggers({ appId: removed.app.id, limit: 10 })).toEqual([]);
        for (const fn of removed.fns) expect(await store.getFn(fn.id)).toBeUndefined();
        for (const trigger of removed.triggers) expect(await store.getTrigger(trigger.id)).toBeUndefined();
      }
      expect((await store.listFns({ limit: 10 })).map((fn) => fn.app_id)).toEqual([kept.app.id, kept.app.id]);

      await store.removeFn(kept.fns[0]!.id);
      expect(await store.getTrigger(kept.triggers[0]!.id)).toBeUndefined();
      expect(await store.listTriggers({ appId: kept.app.id, limit: 10 })).toEqual([kept.triggers[1]]);
      expect(await store.getRoutes('kept')).toHaveLength(1);
      expect(await store.getAppById(kept.app.id)).toEqual(kept.app);

      // A new app of a removed name starts empty.
      const again = await store.insertAppV2(v2App('gone'));
      expect(await store.listFns({ appId: again.id, limit: 10 })).toEqual([]);
      expect(await store.getRoutes('gone')).toEqual([]);
    });

    it("tells subscribers the app's name for every v2 write, and nothing for a failed one", async () => {
      const seen: RouteChange[] = [];
      store.subscribe((change) => seen.push(change));
      const app = await store.insertAppV2(v2App('app'));
      await store.updateAppV2({ ...app, config: { A: '1' } });
      const fn = await store.insertFn(v2Fn(app, 'fn'));
      await store.updateFn({ ...fn, image: 'new' });
      const trigger = await store.insertTrigger(v2Trigger(fn, 't', '/t'));
      await store.updateTrigger({ ...trigger, source: '/u' });
      await store.removeTrigger(trigger.id);
      await store.removeFn(fn.id);
      await store.removeAppById(app.id);
      const writes = 9;
      // Failed writes: nothing changed, so nobody is told.
      await expect(store.removeAppById(app.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.insertFn(v2Fn(app, 'fn'))).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.removeFn(fn.id)).rejects.toBeInstanceOf(NotFoundError);
      await expect(store.updateTrigger(trigger)).rejects.toBeInstanceOf(NotFoundError);
      const dup = await store.insertAppV2(v2App('dup'));
      await expect(store.insertAppV2(v2App('dup'))).rejects.toBeInstanceOf(AlreadyExistsError);
      const dupFn = await store.insertFn(v2Fn(dup, 'fn'));
      await expect(store.insertFn(v2Fn(dup, 'fn'))).rejects.toBeInstanceOf(AlreadyExistsError);
      await store.insertTrigger(v2Trigger(dupFn, 't', '/t'));
      await expect(store.insertTrigger(v2Trigger(dupFn, 'u', '/t'))).rejects.toBeInstanceOf(
        AlreadyExistsError,
      );
      // Long enough for the echo of our own NOTIFYs to arrive if it were not filtered out.
      await sleep(300);
      expect(seen).toEqual([
        ...Array.from({ length: writes }, () => ({ app: 'app' })),
        { app: 'dup' },
        { app: 'dup' },
        { app: 'dup' },
      ]);
    });
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

  it("delivers one node's v2 writes to another node's subscribers as changes of the app's name", async () => {
    const a = await open();
    const b = await open();
    const seenByB: RouteChange[] = [];
    b.subscribe((change) => seenByB.push(change));
    const app = v2App('app');
    const fn = v2Fn(app, 'fn');
    const trigger = v2Trigger(fn, 't', '/t');
    const writes: (() => Promise<unknown>)[] = [
      () => a.insertAppV2(app),
      () => a.updateAppV2({ ...app, config: { A: '1' } }),
      () => a.insertFn(fn),
      () => a.updateFn({ ...fn, image: 'new' }),
      () => a.insertTrigger(trigger),
      () => a.updateTrigger({ ...trigger, source: '/u' }),
      () => a.removeTrigger(trigger.id),
      () => a.removeFn(fn.id),
      () => a.removeAppById(app.id),
    ];
    for (const write of writes) {
      const before = seenByB.length;
      await write();
      await until(`B to hear write ${before + 1}`, () => seenByB.length > before, 1000);
      expect(seenByB[before]).toEqual({ app: 'app' });
    }
    await sleep(200);
    expect(seenByB).toHaveLength(writes.length);
    // B reads what A wrote.
    const other = await a.insertAppV2(v2App('other'));
    expect(await b.getAppById(other.id)).toEqual(other);
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
