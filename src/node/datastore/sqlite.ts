// The embedded SQLite datastore (better-sqlite3) for a single machine. JSON columns are stored as text.
// SQLite has no cross-process notification: `subscribe` sees this datastore's own writes only, and other
// processes sharing the file rely on the route cache's short TTL (`notificationsLive` is false).
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { pino } from 'pino';
import { ulid } from '../../common/ulid.js';
import type { App, Config, Route } from '../../common/wire.js';
import type { AppV2, Fn, Trigger } from '../../common/wire-v2.js';
import { ChangeListeners, type DatastoreLog } from './changes.js';
import {
  AlreadyExistsError,
  type Datastore,
  DatastoreUnavailableError,
  InvalidReferenceError,
  NotFoundError,
  type PageFilter,
  type RouteChange,
} from './datastore.js';
import { migrateSqlite } from './migrations.js';
import {
  APP_V2_COLUMN_NAMES,
  type AppRow,
  type AppV2Row,
  appV2Row,
  FN_COLUMN_NAMES,
  type FnRow,
  fnRow,
  listQuery,
  type RouteRow,
  routeRow,
  rowReaders,
  rowReadersV2,
  type SqlDialect,
  TRIGGER_COLUMN_NAMES,
  type TriggerRow,
  timestamp,
  triggerRow,
  UNIQUE_KEYS,
} from './rows.js';

export interface SqliteOptions {
  log?: DatastoreLog;
  /**
   * How long a statement waits for another process's write lock. better-sqlite3 is synchronous, so this
   * wait blocks the event loop: keep it short; writes are tiny and hold the lock for microseconds.
   */
  busyTimeoutMs?: number;
}

/** SQLite stores JSON columns as text. */
const readJson = (text: string) => JSON.parse(text);
const { toApp, toRoute } = rowReaders(readJson);
const { toAppV2, toFn, toTrigger } = rowReadersV2(readJson);

const APP_COLUMNS = APP_V2_COLUMN_NAMES.join(', ');
const FN_COLUMNS = FN_COLUMN_NAMES.join(', ');
const TRIGGER_COLUMNS = TRIGGER_COLUMN_NAMES.join(', ');
/** `INSERT INTO table (columns) VALUES (@column, ...) RETURNING columns`, bound from a row object. */
const insertStatement = (table: string, columns: readonly string[]) =>
  `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})
   RETURNING ${columns.join(', ')}`;
