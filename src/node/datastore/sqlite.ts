// The embedded SQLite datastore (better-sqlite3) for a single machine. JSON columns are stored as text.
// SQLite has no cross-process notification: `subscribe` sees this datastore's own writes only, and other
// processes sharing the file rely on the route cache's short TTL (`notificationsLive` is false).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import type { App, Config, Route } from '../../common/wire.js';
import { ChangeListeners, type DatastoreLog } from './changes.js';
import {
  AlreadyExistsError,
  type Datastore,
  DatastoreUnavailableError,
  NotFoundError,
  type RouteChange,
} from './datastore.js';
import { migrateSqlite } from './migrations.js';
import { type AppRow, type RouteRow, routeRow, rowReaders } from './rows.js';

export interface SqliteOptions {
  log?: DatastoreLog;
  /**
   * How long a statement waits for another process's write lock. better-sqlite3 is synchronous, so this
   * wait blocks the event loop: keep it short; writes are tiny and hold the lock for microseconds.
   */
  busyTimeoutMs?: number;
}

/** SQLite stores JSON columns as text. */
const { toApp, toRoute } = rowReaders((text: string) => JSON.parse(text));

export class SqliteDatastore implements Datastore {
  readonly kind = 'sqlite';
  readonly notificationsLive = false;
  readonly #db: Database.Database;
  readonly #changes: ChangeListeners;

  private constructor(db: Database.Database, log: DatastoreLog) {
    this.#db = db;
    this.#changes = new ChangeListeners(log);
  }

  /** Opens (creating file and parent directory if needed) and migrates the database at `file`. */
  static open(file: string, options: SqliteOptions = {}): SqliteDatastore {
    const log = options.log ?? pino({ level: 'silent' });
    mkdirSync(dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file);
    } catch (err) {
      throw mapError(err);
    }
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.round(options.busyTimeoutMs ?? 3000))}`);
      // WAL lets readers proceed while another process writes. Removing an app cascades to its routes
      // through the foreign key; better-sqlite3's build enables foreign keys already, but the cascade
      // should not depend on a compile-time default.
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      const applied = migrateSqlite(db);
      if (applied.length > 0) log.info({ file, versions: applied }, 'sqlite schema migrated');
    } catch (err) {
      db.close();
      throw mapError(err);
    }
    return new SqliteDatastore(db, log);
  }

  async getApps(): Promise<App[]> {
    return this.#read(() =>
      (this.#db.prepare('SELECT name, config FROM apps ORDER BY name').all() as AppRow<string>[]).map(toApp),
    );
  }

  async getApp(name: string): Promise<App | undefined> {
    return this.#read(() => {
      const row = this.#db.prepare('SELECT name, config FROM apps WHERE name = ?').get(name) as
        | AppRow<string>
        | undefined;
      return row && toApp(row);
    });
  }

  async insertApp(app: App): Promise<App> {
    return this.#write(
      { app: app.name },
      () =>
        toApp(
          this.#db
            .prepare('INSERT INTO apps (name, config) VALUES (?, ?) RETURNING name, config')
            .get(app.name, JSON.stringify(app.config)) as AppRow<string>,
        ),
      'App already exists',
    );
  }

  async updateApp(name: string, config: Config): Promise<App> {
    return this.#write({ app: name }, () => {
      const row = this.#db
        .prepare('UPDATE apps SET config = ? WHERE name = ? RETURNING name, config')
        .get(JSON.stringify(config), name) as AppRow<string> | undefined;
      if (!row) throw new NotFoundError('App not found');
      return toApp(row);
    });
  }

  async removeApp(name: string): Promise<void> {
    this.#write({ app: name }, () => {
      if (this.#db.prepare('DELETE FROM apps WHERE name = ?').run(name).changes === 0) {
        throw new NotFoundError('App not found');
      }
    });
  }

  async getRoutes(app: string): Promise<Route[]> {
    return this.#read(() =>
      (
        this.#db
          .prepare('SELECT * FROM routes WHERE app_name = ? ORDER BY path')
          .all(app) as RouteRow<string>[]
      ).map(toRoute),
    );
  }

  async getRoute(app: string, path: string): Promise<Route | undefined> {
    return this.#read(() => {
      const row = this.#db.prepare('SELECT * FROM routes WHERE app_name = ? AND path = ?').get(app, path) as
        | RouteRow<string>
        | undefined;
      return row && toRoute(row);
    });
  }

  async insertRoute(route: Route): Promise<Route> {
    return this.#write(
      { app: route.app_name, path: route.path },
      () => {
        this.#db.prepare('INSERT INTO apps (name) VALUES (?) ON CONFLICT DO NOTHING').run(route.app_name);
        return toRoute(
          this.#db
            .prepare(
              `INSERT INTO routes (app_name, path, image, format, memory, timeout, idle_timeout, type, config, headers, cpus)
               VALUES (@app_name, @path, @image, @format, @memory, @timeout, @idle_timeout, @type, @config, @headers, @cpus)
               RETURNING *`,
            )
            .get(routeRow(route)) as RouteRow<string>,
        );
      },
      'Route already exists',
    );
  }

  async updateRoute(route: Route): Promise<Route> {
    return this.#write({ app: route.app_name, path: route.path }, () => {
      const row = this.#db
        .prepare(
          `UPDATE routes SET image = @image, format = @format, memory = @memory, timeout = @timeout,
             idle_timeout = @idle_timeout, type = @type, config = @config, headers = @headers, cpus = @cpus
           WHERE app_name = @app_name AND path = @path RETURNING *`,
        )
        .get(routeRow(route)) as RouteRow<string> | undefined;
      if (!row) throw new NotFoundError('Route not found');
      return toRoute(row);
    });
  }

  async removeRoute(app: string, path: string): Promise<void> {
    this.#write({ app, path }, () => {
      if (
        this.#db.prepare('DELETE FROM routes WHERE app_name = ? AND path = ?').run(app, path).changes === 0
      ) {
        throw new NotFoundError('Route not found');
      }
    });
  }

  subscribe(listener: (change: RouteChange) => void): () => void {
    return this.#changes.add(listener);
  }

  async close(): Promise<void> {
    this.#changes.clear();
    if (this.#db.open) this.#db.close();
  }

  #read<T>(fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw mapError(err);
    }
  }

  /**
   * Runs a write under BEGIN IMMEDIATE (the busy timeout then applies to taking the write lock; a
   * deferred transaction upgrading from read to write fails at once instead), then tells subscribers.
   */
  #write<T>(change: RouteChange, fn: () => T, existsMessage?: string): T {
    let result: T;
    try {
      result = this.#db.transaction(fn).immediate();
    } catch (err) {
      if (existsMessage && isUniqueViolation(err)) throw new AlreadyExistsError(existsMessage);
      throw mapError(err);
    }
    this.#changes.emit(change);
    return result;
  }
}

const UNAVAILABLE_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_FULL'];

function isUniqueViolation(err: unknown): boolean {
  return (
    err instanceof Database.SqliteError &&
    (err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY' || err.code === 'SQLITE_CONSTRAINT_UNIQUE')
  );
}

function mapError(err: unknown): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (UNAVAILABLE_CODES.some((code) => err.code.startsWith(code))) {
    return new DatastoreUnavailableError(`sqlite: ${err.message}`, { cause: err });
  }
  return err;
}
