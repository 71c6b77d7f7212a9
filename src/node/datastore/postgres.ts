// The cluster datastore on Postgres (`pg` Pool). Every write sends NOTIFY on `fn_routes` (payload JSON
// `{"app","path"?,"origin"}`) in its own transaction, so the change reaches every node exactly when it
// commits; a dedicated LISTEN session delivers other nodes' changes to `subscribe` listeners. Every call has a deadline (connect, statement
// and client-side query timeouts) and connection-level failures surface as DatastoreUnavailableError
// (the API answers 503), never as a hang or a crash.
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { pino } from 'pino';
import type { App, Config, Route } from '../../common/wire.js';
import { ChangeListeners, type DatastoreLog } from './changes.js';
import { Circuit } from './circuit.js';
import {
  AlreadyExistsError,
  type Datastore,
  DatastoreUnavailableError,
  NotFoundError,
  type RouteChange,
} from './datastore.js';
import { migratePostgres } from './migrations.js';
import { NotificationListener } from './postgres-listener.js';
import { type AppRow, ROUTE_COLUMN_NAMES, type RouteRow, routeRow, rowReaders } from './rows.js';

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
const { toApp, toRoute } = rowReaders((value: Jsonb) => value);

/** What travels in a NOTIFY payload; `origin` lets a node skip the echo of its own writes. */
interface ChangePayload extends RouteChange {
  origin?: string;
}

const ROUTE_COLUMNS = ROUTE_COLUMN_NAMES.join(', ');

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
    return this.#write(
      { app: app.name },
      async (client) => {
        const { rows } = await client.query<AppRow<Jsonb>>(
          'INSERT INTO apps (name, config) VALUES ($1, $2::jsonb) RETURNING name, config',
          [app.name, JSON.stringify(app.config)],
        );
        return toApp(rows[0]!);
      },
      'App already exists',
    );
  }

  async updateApp(name: string, config: Config): Promise<App> {
    return this.#write({ app: name }, async (client) => {
      const { rows } = await client.query<AppRow<Jsonb>>(
        'UPDATE apps SET config = $2::jsonb WHERE name = $1 RETURNING name, config',
        [name, JSON.stringify(config)],
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
    return this.#write(
      { app: route.app_name, path: route.path },
      async (client) => {
        await client.query('INSERT INTO apps (name) VALUES ($1) ON CONFLICT DO NOTHING', [route.app_name]);
        const { rows } = await client.query<RouteRow<Jsonb>>(
          `INSERT INTO routes (${ROUTE_COLUMNS})
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb, $10::jsonb, $11) RETURNING ${ROUTE_COLUMNS}`,
          routeParams(route),
        );
        return toRoute(rows[0]!);
      },
      'Route already exists',
    );
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

  /**
   * Runs `fn` and the NOTIFY in one transaction, then tells this node's own subscribers directly, before
   * the caller answers: a client that writes and then reads through the same node must see its write,
   * whether or not the listener is up. The NOTIFY echo of our own write is skipped by origin.
   */
  #write<T>(
    change: RouteChange,
    fn: (client: pg.PoolClient) => Promise<T>,
    existsMessage?: string,
  ): Promise<T> {
    return this.#circuit.run(() => this.#transaction(change, fn, existsMessage), isDown);
  }

  async #transaction<T>(
    change: RouteChange,
    fn: (client: pg.PoolClient) => Promise<T>,
    existsMessage?: string,
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
      const result = await fn(client);
      const payload: ChangePayload = { ...change, origin: this.#origin };
      await client.query('SELECT pg_notify($1, $2)', [NOTIFY_CHANNEL, JSON.stringify(payload)]);
      await client.query('COMMIT');
      this.#changes.emit(change);
      return result;
    } catch (err) {
      if (isUnavailable(err)) {
        broken = err instanceof Error ? err : new Error(String(err));
      } else {
        await client.query('ROLLBACK').catch((rollbackErr: Error) => {
          broken = rollbackErr;
        });
      }
      if (existsMessage && (err as { code?: unknown }).code === '23505') {
        throw new AlreadyExistsError(existsMessage);
      }
      throw mapError(err);
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
