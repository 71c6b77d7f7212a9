// The rows both engines store (v1 apps and routes; v2 apps, fns and triggers), their mapping to and
// from the wire records, and the SQL pieces both engines share. The engines differ only in how JSON
// columns come back: parsed (Postgres jsonb) or as text (SQLite), so the row types take the JSON
// column's type and the readers take the engine's way of reading it.
import type { App, Config, Route, RouteFormat, RouteType } from '../../common/wire.js';
import type { Annotations, AppV2, Fn, Trigger, TriggerType } from '../../common/wire-v2.js';
import type { PageFilter } from './datastore.js';

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

// ---- Fn v2: apps by id, fns, triggers ----

export interface AppV2Row<Json> {
  id: string;
  name: string;
  config: Json;
  annotations: Json;
  syslog_url: string | null;
  created_at: string;
  updated_at: string;
}

export interface FnRow<Json> {
  id: string;
  name: string;
  app_id: string;
  image: string;
  memory: number;
  timeout: number;
  idle_timeout: number;
  config: Json;
  annotations: Json;
  created_at: string;
  updated_at: string;
}

export interface TriggerRow<Json> {
  id: string;
  name: string;
  app_id: string;
  fn_id: string;
  type: string;
  source: string;
  annotations: Json;
  created_at: string;
  updated_at: string;
}

export const APP_V2_COLUMN_NAMES: readonly (keyof AppV2Row<unknown>)[] = [
  'id',
  'name',
  'config',
  'annotations',
  'syslog_url',
  'created_at',
  'updated_at',
];

export const FN_COLUMN_NAMES: readonly (keyof FnRow<unknown>)[] = [
  'id',
  'name',
  'app_id',
  'image',
  'memory',
  'timeout',
  'idle_timeout',
  'config',
  'annotations',
  'created_at',
  'updated_at',
];

export const TRIGGER_COLUMN_NAMES: readonly (keyof TriggerRow<unknown>)[] = [
  'id',
  'name',
  'app_id',
  'fn_id',
  'type',
  'source',
  'annotations',
  'created_at',
  'updated_at',
];

/** The columns both engines store as JSON (jsonb in Postgres, text in SQLite). */
export const JSON_COLUMNS: ReadonlySet<string> = new Set(['config', 'headers', 'annotations']);

/** Now as the v2 records store it: ISO-8601 in UTC with milliseconds, e.g. 2026-12-07T15:04:05.123Z. */
export function timestamp(now = new Date()): string {
  return now.toISOString();
}

/** v2 readers for an engine whose JSON columns come back as `Json`, turned into values by `readJson`. */
export function rowReadersV2<Json>(readJson: (stored: Json) => unknown) {
  /** Fn's `omitempty`: no annotations key for an empty set. */
  const annotationsOf = (stored: Json): { annotations?: Annotations } => {
    const annotations = readJson(stored) as Annotations | null;
    return annotations && Object.keys(annotations).length > 0 ? { annotations } : {};
  };
  return {
    toAppV2(row: AppV2Row<Json>): AppV2 {
      return {
        id: row.id,
        name: row.name,
        config: readJson(row.config) as Config,
        ...annotationsOf(row.annotations),
        ...(row.syslog_url === null ? {} : { syslog_url: row.syslog_url }),
        created_at: row.created_at,
        updated_at: row.updated_at,
      };
    },
    toFn(row: FnRow<Json>): Fn {
      return {
        id: row.id,
        name: row.name,
        app_id: row.app_id,
        image: row.image,
        memory: row.memory,
        timeout: row.timeout,
        idle_timeout: row.idle_timeout,
        config: readJson(row.config) as Config,
        ...annotationsOf(row.annotations),
        created_at: row.created_at,
        updated_at: row.updated_at,
      };
    },
    toTrigger(row: TriggerRow<Json>): Trigger {
      return {
        id: row.id,
        name: row.name,
        app_id: row.app_id,
        fn_id: row.fn_id,
        type: row.type as TriggerType,
        source: row.source,
        ...annotationsOf(row.annotations),
        created_at: row.created_at,
        updated_at: row.updated_at,
      };
    },
  };
}