/** SQLite's default BINARY collation compares bytes already. */
const DIALECT: SqlDialect = { param: () => '?', byteOrder: '' };

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
    const now = timestamp();
    return this.#write({ app: app.name }, () =>
      toApp(
        this.#db
          .prepare(
            `INSERT INTO apps (id, name, config, created_at, updated_at) VALUES (?, ?, ?, ?, ?)
             RETURNING name, config`,
          )
          .get(ulid(), app.name, JSON.stringify(app.config), now, now) as AppRow<string>,
      ),
    );
  }

  async updateApp(name: string, config: Config): Promise<App> {
    return this.#write({ app: name }, () => {
      const row = this.#db
        .prepare('UPDATE apps SET config = ?, updated_at = ? WHERE name = ? RETURNING name, config')
        .get(JSON.stringify(config), timestamp(), name) as AppRow<string> | undefined;
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
    const now = timestamp();
    return this.#write({ app: route.app_name, path: route.path }, () => {
      this.#db
        .prepare(
          `INSERT INTO apps (id, name, created_at, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        )
        .run(ulid(), route.app_name, now, now);
      return toRoute(
        this.#db
          .prepare(
            `INSERT INTO routes (app_name, path, image, format, memory, timeout, idle_timeout, type, config, headers, cpus)
             VALUES (@app_name, @path, @image, @format, @memory, @timeout, @idle_timeout, @type, @config, @headers, @cpus)
             RETURNING *`,
          )
          .get(routeRow(route)) as RouteRow<string>,
      );
    });
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

  // ---- Fn v2 ----

  async listApps(filter: PageFilter & { name?: string }): Promise<AppV2[]> {
    return this.#list(`SELECT ${APP_COLUMNS} FROM apps`, { name: filter.name }, filter, toAppV2);
  }

  async getAppById(id: string): Promise<AppV2 | undefined> {
    return this.#get(`SELECT ${APP_COLUMNS} FROM apps WHERE id = ?`, [id], toAppV2);
  }

  async getAppByName(name: string): Promise<AppV2 | undefined> {
    return this.#get(`SELECT ${APP_COLUMNS} FROM apps WHERE name = ?`, [name], toAppV2);
  }

  async insertAppV2(app: AppV2): Promise<AppV2> {
    return this.#write({ app: app.name }, () =>
      toAppV2(
        this.#db.prepare(insertStatement('apps', APP_V2_COLUMN_NAMES)).get(appV2Row(app)) as AppV2Row<string>,
      ),
    );
  }

  async updateAppV2(app: AppV2): Promise<AppV2> {
    return this.#transact(() => {
      const row = this.#db
        .prepare(
          `UPDATE apps SET config = @config, annotations = @annotations, syslog_url = @syslog_url,
             updated_at = @updated_at
           WHERE id = @id RETURNING ${APP_COLUMNS}`,
        )
        .get(appV2Row(app)) as AppV2Row<string> | undefined;
      if (!row) throw new NotFoundError('App not found');
      return { value: toAppV2(row), change: { app: row.name } };
    });
  }

  async removeAppById(id: string): Promise<void> {
    this.#transact(() => {
      const row = this.#db.prepare('DELETE FROM apps WHERE id = ? RETURNING name').get(id) as
        | { name: string }
        | undefined;
      if (!row) throw new NotFoundError('App not found');
      return { value: undefined, change: { app: row.name } };
    });
  }

  async listFns(filter: PageFilter & { appId?: string; name?: string }): Promise<Fn[]> {
    return this.#list(
      `SELECT ${FN_COLUMNS} FROM fns`,
      { app_id: filter.appId, name: filter.name },
      filter,
      toFn,
    );
  }

  async getFn(id: string): Promise<Fn | undefined> {
    return this.#get(`SELECT ${FN_COLUMNS} FROM fns WHERE id = ?`, [id], toFn);
  }

  async insertFn(fn: Fn): Promise<Fn> {
    return this.#transact(() => {
      const app = this.#appName(fn.app_id);
      const row = this.#db.prepare(insertStatement('fns', FN_COLUMN_NAMES)).get(fnRow(fn)) as FnRow<string>;
      return { value: toFn(row), change: { app } };
    });
  }

  async updateFn(fn: Fn): Promise<Fn> {
    return this.#transact(() => {
      const row = this.#db
        .prepare(
          `UPDATE fns SET image = @image, memory = @memory, timeout = @timeout, idle_timeout = @idle_timeout,
             config = @config, annotations = @annotations, updated_at = @updated_at
           WHERE id = @id RETURNING ${FN_COLUMNS}`,
        )
        .get(fnRow(fn)) as FnRow<string> | undefined;
      if (!row) throw new NotFoundError('Fn not found');
      return { value: toFn(row), change: { app: this.#appName(row.app_id) } };
    });
  }

  async removeFn(id: string): Promise<void> {
    this.#transact(() => {
      const row = this.#db.prepare('DELETE FROM fns WHERE id = ? RETURNING app_id').get(id) as
        | { app_id: string }
        | undefined;
      if (!row) throw new NotFoundError('Fn not found');
      return { value: undefined, change: { app: this.#appName(row.app_id) } };
    });
  }

  async listTriggers(
    filter: PageFilter & { appId: string; fnId?: string; name?: string },
  ): Promise<Trigger[]> {
    return this.#list(
      `SELECT ${TRIGGER_COLUMNS} FROM triggers`,
      { app_id: filter.appId, fn_id: filter.fnId, name: filter.name },
      filter,
      toTrigger,
    );
  }

  async getTrigger(id: string): Promise<Trigger | undefined> {
    return this.#get(`SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE id = ?`, [id], toTrigger);
  }

  async getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger | undefined> {
    return this.#get(
      `SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE app_id = ? AND type = ? AND source = ?`,
      [appId, type, source],
      toTrigger,
    );
  }

  async insertTrigger(trigger: Trigger): Promise<Trigger> {
    return this.#transact(() => {
      const app = this.#appName(trigger.app_id);
      this.#checkFn(trigger.fn_id, trigger.app_id);
      const row = this.#db
        .prepare(insertStatement('triggers', TRIGGER_COLUMN_NAMES))
        .get(triggerRow(trigger)) as TriggerRow<string>;
      return { value: toTrigger(row), change: { app } };
    });
  }

  async updateTrigger(trigger: Trigger): Promise<Trigger> {
    return this.#transact(() => {
      const stored = this.#db.prepare('SELECT app_id, fn_id FROM triggers WHERE id = ?').get(trigger.id) as
        | { app_id: string; fn_id: string }
        | undefined;
      if (!stored) throw new NotFoundError('Trigger not found');
      if (trigger.fn_id !== stored.fn_id) this.#checkFn(trigger.fn_id, stored.app_id);
      const row = this.#db
        .prepare(
          `UPDATE triggers SET name = @name, fn_id = @fn_id, type = @type, source = @source,
             annotations = @annotations, updated_at = @updated_at
           WHERE id = @id RETURNING ${TRIGGER_COLUMNS}`,
        )
        .get(triggerRow(trigger)) as TriggerRow<string>;
      return { value: toTrigger(row), change: { app: this.#appName(stored.app_id) } };
    });
  }

  async removeTrigger(id: string): Promise<void> {
    this.#transact(() => {
      const row = this.#db.prepare('DELETE FROM triggers WHERE id = ? RETURNING app_id').get(id) as
        | { app_id: string }
        | undefined;
      if (!row) throw new NotFoundError('Trigger not found');
      return { value: undefined, change: { app: this.#appName(row.app_id) } };
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

  #get<R, T>(sql: string, values: unknown[], toRecord: (row: R) => T): T | undefined {
    return this.#read(() => {
      const row = this.#db.prepare(sql).get(...values) as R | undefined;
      return row && toRecord(row);
    });
  }

  #list<R, T>(
    select: string,
    equal: Record<string, string | undefined>,
    page: PageFilter,
    toRecord: (row: R) => T,
  ): T[] {
    const { text, values } = listQuery(select, equal, page, DIALECT);
    return this.#read(() => (this.#db.prepare(text).all(...values) as R[]).map(toRecord));
  }

  /** The name of the app with this id (inside a write). @throws NotFoundError('App not found') */
  #appName(id: string): string {
    const row = this.#db.prepare('SELECT name FROM apps WHERE id = ?').get(id) as
      | { name: string }
      | undefined;
    if (!row) throw new NotFoundError('App not found');
    return row.name;
  }

  /** A trigger may name only an fn of its own app. */
  #checkFn(fnId: string, appId: string): void {
    const fn = this.#db.prepare('SELECT app_id FROM fns WHERE id = ?').get(fnId) as
      | { app_id: string }
      | undefined;
    if (!fn) throw new NotFoundError('Fn not found');
    if (fn.app_id !== appId) throw new InvalidReferenceError('Invalid Fn ID - not owned by specified app');
  }

  /** A write whose change is known before it runs. */
  #write<T>(change: RouteChange, fn: () => T): T {
    return this.#transact(() => ({ value: fn(), change }));
  }

  /**
   * Runs a write under BEGIN IMMEDIATE (the busy timeout then applies to taking the write lock; a
   * deferred transaction upgrading from read to write fails at once instead), then tells subscribers
   * the change the write reports.
   */
  #transact<T>(fn: () => { value: T; change: RouteChange }): T {
    let result: { value: T; change: RouteChange };
    try {
      result = this.#db.transaction(fn).immediate();
    } catch (err) {
      throw alreadyExists(err) ?? mapError(err);
    }
    this.#changes.emit(result.change);
    return result.value;
  }
}

const UNAVAILABLE_CODES = ['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_FULL'];

/**
 * The AlreadyExistsError a unique violation means, told apart by the columns SQLite names
 * ("UNIQUE constraint failed: triggers.app_id, triggers.type, triggers.source").
 */
function alreadyExists(err: unknown): AlreadyExistsError | undefined {
  if (
    !(err instanceof Database.SqliteError) ||
    (err.code !== 'SQLITE_CONSTRAINT_PRIMARYKEY' && err.code !== 'SQLITE_CONSTRAINT_UNIQUE')
  ) {
    return undefined;
  }
  const columns = /constraint failed: (.*)$/.exec(err.message)?.[1]?.trim();
  const key = UNIQUE_KEYS.find((candidate) => candidate.columns === columns);
  return key && new AlreadyExistsError(key.message);
}

function mapError(err: unknown): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (UNAVAILABLE_CODES.some((code) => err.code.startsWith(code))) {
    return new DatastoreUnavailableError(`sqlite: ${err.message}`, { cause: err });
  }
  return err;
}
