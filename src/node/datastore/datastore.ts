// The datastore contract every backend (Postgres, SQLite) implements, and the errors it raises.
// The API layer validates and merges; a datastore stores whole records and reports what changed.
import type { App, Config, Route } from '../../common/wire.js';
import type { AppV2, Fn, Trigger } from '../../common/wire-v2.js';

/**
 * A write that other nodes must see: `path` undefined means the whole app (and its routes) changed;
 * `app` undefined means changes may have been missed (the Postgres listener reconnected), so anything
 * may have changed and caches must drop everything.
 */
export interface RouteChange {
  app?: string;
  path?: string;
}

/**
 * One page of a v2 list: sorted by name then id, records after `after` (the decoded cursor: the last
 * name of the page before, and its id, since names repeat across fns and triggers), at most `limit`.
 */
export interface PageFilter {
  after?: { name: string; id?: string };
  limit: number;
}

/**
 * The Fn v2 records (apps by id, fns, triggers). Apps are one table for both APIs: an app created
 * through v1 has an id and timestamps too, and removing an app removes its routes, fns and triggers.
 * Every v2 write reports a change of its whole app (`{ app: <app name> }`).
 */
export interface FnStore {
  listApps(filter: PageFilter & { name?: string }): Promise<AppV2[]>;
  getAppById(id: string): Promise<AppV2 | undefined>;
  getAppByName(name: string): Promise<AppV2 | undefined>;
  /** @throws AlreadyExistsError('App already exists') */
  insertAppV2(app: AppV2): Promise<AppV2>;
  /** Replaces config, annotations, syslog_url and updated_at of the app with this id. @throws NotFoundError */
  updateAppV2(app: AppV2): Promise<AppV2>;
  /** @throws NotFoundError('App not found') */
  removeAppById(id: string): Promise<void>;

  listFns(filter: PageFilter & { appId?: string; name?: string }): Promise<Fn[]>;
  getFn(id: string): Promise<Fn | undefined>;
  /** @throws NotFoundError('App not found'), AlreadyExistsError('Fn with specified name already exists') */
  insertFn(fn: Fn): Promise<Fn>;
  /** Replaces the stored fn of this id (name and app_id stay). @throws NotFoundError('Fn not found') */
  updateFn(fn: Fn): Promise<Fn>;
  /** Removes the fn and its triggers. @throws NotFoundError('Fn not found') */
  removeFn(id: string): Promise<void>;

  listTriggers(filter: PageFilter & { appId: string; fnId?: string; name?: string }): Promise<Trigger[]>;
  getTrigger(id: string): Promise<Trigger | undefined>;
  getTriggerBySource(appId: string, type: string, source: string): Promise<Trigger | undefined>;
  /**
   * @throws NotFoundError('App not found' | 'Fn not found'), AlreadyExistsError('Trigger already exists'
   * for a name taken on the fn | 'Trigger with the same type and source exists on this app')
   */
  insertTrigger(trigger: Trigger): Promise<Trigger>;
  /** Replaces the stored trigger of this id. @throws NotFoundError('Trigger not found'), AlreadyExistsError as insert */
  updateTrigger(trigger: Trigger): Promise<Trigger>;
  /** @throws NotFoundError('Trigger not found') */
  removeTrigger(id: string): Promise<void>;
}

export interface Datastore extends FnStore {
  readonly kind: 'postgres' | 'sqlite';
  /** All apps, sorted by name. */
  getApps(): Promise<App[]>;
  getApp(name: string): Promise<App | undefined>;
  /** @throws AlreadyExistsError */
  insertApp(app: App): Promise<App>;
  /** Replaces the app's config. @throws NotFoundError */
  updateApp(name: string, config: Config): Promise<App>;
  /** Removes the app and all its routes. @throws NotFoundError */
  removeApp(name: string): Promise<void>;
  /** Routes of one app, sorted by path. */
  getRoutes(app: string): Promise<Route[]>;
  getRoute(app: string, path: string): Promise<Route | undefined>;
  /** Inserts the route, creating its app (empty config) when missing. @throws AlreadyExistsError */
  insertRoute(route: Route): Promise<Route>;
  /** Replaces the stored route (matched by app_name + path). @throws NotFoundError */
  updateRoute(route: Route): Promise<Route>;
  /** @throws NotFoundError */
  removeRoute(app: string, path: string): Promise<void>;
  /**
   * Called for every app or route write, from this node or (Postgres) any other node sharing the
   * database. Returns an unsubscribe function.
   */
  subscribe(listener: (change: RouteChange) => void): () => void;
  /** True when change notifications from other nodes are live (Postgres LISTEN connected). */
  readonly notificationsLive: boolean;
  close(): Promise<void>;
}

export class NotFoundError extends Error {
  override readonly name = 'NotFoundError';
}

export class AlreadyExistsError extends Error {
  override readonly name = 'AlreadyExistsError';
}

/**
 * A record names another that exists but may not be named there: a trigger whose fn belongs to
 * another app (the API answers 400).
 */
export class InvalidReferenceError extends Error {
  override readonly name = 'InvalidReferenceError';
}

/** The database cannot be reached or answered with a connection-level failure. */
export class DatastoreUnavailableError extends Error {
  override readonly name = 'DatastoreUnavailableError';
}
