// The apps and routes rows both engines store, and their mapping to and from the wire records. The
// engines differ only in how JSON columns come back: parsed (Postgres jsonb) or as text (SQLite), so
// the row types take the JSON column's type and the readers take the engine's way of reading it.
import type { App, Config, Route, RouteFormat, RouteType } from '../../common/wire.js';

export interface AppRow<Json> {
  name: string;
  config: Json;
}

export interface RouteRow<Json> {
  app_name: string;
  path: string;
  image: string;
  format: string;
  memory: number;
  timeout: number;
  idle_timeout: number;
  type: string;
  config: Json;
  headers: Json;
  cpus: string;
}

/** The routes columns in the order both schemas declare them (Postgres binds parameters in this order). */
export const ROUTE_COLUMN_NAMES: readonly (keyof RouteRow<unknown>)[] = [
  'app_name',
  'path',
  'image',
  'format',
  'memory',
  'timeout',
  'idle_timeout',
  'type',
  'config',
  'headers',
  'cpus',
];

/** Row readers for an engine whose JSON columns come back as `Json`, turned into values by `readJson`. */
export function rowReaders<Json>(readJson: (stored: Json) => unknown) {
  return {
    toApp(row: AppRow<Json>): App {
      return { name: row.name, config: readJson(row.config) as Config };
    },
    toRoute(row: RouteRow<Json>): Route {
      return {
        app_name: row.app_name,
        path: row.path,
        image: row.image,
        format: row.format as RouteFormat,
        memory: row.memory,
        timeout: row.timeout,
        idle_timeout: row.idle_timeout,
        type: row.type as RouteType,
        cpus: row.cpus,
        config: readJson(row.config) as Config,
        headers: readJson(row.headers) as Route['headers'],
      };
    },
  };
}

/** The row written for `route`; both engines are sent JSON columns as text. */
export function routeRow(route: Route): RouteRow<string> {
  return {
    app_name: route.app_name,
    path: route.path,
    image: route.image,
    format: route.format,
    memory: route.memory,
    timeout: route.timeout,
    idle_timeout: route.idle_timeout,
    type: route.type,
    config: JSON.stringify(route.config),
    headers: JSON.stringify(route.headers),
    cpus: route.cpus,
  };
}
