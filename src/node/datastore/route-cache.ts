// Read-through cache of what the invocation path looks up (v1 apps and routes, v2 fns by trigger or by
// id), so a call costs no database round trip.
// Entries are dropped by the datastore's change notifications and expire after a TTL chosen when read:
// short while notifications are not live (SQLite, or the Postgres listener down), where the TTL is what
// bounds how long another node's write stays invisible; long while live, as a safety net only.
// Misses are cached too (short TTL) so a flood of calls to an unknown route does not hammer the database,
// and concurrent misses for one key share a single query.
import type { App, Route } from '../../common/wire.js';
import type { AppV2, Fn } from '../../common/wire-v2.js';
import { type Datastore, DatastoreUnavailableError, type RouteChange } from './datastore.js';

/** A v2 fn with its app, or why there is none (Fn's 404 message). */
export type FnTarget = { app: AppV2; fn: Fn } | { missing: string };

export interface RouteCacheOptions {
  now?: () => number;
  /** TTL while notifications are live. */
  liveTtlMs?: number;
  /** TTL of misses, and of every entry while notifications are not live. */
  shortTtlMs?: number;
  /** Bound on cached keys; the oldest entry goes first, so random unknown paths cannot grow memory. */
  maxEntries?: number;
  /** Bound on what the cached keys and routes weigh (paths can be kilobytes long); oldest first. */
  maxBytes?: number;
}

interface Entry<T> {
  value: T | undefined;
  fetchedAt: number;
  /** What the entry weighs, roughly: its key and its value as JSON. */
  bytes?: number;
}

/** The cached entries of one kind (apps, routes, fn targets) and the queries in flight for them. */
class Table<T> {
  readonly entries = new Map<string, Entry<T>>();
  readonly inflight = new Map<string, Promise<T | undefined>>();
  bytes = 0;

  /** `isMiss` says which values are answers of "there is none" (cached briefly, dropped on doubt). */
  constructor(readonly isMiss: (value: T | undefined) => boolean = (value) => value === undefined) {}

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (entry === undefined) return;
    this.bytes -= entry.bytes ?? 0;
    this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  /**
   * Every entry must be read again, but a route or app stays the answer while the database cannot be
   * read; a cached miss goes (a route created meanwhile must not be a 404 while the database is away).
   */
  expireAll(): void {
    for (const [key, entry] of this.entries) {
      if (this.isMiss(entry.value)) this.delete(key);
      else entry.fetchedAt = Number.NEGATIVE_INFINITY;
    }
  }
}

/** What one entry costs besides its key and value: the objects and the map slot. */
const ENTRY_OVERHEAD_BYTES = 200;

export class RouteCache {
  readonly #store: Datastore;
  readonly #now: () => number;
  readonly #liveTtlMs: number;
  readonly #shortTtlMs: number;
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #apps = new Table<App>();
  readonly #routes = new Table<Route>();
  /** v2 fns by `<app name>\0<trigger source>` and by fn id; any change of any app drops them all. */
  readonly #triggers = new Table<FnTarget>(isMissingTarget);
  readonly #fns = new Table<FnTarget>(isMissingTarget);
  readonly #unsubscribe: () => void;
  /** Bumped by every change: a query that started before a change must not cache what it read. */
  #generation = 0;

  constructor(store: Datastore, options: RouteCacheOptions = {}) {
    this.#store = store;
    this.#now = options.now ?? (() => performance.now());
    this.#liveTtlMs = options.liveTtlMs ?? 10_000;
    this.#shortTtlMs = options.shortTtlMs ?? 500;
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 8 * 1024 * 1024;
    this.#unsubscribe = store.subscribe((change) => this.#invalidate(change));
  }

  getApp(name: string): Promise<App | undefined> {
    return this.#get(this.#apps, name, () => this.#store.getApp(name));
  }

  getRoute(app: string, path: string): Promise<Route | undefined> {
    return this.#get(this.#routes, cacheKey(app, path), () => this.#store.getRoute(app, path));
  }

