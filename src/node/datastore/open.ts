// Chooses and opens the datastore named by DB_URL: Postgres for a cluster, embedded SQLite otherwise.
import { isAbsolute, resolve } from 'node:path';
import type { DatastoreLog } from './changes.js';
import type { Datastore } from './datastore.js';
import { PostgresDatastore } from './postgres.js';
import { SqliteDatastore } from './sqlite.js';

/** The embedded default: a SQLite file under the working directory. */
export const DEFAULT_DB_URL = 'sqlite://./data/fn.db';

export type DbTarget = { kind: 'postgres'; url: string } | { kind: 'sqlite'; file: string };

/**
 * `postgres://` and `postgresql://` go to Postgres as given. `sqlite:///abs/fn.db` and Fn's historic
 * `sqlite3:///abs/fn.db` name an absolute file; `sqlite://./fn.db` (anything after `//` not starting with
 * `/`) is relative to `cwd`.
 */
export function parseDbUrl(url: string | undefined, cwd = process.cwd()): DbTarget {
  const text = url ?? DEFAULT_DB_URL;
  if (/^postgres(ql)?:\/\//i.test(text)) return { kind: 'postgres', url: text };
  const sqlite = /^sqlite3?:\/\/(.+)$/i.exec(text);
  if (sqlite) {
    const path = decodeURIComponent(sqlite[1]!);
    return { kind: 'sqlite', file: isAbsolute(path) ? path : resolve(cwd, path) };
  }
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(text)?.[1];
  throw new Error(
    `DB_URL ${scheme ? `scheme "${scheme}:" is not supported` : `"${text}" is not a URL`}: ` +
      'use postgres://user:pass@host:5432/db, sqlite:///absolute/path/fn.db or sqlite://./relative/fn.db',
  );
}

/** Opens and migrates the datastore; connection failures reject with DatastoreUnavailableError. */
export async function openDatastore(url: string | undefined, log?: DatastoreLog): Promise<Datastore> {
  const target = parseDbUrl(url);
  return target.kind === 'postgres'
    ? PostgresDatastore.open(target.url, { log })
    : SqliteDatastore.open(target.file, { log });
}
