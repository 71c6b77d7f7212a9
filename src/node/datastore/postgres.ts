// The cluster datastore on Postgres (`pg` Pool). Every write sends NOTIFY on `fn_routes` (payload JSON
// `{"app","path"?,"origin"}`) in its own transaction, so the change reaches every node exactly when it
// commits; a dedicated LISTEN session delivers other nodes' changes to `subscribe` listeners. Every call has a deadline (connect, statement
// and client-side query timeouts) and connection-level failures surface as DatastoreUnavailableError
// (the API answers 503), never as a hang or a crash.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import { ulid } from '../../common/ulid.js';
import type { App, Config, Route } from '../../common/wire.js';
import type { AppV2, Fn, Trigger } from '../../common/wire-v2.js';
import { ChangeListeners, type DatastoreLog } from './changes.js';
import { Circuit } from './circuit.js';
import {
  AlreadyExistsError,
  type Datastore,
  DatastoreUnavailableError,
  InvalidReferenceError,
  NotFoundError,
  type PageFilter,
  type RouteChange,
} from './datastore.js';
import { migratePostgres } from './migrations.js';
import { NotificationListener } from './postgres-listener.js';
import {
  APP_V2_COLUMN_NAMES,
  type AppRow,
  type AppV2Row,
  appV2Row,
  FN_COLUMN_NAMES,
  type FnRow,
  fnRow,
  JSON_COLUMNS,
  listQuery,
  ROUTE_COLUMN_NAMES,
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

export const NOTIFY_CHANNEL = 'fn_routes';

export interface PostgresOptions {
  log?: DatastoreLog;
  poolSize?: number;
  connectTimeoutMs?: number;
  /** Server-side statement timeout; the client gives up one second later if the server never answers. */
  statementTimeoutMs?: number;
}

/** Waiting for another node's migration lock is normal at cluster start, so the migrator waits longer. */
const MIGRATION_TIMEOUT_MS = 60_000;

/** What pg returns for a jsonb column: the parsed value. */
type Jsonb = unknown;
const readJson = (value: Jsonb) => value;
const { toApp, toRoute } = rowReaders(readJson);
const { toAppV2, toFn, toTrigger } = rowReadersV2(readJson);

/** What travels in a NOTIFY payload; `origin` lets a node skip the echo of its own writes. */
interface ChangePayload extends RouteChange {
  origin?: string;
}

const ROUTE_COLUMNS = ROUTE_COLUMN_NAMES.join(', ');
const APP_COLUMNS = APP_V2_COLUMN_NAMES.join(', ');
const FN_COLUMNS = FN_COLUMN_NAMES.join(', ');
const TRIGGER_COLUMNS = TRIGGER_COLUMN_NAMES.join(', ');
/** Names compare and sort by bytes whatever the database's collation, as SQLite's do. */
const DIALECT: SqlDialect = { param: (index) => `$${index}`, byteOrder: ' COLLATE "C"' };

export class PostgresDatastore implements Datastore {
  readonly kind = 'postgres';
  readonly #pool: pg.Pool;
  readonly #changes: ChangeListeners;
  readonly #listener: NotificationListener;
  readonly #origin = randomUUID();
  /** Fails calls at once while the database does not answer, probing it one call at a time. */
  readonly #circuit = new Circuit();
  #closed = false;

  private constructor(url: string, options: Required<PostgresOptions>) {
    const { log } = options;
    this.#changes = new ChangeListeners(log);
    this.#pool = new pg.Pool({
      connectionString: url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      query_timeout: options.statementTimeoutMs + 1000,
      idle_in_transaction_session_timeout: options.statementTimeoutMs * 2,
      keepAlive: true,
      application_name: 'fn-node',
    });
    // An idle pooled connection that dies (database restart) emits here; without a handler the
    // process would crash. The pool replaces it on the next checkout.
    this.#pool.on('error', (err) => log.warn({ err: err.message }, 'idle postgres connection failed'));
    this.#listener = new NotificationListener({
      connectionString: url,
      channel: NOTIFY_CHANNEL,
      connectTimeoutMs: options.connectTimeoutMs,
      log,
      onNotification: (payload) => this.#onNotification(payload, log),
      onListening: () => this.#changes.emit({}),
    });
  }

  /** Migrates the database (under an advisory lock) and starts listening. */
  static async open(url: string, options: PostgresOptions = {}): Promise<PostgresDatastore> {
    const resolved: Required<PostgresOptions> = {
      log: options.log ?? pino({ level: 'silent' }),
      poolSize: options.poolSize ?? 10,
      connectTimeoutMs: options.connectTimeoutMs ?? 3000,
      statementTimeoutMs: options.statementTimeoutMs ?? 5000,
    };
    const migrator = new pg.Client({
      connectionString: url,
      connectionTimeoutMillis: resolved.connectTimeoutMs,
      statement_timeout: MIGRATION_TIMEOUT_MS,
      query_timeout: MIGRATION_TIMEOUT_MS + 1000,
      application_name: 'fn-node:migrate',
    });
    // Failures surface through the pending query; the handler only keeps a late socket error from
    // becoming an uncaught exception.
    migrator.on('error', () => undefined);
    try {
      await migrator.connect();
      const applied = await migratePostgres(migrator);
      if (applied.length > 0) resolved.log.info({ versions: applied }, 'postgres schema migrated');
    } catch (err) {
      throw mapError(err);
    } finally {
      await migrator.end().catch(() => undefined);
    }
    const store = new PostgresDatastore(url, resolved);
    await store.#listener.start();
    return store;
  }

  get notificationsLive(): boolean {
    return this.#listener.live;
  }

  async getApps(): Promise<App[]> {
    const rows = await this.#query<AppRow<Jsonb>>('SELECT name, config FROM apps ORDER BY name COLLATE "C"');
    return rows.map(toApp);
  }

  async getApp(name: string): Promise<App | undefined> {
    const [row] = await this.#query<AppRow<Jsonb>>('SELECT name, config FROM apps WHERE name = $1', [name]);
    return row && toApp(row);
  }

  async insertApp(app: App): Promise<App> {
    const now = timestamp();
    return this.#write({ app: app.name }, async (client) => {
      const { rows } = await client.query<AppRow<Jsonb>>(
        `INSERT INTO apps (id, name, config, created_at, updated_at) VALUES ($1, $2, $3::jsonb, $4, $4)
         RETURNING name, config`,
        [ulid(), app.name, JSON.stringify(app.config), now],
      );
      return toApp(rows[0]!);
    });
  }

  async updateApp(name: string, config: Config): Promise<App> {
    return this.#write({ app: name }, async (client) => {
      const { rows } = await client.query<AppRow<Jsonb>>(
        'UPDATE apps SET config = $2::jsonb, updated_at = $3 WHERE name = $1 RETURNING name, config',
        [name, JSON.stringify(config), timestamp()],
      );
      if (!rows[0]) throw new NotFoundError('App not found');
      return toApp(rows[0]);
    });
  }

  async removeApp(name: string): Promise<void> {
    await this.#write({ app: name }, async (client) => {
      const { rowCount } = await client.query('DELETE FROM apps WHERE name = $1', [name]);
      if (rowCount === 0) throw new NotFoundError('App not found');
    });
  }

  async getRoutes(app: string): Promise<Route[]> {
    const rows = await this.#query<RouteRow<Jsonb>>(
      `SELECT ${ROUTE_COLUMNS} FROM routes WHERE app_name = $1 ORDER BY path COLLATE "C"`,
      [app],
    );
    return rows.map(toRoute);
  }

  async getRoute(app: string, path: string): Promise<Route | undefined> {
    const [row] = await this.#query<RouteRow<Jsonb>>(
      `SELECT ${ROUTE_COLUMNS} FROM routes WHERE app_name = $1 AND path = $2`,
      [app, path],
    );
    return row && toRoute(row);
  }

  async insertRoute(route: Route): Promise<Route> {
    const now = timestamp();
    return this.#write({ app: route.app_name, path: route.path }, async (client) => {
      await client.query(
        `INSERT INTO apps (id, name, created_at, updated_at) VALUES ($1, $2, $3, $3) ON CONFLICT DO NOTHING`,
        [ulid(), route.app_name, now],
      );
      const { rows } = await client.query<RouteRow<Jsonb>>(
        `INSERT INTO routes (${ROUTE_COLUMNS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11) RETURNING ${ROUTE_COLUMNS}`,
        routeParams(route),
      );
      return toRoute(rows[0]!);
    });
  }

  async updateRoute(route: Route): Promise<Route> {
    return this.#write({ app: route.app_name, path: route.path }, async (client) => {
      const { rows } = await client.query<RouteRow<Jsonb>>(
        `UPDATE routes SET image = $3, format = $4, memory = $5, timeout = $6, idle_timeout = $7, type = $8,
           config = $9::jsonb, headers = $10::jsonb, cpus = $11
         WHERE app_name = $1 AND path = $2 RETURNING ${ROUTE_COLUMNS}`,
        routeParams(route),
      );
      if (!rows[0]) throw new NotFoundError('Route not found');
      return toRoute(rows[0]);
    });
  }

  async removeRoute(app: string, path: string): Promise<void> {
    await this.#write({ app, path }, async (client) => {
      const { rowCount } = await client.query('DELETE FROM routes WHERE app_name = $1 AND path = $2', [
        app,
        path,
      ]);
      if (rowCount === 0) throw new NotFoundError('Route not found');
    });
  }

  // ---- Fn v2 ----

  async listApps(filter: PageFilter & { name?: string }): Promise<AppV2[]> {
    return this.#list<AppV2Row<Jsonb>, AppV2>(
      `SELECT ${APP_COLUMNS} FROM apps`,
      { name: filter.name },
      filter,
      toAppV2,
    );
  }

  async getAppById(id: string): Promise<AppV2 | undefined> {
    const [row] = await this.#query<AppV2Row<Jsonb>>(`SELECT ${APP_COLUMNS} FROM apps WHERE id = $1`, [id]);
    return row && toAppV2(row);
  }

  async getAppByName(name: string): Promise<AppV2 | undefined> {
    const [row] = await this.#query<AppV2Row<Jsonb>>(`SELECT ${APP_COLUMNS} FROM apps WHERE name = $1`, [
      name,
    ]);
    return row && toAppV2(row);
  }

  async insertAppV2(app: AppV2): Promise<AppV2> {
    return this.#write({ app: app.name }, async (client) => {
      const { rows } = await client.query<AppV2Row<Jsonb>>(
        insertStatement('apps', APP_V2_COLUMN_NAMES),
        params(appV2Row(app), APP_V2_COLUMN_NAMES),
      );
      return toAppV2(rows[0]!);
    });
  }

  async updateAppV2(app: AppV2): Promise<AppV2> {
    return this.#transact(async (client) => {
      const row = appV2Row(app);
      const { rows } = await client.query<AppV2Row<Jsonb>>(
        `UPDATE apps SET config = $2::jsonb, annotations = $3::jsonb, syslog_url = $4, updated_at = $5
         WHERE id = $1 RETURNING ${APP_COLUMNS}`,
        [row.id, row.config, row.annotations, row.syslog_url, row.updated_at],
      );
      if (!rows[0]) throw new NotFoundError('App not found');
      return { value: toAppV2(rows[0]), change: { app: rows[0].name } };
    });
  }

  async removeAppById(id: string): Promise<void> {
    await this.#transact(async (client) => {
      const { rows } = await client.query<{ name: string }>('DELETE FROM apps WHERE id = $1 RETURNING name', [
        id,
      ]);
      if (!rows[0]) throw new NotFoundError('App not found');
      return { value: undefined, change: { app: rows[0].name } };
    });
  }

  async listFns(filter: PageFilter & { appId?: string; name?: string }): Promise<Fn[]> {
    return this.#list<FnRow<Jsonb>, Fn>(
      `SELECT ${FN_COLUMNS} FROM fns`,
      { app_id: filter.appId, name: filter.name },
      filter,
      toFn,
    );
  }

  async getFn(id: string): Promise<Fn | undefined> {
    const [row] = await this.#query<FnRow<Jsonb>>(`SELECT ${FN_COLUMNS} FROM fns WHERE id = $1`, [id]);
    return row && toFn(row);
  }

  async insertFn(fn: Fn): Promise<Fn> {
    return this.#transact(async (client) => {
      const app = await appName(client, fn.app_id, true);
      const { rows } = await client.query<FnRow<Jsonb>>(
        insertStatement('fns', FN_COLUMN_NAMES),
        params(fnRow(fn), FN_COLUMN_NAMES),
      );
      return { value: toFn(rows[0]!), change: { app } };
    });
  }

  async updateFn(fn: Fn): Promise<Fn> {
    return this.#transact(async (client) => {
      const row = fnRow(fn);
      const { rows } = await client.query<FnRow<Jsonb>>(
        `UPDATE fns SET image = $2, memory = $3, timeout = $4, idle_timeout = $5, config = $6::jsonb,
           annotations = $7::jsonb, updated_at = $8
         WHERE id = $1 RETURNING ${FN_COLUMNS}`,
        [
          row.id,
          row.image,
          row.memory,
          row.timeout,
          row.idle_timeout,
          row.config,
          row.annotations,
          row.updated_at,
        ],
      );
      if (!rows[0]) throw new NotFoundError('Fn not found');
      return { value: toFn(rows[0]), change: { app: await appName(client, rows[0].app_id) } };
    });
  }

  async removeFn(id: string): Promise<void> {
    await this.#transact(async (client) => {
      const { rows } = await client.query<{ app_id: string }>(
        'DELETE FROM fns WHERE id = $1 RETURNING app_id',
        [id],
      );
      if (!rows[0]) throw new NotFoundError('Fn not found');
      return { value: undefined, change: { app: await appName(client, rows[0].app_id) } };
    });
  }

  async listTriggers(
    filter: PageFilter & { appId: string; fnId?: string; name?: string },
  ): Promise<Trigger[]> {
    return this.#list<TriggerRow<Jsonb>, Trigger>(
      `SELECT ${TRIGGER_COLUMNS} FROM triggers`,
      { app_id: filter.appId, fn_id: filter.fnId, name: filter.name },
      filter,
      toTrigger,
    );
  }

  async getTrigger(id: string): Promise<Trigger | undefined> {
    const [row] = await this.#query<TriggerRow<Jsonb>>(
      `SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE id = $1`,
      [id],
    );
    return row && toTrigger(row);
  }

  async getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger | undefined> {
    const [row] = await this.#query<TriggerRow<Jsonb>>(
      `SELECT ${TRIGGER_COLUMNS} FROM triggers WHERE app_id = $1 AND type = $2 AND source = $3`,
      [appId, type, source],
    );
    return row && toTrigger(row);
  }

  async insertTrigger(trigger: Trigger): Promise<Trigger> {
    return this.#transact(async (client) => {
      const app = await appName(client, trigger.app_id, true);
      await checkFn(client, trigger.fn_id, trigger.app_id);
      const { rows } = await client.query<TriggerRow<Jsonb>>(
        insertStatement('triggers', TRIGGER_COLUMN_NAMES),
        params(triggerRow(trigger), TRIGGER_COLUMN_NAMES),
      );
      return { value: toTrigger(rows[0]!), change: { app } };
    });
  }

  async updateTrigger(trigger: Trigger): Promise<Trigger> {
    return this.#transact(async (client) => {
      const {
        rows: [stored],
      } = await client.query<{ app_id: string; fn_id: string }>(
        'SELECT app_id, fn_id FROM triggers WHERE id = $1 FOR UPDATE',
        [trigger.id],
      );
      if (!stored) throw new NotFoundError('Trigger not found');
      if (trigger.fn_id !== stored.fn_id) await checkFn(client, trigger.fn_id, stored.app_id);
      const row = triggerRow(trigger);
      const { rows } = await client.query<TriggerRow<Jsonb>>(
        `UPDATE triggers SET name = $2, fn_id = $3, type = $4, source = $5, annotations = $6::jsonb,
           updated_at = $7
         WHERE id = $1 RETURNING ${TRIGGER_COLUMNS}`,
        [row.id, row.name, row.fn_id, row.type, row.source, row.annotations, row.updated_at],
      );
      return { value: toTrigger(rows[0]!), change: { app: await appName(client, stored.app_id) } };
    });
  }

  async removeTrigger(id: string): Promise<void> {
    await this.#transact(async (client) => {
      const { rows } = await client.query<{ app_id: string }>(
        'DELETE FROM triggers WHERE id = $1 RETURNING app_id',
        [id],
      );
      if (!rows[0]) throw new NotFoundError('Trigger not found');
      return { value: undefined, change: { app: await appName(client, rows[0].app_id) } };
    });
  }

  subscribe(listener: (change: RouteChange) => void): () => void {
    return this.#changes.add(listener);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#changes.clear();
    await this.#listener.close();
    await this.#pool.end();
  }

  async #query<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
    return this.#circuit.run(async () => {
      try {
        return (await this.#pool.query<R>(text, values)).rows;
      } catch (err) {
        throw mapError(err);
      }
    }, isDown);
  }

  async #list<R extends pg.QueryResultRow, T>(
    select: string,
    equal: Record<string, string | undefined>,
    page: PageFilter,
    toRecord: (row: R) => T,
  ): Promise<T[]> {
    const { text, values } = listQuery(select, equal, page, DIALECT);
    return (await this.#query<R>(text, values)).map(toRecord);
  }

  /** A write whose change is known before it runs. */
  #write<T>(change: RouteChange, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#transact(async (client) => ({ value: await fn(client), change }));
  }

  /**
   * Runs `fn` and the NOTIFY of the change it reports in one transaction, then tells this node's own
   * subscribers directly, before the caller answers: a client that writes and then reads through the
   * same node must see its write, whether or not the listener is up. The NOTIFY echo of our own write
   * is skipped by origin.
   */
  #transact<T>(fn: (client: pg.PoolClient) => Promise<{ value: T; change: RouteChange }>): Promise<T> {
    return this.#circuit.run(() => this.#transaction(fn), isDown);
  }

  async #transaction<T>(
    fn: (client: pg.PoolClient) => Promise<{ value: T; change: RouteChange }>,
  ): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw mapError(err);
    }
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const { value, change } = await fn(client);
      const payload: ChangePayload = { ...change, origin: this.#origin };
      await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify(payload)]);
      await client.query('COMMIT');
      this.#changes.emit(change);
      return value;
    } catch (err) {
      if (isUnavailable(err)) {
        broken = err instanceof Error ? err : new Error(String(err));
      } else {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
      }
      throw alreadyExists(err) ?? mapError(err);
    } finally {
      // A connection that failed mid-transaction is destroyed rather than returned to the pool.
      client.release(broken);
    }
  }

  #onNotification(payload: string, log: DatastoreLog): void {
    let change: ChangePayload;
    try {
      change = JSON.parse(payload) as ChangePayload;
    } catch {
      log.warn({ payload }, `unparseable ${NOTIFY_CHANNEL} notification; dropping cached routes`);
      this.#changes.emit({});
      return;
    }
    if (change.origin === this.#origin) return;
    this.#changes.emit({
      app: typeof change.app === 'string' ? change.app : undefined,
      path: typeof change.path === 'string' ? change.path : undefined,
    });
  }
}

