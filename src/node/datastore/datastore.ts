// The datastore contract every backend (Postgres, SQLite) implements, and the errors it raises.
// The API layer validates and merges; a datastore stores whole records and reports what changed.
import type { App, Config, Route } from '../../common/wire.js';

/**
 * A write that other nodes must see: `path` undefined means the whole app (and its routes) changed;
 * `app` undefined means changes may have been missed (the Postgres listener reconnected), so anything
 * may have changed and caches must drop everything.
 */
export interface RouteChange {
  app?: string;
  path?: string;
}

export interface Datastore {
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

/** The database cannot be reached or answered with a connection-level failure. */
export class DatastoreUnavailableError extends Error {
  override readonly name = 'DatastoreUnavailableError';
}