export function appV2Row(app: AppV2): AppV2Row<string> {
  return {
    id: app.id,
    name: app.name,
    config: JSON.stringify(app.config ?? {}),
    annotations: JSON.stringify(app.annotations ?? {}),
    syslog_url: app.syslog_url ?? null,
    created_at: app.created_at,
    updated_at: app.updated_at,
  };
}

export function fnRow(fn: Fn): FnRow<string> {
  return {
    id: fn.id,
    name: fn.name,
    app_id: fn.app_id,
    image: fn.image,
    memory: fn.memory,
    timeout: fn.timeout,
    idle_timeout: fn.idle_timeout,
    config: JSON.stringify(fn.config ?? {}),
    annotations: JSON.stringify(fn.annotations ?? {}),
    created_at: fn.created_at,
    updated_at: fn.updated_at,
  };
}

export function triggerRow(trigger: Trigger): TriggerRow<string> {
  return {
    id: trigger.id,
    name: trigger.name,
    app_id: trigger.app_id,
    fn_id: trigger.fn_id,
    type: trigger.type,
    source: trigger.source,
    annotations: JSON.stringify(trigger.annotations ?? {}),
    created_at: trigger.created_at,
    updated_at: trigger.updated_at,
  };
}

/**
 * Every unique key of the schema and the AlreadyExistsError message its violation means. Postgres names
 * the violated constraint (the names migrations.ts gives them); SQLite names the table's columns.
 */
export const UNIQUE_KEYS: readonly { constraint: string; columns: string; message: string }[] = [
  { constraint: 'apps_pkey', columns: 'apps.name', message: 'App already exists' },
  { constraint: 'apps_id_key', columns: 'apps.id', message: 'App already exists' },
  { constraint: 'routes_pkey', columns: 'routes.app_name, routes.path', message: 'Route already exists' },
  { constraint: 'fns_pkey', columns: 'fns.id', message: 'Fn already exists' },
  {
    constraint: 'fns_app_id_name_key',
    columns: 'fns.app_id, fns.name',
    message: 'Fn with specified name already exists',
  },
  { constraint: 'triggers_pkey', columns: 'triggers.id', message: 'Trigger already exists' },
  {
    constraint: 'triggers_app_id_type_source_key',
    columns: 'triggers.app_id, triggers.type, triggers.source',
    message: 'Trigger with the same type and source exists on this app',
  },
  {
    constraint: 'triggers_app_id_fn_id_name_key',
    columns: 'triggers.app_id, triggers.fn_id, triggers.name',
    message: 'Trigger already exists',
  },
];

/** How an engine spells a v2 list's parameters and byte-order comparison. */
export interface SqlDialect {
  /** The placeholder of the `index`th parameter (from 1). */
  param(index: number): string;
  /** Appended to `name` so that ORDER BY and `>` compare bytes. */
  byteOrder: string;
}

/**
 * A v2 list: the rows of `select` whose columns equal the given values (undefined: no filter), with
 * names after `after` when set, in byte order of their names (then ids, for fns and triggers that share
 * a name within an app), at most `limit`.
 */
export function listQuery(
  select: string,
  equal: Record<string, string | undefined>,
  page: PageFilter,
  dialect: SqlDialect,
): { text: string; values: unknown[] } {
  const values: unknown[] = [];
  const where: string[] = [];
  for (const [column, value] of Object.entries(equal)) {
    if (value === undefined) continue;
    values.push(value);
    where.push(`${column} = ${dialect.param(values.length)}`);
  }
  if (page.after !== undefined) {
    // Each placeholder its own value: SQLite's are positional.
    const bind = (value: string) => {
      values.push(value);
      return dialect.param(values.length);
    };
    const { name, id } = page.after;
    const column = `name${dialect.byteOrder}`;
    where.push(
      id === undefined
        ? `${column} > ${bind(name)}`
        : `(${column} > ${bind(name)} OR (${column} = ${bind(name)} AND id > ${bind(id)}))`,
    );
  }
  values.push(page.limit);
  const filter = where.length > 0 ? ` WHERE ${where.join(' AND ')}` : '';
  return {
    text: `${select}${filter} ORDER BY name${dialect.byteOrder}, id LIMIT ${dialect.param(values.length)}`,
    values,
  };
}