  async triggerTarget(appName: string, source: string): Promise<FnTarget> {
    const target = await this.#get(this.#triggers, cacheKey(appName, source), async () => {
      const app = await this.#store.getAppByName(appName);
      if (app === undefined) return { missing: 'App not found' };
      const trigger = await this.#store.getTriggerBySource(app.id, 'http', source);
      if (trigger === undefined) return { missing: 'Trigger not found' };
      const fn = await this.#store.getFn(trigger.fn_id);
      return fn === undefined ? { missing: 'Fn not found' } : { app, fn };
    });
    return target ?? { missing: 'Trigger not found' };
  }

  async fnTarget(fnId: string): Promise<FnTarget> {
    const target = await this.#get(this.#fns, fnId, async () => {
      const fn = await this.#store.getFn(fnId);
      if (fn === undefined) return { missing: 'Fn not found' };
      const app = await this.#store.getAppById(fn.app_id);
      return app === undefined ? { missing: 'App not found' } : { app, fn };
    });
    return target ?? { missing: 'Fn not found' };
  }

  close(): void {
    this.#unsubscribe();
    for (const table of this.#tables()) table.clear();
  }

  /** What the cached entries weigh, roughly (tests: the bound). */
  get bytes(): number {
    return this.#tables().reduce((sum, table) => sum + table.bytes, 0);
  }

  #tables(): Table<unknown>[] {
    return [this.#apps, this.#routes, this.#triggers, this.#fns] as Table<unknown>[];
  }

  #get<T>(table: Table<T>, key: string, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const entry = table.entries.get(key);
    if (entry && this.#now() - entry.fetchedAt < this.#ttl(table, entry)) return Promise.resolve(entry.value);
    const pending = table.inflight.get(key);
    if (pending) return pending;
    const generation = this.#generation;
    const fetchedAt = this.#now();
    const query = load()
      .then((value) => {
        if (generation === this.#generation) this.#put(table, key, { value, fetchedAt });
        return value;
      })
      .catch((err: unknown) => {
        // The database is down, and nobody can change routes while it is: the last value read is the
        // best answer, and keeps hot functions serving through a database restart.
        if (err instanceof DatastoreUnavailableError && entry && table.entries.get(key) === entry) {
          return entry.value;
        }
        throw err;
      })
      .finally(() => {
        if (table.inflight.get(key) === query) table.inflight.delete(key);
      });
    table.inflight.set(key, query);
    return query;
  }

  #ttl<T>(table: Table<T>, entry: Entry<T>): number {
    return !table.isMiss(entry.value) && this.#store.notificationsLive ? this.#liveTtlMs : this.#shortTtlMs;
  }

  #put<T>(table: Table<T>, key: string, entry: Entry<T>): void {
    // Re-inserting moves the key to the end of the Map's order, so the first key is the oldest.
    table.delete(key);
    entry.bytes =
      ENTRY_OVERHEAD_BYTES +
      key.length * 2 +
      (entry.value === undefined ? 0 : JSON.stringify(entry.value).length * 2);
    table.entries.set(key, entry);
    table.bytes += entry.bytes;
    while (table.entries.size > this.#maxEntries || table.bytes > this.#maxBytes / this.#tables().length) {
      const oldest = table.entries.keys().next().value;
      if (oldest === undefined || oldest === key) break;
      table.delete(oldest);
    }
  }

  #invalidate(change: RouteChange): void {
    this.#generation += 1;
    // A query in flight may have read before the change: later callers must not join it.
    for (const table of this.#tables()) table.inflight.clear();
    if (change.app === undefined) {
      // Changes may have been missed (the listener reconnected after a database restart): nothing is
      // known to be wrong, so the entries stay as the fallback for the moments the database is still
      // refusing reads, while every next read asks it again.
      for (const table of this.#tables()) table.expireAll();
      return;
    }
    // A v2 entry joins an app, a trigger and a fn found by id: dropping them all on any change is
    // simpler than tracking which app each belongs to, and API writes are rare next to calls.
    this.#triggers.clear();
    this.#fns.clear();
    this.#apps.delete(change.app);
    if (change.path !== undefined) {
      this.#routes.delete(cacheKey(change.app, change.path));
      return;
    }
    const prefix = cacheKey(change.app, '');
    for (const key of [...this.#routes.entries.keys()]) {
      if (key.startsWith(prefix)) this.#routes.delete(key);
    }
  }
}

function isMissingTarget(target: FnTarget | undefined): boolean {
  return target === undefined || 'missing' in target;
}

/** NUL cannot appear in a validated app name, so it separates app from path unambiguously. */
function cacheKey(app: string, path: string): string {
  return `${app}\0${path}`;
}