/**
 * The name of the app with this id, inside a write. Before inserting a record of the app, `lock` takes
 * a key-share lock so that the app cannot be removed until the write commits. A write that already
 * holds a row of the app's (an fn or trigger it updated or removed) reads it unlocked: removing the app
 * waits for that row, and taking the app's lock after the row's could deadlock with it.
 * @throws NotFoundError('App not found')
 */
async function appName(client: pg.PoolClient, id: string, lock = false): Promise<string> {
  const { rows } = await client.query<{ name: string }>(
    `SELECT name FROM apps WHERE id = $1${lock ? ' FOR KEY SHARE' : ''}`,
    [id],
  );
  if (!rows[0]) throw new NotFoundError('App not found');
  return rows[0].name;
}

/** A trigger may name only an fn of its own app (an fn never moves to another app). */
async function checkFn(client: pg.PoolClient, fnId: string, appId: string): Promise<void> {
  const { rows } = await client.query<{ app_id: string }>(
    'SELECT app_id FROM fns WHERE id = $1 FOR KEY SHARE',
    [fnId],
  );
  if (!rows[0]) throw new NotFoundError('Fn not found');
  if (rows[0].app_id !== appId) throw new InvalidReferenceError('Invalid Fn ID - not owned by specified app');
}

/** `INSERT INTO table (columns) VALUES ($1, ...) RETURNING columns`; JSON columns are sent as text. */
function insertStatement(table: string, columns: readonly string[]): string {
  const values = columns.map((column, index) => `$${index + 1}${JSON_COLUMNS.has(column) ? '::jsonb' : ''}`);
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${values.join(', ')}) RETURNING ${columns.join(', ')}`;
}

function params<R extends object>(row: R, columns: readonly (keyof R)[]): unknown[] {
  return columns.map((column) => row[column]);
}

/** The AlreadyExistsError a unique violation (23505) means, told apart by the violated constraint. */
function alreadyExists(err: unknown): AlreadyExistsError | undefined {
  const { code, constraint } = (err ?? {}) as { code?: unknown; constraint?: unknown };
  if (code !== '23505') return undefined;
  const key = UNIQUE_KEYS.find((candidate) => candidate.constraint === constraint);
  return key && new AlreadyExistsError(key.message);
}

/** The route's columns as positional parameters, in ROUTE_COLUMNS order. */
function routeParams(route: Route): unknown[] {
  const row = routeRow(route);
  return ROUTE_COLUMN_NAMES.map((column) => row[column]);
}

const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs meaning "the database cannot serve you now": connection exceptions (class 08), insufficient
 * resources (53, e.g. too many connections), operator intervention (57P01 admin shutdown, 57P02 crash
 * shutdown, 57P03 cannot connect now) and query_canceled (57014: our statement timeout fired).
 */
function isUnavailableSqlState(code: string): boolean {
  return code.startsWith('08') || code.startsWith('53') || code.startsWith('57P') || code === '57014';
}

/** pg's own connection failures carry no code, only these messages. */
const UNAVAILABLE_MESSAGES =
  /Connection terminated|^timeout expired$|timeout exceeded when trying to connect|Query read timeout|not queryable/i;

function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNAVAILABLE_ERRNOS.has(code) || isUnavailableSqlState(code))) return true;
  // Connecting to a host name with several addresses fails with an AggregateError of the attempts.
  if (err instanceof AggregateError && err.errors.some(isUnavailable)) return true;
  return UNAVAILABLE_MESSAGES.test(err.message);
}

/**
 * Whether a failure means the database is not answering at all (so the circuit opens), rather than
 * that it answered this statement too slowly: a statement that outlived its timeout behind a lock
 * says nothing about the next one.
 */
function isDown(error: unknown): boolean {
  if (!(error instanceof DatastoreUnavailableError)) return false;
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined;
  return cause?.code !== '57014' && !/Query read timeout/i.test(String(cause?.message ?? ''));
}

function mapError(err: unknown): unknown {
  if (isUnavailable(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return new DatastoreUnavailableError(`postgres unavailable: ${message}`, { cause: err });
  }
  return err;
}
